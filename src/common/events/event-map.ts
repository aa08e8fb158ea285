// Every in-process event and its payload. emit/on are typed from this map, so a
// renamed event or a changed payload is a compile error, not a silent miss.
import type { PodPhase } from '../../modules/runtime/pod.types.js';

export interface GridEventRecord {
  id: number;
  time: number;
  type: string;
  service: string | null;
  /** The uid of the service the event is about, so a new service of the same name does not inherit its history. */
  serviceUid: string | null;
  pod: string | null;
  reason: string;
  message: string;
  explain: string;
}

export interface EventMap {
  'spec.applied': { service: string; uid: string; generation: number; revision: number; templateChanged: boolean };
  /** purge: the service's persistent data directories go too, once its pods are gone. */
  'spec.deleted': { service: string; uid: string; purge: boolean };
  /** DELETE ?purge=true of a service no longer applied: the data directories it left go once none of its pods is left. */
  'volumes.purgeRequested': { service: string };
  'pod.changed': { service: string; podId: string; phase: PodPhase; ready: boolean };
  'pod.removed': { service: string; podId: string };
  /**
   * A serving pod is about to be stopped; it is already out of the gateway's routes. Listeners
   * holding in-flight work for it pass a promise to waitFor; the runtime stops the pod once all
   * have settled or timeoutMs has passed. (A pull-free drain: the runtime never calls the gateway.)
   */
  'pod.draining': { service: string; podId: string; timeoutMs: number; waitFor(done: Promise<void>): void };
  /** A readiness probe of the pod passed (the gateway returns an ejected pod, as Envoy does). */
  'probe.passed': { service: string; podId: string };
  'event.recorded': GridEventRecord;
  /** A FailoverGroup spec was stored (specs owns desired state; the failover module watches). */
  'group.applied': { group: string; uid: string; generation: number };
  'group.deleted': { group: string; uid: string };
  /** A group's health picture changed (alerts: DOWN when no target is healthy). */
  'failover.changed': { group: string; active: string | null; healthy: number; total: number };
  /** The active target of a group changed. Also recorded as a `failover.switched` event with the numbers. */
  'failover.switched': { group: string; from: string | null; to: string; automatic: boolean; reason: string };
  /** Whether the data dir takes writes changed (storage module); `reason` is null once it does again. */
  'storage.changed': { state: 'Healthy' | 'ReadOnly' | 'Full'; previous: 'Healthy' | 'ReadOnly' | 'Full'; reason: string | null; degradedForMs: number };
  /** A request was refused by access control (audited; 429 = login attempts slowed down). */
  'auth.refused': { ip: string; actor: string | null; method: string; url: string; status: 401 | 403 | 429; reason: string };
}

export type EventName = keyof EventMap;
