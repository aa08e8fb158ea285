// The validated, defaulted shape of a Grid Service spec. The validator
// (spec-validator.ts) turns untrusted YAML/JSON into this; everything after
// it can trust every field to be present and in range.

export type RuntimeName = 'sim' | 'process' | 'docker';

export type DockerNetwork = 'host' | 'bridge';
export type ImagePullPolicy = 'IfNotPresent' | 'Never' | 'Always';

export interface ResourceLimits {
  cpus?: number;
  memory?: number;
}

export interface EnvVar {
  name: string;
  value: string;
}

export interface HttpGetAction {
  path: string;
}

/** Kubernetes probe fields with Kubernetes defaults filled in. */
export interface Probe {
  httpGet: HttpGetAction;
  initialDelaySeconds: number; // default 0
  periodSeconds: number; // default 10, min 1
  timeoutSeconds: number; // default 1, min 1
  successThreshold: number; // default 1 (must be 1 for liveness/startup)
  failureThreshold: number; // default 3, min 1
}

export interface AutoscaleSpec {
  targetCPU: number; // 1..100 (percent of one core per pod)
  min: number;
  max: number;
  /** Scale-down stabilization window; Kubernetes default 300. */
  scaleDownStabilizationSeconds: number;
}

export type RolloutStrategy = 'Rolling' | 'BlueGreen' | 'Canary';

/** Gateway faults a chaos step injects on the canary's requests (as Envoy's fault filter). */
export interface ChaosFaults {
  delayMs: number; // default 0
  delayPercent: number; // default 0
  abortPercent: number; // default 0
  abortStatus: number; // default 503
}

/** A rehearsed failure on the canary only; kill and pause wait up to recoverWithin seconds (default 60) for it to recover. */
export type ChaosStep =
  | { kill: number; recoverWithin: number }
  | { pause: number; seconds: number; recoverWithin: number }
  | { faults: ChaosFaults; duration: number }; // duration in seconds

export type CanaryStep =
  | { setWeight: number }
  | { pause: { duration?: number } } // duration in seconds; absent = wait for promote
  | { chaos: ChaosStep };

export interface AnalysisSpec {
  intervalSeconds: number; // default 10
  minRequests: number; // default 20
  maxErrorRate: number; // default 0.05
  maxP99LatencyMs: number; // default 500
  failureLimit: number; // default 2
}

export interface RolloutSpec {
  strategy: RolloutStrategy; // default Rolling
  /** Integer or percentage string such as "25%". */
  maxSurge: number | string; // default "25%"
  maxUnavailable: number | string; // default "25%"
  minReadySeconds: number; // default 0
  steps: CanaryStep[]; // Canary only; default []
  autoPromotionEnabled: boolean; // BlueGreen; default true
  autoPromotionSeconds?: number; // BlueGreen
  scaleDownDelaySeconds: number; // BlueGreen; default 30
  analysis?: AnalysisSpec;
  progressDeadlineSeconds: number; // default 600
  progressDeadlineAbort: boolean; // default true (Grid rolls back; Kubernetes only reports)
}

export interface RestartBackoff {
  initialSeconds: number; // default 1
  maxSeconds: number; // default 60
  resetAfterSeconds: number; // default 600 (10 min clean run, as in Kubernetes)
}

/** Available: the dependency's Available condition is True with at least one available pod; Started: one of its pods is Running or Ready. */
export type DependencyCondition = 'Available' | 'Started';

/** A service this one waits for before starting its first pod. It need not exist yet (then it waits). */
export interface Dependency {
  service: string;
  condition: DependencyCondition; // default Available
}

/** Each pod gets a data directory bound to its ordinal, kept across restarts (a StatefulSet's volumeClaimTemplates, on the local disk). */
export interface StorageSpec {
  persistent: true;
  /**
   * docker only: where the pod's directory is bind-mounted inside the container (a claim's
   * mountPath), and what GRID_POD_DATA says there. Absent: at its host path.
   */
  mountPath?: string;
}

export interface ServiceSpec {
  replicas: number; // 0..1000, default 1
  runtime: RuntimeName; // derived: local://... -> sim, command -> process, image -> docker
  image?: string;
  command?: string[];
  workingDir?: string;
  port?: number; // docker: the port the container listens on (published with network: bridge)
  /** docker: host (default: the container gets PORT from Grid) or bridge (spec.port published on 127.0.0.1). */
  network?: DockerNetwork;
  /** docker: absent means IfNotPresent, as in Kubernetes for a tagged image. */
  imagePullPolicy?: ImagePullPolicy;
  /** docker: limits (cpus: cores; memory: bytes). */
  resources?: ResourceLimits;
  env: EnvVar[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  terminationGracePeriodSeconds: number; // default 10
  restartBackoff: RestartBackoff;
  autoscale?: AutoscaleSpec;
  rollout: RolloutSpec;
  revisionHistoryLimit: number; // default 10
  /** Present only when the spec gave some: absent keeps the spec hash of older specs. Not part of the pod template. */
  dependsOn?: Dependency[];
  /** Present only when persistent (absent keeps the template hash of older specs). Part of the pod template. */
  storage?: StorageSpec;
}

export interface ManifestMetadata {
  name: string;
  labels: Record<string, string>;
  /** Kubernetes-style annotations; present only when the spec gave some. Grid reads grid.dev/image and grid.dev/command. */
  annotations?: Record<string, string>;
}

export interface ServiceManifest {
  apiVersion: 'v1';
  kind: 'Service';
  metadata: ManifestMetadata;
  spec: ServiceSpec;
}

/** One target of a failover group: a Grid service (reached through its own gateway route) or an allowed http origin. */
export type FailoverTarget = { service: string } | { url: string };

/** An inclusive range of HTTP status codes a health check accepts. */
export interface StatusRange {
  min: number;
  max: number;
}

export interface FailoverHealthCheck {
  path: string; // default /health
  intervalSeconds: number; // default 5; 0.1..3600
  timeoutSeconds: number; // default 2; 0.05..60
  maxLatencyMs?: number; // slower answers count as failures
  expectStatus: StatusRange[]; // default [{200, 399}]
  expectJson?: Record<string, unknown>; // the body must contain these keys with these values
  failureThreshold: number; // default 3
  successThreshold: number; // default 2
}

export interface FailoverGroupSpec {
  /** In priority order: the first healthy one is preferred. */
  targets: FailoverTarget[];
  healthCheck: FailoverHealthCheck;
  cooldownSeconds: number; // default 30
  failback: 'auto' | 'manual'; // default auto
}

export interface FailoverGroupManifest {
  apiVersion: 'v1';
  kind: 'FailoverGroup';
  metadata: ManifestMetadata;
  spec: FailoverGroupSpec;
}

export type Manifest = ServiceManifest | FailoverGroupManifest;

/** One problem with one field, e.g. { path: 'spec.replicas', message: 'must be an integer 0..1000 (got -1)' }. */
export interface FieldError {
  path: string;
  message: string;
}
