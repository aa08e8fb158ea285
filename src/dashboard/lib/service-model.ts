// Pure shaping for the services, pod drawer and traffic views: desired-vs-actual rows, the
// weight bar, rollout wording, number formatting. No DOM, no fetch: table-tested in the spec.
import type { DiffEntry, PodView, ServiceDetail } from '../../common/api/types.js';
import { chaosStepWords, rolloutChaosText, secondsLeftNow, type ChaosStepSpec, type RolloutChaos } from './chaos-model.js';

export interface DiffRow {
  field: string;
  desired: string;
  actual: string;
  ok: boolean;
}

/** Pods that still count toward the service (the server's diff ignores Terminating ones too). */
export function livePods(pods: readonly PodView[]): PodView[] {
  return pods.filter((p) => p.state !== 'Terminating');
}

/** "3 on rev 2 (v2) · 1 on rev 1 (v1)", newest revision first. */
export function revisionMix(pods: readonly PodView[]): string {
  if (pods.length === 0) return 'no pods';
  const by = new Map<number, { version: string; n: number }>();
  for (const p of pods) {
    const e = by.get(p.revision);
    if (e) e.n++;
    else by.set(p.revision, { version: p.version, n: 1 });
  }
  return [...by.entries()]
    .sort((a, b) => b[0] - a[0])
    .map(([rev, e]) => `${e.n} on rev ${rev} (${e.version})`)
    .join(' · ');
}

function commandOf(spec: Record<string, any>): string {
  if (typeof spec.image === 'string' && spec.image) return spec.image + (Array.isArray(spec.command) ? ' ' + spec.command.join(' ') : '');
  if (Array.isArray(spec.command)) return spec.command.join(' ');
  if (typeof spec.command === 'string') return spec.command;
  return '—';
}

function envOf(spec: Record<string, any>): string {
  const env = Array.isArray(spec.env) ? (spec.env as { name: string; value?: unknown }[]) : [];
  if (env.length === 0) return '(none)';
  return env.map((e) => `${e.name}=${e.value === undefined ? '…' : String(e.value)}`).join(' ');
}

function show(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (Array.isArray(v)) return v.map(show).join(', ');
  if (typeof v === 'object') return Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}: ${show(x)}`).join(', ');
  return String(v);
}

/**
 * Desired (the spec) against actual (what the pods run), one row per field a user can act on.
 * A pod's template is its revision: a pod on an older revision runs an older command/env, so
 * those rows say which revisions run; the server's own diff adds what we cannot derive (crashing pods).
 */
export function specDiff(d: Pick<ServiceDetail, 'spec' | 'revision' | 'version' | 'desired' | 'pods' | 'diff'>): DiffRow[] {
  const live = livePods(d.pods);
  const stale = live.filter((p) => p.revision !== d.revision);
  const templateOk = stale.length === 0;
  const mix = live.length === 0 ? 'no pods' : templateOk ? `all ${live.length} on rev ${d.revision}` : revisionMix(live);
  const ready = live.filter((p) => p.ready).length;
  const rows: DiffRow[] = [
    { field: 'image/command', desired: commandOf(d.spec ?? {}), actual: mix, ok: templateOk },
    { field: 'env', desired: envOf(d.spec ?? {}), actual: mix, ok: templateOk },
    { field: 'version', desired: `${d.version} (rev ${d.revision})`, actual: templateOk ? (live.length ? d.version : 'no pods') : revisionMix(live), ok: templateOk },
    { field: 'replicas', desired: String(d.desired), actual: String(live.length), ok: live.length === d.desired },
    { field: 'ready', desired: String(d.desired), actual: String(ready), ok: ready === d.desired },
  ];
  const covered = new Set(['replicas', 'readyReplicas', 'revision']);
  for (const e of d.diff ?? ([] as DiffEntry[])) if (!covered.has(e.field)) rows.push({ field: e.field, desired: show(e.desired), actual: show(e.actual), ok: false });
  return rows;
}

export type WeightRole = 'stable' | 'canary' | 'other';
export interface WeightSegment {
  version: string;
  pct: number;
  role: WeightRole;
}

/**
 * The weight bar: percentages (one decimal) that add up to 100 when anything has weight.
 * Exact rollout weights win; otherwise the gateway's shares; otherwise Ready pods per version.
 */
export function weightSegments(
  input: { weights?: Record<string, number> | null; traffic?: { version: string; weight: number; share: number }[] | null; pods?: readonly PodView[] },
  roles: { stable?: string | null; canary?: string | null } = {},
): WeightSegment[] {
  let raw: [string, number][];
  if (input.weights && Object.keys(input.weights).length > 0) raw = Object.entries(input.weights);
  else if (input.traffic && input.traffic.length > 0) raw = input.traffic.map((v) => [v.version, v.share]);
  else {
    const by = new Map<string, number>();
    for (const p of input.pods ?? []) if (p.ready) by.set(p.version, (by.get(p.version) ?? 0) + 1);
    raw = [...by.entries()];
  }
  const total = raw.reduce((n, [, w]) => n + Math.max(0, w), 0);
  const roleOf = (v: string): WeightRole => (roles.canary && v === roles.canary && roles.canary !== roles.stable ? 'canary' : roles.stable && v === roles.stable ? 'stable' : 'other');
  const order = { stable: 0, other: 1, canary: 2 } as const;
  return raw
    .map(([version, w]) => ({ version, pct: total > 0 ? Math.round((Math.max(0, w) / total) * 1000) / 10 : 0, role: roleOf(version) }))
    .sort((a, b) => order[a.role] - order[b.role] || a.version.localeCompare(b.version));
}

export interface RolloutStatus {
  service: string;
  strategy: string;
  phase: string;
  pauseReason: string | null;
  step: { number: number; of: number; current: Record<string, unknown> | null } | null;
  canaryWeight: number;
  weights: Record<string, number> | null;
  stable: { revision: number; version: string } | null;
  canary: { revision: number; version: string } | null;
  abort: { at: number; reason: string; message: string } | null;
  analysis: { failures: number; runs: { at: string; version: string; requests: number; errorRate: number; p99Ms: number; result: string; message: string }[] } | null;
  history?: { revision: number; version: string; current: boolean }[];
  /** The current chaos step and what it waits for (a Grid before issue 16 leaves it out). */
  chaos?: RolloutChaos | null;
}

export interface RolloutText {
  phase: string;
  step: string | null;
  analysis: string | null;
  abort: string | null;
  /** A running chaos step in words, its time left counted down from when the status was read. */
  chaos: string | null;
}

function stepWords(s: Record<string, unknown> | null): string {
  if (!s) return '';
  if (typeof s.setWeight === 'number') return `setWeight ${s.setWeight}%`;
  if (s.pause && typeof s.pause === 'object') {
    const d = (s.pause as { duration?: unknown }).duration;
    return d ? `pause ${typeof d === 'number' ? `${d}s` : d}` : 'pause until promoted';
  }
  if (s.chaos && typeof s.chaos === 'object') return chaosStepWords(s.chaos as ChaosStepSpec);
  return Object.keys(s)[0] ?? '';
}

/** `elapsedMs`: how long ago the status was read, so a chaos step's time left counts down between reads. */
export function rolloutText(r: RolloutStatus | null, elapsedMs = 0): RolloutText | null {
  if (!r) return null;
  const phase = r.pauseReason ? `${r.phase} (${r.pauseReason})` : r.phase;
  const step = r.step ? `step ${r.step.number}/${r.step.of}${r.step.current ? ` · ${stepWords(r.step.current)}` : ''} · canary ${r.canaryWeight}%` : null;
  let analysis: string | null = null;
  if (r.analysis && r.analysis.runs.length > 0) {
    const last = r.analysis.runs[r.analysis.runs.length - 1];
    analysis = `${r.analysis.runs.length} runs · ${r.analysis.failures} failed · last ${last.result}: ${last.requests} req, ${formatPct(last.errorRate)} 5xx, p99 ${formatMs(last.p99Ms)}`;
  }
  const abort = r.abort ? `${r.abort.reason}: ${r.abort.message}` : null;
  const cur = r.step?.current?.chaos;
  const chaos = r.chaos
    ? rolloutChaosText(cur && typeof cur === 'object' ? (cur as ChaosStepSpec) : null, r.chaos, r.canary?.version ?? null, r.chaos.secondsLeft === null ? null : secondsLeftNow(r.chaos.secondsLeft, 0, elapsedMs))
    : null;
  return { phase, step, analysis, abort, chaos };
}

export function formatAge(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? String(s % 60).padStart(2, '0') + 's' : ''}`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60) ? String(Math.floor((s % 3600) / 60)).padStart(2, '0') + 'm' : ''}`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600) ? Math.floor((s % 86400) / 3600) + 'h' : ''}`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** A 0..1 rate as a percentage. */
export function formatPct(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return '—';
  const p = rate * 100;
  if (p === 0) return '0%';
  if (p < 0.1) return '<0.1%';
  return `${p < 10 ? p.toFixed(1) : Math.round(p)}%`;
}

export function formatCpu(cpu: number | null | undefined): string {
  if (cpu === null || cpu === undefined || !Number.isFinite(cpu)) return '—';
  return `${Math.round(cpu)}%`;
}

/** What a pod tile's "↻0 · 5s · 0% · 2.1 ms" means, spelled out for its tooltip and screen readers. */
export function podNumbersText(restarts: number, age: string, cpu: string, lat: string): string {
  const known = (v: string) => (v === '—' ? 'not known' : v);
  return `${restarts} restart${restarts === 1 ? '' : 's'}, age ${known(age)}, CPU ${known(cpu)}, last probe ${lat === '—' ? 'not run yet' : lat}`;
}

export function formatRps(rps: number): string {
  if (!Number.isFinite(rps) || rps <= 0) return '0/s';
  return rps < 10 ? `${rps.toFixed(1)}/s` : `${Math.round(rps)}/s`;
}

/** A shape beside the phase colour, so the phase does not depend on colour alone. */
export function phaseGlyph(phase: string): string {
  switch (phase) {
    case 'Ready':
    case 'Running':
      return '●';
    case 'Starting':
      return '▲';
    case 'Pending':
      return '○';
    case 'Unready':
      return '◐';
    case 'Terminating':
      return '◌';
    case 'CrashLoopBackOff':
    case 'Failed':
      return '✖';
    case 'Exited':
      return '■';
    default:
      return '?';
  }
}

/** Known phases have a --phase-<Phase> colour; anything else is drawn as Pending. */
export function phaseVar(phase: string): string {
  const known = ['Pending', 'Starting', 'Ready', 'Running', 'Unready', 'Terminating', 'CrashLoopBackOff', 'Failed', 'Exited'];
  return `var(--phase-${known.includes(phase) ? phase : 'Pending'})`;
}

/** An SVG path through `values` scaled into w×h (min at the bottom); empty for no values. */
export function sparkPath(values: readonly number[], w: number, h: number): string {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return '';
  const max = Math.max(...v);
  const min = Math.min(...v);
  const span = max - min || 1;
  const dx = v.length > 1 ? w / (v.length - 1) : 0;
  return v.map((x, i) => `${i ? 'L' : 'M'}${(i * dx).toFixed(1)},${(h - ((x - min) / span) * (h - 2) - 1).toFixed(1)}`).join('');
}

export interface TrafficResponse {
  service: string;
  versions: { version: string; weight: number; share: number; pods: string[] }[];
  window: { seconds: number; byVersion: { version: string; requests: number; errors5xx: number; errorRate: number; p50Ms: number; p99Ms: number }[] };
  ejected: { service: string; podId: string; untilMs: number; timesEjected: number }[];
}

export interface TrafficVersion {
  version: string;
  share: number;
  rps: number;
  errorRate: number;
  p99Ms: number;
  /** Line thickness in px for the gateway → version edge. */
  stroke: number;
  pods: { id: string; phase: string; ejected: boolean; inRotation: boolean }[];
}

/** The traffic view's model: every version the gateway routes or a pod runs, its numbers, its pods. */
export function trafficModel(t: TrafficResponse | null, pods: readonly PodView[]): TrafficVersion[] {
  const ejected = new Set((t?.ejected ?? []).map((e) => e.podId));
  const names = new Set<string>([...(t?.versions ?? []).map((v) => v.version), ...livePods(pods).map((p) => p.version)]);
  const secs = t?.window.seconds || 60;
  return [...names]
    .sort()
    .map((version) => {
      const v = t?.versions.find((x) => x.version === version);
      const w = t?.window.byVersion.find((x) => x.version === version);
      const share = v?.share ?? 0;
      const routed = new Set(v?.pods ?? []);
      return {
        version,
        share,
        rps: w ? w.requests / secs : 0,
        errorRate: w?.errorRate ?? 0,
        p99Ms: w?.p99Ms ?? 0,
        stroke: share > 0 ? Math.round((1.5 + (share / 100) * 10.5) * 10) / 10 : 1,
        pods: pods
          .filter((p) => p.version === version)
          .map((p) => ({ id: p.id, phase: p.state, ejected: ejected.has(p.id), inRotation: routed.has(p.id) && !ejected.has(p.id) }))
          .sort((a, b) => a.id.localeCompare(b.id)),
      };
    });
}

const lastByService = new WeakMap<readonly { id: number; service: string | null }[], Map<string, number>>();

/** The newest event id per service, computed once per events array (cards select from it per render). */
export function lastEventIds(events: readonly { id: number; service: string | null }[]): ReadonlyMap<string, number> {
  let m = lastByService.get(events);
  if (!m) {
    m = new Map();
    for (const e of events) if (e.service) m.set(e.service, e.id);
    lastByService.set(events, m);
  }
  return m;
}
