import type { RuntimeName } from '../specs/spec.types.js';

/** Simulated pods are entries in a map: they cost no process, so they neither take node capacity nor wait for a start slot. */
export function takesCapacity(runtime: RuntimeName): boolean {
  return runtime !== 'sim';
}

export type Admitted = 'admitted' | 'unschedulable';

/**
 * The node's capacity and start pacing, with no I/O: which pods hold one of the
 * `maxPods` slots (as the kubelet's maxPods), which wait for one (oldest first),
 * and which admitted pods wait for one of the `maxStarting` start slots (in order).
 * A pod holds its node slot from admission until it is removed, through exits and
 * restarts, as a Kubernetes pod bound to a node does; a start slot from the call to
 * the driver's start() until it settles.
 */
export class PodAdmission {
  private readonly admitted = new Set<string>();
  /** Insertion order is creation order: the oldest waiting pod is admitted first. */
  private readonly unschedulable = new Set<string>();
  private readonly startQueue = new Map<string, () => void>();
  private inFlight = 0;
  private pumping = false;

  constructor(
    readonly maxPods: number,
    readonly maxStarting: number,
  ) {}

  get used(): number {
    return this.admitted.size;
  }

  get starting(): number {
    return this.inFlight;
  }

  /** A new pod: admitted if the node has room, else it waits for a removal. */
  admit(podId: string): Admitted {
    if (this.admitted.size < this.maxPods) {
      this.admitted.add(podId);
      return 'admitted';
    }
    this.unschedulable.add(podId);
    return 'unschedulable';
  }

  /** A pod found running after Grid restarted: it exists, so it holds a slot even when that puts the node over capacity. */
  adopted(podId: string): void {
    this.admitted.add(podId);
  }

  /**
   * Runs start now if a start slot is free, else queues it; returns false when it queued.
   * start must call done() once the driver's start() has settled.
   */
  requestStart(podId: string, start: (done: () => void) => void): boolean {
    if (this.inFlight < this.maxStarting) {
      this.run(start);
      return true;
    }
    this.startQueue.set(podId, () => this.run(start));
    return false;
  }

  /** The pod is on its way out: it must not start any more, but it holds its node slot until it is gone. */
  withdraw(podId: string): void {
    this.unschedulable.delete(podId);
    this.startQueue.delete(podId);
  }

  /** The pod is gone: frees its node slot. Returns the pods admitted into it, oldest first, for the caller to start. */
  release(podId: string): string[] {
    this.withdraw(podId);
    if (!this.admitted.delete(podId)) return [];
    const admitted: string[] = [];
    for (const id of this.unschedulable) {
      if (this.admitted.size >= this.maxPods) break;
      this.unschedulable.delete(id);
      this.admitted.add(id);
      admitted.push(id);
    }
    return admitted;
  }

  private run(start: (done: () => void) => void): void {
    this.inFlight++;
    let settled = false;
    start(() => {
      if (settled) return;
      settled = true;
      this.inFlight--;
      this.next();
    });
  }

  /** Not re-entered: a start that settles at once (a pod deleted while queued) frees its slot inside the loop below, not by recursing. */
  private next(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.inFlight < this.maxStarting && this.startQueue.size > 0) {
        const [id, start] = this.startQueue.entries().next().value as [string, () => void];
        this.startQueue.delete(id);
        start();
      }
    } finally {
      this.pumping = false;
    }
  }
}
