// Failover groups: each target's health and latency, the active one, switches with their
// reasons, and a manual switch. Re-read after failover events, otherwise every 5 s.
import { useEffect, useRef, useState } from 'preact/hooks';
import { get } from '../lib/api.js';
import { act, confirmThen } from '../lib/actions.js';
import { useStore } from '../lib/store.js';
import { sparkPoints } from '../lib/sparkline.js';

interface Check {
  at: string;
  ok: boolean;
  status: number | null;
  latencyMs: number | null;
  problem: string | null;
}
interface Target {
  name: string;
  kind: 'service' | 'url';
  priority: number;
  active: boolean;
  health: 'healthy' | 'unhealthy' | 'unknown' | string;
  healthSince: string;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  latency: { p50Ms: number | null; p99Ms: number | null; samples: number };
  checked: string;
  recent: Check[];
}
interface Switch {
  at: string;
  from: string | null;
  to: string;
  automatic: boolean;
  reason: string;
  message: string;
}
export interface GroupView {
  name: string;
  active: string | null;
  healthy: number;
  total: number;
  failback: string;
  pinned: boolean;
  cooldownRemainingMs: number;
  targets: Target[];
  history: Switch[];
}

const POLL_MS = 5000;
const EVENT_COALESCE_MS = 1000;

/** Loads every group; again every 5 s, and (at most once a second) after a failover.* event. */
export function useFailoverGroups(): { groups: GroupView[] | null; error: string | null; reload: () => void } {
  const events = useStore((s) => s.events);
  const [groups, setGroups] = useState<GroupView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const lastSeen = useRef(0);
  const lastLoad = useRef(0);

  useEffect(() => {
    let alive = true;
    lastLoad.current = performance.now();
    (async () => {
      try {
        const list = await get<{ groups: { name: string }[] }>('/failover');
        const views = await Promise.all(list.groups.map((g) => get<GroupView>(`/failover/${encodeURIComponent(g.name)}`)));
        if (alive) (setGroups(views), setError(null));
      } catch (e) {
        if (alive) setError((e as Error).message);
      }
    })();
    const t = setTimeout(() => setTick((n) => n + 1), POLL_MS);
    return () => ((alive = false), clearTimeout(t));
  }, [tick]);

  useEffect(() => {
    const fresh = events.filter((e) => e.id > lastSeen.current);
    if (events.length) lastSeen.current = events[events.length - 1].id;
    if (!fresh.some((e) => e.type.startsWith('failover.'))) return;
    const t = setTimeout(() => setTick((n) => n + 1), Math.max(0, EVENT_COALESCE_MS - (performance.now() - lastLoad.current)));
    return () => clearTimeout(t);
  }, [events]);

  return { groups, error, reload: () => setTick((n) => n + 1) };
}

function Sparkline({ checks }: { checks: Check[] }) {
  const values = [...checks].reverse().map((c) => (c.ok ? c.latencyMs : null));
  const known = values.filter((v): v is number => v !== null);
  const label = known.length ? `latency of the last ${values.length} checks: ${Math.min(...known).toFixed(0)}–${Math.max(...known).toFixed(0)} ms` : 'no successful checks yet';
  return (
    <svg class="spark" viewBox="0 0 120 28" width="120" height="28" role="img" aria-label={label}>
      <title>{label}</title>
      <polyline points={sparkPoints(values, 120, 28)} fill="none" stroke="currentColor" stroke-width="1.5" />
    </svg>
  );
}

function TargetCard({ group, t, canAct, reload }: { group: GroupView; t: Target; canAct: boolean; reload: () => void }) {
  const healthy = t.health === 'healthy';
  const doSwitch = async () => {
    if (!(await confirmThen(`Switch ${group.name} to ${t.name}?`, `Traffic for ${group.name} moves from ${group.active ?? 'nothing'} to ${t.name} now, and stays there (no automatic failback) until it fails or you switch again.`))) return;
    await act(`Switch ${group.name} → ${t.name}`, 'POST', `/failover/${encodeURIComponent(group.name)}/switch`, { query: { to: t.name } });
    reload();
  };
  const last = t.recent[0];
  return (
    <li class={`fo-target ${healthy ? 'healthy' : 'unhealthy'}${t.active ? ' active' : ''}`} data-testid="failover-target" data-target={t.name} data-healthy={String(healthy)}>
      <div class="row">
        <strong>
          #{t.priority} {t.name}
        </strong>
        {t.active && <span class="badge act">active</span>}
        <span class={`badge ${healthy ? 'ok' : t.health === 'unhealthy' ? 'error' : ''}`}>
          {healthy ? '✓ healthy' : t.health === 'unhealthy' ? '✗ unhealthy' : `? ${t.health}`}
        </span>
      </div>
      <div class="row fo-numbers">
        <Sparkline checks={t.recent} />
        <span class="num">p50 {t.latency.p50Ms ?? '—'} ms · p99 {t.latency.p99Ms ?? '—'} ms</span>
      </div>
      <p class="muted small">
        {healthy ? `${t.consecutiveSuccesses} checks passed in a row` : `${t.consecutiveFailures} checks failed in a row`}
        {last && !last.ok && last.problem ? ` · last: ${last.problem}` : ''}
      </p>
      <button type="button" data-testid="failover-switch" disabled={!canAct || t.active} title={!canAct ? 'Viewers cannot switch: sign in as an operator' : t.active ? 'Already active' : undefined} onClick={doSwitch}>
        Switch here
      </button>
    </li>
  );
}

export function FailoverView() {
  const me = useStore((s) => s.me);
  const { groups, error, reload } = useFailoverGroups();
  const canAct = Boolean(me?.canAct);
  return (
    <section aria-labelledby="failover-h">
      <h2 id="failover-h">Failover</h2>
      {error && <p class="error">Could not read failover groups: {error}</p>}
      {groups === null && !error && <p class="muted">Loading…</p>}
      {groups?.length === 0 && (
        <p class="muted">
          No failover groups. A FailoverGroup sends traffic for one name to the first healthy target in priority order; try <code>examples/failover.yaml</code> on the Apply page.
        </p>
      )}
      <div class="fo-groups">
        {groups?.map((g) => (
          <article key={g.name} class="panel fo-group" data-testid="failover-group" data-group={g.name} data-active={g.active ?? ''}>
            <header class="row">
              <h3>{g.name}</h3>
              <span class="badge">
                {g.healthy}/{g.total} healthy
              </span>
              <span class="badge">failback {g.failback}</span>
              {g.pinned && <span class="badge" title="Chosen by hand: no automatic failback">pinned</span>}
              {g.cooldownRemainingMs > 0 && <span class="badge warn num">cooldown {(g.cooldownRemainingMs / 1000).toFixed(0)} s</span>}
            </header>
            <ol class="fo-targets">
              {g.targets.map((t) => (
                <TargetCard key={t.name} group={g} t={t} canAct={canAct} reload={reload} />
              ))}
            </ol>
            <h4>Switches</h4>
            <ol class="fo-history" data-testid="failover-history">
              {g.history.length === 0 && <li class="muted">No switch yet.</li>}
              {g.history.slice(0, 20).map((h) => (
                <li key={h.at + h.to}>
                  <time class="num muted">{new Date(h.at).toLocaleTimeString([], { hour12: false })}</time> {h.from ?? '—'} → <strong>{h.to}</strong> <span class="badge">{h.automatic ? 'automatic' : 'by hand'}</span> <span class="muted">{h.message}</span>
                </li>
              ))}
            </ol>
          </article>
        ))}
      </div>
    </section>
  );
}
