import type { Clock, ClockTimer } from '../../common/clock/clock.js';

/**
 * A keyed work queue in the controller-runtime mould: a key is queued at most once,
 * never processed twice at the same time (a key added while it runs is run again
 * afterwards), and can be re-added after a delay. Processing is synchronous per key
 * and yields to the event loop between chunks so HTTP stays responsive.
 */
export class WorkQueue {
  private readonly queued = new Set<string>();
  private readonly delayed = new Map<string, { at: number; timer: ClockTimer }>();
  private running: string | undefined;
  private scheduled = false;
  private stopped = false;
  private drainWaiters: (() => void)[] = [];

  constructor(
    private readonly process: (key: string) => void,
    /** Delays (addAfter) run on this clock's timers, so tests move time instead of waiting. */
    private readonly clock: Clock,
    private readonly chunk = 500,
    /** Told when a delayed key comes due (it is then added as usual). */
    private readonly onDue?: (key: string) => void,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    this.queued.add(key);
    this.schedule();
  }

  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const at = this.clock.now() + ms;
    const cur = this.delayed.get(key);
    if (cur && cur.at <= at) return;
    if (cur) this.clock.clearTimeout(cur.timer);
    const timer = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.onDue?.(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, timer });
  }

  get length(): number {
    return this.queued.size;
  }

  /** Resolves when nothing is queued (delayed keys do not count). */
  drained(): Promise<void> {
    if (this.queued.size === 0 && !this.running) return Promise.resolve();
    return new Promise((r) => this.drainWaiters.push(r));
  }

  stop(): void {
    this.stopped = true;
    for (const d of this.delayed.values()) this.clock.clearTimeout(d.timer);
    this.delayed.clear();
    this.queued.clear();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.run());
  }

  private run(): void {
    this.scheduled = false;
    // A snapshot: a key re-added while it runs waits for the next round instead of spinning here.
    const batch: string[] = [];
    for (const key of this.queued) {
      batch.push(key);
      if (batch.length >= this.chunk) break;
    }
    for (const key of batch) {
      // break, not return: stop() cleared the queue, so falling through resolves drained() waiters.
      if (this.stopped) break;
      this.queued.delete(key);
      this.running = key;
      try {
        this.process(key);
      } finally {
        this.running = undefined;
      }
    }
    if (this.queued.size > 0) this.schedule();
    else {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
  }
}
