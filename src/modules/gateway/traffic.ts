// The gateway's narrow interfaces. Other modules inject these abstract classes (Nest
// tokens), never GatewayService itself, so nothing walks through the gateway's fields.
import type { FaultCounts, FaultRule } from './faults.js';
import type { WindowStats } from './stats.js';

/** Read view of the gateway's per-version numbers (canary analysis reads these). */
export abstract class TrafficStats {
  /** Requests of `version` recorded from `sinceMs` to now (1 s granularity, at most the stats window). */
  abstract window(service: string, version: string, sinceMs: number): WindowStats;
  /** How many times the gateway ejected a pod of `version` since Grid started. */
  abstract ejections(service: string, version: string): number;
}

/** One target of an alias: a service (served through its own route, weights and all) or an explicit upstream address. */
export type AliasTarget = { service: string } | { url: string; host: string; port: number };

/** What the reconciler tells the gateway: exact weights during a rollout, and the blue/green preview; and failover, the aliases. */
export abstract class TrafficRouting {
  /** Exact weights by version; undefined returns to weights proportional to Ready pods. */
  abstract setWeights(service: string, weights: Record<string, number> | undefined): void;
  /** The version served at <service>--preview; undefined = none waits. */
  abstract setPreview(service: string, version: string | undefined): void;
  /** The exact weights set for the service, if any. */
  abstract weightsOf(service: string): Record<string, number> | undefined;
  /**
   * Routes /gateway/<name>/ to targets[0]. The targets after it take only what it cannot:
   * every request while it has no Ready pod, and the one retry of an idempotent request
   * whose connection it refused. undefined removes the alias.
   */
  abstract setAlias(name: string, targets: readonly AliasTarget[] | undefined): void;
}

/**
 * Fault injection (chaos experiments): the rules the gateway applies to requests after it picked
 * their pod. The chaos module owns the experiments and their expiry; the gateway only applies them.
 */
export abstract class TrafficFaults {
  /** Starts applying a rule (replacing one with the same id). */
  abstract addFault(rule: FaultRule): void;
  /** Stops applying a rule; its final counts, or undefined when it was not applied. */
  abstract removeFault(id: string): FaultCounts | undefined;
  /** A running rule's counts so far. */
  abstract faultCounts(id: string): FaultCounts | undefined;
}
