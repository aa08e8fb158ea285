// Service status as a pure function of desired and observed state (Kubernetes'
// progress.go): conditions keep lastTransitionTime while their status holds.
import type { Pod } from '../runtime/pod.types.js';
import { isAvailable, rollingBounds, type DesiredService } from './plan.js';

export type ConditionType = 'Available' | 'Progressing' | 'Degraded' | 'DependenciesReady';

export interface Condition {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export interface ServiceStatus {
  observedGeneration: number;
  replicas: number;
  updatedReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  unavailableReplicas: number;
  conditions: Condition[];
}

export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

export function setCondition(prev: Condition[], next: ConditionInput, now: number): Condition {
  const old = prev.find((c) => c.type === next.type);
  const keep = old && old.status === next.status;
  return { ...next, lastTransitionTime: keep ? old.lastTransitionTime : new Date(now).toISOString() };
}

/** An extra condition source (rollouts) may override Progressing/Degraded. */
export interface StatusOverrides {
  progressing?: ConditionInput;
  degraded?: ConditionInput;
  /** Shown after the three standard ones (DependenciesReady for a service with spec.dependsOn). */
  extra?: ConditionInput[];
}

export function computeStatus(
  desired: DesiredService,
  pods: Pod[],
  prev: Condition[],
  now: number,
  overrides: StatusOverrides = {},
): ServiceStatus {
  const live = pods.filter((p) => p.phase !== 'Terminating');
  const updated = live.filter((p) => p.templateHash === desired.templateHash);
  const minReady = desired.spec.rollout.minReadySeconds;
  const ready = live.filter((p) => p.ready).length;
  const available = live.filter((p) => isAvailable(p, minReady, now)).length;
  const want = desired.replicas;
  const { maxUnavailable } = rollingBounds(desired.spec, want);
  const minAvailable = Math.max(0, want - maxUnavailable);

  const availableCond: ConditionInput =
    available >= minAvailable
      ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: `${available} of ${want} replicas available (minimum ${minAvailable})` }
      : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: `${available} of ${want} replicas available, fewer than the minimum ${minAvailable}` };

  const rolling = live.some((p) => p.templateHash !== desired.templateHash);
  const complete = !rolling && updated.length === want && available >= want;
  const progressing: ConditionInput =
    overrides.progressing ??
    (complete
      ? { type: 'Progressing', status: 'True', reason: 'NewRevisionAvailable', message: `revision ${desired.revision} has ${want} available replicas` }
      : {
          type: 'Progressing',
          status: 'True',
          reason: rolling ? 'RevisionUpdating' : 'ReplicasUpdating',
          message: `${updated.length} of ${want} pods on revision ${desired.revision}, ${available} available`,
        });

  // A crash-looping pod spends part of each cycle starting; two failures in a row without becoming ready is enough to call it degraded.
  const crashing = live.filter((p) => p.phase === 'CrashLoopBackOff' || p.phase === 'Failed' || (!p.ready && p.backoffStep >= 2));
  const degraded: ConditionInput =
    overrides.degraded ??
    (crashing.length > 0
      ? {
          type: 'Degraded',
          status: 'True',
          reason: crashing.some((p) => p.phase === 'Failed') ? 'PodsFailed' : 'CrashLoopBackOff',
          message: crashing
            .slice(0, 5)
            .map((p) => `${p.id}: ${p.lastExit ? `${p.lastExit.reason}: ${p.lastExit.message}` : p.phase} (${p.restarts} restarts)`)
            .join('; '),
        }
      : { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no pod is crash-looping' });

  return {
    observedGeneration: desired.generation,
    replicas: live.length,
    updatedReplicas: updated.length,
    readyReplicas: ready,
    availableReplicas: available,
    unavailableReplicas: Math.max(0, want - available),
    conditions: [availableCond, progressing, degraded, ...(overrides.extra ?? [])].map((c) => setCondition(prev, c, now)),
  };
}

/** Field by field: this runs for every service on every resync, where JSON.stringify was the hot spot. */
export function sameStatus(a: ServiceStatus | undefined, b: ServiceStatus): boolean {
  if (a === undefined) return false;
  if (
    a.observedGeneration !== b.observedGeneration ||
    a.replicas !== b.replicas ||
    a.updatedReplicas !== b.updatedReplicas ||
    a.readyReplicas !== b.readyReplicas ||
    a.availableReplicas !== b.availableReplicas ||
    a.unavailableReplicas !== b.unavailableReplicas ||
    a.conditions.length !== b.conditions.length
  ) {
    return false;
  }
  for (let i = 0; i < a.conditions.length; i++) {
    const x = a.conditions[i];
    const y = b.conditions[i];
    if (x.type !== y.type || x.status !== y.status || x.reason !== y.reason || x.message !== y.message || x.lastTransitionTime !== y.lastTransitionTime) return false;
  }
  return true;
}
