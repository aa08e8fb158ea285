// Start order as a pure decision: may a service start its first pod, given what its
// dependencies look like now? The reconciler gathers the view; nothing here reads state.
import type { Dependency } from '../specs/spec.types.js';
import type { Pod } from '../runtime/pod.types.js';

/** What the reconciler sees of one dependency; undefined when no such service exists (yet). */
export interface DependencyView {
  /** Desired replicas (spec or autoscaler). */
  replicas: number;
  availableReplicas: number;
  /** Its Available condition is True. */
  availableCondition: boolean;
  /** Pods that are Running or Ready. */
  startedPods: number;
  /** Pods that ran or served and no longer do (crashed, restarted, lost readiness), as against pods still starting. */
  failingPods: number;
}

export interface DependencyGate {
  ready: boolean;
  /** The services not meeting their condition, in spec order. */
  waitingFor: string[];
  /** `Waiting for db (0/1 Available), cache (not applied yet)`, or that all are met. */
  message: string;
  /** One sentence per unmet dependency, for an event's explain. */
  reasons: string[];
}

/**
 * Available needs at least one available pod besides the condition: with the default
 * maxUnavailable of 25%, a 1-replica service is "Available" with 0 pods, which would
 * let a dependent start before its database answers. The condition alone is not enough the
 * other way either: scaling 1 → 3 turns it False (minimum 3 of 3, as a Deployment's does)
 * while the one pod still answers, so a dependency short only of pods still starting, none
 * of them failing, counts as Available.
 */
export function meets(d: Dependency, v: DependencyView | undefined): boolean {
  if (!v) return false;
  if (d.condition === 'Started') return v.startedPods > 0;
  return v.availableReplicas > 0 && (v.availableCondition || v.failingPods === 0);
}

/** A pod that ran or served and no longer does; a pod still starting for the first time is not failing, a stopping one is not counted. */
export function isFailing(p: Pod): boolean {
  if (p.ready || p.phase === 'Terminating') return false;
  if (p.phase === 'CrashLoopBackOff' || p.phase === 'Failed' || p.phase === 'Exited') return true;
  return p.restarts > 0 || p.lastExit !== undefined || p.probes.readiness.some((r) => r.ok);
}

export function dependencyGate(dependsOn: readonly Dependency[], view: (service: string) => DependencyView | undefined): DependencyGate {
  const waiting = dependsOn.map((d) => ({ d, v: view(d.service) })).filter(({ d, v }) => !meets(d, v));
  if (waiting.length === 0) return { ready: true, waitingFor: [], message: `${dependsOn.map(describeMet).join(', ')}`, reasons: [] };
  return {
    ready: false,
    waitingFor: waiting.map(({ d }) => d.service),
    message: `Waiting for ${waiting.map(({ d, v }) => `${d.service} (${progress(d, v)})`).join(', ')}`,
    reasons: waiting.map(({ d, v }) => reason(d, v)),
  };
}

function describeMet(d: Dependency): string {
  return `${d.service} is ${d.condition}`;
}

function progress(d: Dependency, v: DependencyView | undefined): string {
  if (!v) return 'not applied yet';
  return d.condition === 'Started' ? `0/${v.replicas} Started` : `${v.availableReplicas}/${v.replicas} Available`;
}

function reason(d: Dependency, v: DependencyView | undefined): string {
  if (!v) return `${d.service}, which is not applied yet`;
  if (d.condition === 'Started') return `${d.service}, which has no running pod of ${v.replicas}`;
  return `${d.service}, which has ${v.availableReplicas} of ${v.replicas} replicas available`;
}
