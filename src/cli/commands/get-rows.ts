// Pure translation of Grid's JSON into the rows gridctl get/top/events print: no I/O, so each
// column's rule is tested table-driven (get-rows.spec.ts). `now` is always passed in.
import { age, ageSince, sanitize } from '../output.js';
import { UsageError } from '../errors.js';
import type { Condition, GridEvent, PodView, ServiceSummary } from '../../common/api/types.js';

export type { Condition, GridEvent, ServiceSummary };

export interface Probe {
  httpGet?: { path: string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

/** GET /services/:name */
export interface ServiceDetail extends ServiceSummary {
  updatedAt?: string;
  metadata?: { name: string; labels?: Record<string, string> };
  spec: {
    replicas: number;
    runtime?: string;
    image?: string;
    command?: string[];
    workingDir?: string;
    port?: number;
    env?: Array<{ name: string; value: string }>;
    rollout?: { strategy?: string; maxSurge?: string | number; maxUnavailable?: string | number; minReadySeconds?: number; steps?: unknown[]; analysis?: Record<string, unknown> };
    readinessProbe?: Probe;
    livenessProbe?: Probe;
    startupProbe?: Probe;
    autoscale?: Record<string, unknown>;
    terminationGracePeriodSeconds?: number;
    storage?: { persistent?: boolean };
    dependsOn?: Array<{ service: string; condition?: string }>;
  };
  pods: StatePod[];
  inSync?: boolean;
  diff?: Array<{ field?: string; desired?: unknown; actual?: unknown }>;
  status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; readyReplicas?: number; availableReplicas?: number; unavailableReplicas?: number; conditions?: Condition[] };
  autoscaler?: {
    targetCPU: number;
    min: number;
    max: number;
    replicas: number;
    lastDecision?: { at: string; averageCpu: number; readyPods: number; current: number; desired: number; verdict: string; message: string } | null;
  } | null;
  history?: Array<{ generation: number; revision: number; version: string; specHash?: string; source?: string; createdAt: string; replicas?: number }>;
}

/** A pod of GET /state (and of /services/:name's `pods`). */
export type StatePod = PodView;

export interface PodExit {
  at: number;
  code: number | null;
  signal: string | null;
  reason: string;
  message: string;
}

export interface ProbeResult {
  at: number;
  ok: boolean;
  latencyMs?: number;
  status?: number;
  error?: string;
}

/** GET /pods/:id */
export interface PodDetail extends StatePod {
  labels?: Record<string, string>;
  lastExit?: PodExit | null;
  probes?: Record<string, ProbeResult[]>;
}

/** GET /failover (one entry of `groups`). */
export interface GroupSummary {
  name: string;
  active: string | null;
  healthy: number;
  total: number;
  failback: string;
  lastSwitch: { at: string; from: string | null; to: string; reason: string } | null;
}

/** GET /failover/:group */
export interface GroupDetail extends Omit<GroupSummary, 'lastSwitch'> {
  uid?: string;
  generation?: number;
  pinned?: boolean;
  cooldownSeconds?: number;
  cooldownRemainingMs?: number;
  healthCheck?: Record<string, unknown>;
  targets: Array<{
    name: string;
    kind: string;
    priority: number;
    active: boolean;
    health: string;
    healthSince?: string;
    consecutiveFailures: number;
    consecutiveSuccesses: number;
    latency?: { p50Ms: number | null; p99Ms: number | null; samples: number };
    checked?: string;
  }>;
  history: Array<{ at: string; from: string | null; to: string; automatic: boolean; reason: string; message: string }>;
}

/** GET /traffic?service=&window= */
export interface Traffic {
  service: string;
  versions: Array<{ version: string; weight: number; share: number; pods: string[] }>;
  window: { seconds: number; byVersion: Array<{ version: string; requests: number; errors5xx: number; errorRate: number; p50Ms: number | null; p99Ms: number | null }> };
  ejected: unknown[];
}

export type Cell = string | number | null | undefined;

/** A table a watch can re-print: `key` identifies a row across reads, `volatile` columns (ages) never count as a change. */
export interface Rows {
  headers: string[];
  rows: Cell[][];
  keys: string[];
  volatile: number[];
}

const SERVICE_HEADERS = ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'];
const SERVICE_WIDE = ['VERSION', 'STRATEGY', 'RUNTIME', 'IMAGE/COMMAND'];

/** `get services`: READY is ready/desired, UP-TO-DATE the pods of the current revision, AVAILABLE the available ones (status, as a Deployment's). */
export function serviceRows(services: Array<ServiceSummary | ServiceDetail>, wide: boolean, now: number): Rows {
  return {
    headers: wide ? [...SERVICE_HEADERS, ...SERVICE_WIDE] : SERVICE_HEADERS,
    keys: services.map((s) => s.name),
    volatile: [4],
    rows: services.map((s) => {
      const d = s as Partial<ServiceDetail>;
      const row: Cell[] = [s.name, `${s.ready}/${s.desired}`, s.updatedReplicas, s.availableReplicas, ageSince(s.createdAt, now)];
      if (wide) row.push(s.version, d.spec?.rollout?.strategy ?? 'Rolling', s.runtime, workload(d.spec));
      return row;
    }),
  };
}

/** What a service runs: the image, or the command as one line (arguments with spaces quoted). */
export function workload(spec: ServiceDetail['spec'] | undefined): string {
  if (!spec) return '';
  if (spec.image) return spec.image;
  return (spec.command ?? []).map((a) => (/[\s"']/.test(a) || a === '' ? JSON.stringify(a) : a)).join(' ');
}

const POD_HEADERS = ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'VERSION'];
const POD_WIDE = ['SERVICE', 'ORDINAL', 'PID', 'PORT', 'CPU', 'RUNTIME'];

/** `get pods` (STATUS `Paused` for a pod a chaos experiment froze: its phase alone would say Running or Ready); a pod's last exit time comes with it (`lastExitAt`), or from `lastExits` (epoch ms) where it was looked up. */
export function podRows(pods: StatePod[], wide: boolean, now: number, lastExits: Map<string, number> = new Map()): Rows {
  return {
    headers: wide ? [...POD_HEADERS, ...POD_WIDE] : POD_HEADERS,
    keys: pods.map((p) => p.id),
    volatile: [3, 4],
    rows: pods.map((p) => {
      const row: Cell[] = [p.id, readyString(p.ready), podStatus(p), restartsString(p.restarts, lastExits.get(p.id) ?? (p.lastExitAt ? Date.parse(p.lastExitAt) : undefined), now), podAge(p, now), p.version];
      if (wide) row.push(p.service, p.ordinal ?? '', p.pid ?? '', p.port ?? '', `${p.cpu}%`, p.runtime);
      return row;
    }),
  };
}

/** GET /volumes: one data directory of a persistent service. */
export interface VolumeView {
  name: string;
  path: string;
  service: string;
  ordinal: number;
  bytes: number;
  status: string;
  pod: string | null;
  serviceExists: boolean;
  createdAt: string;
}

const VOLUME_HEADERS = ['NAME', 'SERVICE', 'ORDINAL', 'STATUS', 'SIZE', 'AGE'];

/** `get volumes`, as `kubectl get pvc`: Bound to a pod or Released; -o wide says which pod and whether the service is still applied. */
export function volumeRows(volumes: VolumeView[], wide: boolean, now: number): Rows {
  return {
    headers: wide ? [...VOLUME_HEADERS, 'POD', 'SERVICE-APPLIED'] : VOLUME_HEADERS,
    keys: volumes.map((v) => v.name),
    volatile: [4, 5],
    rows: volumes.map((v) => {
      const row: Cell[] = [v.name, v.service, v.ordinal, v.status, sizeString(v.bytes), ageSince(v.createdAt, now)];
      if (wide) row.push(v.pod ?? '<none>', v.serviceExists ? 'yes' : 'no (delete --purge removes the data)');
      return row;
    }),
  };
}

/** Bytes as kubectl writes quantities: 512B, 12Ki, 3.4Mi, 2Gi. */
export function sizeString(bytes: number): string {
  const units = ['Ki', 'Mi', 'Gi', 'Ti'];
  if (bytes < 1024) return `${bytes}B`;
  let n = bytes / 1024;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n < 10 ? Math.round(n * 10) / 10 : Math.round(n)}${units[i]}`;
}

/** STATUS: the pod's phase, or `Paused` while a chaos pause has it frozen (its phase still reads Running or Ready: docker ps says "(Paused)" likewise). */
export function podStatus(p: Pick<StatePod, 'state' | 'paused'>): string {
  return p.paused && p.state !== 'Terminating' ? 'Paused' : p.state;
}

/** A Grid pod is one process or container, so READY is 1/1 or 0/1. */
export function readyString(ready: boolean): string {
  return ready ? '1/1' : '0/1';
}

/** kubectl's RESTARTS: `3 (45s ago)` when the last restart's time is known, else the count. */
export function restartsString(restarts: number, lastExitAt: number | undefined, now: number): string {
  if (restarts > 0 && lastExitAt !== undefined) return `${restarts} (${age((now - lastExitAt) / 1000)} ago)`;
  return String(restarts);
}

/** The server's own age (no clock skew) when it sent one, else from createdAt. */
export function podAge(p: StatePod, now: number): string {
  return p.ageSeconds !== undefined ? age(p.ageSeconds) : ageSince(p.createdAt, now);
}

/**
 * `get failovergroups`: Grid keeps no creation time for a group, so the last switch's age stands
 * where AGE would. -o wide adds each target's health (`api:Healthy,api-dr:Unhealthy`) and the check's path.
 */
export function groupRows(groups: GroupDetail[], lastSwitch: Map<string, GroupSummary['lastSwitch']>, now: number, wide = false): Rows {
  const headers = ['NAME', 'ACTIVE', 'HEALTHY', 'TARGETS', 'FAILBACK', 'LAST-SWITCH'];
  return {
    headers: wide ? [...headers, 'TARGET-HEALTH', 'CHECK'] : headers,
    keys: groups.map((g) => g.name),
    volatile: [5],
    rows: groups.map((g) => {
      const last = lastSwitch.get(g.name);
      const row: Cell[] = [g.name, g.active ?? '', `${g.healthy}/${g.total}`, g.targets.map((t) => t.name).join(','), g.failback, last ? `${ageSince(last.at, now)} (${last.from ?? '-'}→${last.to})` : ''];
      if (wide) row.push(g.targets.map((t) => `${t.name}:${t.health}`).join(','), typeof g.healthCheck?.path === 'string' ? g.healthCheck.path : '');
      return row;
    }),
  };
}

const EVENT_HEADERS = ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'];

/** `get events` / `events`: kubectl's columns, plus EXPLAIN (Grid's why) when asked. */
export function eventRows(events: GridEvent[], explain: boolean, now: number): Rows {
  return {
    headers: explain ? [...EVENT_HEADERS, 'EXPLAIN'] : EVENT_HEADERS,
    keys: events.map((e) => String(e.id)),
    volatile: [0],
    rows: events.map((e) => {
      const row: Cell[] = [ageSince(e.time, now), eventSeverity(e), e.reason, eventObject(e), e.message];
      if (explain) row.push(e.explain);
      return row;
    }),
  };
}

const WARNING_TYPES = new Set(['pod.exited', 'pod.failed', 'pod.backoff', 'pod.unready', 'pod.killed', 'pod.unschedulable', 'pod.forgotten', 'rollout.aborted', 'rollout.stalled', 'failover.switched']);

/** Grid's events have no Normal/Warning field: Warning is what says something went wrong (a failure, an abort, a switch away). */
export function eventSeverity(e: Pick<GridEvent, 'type' | 'reason'>): 'Normal' | 'Warning' {
  if (WARNING_TYPES.has(e.type)) return 'Warning';
  return /fail|error|unhealthy|abort|backoff|unschedulable|stalled/i.test(e.reason) ? 'Warning' : 'Normal';
}

/** The object an event is about, as kubectl names it: `pod/web-abc`, `service/web`, `failovergroup/shop`. */
export function eventObject(e: Pick<GridEvent, 'type' | 'service' | 'pod'>): string {
  if (e.pod) return `pod/${e.pod}`;
  if (!e.service) return e.type.split('.')[0];
  if (e.type.startsWith('group.') || e.type.startsWith('failover.')) return `failovergroup/${e.service}`;
  return `service/${e.service}`;
}

/** The server's `type` filter, client-side for streamed events: exact, or a domain (`pod`, `pod.*`). */
export function typeMatches(filter: string | undefined, type: string): boolean {
  if (!filter) return true;
  const domain = filter.endsWith('.*') ? filter.slice(0, -2) : filter.includes('.') ? undefined : filter.replace(/\*$/, '');
  if (domain !== undefined) return type === domain || type.startsWith(`${domain}.`);
  return type === filter;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since 10m|2h|1d|ISO` → what /events takes (ISO); a bad value is a usage error naming the flag. */
export function sinceParam(raw: string | undefined, now: number): string | undefined {
  if (raw === undefined) return undefined;
  const m = /^(\d+)(s|m|h|d)$/.exec(raw);
  if (m) return new Date(now - Number(m[1]) * UNIT_MS[m[2]]).toISOString();
  if (/^\d{4}-\d{2}-\d{2}/.test(raw) && Number.isFinite(Date.parse(raw))) return new Date(Date.parse(raw)).toISOString();
  throw new UsageError(`--since: a duration such as 10m, 2h, 1d or an ISO time (got '${raw}')`);
}

/** `top pods`: the gateway measures per version, not per pod, so a pod's row is its CPU only. */
export function topPodRows(pods: StatePod[]): Rows {
  return {
    headers: ['NAME', 'CPU(%)', 'SERVICE', 'VERSION', 'STATUS'],
    keys: pods.map((p) => p.id),
    volatile: [],
    rows: pods.map((p) => [p.id, p.cpu, p.service, p.version, podStatus(p)]),
  };
}

/** `top services`: one row per service and version (the gateway's unit): CPU summed over the version's pods, the window's rps, 5xx rate and latency. */
export function topServiceRows(services: Array<{ name: string; pods: StatePod[]; traffic: Traffic | null }>): Rows {
  const rows: Cell[][] = [];
  const keys: string[] = [];
  for (const s of services) {
    const versions = new Set<string>([...s.pods.filter((p) => p.state !== 'Terminating').map((p) => p.version), ...(s.traffic?.window.byVersion ?? []).map((v) => v.version)]);
    if (versions.size === 0) versions.add('');
    for (const v of [...versions].sort()) {
      const pods = s.pods.filter((p) => p.version === v && p.state !== 'Terminating');
      const w = s.traffic?.window.byVersion.find((x) => x.version === v);
      const secs = s.traffic?.window.seconds ?? 60;
      const share = s.traffic?.versions.find((x) => x.version === v)?.share;
      keys.push(`${s.name}@${v}`);
      // Without a request there is no rate of 5xx and no latency: <none>, not a 0 that reads as "fast and healthy".
      const served = w && w.requests > 0 ? w : undefined;
      rows.push([s.name, v, pods.length, pods.reduce((n, p) => n + p.cpu, 0), share === undefined ? '' : `${share}%`, served ? fixed(served.requests / secs) : '0', served ? fixed(served.errorRate * 100) : '', served?.p50Ms ?? '', served?.p99Ms ?? '']);
    }
  }
  return { headers: ['NAME', 'VERSION', 'PODS', 'CPU(%)', 'WEIGHT', 'RPS', '5XX(%)', 'P50(ms)', 'P99(ms)'], keys, volatile: [], rows };
}

function fixed(n: number): string {
  return n === 0 ? '0' : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/**
 * Lines aligned under `widths` (kubectl's three spaces), growing a width when a cell is wider;
 * a watch keeps the widths of its first table so later rows line up under its header.
 */
export function alignRows(rows: Cell[][], widths: number[]): string[] {
  return rows.map((r) => {
    const cells = r.map(cellText);
    cells.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
    return cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('   ')
      .trimEnd();
  });
}

export function columnWidths(headers: string[], rows: Cell[][]): number[] {
  return headers.map((h, i) => Math.max(h.length, ...rows.map((r) => cellText(r[i]).length)));
}

export function cellText(c: Cell): string {
  return c === null || c === undefined || c === '' ? '<none>' : sanitize(String(c));
}

/** What a watch compares: the row without its volatile (age) columns and without a restart's "(… ago)". */
export function rowSignature(row: Cell[], volatile: number[]): string {
  return JSON.stringify(row.map((c, i) => (volatile.includes(i) && typeof c === 'string' ? c.replace(/ \(.* ago\)$/, '').replace(/^\d+[smhdy][0-9smhdy]*/, '') : c)));
}
