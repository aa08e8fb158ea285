// The reconciler's own state per service, typed: it writes it, persists it, and others
// read it through the reconciler. Pure helpers only; persistence is the repository's.
import type { ServiceSpec } from '../specs/spec.types.js';
import type { HpaState, HpaVerdict } from './autoscaler.js';
import type { RolloutState } from './rollout.js';
import type { ServiceStatus } from './status.js';

/** The autoscaler's last decision, with its numbers, as GET /services/:name shows it. */
export interface AutoscaleDecision {
  at: number;
  /** Average CPU % of the ready pods it measured; null when none was ready. */
  averageCpu: number | null;
  readyPods: number;
  current: number;
  desired: number;
  verdict: HpaVerdict;
  message: string;
}

export interface AutoscaleState {
  /** The autoscaler's current replica count (what the planner runs). */
  replicas: number;
  state: HpaState;
  averageCpu?: number;
  last?: AutoscaleDecision;
}

export interface ControllerState {
  status?: ServiceStatus;
  rollout?: RolloutState;
  autoscale?: AutoscaleState;
}

/** Desired replicas: the autoscaler's current value when it rules the service, else spec.replicas. */
export function effectiveReplicas(spec: ServiceSpec, autoscale: AutoscaleState | undefined): number {
  const a = spec.autoscale;
  if (!a) return spec.replicas;
  return Math.max(a.min, Math.min(a.max, autoscale?.replicas ?? spec.replicas));
}
