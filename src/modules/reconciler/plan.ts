// The planner: a pure function from (desired, observed, now) to the next actions.
// No Nest, no I/O, no clock of its own: the reconciler supplies everything, which
// is what lets plan.spec.ts test it table-driven with fake time.
import type { RestartBackoff, ServiceSpec } from '../specs/spec.types.js';
import type { Pod, PodPhase } from '../runtime/pod.types.js';

export interface DesiredService {
  name: string;
  generation: number;
  /** Template revision the pods should run. */
  revision: number;
  /** Pods are matched by template hash, as Kubernetes matches ReplicaSets: re-applying an old template adopts its pods instead of replacing them. */
  templateHash: string;
  /** Effective replica count (spec, or the autoscaler's decision). */
  replicas: number;
  spec: ServiceSpec;
  /** Sets held at an exact size beside the target: a canary, or blue/green's other colour. */
  keep?: PodSetRef[];
  /** A paused rolling update: restart crashed pods but take no rolling step. */
  hold?: boolean;
}

export interface PodSetRef {
  revision: number;
  templateHash: string;
  replicas: number;
}

export type PodAction =
  /** ordinals: persistent services only, one per pod, in order (each pod's data directory is bound to its ordinal). */
  | { type: 'create'; count: number; revision: number; templateHash: string; reason: string; explain: string; ordinals?: number[] }
  | { type: 'delete'; podIds: string[]; reason: string; explain: string }
  | { type: 'restart'; podId: string; backoffStep: number; reason: string; explain: string }
  | { type: 'backoff'; podId: string; until: number; reason: string; explain: string };

export interface Plan {
  actions: PodAction[];
  /** Come back then even if nothing happens (a backoff or minReadySeconds expiring). */
  requeueAfterMs?: number;
}

const DOWN_PHASES: ReadonlySet<PodPhase> = new Set(['Exited', 'Failed', 'CrashLoopBackOff']);

/** Kubernetes-style restart delay: the first restart is immediate, then initial × 2^(n-1), capped. */
export function restartDelayMs(step: number, b: RestartBackoff): number {
  if (step <= 0) return 0;
  return Math.min(b.initialSeconds * 1000 * 2 ** (step - 1), b.maxSeconds * 1000);
}

/** A run at least resetAfterSeconds long before the exit wipes the failure streak. */
export function effectiveBackoffStep(pod: Pod, b: RestartBackoff): number {
  const exit = pod.lastExit;
  if (!exit || pod.startedAt === undefined) return pod.backoffStep;
  return exit.at - pod.startedAt >= b.resetAfterSeconds * 1000 ? 0 : pod.backoffStep;
}

/** Resolves "25%" or 2 against a replica count; surge rounds up, unavailable rounds down (Kubernetes). */
export function resolveIntOrPercent(v: number | string, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  const pct = Number(v.slice(0, -1));
  const exact = (pct * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

export function rollingBounds(spec: ServiceSpec, replicas: number): { maxSurge: number; maxUnavailable: number } {
  const maxSurge = resolveIntOrPercent(spec.rollout.maxSurge, replicas, true);
  let maxUnavailable = resolveIntOrPercent(spec.rollout.maxUnavailable, replicas, false);
  // As Kubernetes does: if both resolve to 0 the rollout could never move, so allow one unavailable.
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

export function isAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  return pod.ready && pod.readySince !== undefined && pod.readySince + minReadySeconds * 1000 <= now;
}

const PHASE_RANK: Record<PodPhase, number> = {
  Failed: 0,
  CrashLoopBackOff: 1,
  Exited: 2,
  Pending: 3,
  Starting: 4,
  Running: 5,
  Ready: 6,
  Terminating: 7,
};

/** Which pods to remove first: not ready before ready, more restarts first, newest first (Kubernetes' ActivePods order). */
export function deletionOrder(a: Pod, b: Pod): number {
  const ra = a.ready ? 6 : PHASE_RANK[a.phase];
  const rb = b.ready ? 6 : PHASE_RANK[b.phase];
  if (ra !== rb) return ra - rb;
  if (a.restarts !== b.restarts) return b.restarts - a.restarts;
  return b.createdAt - a.createdAt;
}

function names(pods: Pod[]): string {
  const shown = pods.slice(0, 3).map((p) => p.id);
  return pods.length > 3 ? `${shown.join(', ')} and ${pods.length - 3} more` : shown.join(', ');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * Decides the next step for one service. Restarts of crashed pods happen alongside
 * the replica step; of the replica steps (create new, delete old, delete surplus)
 * at most one is returned per pass, as in Kubernetes' rolling.go.
 */
export function plan(desired: DesiredService | undefined, pods: Pod[], now: number): Plan {
  const live = pods.filter((p) => p.phase !== 'Terminating');
  if (!desired) {
    if (live.length === 0) return { actions: [] };
    return {
      actions: [
        { type: 'delete', podIds: live.map((p) => p.id), reason: 'ServiceDeleted', explain: `Stopping ${plural(live.length, 'pod')} because the service was deleted` },
      ],
    };
  }

  const actions: PodAction[] = [];
  let requeueAfterMs: number | undefined;
  const wakeAt = (t: number) => {
    const ms = Math.max(1, t - now);
    requeueAfterMs = requeueAfterMs === undefined ? ms : Math.min(requeueAfterMs, ms);
  };

  const keep = (desired.keep ?? []).filter((k) => k.templateHash !== desired.templateHash);
  const keepHashes = new Set(keep.map((k) => k.templateHash));
  const current = live.filter((p) => p.templateHash === desired.templateHash);
  const kept = live.filter((p) => keepHashes.has(p.templateHash));
  const old = live.filter((p) => p.templateHash !== desired.templateHash && !keepHashes.has(p.templateHash));

  for (const pod of [...current, ...kept]) {
    if (!DOWN_PHASES.has(pod.phase)) continue;
    const b = desired.spec.restartBackoff;
    const step = effectiveBackoffStep(pod, b);
    const exitAt = pod.lastExit?.at ?? pod.createdAt;
    const due = exitAt + restartDelayMs(step, b);
    const why = pod.lastExit ? `${pod.lastExit.reason}${pod.lastExit.code !== null ? ` (exit code ${pod.lastExit.code})` : ''}` : 'it stopped';
    if (now >= due) {
      actions.push({
        type: 'restart',
        podId: pod.id,
        backoffStep: step + 1,
        reason: 'Restarting',
        explain: `Restarting pod ${pod.id} because it stopped: ${why}${step > 0 ? ` (restart ${pod.restarts + 1}, after a ${restartDelayMs(step, b) / 1000}s backoff)` : ''}`,
      });
    } else {
      if (pod.phase !== 'CrashLoopBackOff' || pod.backoffUntil !== due) {
        actions.push({
          type: 'backoff',
          podId: pod.id,
          until: due,
          reason: 'CrashLoopBackOff',
          explain: `Waiting ${((due - now) / 1000).toFixed(1)}s before restarting pod ${pod.id} because it failed ${plural(step, 'time')} in a row (${why}); the delay doubles each time up to ${b.maxSeconds}s`,
        });
      }
      wakeAt(due);
    }
  }

  for (const k of keep) {
    const step = scaleStep(k, kept.filter((p) => p.templateHash === k.templateHash), 'beside the stable pods');
    if (step) actions.push(step);
  }
  const unkept = live.filter((p) => !keepHashes.has(p.templateHash));
  const replicaStep = desired.hold
    ? undefined
    : desired.spec.storage?.persistent
      ? orderedStep(desired, current, old, pods, now, wakeAt)
      : old.length > 0
        ? rollingStep(desired, current, old, unkept, now, wakeAt)
        : scaleStep(desired, current);
  if (replicaStep) actions.push(replicaStep);
  // A pod this pass deletes is not also restarted (a restart would spawn a process the delete then misses).
  const deleted = new Set(actions.flatMap((a) => (a.type === 'delete' ? a.podIds : [])));
  const final = deleted.size === 0 ? actions : actions.filter((a) => (a.type !== 'restart' && a.type !== 'backoff') || !deleted.has(a.podId));
  return requeueAfterMs === undefined ? { actions: final } : { actions: final, requeueAfterMs };
}

function scaleStep(set: { revision: number; templateHash: string; replicas: number }, current: Pod[], role = ''): PodAction | undefined {
  const want = set.replicas;
  const have = current.length;
  const of = role ? ` of revision ${set.revision} (${role})` : '';
  if (have < want) {
    return {
      type: 'create',
      count: want - have,
      revision: set.revision,
      templateHash: set.templateHash,
      reason: 'ScaledUp',
      explain: `Starting ${plural(want - have, 'pod')}${of} because ${have} of ${want} desired replicas were running`,
    };
  }
  if (have > want) {
    const victims = [...current].sort(deletionOrder).slice(0, have - want);
    return {
      type: 'delete',
      podIds: victims.map((p) => p.id),
      reason: 'ScaledDown',
      explain: `Stopping ${names(victims)}${of} because ${have} pods were running and ${want} are desired (not-ready and newest pods go first)`,
    };
  }
  return undefined;
}

function rollingStep(
  desired: DesiredService,
  current: Pod[],
  old: Pod[],
  live: Pod[],
  now: number,
  wakeAt: (t: number) => void,
): PodAction | undefined {
  const replicas = desired.replicas;
  const { maxSurge, maxUnavailable } = rollingBounds(desired.spec, replicas);
  const minReady = desired.spec.rollout.minReadySeconds;
  const maxTotal = replicas + maxSurge;
  const minAvailable = Math.max(0, replicas - maxUnavailable);
  const rev = `revision ${desired.revision}`;

  if (current.length < replicas && live.length < maxTotal) {
    const count = Math.min(replicas - current.length, maxTotal - live.length);
    return {
      type: 'create',
      count,
      revision: desired.revision,
      templateHash: desired.templateHash,
      reason: 'RollingUpdate',
      explain: `Starting ${plural(count, 'pod')} of ${rev} because the rollout may run up to ${maxTotal} pods (${replicas} + maxSurge ${maxSurge}) and ${current.length} of ${replicas} are on the new revision`,
    };
  }

  const available = live.filter((p) => isAvailable(p, minReady, now));
  for (const p of live) {
    if (p.ready && p.readySince !== undefined && !isAvailable(p, minReady, now)) wakeAt(p.readySince + minReady * 1000);
  }
  // Kubernetes' reconcileOldReplicaSets: never take more than would leave fewer than minAvailable,
  // counting new pods that are not available yet as unavailable, unhealthy old pods first.
  const newUnavailable = current.filter((p) => !isAvailable(p, minReady, now)).length;
  const maxScaledDown = live.length - minAvailable - newUnavailable;
  const oldUnavailable = old.filter((p) => !isAvailable(p, minReady, now)).sort(deletionOrder);
  const oldAvailable = old.filter((p) => isAvailable(p, minReady, now)).sort(deletionOrder);
  const cleanup = oldUnavailable.slice(0, Math.max(0, maxScaledDown));
  const canRemove = Math.max(0, Math.min(maxScaledDown - cleanup.length, available.length - minAvailable));
  const victims = [...cleanup, ...oldAvailable.slice(0, canRemove)];
  if (victims.length > 0) {
    return {
      type: 'delete',
      podIds: victims.map((p) => p.id),
      reason: 'RollingUpdate',
      explain: `Stopping ${names(victims)} of the old revision because ${available.length} pods are available and at least ${minAvailable} must stay (${replicas} - maxUnavailable ${maxUnavailable})`,
    };
  }

  if (current.length > replicas) {
    const extra = [...current].sort(deletionOrder).slice(0, current.length - replicas);
    return {
      type: 'delete',
      podIds: extra.map((p) => p.id),
      reason: 'ScaledDown',
      explain: `Stopping ${names(extra)} because ${current.length} pods of ${rev} are running and ${replicas} are desired`,
    };
  }
  return undefined;
}

/** Highest ordinal first; a pod without one (from before the service was persistent) before any. */
function byOrdinalDesc(a: Pod, b: Pod): number {
  return (b.ordinal ?? Infinity) - (a.ordinal ?? Infinity);
}

function ordinalsOf(pods: Pod[]): string {
  return pods.map((p) => (p.ordinal === undefined ? p.id : `${p.id} (ordinal ${p.ordinal})`)).join(', ');
}

/**
 * Persistent services, as a StatefulSet: each pod holds an ordinal 0..replicas-1 and the data
 * directory bound to it. A Terminating pod still holds its ordinal (its process may still be
 * writing), so a new pod only ever takes an ordinal no pod holds: two processes never share a
 * directory. An update replaces one pod at a time, highest ordinal first, and only while every
 * other pod is available (maxSurge 0, maxUnavailable 1, whatever the spec says); a scale-down
 * removes the highest ordinals.
 */
function orderedStep(desired: DesiredService, current: Pod[], old: Pod[], all: Pod[], now: number, wakeAt: (t: number) => void): PodAction | undefined {
  const replicas = desired.replicas;
  const live = [...current, ...old];
  const minReady = desired.spec.rollout.minReadySeconds;
  const rev = `revision ${desired.revision}`;

  // Outside 0..replicas-1 (a scale-down), or a second live pod on one ordinal (never made here; the newer goes).
  const claimed = new Set<number>();
  const condemned: Pod[] = [];
  for (const p of [...live].sort((a, b) => a.createdAt - b.createdAt)) {
    if (p.ordinal === undefined) continue;
    if (p.ordinal >= replicas || claimed.has(p.ordinal)) condemned.push(p);
    else claimed.add(p.ordinal);
  }
  if (condemned.length > 0) {
    condemned.sort(byOrdinalDesc);
    return {
      type: 'delete',
      podIds: condemned.map((p) => p.id),
      reason: 'ScaledDown',
      explain: `Stopping ${ordinalsOf(condemned)} because ${replicas} replicas are desired, so ordinals from ${replicas} up go (highest first); their data directories ${condemned.map((p) => `pods/${p.service}-${p.ordinal}`).join(', ')} are kept for a later scale-up (gridctl get volumes lists them)`,
    };
  }

  const held = new Set(all.flatMap((p) => (p.ordinal === undefined ? [] : [p.ordinal])));
  const free: number[] = [];
  for (let i = 0; i < replicas && free.length < replicas - live.length; i++) if (!held.has(i)) free.push(i);
  if (free.length > 0) {
    const terminating = all.filter((p) => p.phase === 'Terminating' && p.ordinal !== undefined && p.ordinal < replicas).length;
    return {
      type: 'create',
      count: free.length,
      ordinals: free,
      revision: desired.revision,
      templateHash: desired.templateHash,
      reason: old.length > 0 ? 'RollingUpdate' : 'ScaledUp',
      explain: `Starting ${plural(free.length, 'pod')} of ${rev} on ordinal${free.length === 1 ? '' : 's'} ${free.join(', ')} because no pod holds ${free.length === 1 ? 'it' : 'them'} (${live.length} of ${replicas} ordinals are running${terminating > 0 ? `, ${terminating} still stopping` : ''}); each pod gets its ordinal's data directory`,
    };
  }
  if (old.length === 0) return undefined;

  for (const p of live) {
    if (p.ready && p.readySince !== undefined && !isAvailable(p, minReady, now)) wakeAt(p.readySince + minReady * 1000);
  }
  // An old pod that serves nothing can go at once; an available one only while every ordinal is up and available.
  let victim = old.filter((p) => !isAvailable(p, minReady, now)).sort(byOrdinalDesc)[0];
  if (!victim) {
    if (live.length < replicas || live.some((p) => !isAvailable(p, minReady, now))) return undefined;
    victim = [...old].sort(byOrdinalDesc)[0];
  }
  return {
    type: 'delete',
    podIds: [victim.id],
    reason: 'RollingUpdate',
    explain: `Stopping ${ordinalsOf([victim])} of the old revision so a pod of ${rev} can take its ordinal once it is gone; a service with persistent storage is updated one pod at a time, highest ordinal first, never two pods on one ordinal`,
  };
}
