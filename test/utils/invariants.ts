// Invariants a Grid must hold after any crash, checked from outside: over its HTTP API,
// in the process table, and in its SQLite file read read-only. Each check returns the
// list of what it found wrong (empty: holds), so a caller can poll it with a deadline
// (expectEventually) and report the last violations when the deadline passes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { json } from './grid.js';

/** A live process that carries a pod's environment. */
export interface PodProcess {
  pid: number;
  /** Its process group: a pod is spawned as a group leader, its helpers share the group. */
  pgid: number;
  pod: string;
  service: string;
}

export interface StateView {
  services: { name: string; desired: number; revision: number }[];
  pods: { id: string; service: string; pid: number | null; state: string; ready: boolean; revision: number }[];
}

/**
 * Live (not zombie) processes whose environment holds `marker` (a NAME=value the test gave
 * the Grid it started, which Grid passes on to its pods) and GRID_POD: the pods of that Grid
 * only, never another engineer's. Processes of another user are unreadable and skipped.
 */
export function podProcesses(marker: string): PodProcess[] {
  const out: PodProcess[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let environ: string;
    let stat: string;
    try {
      environ = fs.readFileSync(`/proc/${name}/environ`, 'latin1');
      stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    const vars = environ.split('\0');
    if (!vars.includes(marker)) continue;
    const pod = vars.find((v) => v.startsWith('GRID_POD='))?.slice('GRID_POD='.length);
    if (!pod) continue;
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z' || rest[0] === 'X') continue;
    const service = vars.find((v) => v.startsWith('GRID_SERVICE='))?.slice('GRID_SERVICE='.length) ?? '';
    out.push({ pid: Number(name), pgid: Number(rest[2]), pod, service });
  }
  return out;
}

/**
 * Every live pod process belongs to exactly one pod Grid knows (`states`: /state read before
 * and after the scan, so a pod created or removed during the scan is not taken for an orphan),
 * with the pid Grid recorded; no pod has two processes; no process serves a deleted service.
 * Pure: the caller brings the scan and the states.
 */
export function processViolations(procs: PodProcess[], states: StateView[]): string[] {
  const problems: string[] = [];
  const leaders = procs.filter((p) => p.pid === p.pgid);
  const byPod = new Map<string, PodProcess[]>();
  for (const p of leaders) byPod.set(p.pod, [...(byPod.get(p.pod) ?? []), p]);
  for (const [pod, ps] of byPod) {
    if (ps.length > 1) problems.push(`duplicate: pod ${pod} has ${ps.length} processes (pids ${ps.map((p) => p.pid).join(', ')})`);
  }
  for (const p of leaders) {
    const known = states.some((s) => s.pods.some((q) => q.id === p.pod && (q.pid === p.pid || q.pid === null)));
    if (known) continue;
    const serviceKnown = states.some((s) => s.services.some((x) => x.name === p.service));
    problems.push(serviceKnown ? `orphan: pid ${p.pid} runs pod ${p.pod} of ${p.service}, which Grid does not know with that pid` : `orphan: pid ${p.pid} runs pod ${p.pod} of deleted service ${p.service}`);
  }
  return problems;
}

/** The event log's ids have no gap (ids are consecutive from the oldest kept). Reads the file read-only. */
export function eventIdViolations(dataDir: string): string[] {
  const db = new Database(path.join(dataDir, 'grid.db'), { readonly: true, fileMustExist: true });
  try {
    const ids = (db.prepare('SELECT id FROM events ORDER BY id').all() as { id: number }[]).map((r) => r.id);
    return idGaps(ids).map(([after, next]) => `event ids jump from ${after} to ${next}`);
  } finally {
    db.close();
  }
}

/** Pairs [a, b] of neighbours in a sorted id list with b !== a + 1. Pure. */
export function idGaps(sortedIds: number[]): [number, number][] {
  const gaps: [number, number][] = [];
  for (let i = 1; i < sortedIds.length; i++) if (sortedIds[i] !== sortedIds[i - 1] + 1) gaps.push([sortedIds[i - 1], sortedIds[i]]);
  return gaps;
}

export async function auditViolations(url: string): Promise<string[]> {
  const { status, body } = await json(`${url}/audit/verify`);
  if (status !== 200 || body.ok !== true) return [`audit chain does not verify: ${status} ${JSON.stringify(body)}`];
  return [];
}

export interface RolloutView {
  phase: string;
  stable: { revision: number };
  canary: { revision: number };
}

/**
 * One service has converged: its desired replicas run Ready on its one current revision; or a
 * rollout holds it in a coherent place — paused (every pod Ready, on the stable or the canary
 * revision, at least the desired replicas of them) or aborted (the desired replicas Ready on
 * the stable revision). Progressing is not converged yet. Pure.
 */
export function convergenceViolations(service: StateView['services'][number], pods: StateView['pods'], rollout: RolloutView | null): string[] {
  const live = pods.filter((p) => p.service === service.name && p.state !== 'Terminating');
  const describe = `${service.name}: ${JSON.stringify(live.map((p) => [p.id, p.revision, p.state]))}, desired ${service.desired}, revision ${service.revision}, rollout ${rollout?.phase ?? 'none'}`;
  const notReady = live.filter((p) => !p.ready);
  if (notReady.length > 0) return [`${describe}: ${notReady.length} pods not Ready`];
  if (rollout?.phase === 'Paused') {
    const allowed = new Set([rollout.stable.revision, rollout.canary.revision]);
    if (live.some((p) => !allowed.has(p.revision))) return [`${describe}: a pod is on neither the stable nor the canary revision`];
    if (live.length < service.desired) return [`${describe}: fewer pods than desired while paused`];
    return [];
  }
  const want = rollout?.phase === 'Aborted' ? rollout.stable.revision : service.revision;
  if (rollout && rollout.phase !== 'Completed' && rollout.phase !== 'Aborted') return [`${describe}: rollout still ${rollout.phase}`];
  if (live.length !== service.desired) return [`${describe}: ${live.length} pods, want ${service.desired}`];
  if (live.some((p) => p.revision !== want)) return [`${describe}: pods not all on revision ${want}`];
  return [];
}
