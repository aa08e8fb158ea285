// The gateway's narrow interfaces. Other modules inject these abstract classes (Nest
// tokens), never GatewayService itself, so nothing walks through the gateway's fields.
import type { WindowStats } from './stats.js';

/** Read view of the gateway's per-version numbers (canary analysis reads these). */
export abstract class TrafficStats {
  /** Requests of `version` recorded from `sinceMs` to now (1 s granularity, at most the stats window). */
  abstract window(service: string, version: string, sinceMs: number): WindowStats;
  /** How many times the gateway ejected a pod of `version` since Grid started. */
  abstract ejections(service: string, version: string): number;
}

/** What the reconciler tells the gateway: exact weights during a rollout, and the blue/green preview. */
export abstract class TrafficRouting {
  /** Exact weights by version; undefined returns to weights proportional to Ready pods. */
  abstract setWeights(service: string, weights: Record<string, number> | undefined): void;
  /** The version served at <service>--preview; undefined = none waits. */
  abstract setPreview(service: string, version: string | undefined): void;
  /** The exact weights set for the service, if any. */
  abstract weightsOf(service: string): Record<string, number> | undefined;
}
