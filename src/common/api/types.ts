// The JSON shapes of Grid's routes, as the dashboard and gridctl read them (type-only: nothing here runs).

export interface WhoAmI {
  name: string;
  kind: 'anonymous' | 'api-key' | 'user';
  role: 'viewer' | 'operator' | null;
  /** May this caller change state (an operator, an API key, or nobody needs credentials)? */
  canAct: boolean;
  /** Do reads need credentials (users exist)? Do changes (users or keys exist)? */
  authRequired: { read: boolean; mutate: boolean };
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface ServiceSummary {
  name: string;
  generation: number;
  observedGeneration: number | null;
  revision: number;
  version: string;
  runtime: string;
  desired: number;
  actual: number;
  ready: number;
  /** Pods of the current revision, and those available (Ready for minReadySeconds), as a Deployment's status counts them. */
  updatedReplicas: number;
  availableReplicas: number;
  conditions: Condition[];
  createdAt: string;
}

export interface PodView {
  id: string;
  service: string;
  revision: number;
  version: string;
  runtime: string;
  /** Persistent services (spec.storage.persistent): the ordinal its data directory is bound to; else null. */
  ordinal: number | null;
  state: string;
  ready: boolean;
  /** Frozen by POST /chaos/pause until the experiment ends (a Grid before issue 16 leaves it out). */
  paused?: boolean;
  restarts: number;
  ageSeconds: number;
  createdAt: string;
  cpu: number;
  pid: number | null;
  port: number | null;
  backoffUntil: string | null;
  lastExitAt: string | null;
  message: string | null;
  probeLatencyMs: number | null;
}

export interface DiffEntry {
  field: string;
  desired: unknown;
  actual: unknown;
}

export interface ServiceDetail extends ServiceSummary {
  updatedAt: string;
  spec: Record<string, any>;
  metadata: Record<string, any>;
  pods: PodView[];
  inSync: boolean;
  diff: DiffEntry[];
  status: Record<string, any> | null;
  autoscaler: Record<string, any> | null;
  [k: string]: unknown;
}

export interface StateSnapshot {
  time: string;
  services: ServiceSummary[];
  pods: PodView[];
  reconciler: { passes: number; lastResyncMs: number | null };
}

/** An event of GET /events and /events/stream. */
export interface GridEvent {
  id: number;
  time: number;
  type: string;
  service: string | null;
  pod: string | null;
  reason: string;
  message: string;
  explain: string;
}

/** An entry of GET /audit. */
export interface AuditEntry {
  id: number;
  time: number;
  actor: string;
  actorKind: string;
  sourceIp: string | null;
  action: string;
  target: string | null;
  summary: string;
  status: number | null;
}
