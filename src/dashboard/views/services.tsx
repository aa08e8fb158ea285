// The default view: one card per service (desired vs actual, weights, rollout, conditions, pods,
// actions, mini-charts). Each card selects only its own detail from the store and is memoized,
// and each pod tile only re-renders when what it shows changes, so 1,000 pods stay cheap.
import { memo } from 'preact/compat';
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { act, confirmThen } from '../lib/actions.js';
import { useStore } from '../lib/store.js';
import type { PodView, ServiceDetail } from '../../common/api/types.js';
import {
  formatAge,
  formatCpu,
  formatMs,
  lastEventIds,
  livePods,
  phaseGlyph,
  podNumbersText,
  phaseVar,
  rolloutText,
  specDiff,
  weightSegments,
  type RolloutStatus,
  type WeightSegment,
} from '../lib/service-model.js';
import { explainReason } from '../lib/condition-reasons.js';
import { ServiceCharts } from './charts.js';
import { ChaosBadges, ChaosForm } from './chaos.js';
import { PodDrawer } from './pod-drawer.js';
import { useCanAct, useNow, useThrottledGet } from './hooks.js';

const enc = encodeURIComponent;

export function ServicesView() {
  const names = useStore((s) => s.state?.services.map((x) => x.name).join('\n') ?? null);
  const [open, setOpen] = useState<{ id: string; service: string } | null>(null);
  const onOpen = useCallback((service: string, id: string) => setOpen({ service, id }), []);
  const onClose = useCallback(() => {
    const id = open?.id;
    setOpen(null);
    // Focus goes back to the tile that opened the drawer (it may have moved, but it is keyed by id).
    if (id) requestAnimationFrame(() => document.querySelector<HTMLElement>(`[data-testid="pod"][data-pod="${CSS.escape(id)}"]`)?.focus());
  }, [open]);
  const list = names ? names.split('\n') : [];
  const shown = useProgressive(list.length);
  if (names === null) return <p class="muted">Loading services…</p>;
  return (
    <section class="services-view" aria-label="Services">
      {list.length === 0 ? (
        <div class="panel empty">
          <h2>No services yet</h2>
          <p class="muted">
            Apply one from <a href="#/apply">Apply YAML</a> (the examples are preloaded), or start Grid with <code>--demo</code>.
          </p>
        </div>
      ) : (
        <div class="svc-grid">
          {list.slice(0, shown).map((n) => (
            <ServiceCard key={n} name={n} onOpenPod={onOpen} />
          ))}
        </div>
      )}
      {open && <PodDrawer podId={open.id} service={open.service} onClose={onClose} />}
    </section>
  );
}

/** Cards mounted per task: 20 cards of 50 pods at once held the main thread for ~150 ms; a few per frame keep each task short. */
const CARDS_PER_FRAME = 1;

/** How many of `total` items to render: all that were shown before, and CARDS_PER_FRAME more each animation frame. */
function useProgressive(total: number): number {
  const [shown, setShown] = useState(CARDS_PER_FRAME);
  useEffect(() => {
    if (shown >= total) return;
    const id = requestAnimationFrame(() => setShown((n) => n + CARDS_PER_FRAME));
    return () => cancelAnimationFrame(id);
  }, [shown, total]);
  return Math.min(shown, total);
}

const ServiceCard = memo(function ServiceCard({ name, onOpenPod }: { name: string; onOpenPod: (service: string, id: string) => void }) {
  const d = useStore((s) => s.services.get(name));
  const lastEvent = useStore((s) => lastEventIds(s.events).get(name) ?? 0);
  // The rollout status changes only with this service's events; read it again when one arrives (≤ 1/s).
  const ro = useThrottledGet<RolloutStatus>(`/services/${enc(name)}/rollout`, `${lastEvent}:${d?.revision ?? 0}`, { minMs: 1000 });
  const r = ro.data;
  const openPod = useCallback((id: string) => onOpenPod(name, id), [name]);
  if (!d) {
    return (
      <article class="panel svc-card" data-testid="service-card" data-service={name} aria-busy="true">
        <h2>{name}</h2>
        <p class="muted">Loading…</p>
      </article>
    );
  }
  const pods = d.pods;
  const live = livePods(pods);
  const segs = weightSegments({ weights: r?.weights ?? null, pods }, { stable: r?.stable?.version ?? d.version, canary: r?.canary?.version ?? null });
  const strategy = r?.strategy ?? (d.spec?.rollout?.strategy as string | undefined) ?? 'Rolling';
  return (
    <article class={`panel svc-card${d.inSync ? '' : ' out-of-sync'}`} data-testid="service-card" data-service={name} aria-labelledby={`svc-${name}`}>
      <header class="svc-head">
        <h2 id={`svc-${name}`}>{name}</h2>
        <span class="badge" title="version (revision) the spec asks for">
          {d.version} · rev {d.revision}
        </span>
        <span class="badge">{d.runtime}</span>
        <span class="badge" title="rollout strategy">
          {strategy}
        </span>
        {d.autoscaler && <span class="badge" title="an autoscaler sets the replica count">autoscaled</span>}
        <ChaosBadges service={name} />
        <span class={`svc-ready num ${live.filter((p) => p.ready).length === d.desired ? 'ok' : 'warn'}`} title="ready pods / desired replicas">
          <span data-testid="ready">
            {d.ready}/{d.desired}
          </span>{' '}
          <span class="muted">ready</span>
        </span>
      </header>
      <WeightBar segs={segs} exact={!!r?.weights} />
      <RolloutLine r={r} strategy={strategy} />
      <DiffTable d={d} />
      <Conditions d={d} />
      <PodTiles pods={pods} onOpen={openPod} />
      <CardActions d={d} r={r} />
      <ServiceCharts service={name} />
    </article>
  );
});

const ROLE_COLOUR = { stable: 'var(--cyan)', canary: 'var(--magenta)', other: 'var(--blue)' } as const;

function WeightBar({ segs, exact }: { segs: WeightSegment[]; exact: boolean }) {
  const label = segs.length ? segs.map((s) => `${s.version} ${s.pct}%`).join(', ') : 'no ready pod takes traffic';
  return (
    <div class="weights-wrap">
      <div class="weights" data-testid="weights" role="img" aria-label={`traffic weights: ${label}`} title={exact ? 'exact weights set by the rollout' : 'weights follow ready pods per version'}>
        {segs.map((s) => (
          <span key={s.version} class={`w-seg w-${s.role}`} style={{ flexGrow: s.pct, flexBasis: 0 }} data-version={s.version} />
        ))}
      </div>
      <div class="weights-legend num">
        {segs.length === 0 && <span class="muted">no traffic target</span>}
        {segs.map((s) => (
          <span key={s.version} class={`w-key w-${s.role}`}>
            <i aria-hidden="true" style={{ color: ROLE_COLOUR[s.role] }}>
              {s.role === 'canary' ? '▨' : '■'}
            </i>
            {s.version} {s.pct}%{s.role !== 'other' ? ` ${s.role}` : ''}
          </span>
        ))}
      </div>
    </div>
  );
}

function RolloutLine({ r, strategy }: { r: RolloutStatus | null; strategy: string }) {
  // When this status was read: a chaos step's time left counts down from it until the next read.
  const readAt = useMemo(() => performance.now(), [r]);
  const now = useNow(!!r?.chaos && r.chaos.secondsLeft !== null);
  const t = rolloutText(r, now - readAt);
  return (
    <div class="rollout" data-testid="rollout" data-phase={r?.phase ?? ''}>
      <span class={`ro-phase ro-${(r?.phase ?? 'unknown').toLowerCase()}`}>{t ? t.phase : 'rollout status loading'}</span>
      <span class="muted"> · {strategy}</span>
      {t?.step && <span class="num"> · {t.step}</span>}
      {t?.chaos && (
        <div class="num ro-chaos" data-testid="rollout-chaos">
          <span aria-hidden="true">⚡ </span>
          {t.chaos}
        </div>
      )}
      {t?.analysis && <div class="num muted ro-analysis">analysis: {t.analysis}</div>}
      {t?.abort && (
        <div class="error ro-abort" role="status">
          aborted: {t.abort}
        </div>
      )}
    </div>
  );
}

function DiffTable({ d }: { d: ServiceDetail }) {
  const rows = useMemo(() => specDiff(d), [d]);
  const bad = rows.filter((r) => !r.ok).length;
  return (
    <details class="diff" data-testid="diff" data-in-sync={bad === 0 ? 'true' : 'false'} open={bad > 0}>
      <summary>
        desired vs actual: {bad === 0 ? <span class="ok">in sync ✓</span> : <span class="warn">{bad} differ ≠</span>}
      </summary>
      <table>
        <thead>
          <tr>
            <th scope="col">field</th>
            <th scope="col">desired (spec)</th>
            <th scope="col">actual (pods)</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.field} class={r.ok ? '' : 'differs'} data-field={r.field}>
              <th scope="row">
                <span aria-hidden="true">{r.ok ? '=' : '≠'}</span> {r.field}
              </th>
              <td class="mono">{r.desired}</td>
              <td class="mono">{r.actual}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

function Conditions({ d }: { d: ServiceDetail }) {
  return (
    <ul class="conditions" data-testid="conditions">
      {d.conditions.map((c) => {
        // Degraded is the one condition where "True" is bad.
        const good = c.type === 'Degraded' ? c.status === 'False' : c.status === 'True';
        const plain = explainReason(c.reason);
        return (
          <li key={c.type} class={good ? 'cond-good' : 'cond-bad'} title={[plain, c.message].filter(Boolean).join(' — ')} data-type={c.type} data-status={c.status}>
            <span aria-hidden="true">{good ? '✓' : '!'}</span> {c.type}={c.status}{' '}
            <span class="muted">
              {c.reason}
              {plain && <span class="sr-only"> ({plain})</span>}
            </span>
            {!good && c.message && <span class="cond-msg"> — {c.message}</span>}
          </li>
        );
      })}
    </ul>
  );
}

/** Above this many pods a card shows compact tiles (shape and colour; numbers on hover, focus and in the drawer). */
const COMPACT_ABOVE = 24;

function PodTiles({ pods, onOpen }: { pods: PodView[]; onOpen: (id: string) => void }) {
  const compact = pods.length > COMPACT_ABOVE;
  const tiles = (
    <div class={`pods${compact ? ' compact' : ''}`} role="list" aria-label={`${pods.length} pods`}>
      {pods.length === 0 && <span class="muted">no pods</span>}
      {pods.map((p) => (
        <PodTile key={p.id} id={p.id} phase={p.state} paused={!!p.paused} version={p.version} restarts={p.restarts} age={formatAge(p.ageSeconds)} cpu={formatCpu(p.cpu)} lat={formatMs(p.probeLatencyMs)} msg={p.message} compact={compact} onOpen={onOpen} />
      ))}
    </div>
  );
  return (
    <>
      {tiles}
      {pods.length > 0 && (
        <p class="pods-legend hint" aria-hidden="true">
          {compact ? 'Shape and colour: phase; small number: restarts. Hover or open a pod for its numbers.' : '↻ restarts · age · CPU · last probe latency'}
        </p>
      )}
    </>
  );
}

const PodTile = memo(function PodTile(p: { id: string; phase: string; paused: boolean; version: string; restarts: number; age: string; cpu: string; lat: string; msg: string | null; compact: boolean; onOpen: (id: string) => void }) {
  const short = p.id.includes('-') ? p.id.slice(p.id.lastIndexOf('-') + 1) : p.id;
  // A frozen pod keeps its phase until its probes notice: say both, since "Ready" alone would mislead.
  const label = `pod ${p.id}, ${p.phase}${p.paused ? ', paused by chaos' : ''}, ${p.version}, ${podNumbersText(p.restarts, p.age, p.cpu, p.lat)}`;
  if (p.compact) {
    return (
      <div role="listitem" class="pod-item">
        <button type="button" class="pod mini" data-testid="pod" data-pod={p.id} data-phase={p.phase} data-paused={p.paused ? 'true' : undefined} data-version={p.version} style={{ '--pc': phaseVar(p.phase) }} title={`${label}${p.msg ? ` · ${p.msg}` : ''}`} aria-label={label} onClick={() => p.onOpen(p.id)}>
          <span aria-hidden="true">{p.paused ? '‖' : phaseGlyph(p.phase)}</span>
          {p.restarts > 0 && <sup class="num">{p.restarts}</sup>}
        </button>
      </div>
    );
  }
  return (
    <div role="listitem" class="pod-item">
      <button
        type="button"
        class="pod"
        data-testid="pod"
        data-pod={p.id}
        data-phase={p.phase}
        data-paused={p.paused ? 'true' : undefined}
        data-version={p.version}
        style={{ '--pc': phaseVar(p.phase) }}
        title={`${label}${p.msg ? ` · ${p.msg}` : ''}`}
        aria-label={label}
        onClick={() => p.onOpen(p.id)}
      >
        <span class="pod-top">
          <span class="pod-glyph" aria-hidden="true">
            {phaseGlyph(p.phase)}
          </span>
          <span class="pod-id mono">{short}</span>
          <span class="pod-ver">{p.version}</span>
        </span>
        <span class="pod-phase">
          {p.phase}
          {p.paused && <span class="pod-paused"> · ‖ paused</span>}
        </span>
        <span class="pod-nums num">
          ↻{p.restarts} · {p.age} · {p.cpu} · {p.lat}
        </span>
      </button>
    </div>
  );
});

function CardActions({ d, r }: { d: ServiceDetail; r: RolloutStatus | null }) {
  const { canAct, why } = useCanAct();
  const name = d.name;
  const live = livePods(d.pods);
  const avgCpu = live.length ? live.reduce((n, p) => n + (p.cpu || 0), 0) / live.length : 0;
  const loaded = avgCpu >= 50;
  const sim = d.runtime === 'sim';
  const phase = r?.phase ?? 'Completed';
  const inFlight = phase === 'Progressing' || phase === 'Paused';
  const revisions = r?.history?.length ?? (Array.isArray(d.history) ? d.history.length : 0);
  const t = (ok: boolean, reason: string) => (!canAct ? why : ok ? undefined : reason);
  const [form, setForm] = useState<'faults' | 'pause' | null>(null);
  const closeForm = useCallback(() => setForm(null), []);

  // Grid's /scale takes a delta (DASHBOARD.md says replicas=): a delta also composes with an autoscaler.
  const scale = (delta: number) => act(`scale ${name} ${delta > 0 ? '+' : ''}${delta} (to ${d.desired + delta})`, 'POST', '/scale', { query: { service: name, delta } });
  const killOne = async () => {
    if (await confirmThen(`Kill one pod of ${name}?`, 'Grid picks a pod at random and kills it; the reconciler starts a replacement.')) await act(`kill a pod of ${name}`, 'POST', '/chaos/kill', { query: { service: name, count: 1 } });
  };
  const load = () => act(loaded ? `CPU load off for ${name}` : `CPU load 80% on ${name}`, 'POST', '/load', { query: { service: name, cpu: loaded ? 0 : 80 } });
  const rollout = async (cmd: 'promote' | 'abort' | 'retry' | 'undo') => {
    if (cmd === 'abort' && !(await confirmThen(`Abort the rollout of ${name}?`, `All traffic returns to ${r?.stable?.version ?? 'the stable version'}.`))) return;
    if (cmd === 'undo' && !(await confirmThen(`Undo ${name} to its previous revision?`, 'The previous spec is applied again as a new revision and rolled out.'))) return;
    await act(`rollout ${cmd} ${name}`, 'POST', `/services/${enc(name)}/rollout/${cmd}`);
  };
  const del = async () => {
    if (await confirmThen(`Delete service ${name}?`, 'Its pods are stopped and its spec removed. This cannot be undone.')) await act(`delete ${name}`, 'DELETE', `/services/${enc(name)}`);
  };
  return (
    <div class="svc-actions row" role="group" aria-label={`actions for ${name}`}>
      <button type="button" data-testid="scale-down" disabled={!canAct || d.desired <= 0} title={t(d.desired > 0, 'already at 0 replicas')} onClick={() => scale(-1)} aria-label={`scale ${name} down by one`}>
        −1
      </button>
      <button type="button" data-testid="scale-up" disabled={!canAct} title={why} onClick={() => scale(1)} aria-label={`scale ${name} up by one`}>
        +1
      </button>
      <button type="button" data-testid="kill-pod" class="danger" disabled={!canAct || live.length === 0} title={t(live.length > 0, 'no pod to kill')} onClick={killOne}>
        Kill a pod
      </button>
      <button type="button" data-testid="cpu-load" disabled={!canAct || !sim} title={t(sim, 'CPU load is simulated on the sim runtime only')} onClick={load} aria-pressed={loaded}>
        {loaded ? 'CPU load off' : 'CPU load'}
      </button>
      <button type="button" data-testid="inject-faults" disabled={!canAct} title={why} onClick={() => setForm('faults')}>
        Inject faults…
      </button>
      <button type="button" data-testid="pause-pod" disabled={!canAct || sim || live.length === 0} title={t(!sim && live.length > 0, sim ? 'a sim pod has no process to pause' : 'no pod to pause')} onClick={() => setForm('pause')}>
        Pause a pod…
      </button>
      <span class="sep" aria-hidden="true" />
      <button type="button" data-testid="rollout-promote" disabled={!canAct || !inFlight} title={t(inFlight, 'no rollout in progress')} onClick={() => rollout('promote')}>
        Promote
      </button>
      <button type="button" data-testid="rollout-abort" class="danger" disabled={!canAct || !inFlight} title={t(inFlight, 'no rollout in progress')} onClick={() => rollout('abort')}>
        Abort
      </button>
      <button type="button" data-testid="rollout-retry" disabled={!canAct || phase !== 'Aborted'} title={t(phase === 'Aborted', 'only an aborted rollout can be retried')} onClick={() => rollout('retry')}>
        Retry
      </button>
      <button type="button" data-testid="rollout-undo" disabled={!canAct || revisions < 2} title={t(revisions >= 2, 'no earlier revision')} onClick={() => rollout('undo')}>
        Undo
      </button>
      <button type="button" data-testid="delete-service" class="danger" disabled={!canAct} title={why} onClick={del}>
        Delete
      </button>
      {form && <ChaosForm kind={form} service={name} onClose={closeForm} />}
    </div>
  );
}
