import type { Clock, ClockTimer } from '../clock/clock.js';

const RETRY_BASE_MS = 200;
const RETRY_MAX_MS = 30_000;

export interface WriteBehindOptions<K, V> {
  clock: Clock;
  /** How long changes gather before one write takes them all. */
  delayMs: number;
  /** Writes a batch in one go (one transaction); throwing keeps the whole batch for a retry. */
  write: (batch: Map<K, V>) => Promise<void>;
  /** Told of every failed attempt, with what to log; the batch is retried after delayMs of backoff. */
  failed: (message: string) => void;
  /** Names a batch in the log line ("the controller state of 3 services"). */
  describe: (size: number) => string;
}

/**
 * Changes are queued per key (the newest intent for a key wins), written together after a
 * short delay, and retried with backoff (200 ms doubling to 30 s) until they land, so a
 * database hiccup never loses a change and never fails the caller. Flushes run one after
 * another: a flush resolves once what was queued before it is written or has failed.
 */
export class WriteBehind<K, V> {
  private pending = new Map<K, V>();
  private timer?: ClockTimer;
  private failures = 0;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly o: WriteBehindOptions<K, V>) {}

  get(key: K): V | undefined {
    return this.pending.get(key);
  }

  get size(): number {
    return this.pending.size;
  }

  set(key: K, value: V): void {
    this.pending.set(key, value);
    if (!this.closed) this.timer ??= this.o.clock.setTimeout(() => void this.flush(), this.o.delayMs);
  }

  flush(): Promise<void> {
    const run = this.writing.then(() => this.write());
    this.writing = run;
    return run;
  }

  /** The last flush (shutdown): nothing is scheduled after it. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    this.o.clock.clearTimeout(this.timer);
  }

  /** Forgets what is queued (and waits for a write in flight). */
  async discard(): Promise<void> {
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
    await this.writing;
  }

  private async write(): Promise<void> {
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.o.write(batch);
      this.failures = 0;
    } catch (e) {
      // A newer intent for the same key, queued while this batch ran, wins over the failed one.
      for (const [k, v] of batch) if (!this.pending.has(k)) this.pending.set(k, v);
      this.failures++;
      const delay = Math.min(RETRY_BASE_MS * 2 ** (this.failures - 1), RETRY_MAX_MS);
      this.o.failed(`could not write ${this.o.describe(batch.size)} (attempt ${this.failures}, retrying in ${delay} ms): ${(e as Error).message}`);
      if (!this.closed) this.timer = this.o.clock.setTimeout(() => void this.flush(), delay);
    }
  }
}
