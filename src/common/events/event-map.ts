// Every in-process event and its payload. emit/on are typed from this map, so a
// renamed event or a changed payload is a compile error, not a silent miss.
import type { PodPhase } from '../../modules/runtime/pod.types.js';

export interface GridEventRecord {
  id: number;
  time: number;
  type: string;
  service: string | null;
  pod: string | null;
  reason: string;
  message: string;
  explain: string;
}

export interface EventMap {
  'spec.applied': { service: string; generation: number; revision: number; templateChanged: boolean };
  'spec.deleted': { service: string };
  'pod.changed': { service: string; podId: string; phase: PodPhase; ready: boolean };
  'pod.removed': { service: string; podId: string };
  'event.recorded': GridEventRecord;
}

export type EventName = keyof EventMap;
