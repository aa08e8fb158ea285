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
