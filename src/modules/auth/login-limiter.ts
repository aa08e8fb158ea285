// Slows down password and key guessing per key (a client IP, or an IP and a user name). Pure:
// no I/O, time comes in as `now`, so it is tested table-driven with a FakeClock.
//
// An attempt is counted when it starts (begin), not when it fails: a check made only before an
// scrypt that takes ~50 ms let a burst of parallel guesses all pass before the first failure was
// counted. Running attempts count as failures-to-be: a burst gets the same freeFailures + 1
// attempts that one-after-another guessing gets, and once the wait has begun, one at a time.

export interface LoginLimiterOptions {
  /** Failures allowed within windowMs; one attempt more is let through, and its failure starts the wait. */
  freeFailures: number;
  /** A window without failures (after any wait has ended) and the count starts afresh. */
  windowMs: number;
  /** The first wait; each further failure doubles it, up to maxDelayMs. Also the Retry-After while earlier attempts are still running. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Keys remembered at most; the least recently used is forgotten first (bounds memory under a spray from many addresses). */
  maxEntries: number;
}

export const DEFAULT_LIMITS: LoginLimiterOptions = { freeFailures: 5, windowMs: 60_000, baseDelayMs: 1_000, maxDelayMs: 15 * 60_000, maxEntries: 10_000 };

interface Entry {
  failures: number;
  /** Attempts begun and not yet settled. */
  running: number;
  lastFailureAt: number;
  blockedUntil: number;
}

export type LimitDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/** ok: the credentials were right (the count starts afresh); failed: wrong; released: no verdict (the check did not run), or a verdict this key must not be reset by. */
export type Outcome = 'ok' | 'failed' | 'released';

export class LoginLimiter {
  /** Map order is recency order: an entry is re-inserted on every begin and failure, so the first key is the least recent. */
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly opts: LoginLimiterOptions = DEFAULT_LIMITS) {}

  get size(): number {
    return this.entries.size;
  }

  /** May this key try credentials now? Does not reserve anything. */
  check(key: string, now: number): LimitDecision {
    const e = this.live(key, now);
    if (!e) return { allowed: true };
    if (e.blockedUntil > now) return { allowed: false, retryAfterMs: e.blockedUntil - now };
    if (e.running > 0 && e.failures + e.running > this.opts.freeFailures) return { allowed: false, retryAfterMs: this.opts.baseDelayMs };
    return { allowed: true };
  }

  /** Starts an attempt if allowed; every allowed begin must be settled exactly once. */
  begin(key: string, now: number): LimitDecision {
    const d = this.check(key, now);
    if (!d.allowed) return d;
    const e = this.live(key, now) ?? { failures: 0, running: 0, lastFailureAt: now, blockedUntil: 0 };
    e.running++;
    this.touch(key, e);
    return d;
  }

  /** Ends an attempt begun with begin; returns whether the key may try again now. */
  settle(key: string, outcome: Outcome, now: number): LimitDecision {
    const e = this.entries.get(key);
    if (e) e.running = Math.max(0, e.running - 1);
    if (outcome === 'failed') return this.failure(key, now);
    if (e && outcome === 'ok') Object.assign(e, { failures: 0, blockedUntil: 0 });
    if (e && e.running === 0 && this.stale(e, now)) this.entries.delete(key);
    return this.check(key, now);
  }

  /** Forgets keys whose failures are too old to count, which are not waiting and have nothing running (called periodically). */
  prune(now: number): void {
    for (const [key, e] of this.entries) if (e.running === 0 && this.stale(e, now)) this.entries.delete(key);
  }

  private failure(key: string, now: number): LimitDecision {
    const e = this.live(key, now) ?? { failures: 0, running: 0, lastFailureAt: now, blockedUntil: 0 };
    e.failures++;
    e.lastFailureAt = now;
    const over = e.failures - this.opts.freeFailures;
    if (over > 0) e.blockedUntil = Math.max(e.blockedUntil, now + Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** Math.min(over - 1, 40)));
    this.touch(key, e);
    return this.check(key, now);
  }

  /** The key's entry, reset if its failures are too old to count. */
  private live(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    if (e && this.stale(e, now)) Object.assign(e, { failures: 0, blockedUntil: 0 });
    return e;
  }

  private touch(key: string, e: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, e);
    while (this.entries.size > this.opts.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Quiet for a whole window after the last failure or the end of the wait (or reset by a success): a wait that outlasts the window must not wipe the count, or the delay could never grow past it. */
  private stale(e: Entry, now: number): boolean {
    return e.failures === 0 || now - Math.max(e.lastFailureAt, e.blockedUntil) > this.opts.windowMs;
  }
}
