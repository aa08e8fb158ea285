import type { RuntimeName, ServiceSpec } from '../../specs/spec.types.js';
import type { Pod, PodExit } from '../pod.types.js';
import type { StrayPod } from './stray-pods.js';

export interface PodStartSpec {
  podId: string;
  service: string;
  revision: number;
  templateHash: string;
  version: string;
  spec: ServiceSpec;
  labels: Record<string, string>;
  /** spec.env plus what Grid injects (POD_NAME, GRID_URL, ...). Drivers add PORT themselves, and expand $(VAR) in the command once they have. */
  env: Record<string, string>;
  /** Persistent services: the pod's data directory on the host (absolute; also env GRID_POD_DATA), created before start. */
  dataDir?: string;
}

export interface StartedPod {
  pid?: number;
  port?: number;
  procStart?: string;
  containerId?: string;
}

export interface RuntimeAvailability {
  available: boolean;
  /** What an operator needs to know: the socket and engine version, or why it does not answer. */
  detail: string;
}

/** What a driver tells the runtime about its pods. */
export interface DriverSink {
  update(podId: string, patch: Partial<Pick<Pod, 'phase' | 'ready' | 'readySince' | 'port' | 'pid' | 'message'>>): void;
  exited(podId: string, exit: Omit<PodExit, 'at'>): void;
  /** What the driver did to the pod's surroundings, or could not do, that an operator should read: recorded as an event. */
  noted(podId: string, note: DriverNote): void;
}

export interface DriverNote {
  /** pod.volumeOwned: its data directory was given to the container's user; pod.volumeNotOwned: it could not be. */
  type: 'pod.volumeOwned' | 'pod.volumeNotOwned';
  reason: string;
  message: string;
  explain: string;
}

/** A pod a driver found running that Grid recorded before it restarted. */
export interface AdoptCandidate {
  podId: string;
  pid: number | null;
  port: number | null;
  procStart: string | null;
  containerId: string | null;
}

/**
 * One way of running pods. Implementations are picked by name (sim, process, docker)
 * and never leak their own types (ChildProcess, dockerode) through this interface.
 */
export interface PodDriver {
  readonly name: RuntimeName;
  /** True when Grid should probe the pod over HTTP on 127.0.0.1:<port>; sim simulates its probes. */
  readonly probesOverHttp: boolean;
  attach(sink: DriverSink): void;
  start(pod: PodStartSpec): Promise<StartedPod>;
  /** Graceful stop: SIGTERM (or equivalent), then SIGKILL after graceMs. Resolves when the pod is gone. */
  stop(podId: string, graceMs: number): Promise<void>;
  /** Immediate, ungraceful kill (chaos). */
  kill(podId: string): Promise<void>;
  /**
   * Chaos: freeze the pod's process (group) or container in place, as a hung process, and thaw it.
   * Absent where there is nothing to freeze (sim). A stop of a paused pod must still end it.
   */
  pause?(podId: string): Promise<void>;
  resume?(podId: string): Promise<void>;
  /** Whether the pod's process or container is frozen now (a Grid killed during a pause leaves it so). */
  isPaused?(podId: string): Promise<boolean>;
  /** CPU use in percent of one core, if the driver can measure it. */
  cpu(podId: string): number | undefined;
  /** Drivers that simulate CPU: each ready pod of the service now uses `percent`; returns the total demand. */
  setLoad?(service: string, percent: number): number;
  /** Re-attach to a pod from before Grid's restart; false if it is gone or is not ours. */
  adopt(c: AdoptCandidate): Promise<boolean>;
  /** The pod was removed for good: drop what the driver kept for it (logs). */
  release?(podId: string): void;
  /** Whether the driver can run pods now (docker: its socket answered); absent means always. */
  availability?(): RuntimeAvailability;
  /** Adoption at boot is over: the driver may remove what it runs that no adopted pod accounts for, and name the stray pods it stopped. */
  adoptionFinished?(): Promise<readonly StrayPod[] | void>;
  /** Grid is exiting: stop everything unless keep is set. */
  shutdown(keep: boolean): Promise<void>;
}
