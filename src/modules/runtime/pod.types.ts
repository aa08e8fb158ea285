import type { RuntimeName, ServiceSpec } from '../specs/spec.types.js';

/**
 * Pending → Starting → Running (not ready) → Ready. An exit or a failed liveness probe
 * moves a pod to Exited; the planner restarts it, through CrashLoopBackOff when it keeps
 * failing. Terminating pods are out of the gateway and on their way out. Failed pods
 * could not be started at all (e.g. a missing binary) and wait in backoff like Exited ones.
 */
export type PodPhase = 'Pending' | 'Starting' | 'Running' | 'Ready' | 'Exited' | 'CrashLoopBackOff' | 'Terminating' | 'Failed';

export interface PodExit {
  at: number;
  code: number | null;
  signal: string | null;
  reason: string; // Completed | Error | Killed | LivenessProbeFailed | StartupProbeFailed | SpawnError
  message: string;
}

export interface ProbeSample {
  at: number;
  ok: boolean;
  latencyMs: number;
  status?: number;
  error?: string;
}

/** What a pod is started from: one revision of a service's spec. */
export interface PodTemplate {
  service: string;
  revision: number;
  templateHash: string;
  version: string;
  spec: ServiceSpec;
}

export type ProbeKind = 'readiness' | 'liveness' | 'startup';

export interface Pod {
  id: string;
  service: string;
  revision: number;
  templateHash: string;
  version: string;
  runtime: RuntimeName;
  phase: PodPhase;
  ready: boolean;
  createdAt: number;
  /** When the current container/process started (reset on every restart). */
  startedAt?: number;
  readySince?: number;
  restarts: number;
  /** Consecutive quick failures; drives the exponential backoff and resets after a clean run. */
  backoffStep: number;
  backoffUntil?: number;
  lastExit?: PodExit;
  port?: number;
  pid?: number;
  /** Persistent services: the pod's place 0..replicas-1, kept for its life; its data directory is bound to it. */
  ordinal?: number;
  /** The template the pod runs, as a Kubernetes pod carries its spec: restarts, grace periods and probes read it here. */
  template: PodTemplate;
  labels: Record<string, string>;
  message?: string;
  /** Its process (or container) is frozen on purpose (POST /chaos/pause) until resumed; cleared when the process goes. */
  paused?: boolean;
  probes: Record<ProbeKind, ProbeSample[]>;
}

export const LABEL_SERVICE = 'grid.service';
export const LABEL_REVISION = 'grid.revision';
export const LABEL_SPEC_HASH = 'grid.spec-hash';
export const LABEL_VERSION = 'grid.version';
/** Persistent services: the pod's ordinal (Kubernetes' apps.kubernetes.io/pod-index), recorded with the pod so adoption keeps it. */
export const LABEL_ORDINAL = 'grid.ordinal';
