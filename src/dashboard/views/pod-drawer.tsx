// One pod up close: details, probe history, live logs, kill, and the demo service's chaos
// toggles. Escape or × closes it and focus returns to the pod's tile (ServicesView does that).
import { useEffect, useRef, useState } from 'preact/hooks';
import { act, confirmThen } from '../lib/actions.js';
import { get, ApiError } from '../lib/api.js';
import { openStream } from '../lib/sse.js';
import { useStore } from '../lib/store.js';
import { formatAge, formatCpu, formatMs, phaseGlyph, phaseVar, sparkPath } from '../lib/service-model.js';
import type { PodView } from '../../common/api/types.js';
import { useCanAct } from './hooks.js';

interface ProbeResult {
  at: number;
  ok: boolean;
  latencyMs: number;
  status?: number;
  error?: string;
}

interface PodDetail extends PodView {
  labels: Record<string, string>;
  lastExit: { code?: number | null; signal?: string | null; at?: string; reason?: string; [k: string]: unknown } | null;
  probes: { readiness: ProbeResult[]; liveness: ProbeResult[]; startup: ProbeResult[] };
}

const CHAOS: { id: string; label: string; what: string; confirm: boolean }[] = [
  { id: 'cpu', label: 'CPU burn', what: 'burns CPU in the pod', confirm: false },
  { id: 'slow', label: 'Slow', what: 'answers slowly (latency)', confirm: false },
  { id: 'unready', label: 'Unready', what: 'fails readiness: leaves rotation, keeps running', confirm: false },
  { id: 'fail', label: 'Fail 5xx', what: 'answers requests with 500s', confirm: true },
  { id: 'liveness', label: 'Liveness fail', what: 'fails liveness: Grid restarts it', confirm: true },
  { id: 'corrupt', label: 'Corrupt', what: 'answers with corrupt bodies', confirm: true },
  { id: 'crash', label: 'Crash', what: 'exits the process now', confirm: true },
  { id: 'reset', label: 'Reset', what: 'clears every toggle', confirm: false },
];

const LOG_LINES = 200;
const enc = encodeURIComponent;

export function PodDrawer({ podId, service, onClose }: { podId: string; service: string; onClose: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const { canAct, why } = useCanAct();
  const spec = useStore((s) => s.services.get(service)?.spec);
  const isDemo = JSON.stringify(spec?.command ?? '').includes('demo-services/');
  const [pod, setPod] = useState<PodDetail | null>(null);
  const [gone, setGone] = useState(false);

  useEffect(() => {
    ref.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      // A confirmation on top gets the Escape, not the drawer.
      if (e.key === 'Escape' && !document.querySelector('dialog[open]')) onClose();
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [onClose]);

  // Details and probe history: every 5 s while open (probes run every few seconds).
  useEffect(() => {
    let stop = false;
    setPod(null);
    setGone(false);
    const load = () =>
      get<PodDetail>(`/pods/${enc(podId)}`)
        .then((p) => !stop && setPod(p))
        .catch((e) => {
          if (e instanceof ApiError && e.status === 404 && !stop) {
            setGone(true);
            clearInterval(id);
          }
        });
    const id = setInterval(() => document.visibilityState === 'visible' && void load(), 5000);
    void load();
    return () => {
      stop = true;
      clearInterval(id);
    };
  }, [podId]);

  const kill = async () => {
    if (await confirmThen(`Kill pod ${podId}?`, 'The reconciler starts a replacement.')) await act(`kill ${podId}`, 'POST', '/chaos/kill', { query: { pod: podId } });
  };
  const chaos = async (c: (typeof CHAOS)[number]) => {
    if (c.confirm && !(await confirmThen(`${c.label} on ${podId}?`, `The pod ${c.what}.`))) return;
    await act(`${c.id} on ${podId}`, 'POST', `/pods/${enc(podId)}/chaos/${c.id}`);
  };

  return (
    <div ref={ref} class="pod-drawer panel" data-testid="pod-drawer" role="dialog" aria-modal="false" aria-labelledby="pod-drawer-title" tabIndex={-1}>
      <header class="row">
        <h2 id="pod-drawer-title">
          <span aria-hidden="true" style={{ color: phaseVar(pod?.state ?? 'Pending') }}>
            {phaseGlyph(pod?.state ?? 'Pending')}
          </span>{' '}
          <span class="mono">{podId}</span>
        </h2>
        <button type="button" class="icon close" data-testid="pod-drawer-close" aria-label="Close pod details" onClick={onClose}>
          ×
        </button>
      </header>
      {gone && <p class="warn">This pod is gone (replaced or scaled away).</p>}
      {pod ? <PodFacts pod={pod} /> : !gone && <p class="muted">Loading…</p>}
      <div class="row">
        <button type="button" class="danger" data-testid="pod-kill" disabled={!canAct || gone} title={why} onClick={kill}>
          Kill pod
        </button>
      </div>
      <Probes pod={pod} />
      {isDemo && (
        <section aria-labelledby="chaos-h">
          <h3 id="chaos-h">Chaos (demo service)</h3>
          <div class="chaos row">
            {CHAOS.map((c) => (
              <button key={c.id} type="button" class={c.confirm ? 'danger' : ''} data-testid={`chaos-${c.id}`} disabled={!canAct || gone} title={why ?? c.what} onClick={() => chaos(c)}>
                {c.label}
              </button>
            ))}
          </div>
        </section>
      )}
      {pod && <Logs podId={podId} runtime={pod.runtime} />}
    </div>
  );
}

function PodFacts({ pod }: { pod: PodDetail }) {
  const exit = pod.lastExit;
  return (
    <dl class="pod-facts">
      <dt>phase</dt>
      <dd style={{ color: phaseVar(pod.state) }}>{pod.state}</dd>
      <dt>ready</dt>
      <dd>{pod.ready ? 'yes' : 'no'}</dd>
      <dt>version</dt>
      <dd>
        {pod.version} (rev {pod.revision})
      </dd>
      <dt>restarts</dt>
      <dd class="num">{pod.restarts}</dd>
      <dt>age</dt>
      <dd class="num">{formatAge(pod.ageSeconds)}</dd>
      <dt>CPU</dt>
      <dd class="num">{formatCpu(pod.cpu)}</dd>
      <dt>pid / port</dt>
      <dd class="num">
        {pod.pid ?? '—'} / {pod.port ?? '—'}
      </dd>
      <dt>last exit</dt>
      <dd class="mono">{exit ? Object.entries(exit).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => `${k}=${k === 'at' && typeof v === 'number' ? new Date(v).toLocaleTimeString() : String(v)}`).join(' ') : 'none'}</dd>
      {pod.message && (
        <>
          <dt>message</dt>
          <dd>{pod.message}</dd>
        </>
      )}
      <dt>labels</dt>
      <dd class="labels">
        {Object.entries(pod.labels ?? {}).map(([k, v]) => (
          <code key={k}>
            {k}={v}
          </code>
        ))}
      </dd>
    </dl>
  );
}

function Probes({ pod }: { pod: PodDetail | null }) {
  const kinds = (['readiness', 'liveness', 'startup'] as const).filter((k) => (pod?.probes?.[k]?.length ?? 0) > 0);
  return (
    <section class="pod-probes" data-testid="pod-probes" aria-labelledby="probes-h">
      <h3 id="probes-h">Probes</h3>
      {kinds.length === 0 && <p class="muted">no probe results yet</p>}
      {kinds.map((k) => {
        const runs = pod!.probes[k].slice(-30);
        const last = runs[runs.length - 1];
        const fails = runs.filter((r) => !r.ok).length;
        return (
          <div key={k} class="probe-row">
            <span class="probe-kind">{k}</span>
            <svg class="spark" viewBox="0 0 120 24" width="120" height="24" role="img" aria-label={`${k} latency over the last ${runs.length} checks`}>
              <path d={sparkPath(runs.map((r) => r.latencyMs), 120, 24)} />
            </svg>
            <span class="num">
              last {last.ok ? <span class="ok">✓ ok</span> : <span class="error">✗ failed</span>} {formatMs(last.latencyMs)}
              {last.status ? ` · ${last.status}` : ''}
              {last.error ? ` · ${last.error}` : ''} · {fails}/{runs.length} failed
            </span>
            <ol class="probe-marks" aria-hidden="true">
              {runs.map((r) => (
                <li key={r.at} class={r.ok ? 'ok' : 'error'} title={`${new Date(r.at).toLocaleTimeString()} ${r.ok ? 'ok' : 'failed'} ${formatMs(r.latencyMs)}`}>
                  {r.ok ? '▮' : '✗'}
                </li>
              ))}
            </ol>
          </div>
        );
      })}
    </section>
  );
}

/**
 * The last 200 lines, then followed over SSE (`event: log`). Until the follow stream is connected
 * (a Grid or runtime without it), the tail is read again every 5 s instead. A connected stream of a
 * quiet pod sends only heartbeats: it is live all the same.
 */
function Logs({ podId, runtime }: { podId: string; runtime: string }) {
  const [lines, setLines] = useState<string[]>([]);
  const [mode, setMode] = useState<'loading' | 'tail' | 'live'>('loading');
  const pre = useRef<HTMLPreElement>(null);
  const stick = useRef(true);

  useEffect(() => {
    let stop = false;
    let streamed = false;
    let following = false;
    setLines([]);
    setMode('loading');
    const readTail = () =>
      get<string>(`/pods/${enc(podId)}/logs`, { tail: LOG_LINES })
        .then((text) => {
          if (stop || streamed) return;
          setLines(String(text).split('\n').filter((l, i, a) => l !== '' || i < a.length - 1).slice(-LOG_LINES));
          setMode(following ? 'live' : 'tail');
        })
        .catch(() => {});
    void readTail();
    const poll = setInterval(() => !streamed && document.visibilityState === 'visible' && void readTail(), 5000);
    const stream =
      runtime === 'process'
        ? openStream(`/pods/${enc(podId)}/logs?follow=1`, {
            reconnect: false,
            onState: (st) => {
              if (st !== 'live' || stop) return;
              following = true;
              clearInterval(poll);
              setMode((m) => (m === 'loading' ? m : 'live'));
            },
            onMessage: (m) => {
              if (m.event !== 'log' || stop) return;
              if (!streamed) {
                streamed = true;
                clearInterval(poll);
                setMode('live');
              }
              setLines((l) => (l.length >= LOG_LINES ? [...l.slice(l.length - LOG_LINES + 1), m.data] : [...l, m.data]));
            },
          })
        : null;
    return () => {
      stop = true;
      clearInterval(poll);
      stream?.close();
    };
  }, [podId, runtime]);

  useEffect(() => {
    if (pre.current && stick.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [lines]);

  return (
    <section class="pod-logs-wrap" aria-labelledby="logs-h">
      <h3 id="logs-h">
        Logs <span class="muted">{mode === 'live' ? '· live' : mode === 'tail' ? `· last ${LOG_LINES} lines, re-read every 5 s` : '· loading'}</span>
      </h3>
      <pre
        ref={pre}
        class="pod-logs"
        data-testid="pod-logs"
        tabIndex={0}
        aria-label={`logs of ${podId}`}
        onScroll={(e) => {
          const el = e.currentTarget as HTMLPreElement;
          stick.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
        }}
      >
        {lines.length ? lines.join('\n') : mode === 'loading' ? '' : '(no output yet)'}
      </pre>
    </section>
  );
}
