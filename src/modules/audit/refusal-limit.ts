// How many auth.refused rows one source address may cause. A refusal proves no one, so without
// a bound anyone who can reach Grid could write rows as fast as it answers 401s. Pure (no Nest,
// no I/O): the service asks admit() before each refusal row and writes the tallies it returns.

export interface RefusalLimits {
  /** Refusals from one address recorded one by one per window; the rest are counted. */
  perWindow: number;
  windowMs: number;
  /** Addresses tracked at once; the least recently refused one is dropped (its tally returned) for a new one. */
  maxSources: number;
}

/** perWindow is GRID_AUDIT_REFUSALS_PER_MINUTE's default. */
export const REFUSAL_LIMITS: RefusalLimits = { perWindow: 20, windowMs: 60_000, maxSources: 1000 };

/** Refusals from one address that were counted rather than recorded. */
export interface Tally {
  ip: string;
  /** When the address's window began (epoch ms); the counted refusals fall within windowMs of it. */
  since: number;
  count: number;
  byStatus: Map<number, number>;
}

interface Source {
  since: number;
  recorded: number;
  count: number;
  byStatus: Map<number, number>;
}

export class RefusalLimiter {
  /** In order of the last refusal, least recent first (a Map keeps insertion order; touching re-inserts). */
  private readonly sources = new Map<string, Source>();

  constructor(readonly limits: RefusalLimits = REFUSAL_LIMITS) {}

  /**
   * A refusal from ip at now. record: whether it gets its own row. tallies: what was counted
   * for addresses whose window ended or that were dropped, to write (before this refusal's row).
   */
  admit(ip: string, status: number, now: number): { record: boolean; tallies: Tally[] } {
    const tallies: Tally[] = [];
    let s = this.sources.get(ip);
    if (s && now - s.since >= this.limits.windowMs) {
      push(tallies, ip, s);
      s = undefined;
    }
    this.sources.delete(ip);
    if (!s) {
      if (this.sources.size >= this.limits.maxSources) {
        const [oldest, o] = this.sources.entries().next().value as [string, Source];
        this.sources.delete(oldest);
        push(tallies, oldest, o);
      }
      s = { since: now, recorded: 0, count: 0, byStatus: new Map() };
    }
    this.sources.set(ip, s);
    if (s.recorded < this.limits.perWindow) {
      s.recorded++;
      return { record: true, tallies };
    }
    s.count++;
    s.byStatus.set(status, (s.byStatus.get(status) ?? 0) + 1);
    return { record: false, tallies };
  }

  /** Forgets the addresses whose window has ended by now; returns what they had counted. */
  expire(now: number): Tally[] {
    const tallies: Tally[] = [];
    for (const [ip, s] of this.sources) {
      if (now - s.since < this.limits.windowMs) continue;
      this.sources.delete(ip);
      push(tallies, ip, s);
    }
    return tallies;
  }

  /** Everything still counted (at shutdown, so no tally is lost). */
  drain(): Tally[] {
    const tallies: Tally[] = [];
    for (const [ip, s] of this.sources) push(tallies, ip, s);
    this.sources.clear();
    return tallies;
  }

  /** Addresses tracked now. */
  get size(): number {
    return this.sources.size;
  }
}

function push(tallies: Tally[], ip: string, s: Source): void {
  if (s.count > 0) tallies.push({ ip, since: s.since, count: s.count, byStatus: s.byStatus });
}

/** `… and 4,812 more refusals from 10.0.0.9 in the 60 s from 2026-01-01T00:00:00.000Z (401: 4,800, 429: 12)`. */
export function tallySummary(t: Tally, windowMs: number): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const statuses = [...t.byStatus].sort(([a], [b]) => a - b).map(([status, count]) => `${status}: ${n(count)}`);
  return `… and ${n(t.count)} more ${t.count === 1 ? 'refusal' : 'refusals'} from ${t.ip} in the ${windowMs / 1000} s from ${new Date(t.since).toISOString()} (${statuses.join(', ')})`;
}
