import type { PodPhase } from '../runtime/pod.types.js';

export interface PickablePod {
  id: string;
  version: string;
  phase: PodPhase;
  ready: boolean;
  createdAt: number;
  paused?: boolean;
}

/**
 * Which pods a chaos experiment hits: `count` of the given version's (all versions when none is given),
 * Ready ones first, since breaking what serves traffic is the interesting failure, then the oldest.
 * A kill takes any pod not already on its way out; a pause only a running process not already frozen
 * (a pod starting or backing off has nothing to freeze).
 */
export function pickPods<P extends PickablePod>(pods: readonly P[], want: { kind: 'kill' | 'pause'; count: number; version?: string }): P[] {
  return pods
    .filter((p) => want.version === undefined || p.version === want.version)
    .filter((p) => (want.kind === 'kill' ? p.phase !== 'Terminating' : (p.phase === 'Running' || p.phase === 'Ready') && !p.paused))
    .sort((a, b) => Number(b.ready) - Number(a.ready) || a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, Math.max(0, want.count));
}

/** A service pause as asked: the pods to freeze, or the parameter that makes it wrong and why. */
export type PausePlan<P> = { pods: P[] } | { field: 'count' | 'all'; problem: string };

const running = (p: PickablePod) => (p.phase === 'Running' || p.phase === 'Ready') && !p.paused;

/**
 * Which pods `POST /chaos/pause?service=` freezes. `count` (default 1; every running pod of the scope
 * with `all`) beyond the running pods is an error, not a quiet "as many as there are"; and a pause that
 * would leave the service no running pod at all — of any version — is a full outage, which a
 * PodDisruptionBudget would refuse, so it needs `all`. No running pod in scope gives no pods (the caller
 * says why from the pods' phases).
 */
export function planPause<P extends PickablePod>(pods: readonly P[], want: { service: string; count?: number; version?: string; all?: boolean }): PausePlan<P> {
  const inScope = pickPods(pods, { kind: 'pause', count: pods.length, version: want.version });
  if (inScope.length === 0) return { pods: [] };
  const count = want.count ?? (want.all ? inScope.length : 1);
  const of = want.version !== undefined ? ` of version ${want.version}` : '';
  if (count > inScope.length) return { field: 'count', problem: `asks for ${count}, ${want.service} has ${inScope.length} running pod${inScope.length === 1 ? '' : 's'}${of}` };
  const picked = inScope.slice(0, count);
  const left = pods.filter((p) => running(p) && !picked.includes(p)).length;
  if (left === 0 && !want.all) {
    const total = picked.length + pods.filter((p) => p.paused).length;
    return { field: 'all', problem: `pausing ${picked.length} pod${picked.length === 1 ? '' : 's'}${of} would freeze every pod of ${want.service} (${total} of ${total}): a full outage, which a PodDisruptionBudget would refuse; give all=true to mean it, or a smaller count` };
  }
  return { pods: picked };
}
