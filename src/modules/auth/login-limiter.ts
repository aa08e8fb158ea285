// Slows down password and key guessing per client IP. Pure: no I/O, time comes in as
// `now`, so it is tested table-driven with a FakeClock.

export interface LoginLimiterOptions {
  /** Failures allowed within windowMs before the IP is made to wait. */
  freeFailures: number;
  /** A window without failures (after any wait has ended) and the count starts afresh. */
  windowMs: number;
  /** The first wait; each further failure doubles it, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** IPs remembered at most; the least recently failed is forgotten first (bounds memory under a spray from many addresses). */
  maxEntries: number;
}

export const DEFAULT_LIMITS: LoginLimiterOptions = { freeFailures: 5, windowMs: 60_000, baseDelayMs: 1_000, maxDelayMs: 15 * 60_000, maxEntries: 10_000 };

interface Entry {
  failures: number;
  lastFailureAt: number;
  blockedUntil: number;
}

export type LimitDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

export class LoginLimiter {
  /** Map order is recency order: an entry is re-inserted on every failure, so the first key is the least recent. */
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly opts: LoginLimiterOptions = DEFAULT_LIMITS) {}

  get size(): number {
    return this.entries.size;
  }

  /** May this IP try credentials now? */
  check(ip: string, now: number): LimitDecision {
    const e = this.entries.get(ip);
    if (!e || e.blockedUntil <= now) return { allowed: true };
    return { allowed: false, retryAfterMs: e.blockedUntil - now };
  }

  failure(ip: string, now: number): LimitDecision {
    let e = this.entries.get(ip);
    if (e && this.forgotten(e, now)) e = undefined;
    e ??= { failures: 0, lastFailureAt: now, blockedUntil: 0 };
    e.failures++;
    e.lastFailureAt = now;
    const over = e.failures - this.opts.freeFailures;
    if (over > 0) e.blockedUntil = now + Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** Math.min(over - 1, 40));
    this.entries.delete(ip);
    this.entries.set(ip, e);
    while (this.entries.size > this.opts.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return this.check(ip, now);
  }

  success(ip: string): void {
    this.entries.delete(ip);
  }

  /** Forgets IPs whose failures are too old to count and which are not waiting (called periodically). */
  prune(now: number): void {
    for (const [ip, e] of this.entries) if (this.forgotten(e, now)) this.entries.delete(ip);
  }

  /** Quiet for a whole window after the last failure or the end of the wait: a wait that outlasts the window must not wipe the count, or the delay could never grow past it. */
  private forgotten(e: Entry, now: number): boolean {
    return now - Math.max(e.lastFailureAt, e.blockedUntil) > this.opts.windowMs;
  }
}
