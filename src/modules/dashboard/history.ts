// The numbers behind the dashboard's mini-charts: one sample per service every STEP_MS, the
// last WINDOW_MS of them kept in memory. Pure: the service hands in what it read and the time.

export const STEP_MS = 5000;
export const WINDOW_MS = 15 * 60_000;
export const CAPACITY = WINDOW_MS / STEP_MS;

export interface HistoryPoint {
  /** Epoch ms of the sample. */
  t: number;
  desired: number;
  ready: number;
  /** Restarts of the service's current pods, summed. */
  restarts: number;
  /** Requests per second through the gateway over the step before t. */
  rps: number;
  /** Share of those requests answered 5xx (0..1). */
  errorRate: number;
  /** The slowest version's p99 over the step, ms; null without requests. */
  p99Ms: number | null;
}

/** A fixed-size ring: pushing past capacity forgets the oldest. */
export class Ring<T> {
  private readonly items: T[] = [];
  private start = 0;

  constructor(readonly capacity: number) {}

  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else {
      this.items[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  toArray(): T[] {
    return [...this.items.slice(this.start), ...this.items.slice(0, this.start)];
  }

  get size(): number {
    return this.items.length;
  }
}

export interface VersionWindow {
  requests: number;
  errors5xx: number;
  p99Ms: number;
}

/** One sample from what the gateway saw per version over one step. */
export function samplePoint(t: number, replicas: { desired: number; ready: number; restarts: number }, versions: VersionWindow[], stepMs: number): HistoryPoint {
  const requests = versions.reduce((n, v) => n + v.requests, 0);
  const errors = versions.reduce((n, v) => n + v.errors5xx, 0);
  const p99s = versions.filter((v) => v.requests > 0).map((v) => v.p99Ms);
  return {
    t,
    ...replicas,
    rps: Math.round((requests / (stepMs / 1000)) * 100) / 100,
    errorRate: requests === 0 ? 0 : Math.round((errors / requests) * 10_000) / 10_000,
    p99Ms: p99s.length === 0 ? null : Math.max(...p99s),
  };
}

/** Every service's ring; a service that is gone loses its history (a new one of the same name starts afresh). */
export class ServiceHistory {
  private readonly rings = new Map<string, { uid: string; ring: Ring<HistoryPoint> }>();

  constructor(private readonly capacity = CAPACITY) {}

  record(service: string, uid: string, point: HistoryPoint): void {
    let r = this.rings.get(service);
    if (!r || r.uid !== uid) this.rings.set(service, (r = { uid, ring: new Ring(this.capacity) }));
    r.ring.push(point);
  }

  /** Drops every service not in `keep`. */
  retain(keep: ReadonlySet<string>): void {
    for (const name of this.rings.keys()) if (!keep.has(name)) this.rings.delete(name);
  }

  points(service: string): HistoryPoint[] {
    return this.rings.get(service)?.ring.toArray() ?? [];
  }
}
