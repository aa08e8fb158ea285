// Per-service, per-version request statistics: what canary analysis reads
// (windowed error rate and latency) and what REST shows (totals). Pure: the
// caller passes `now` (ms). Fixed-size arrays keep record() allocation-free.

/** Upper bounds (ms) of the latency buckets; one more bucket holds everything above. */
export const LATENCY_BUCKETS_MS: readonly number[] = Object.freeze([
  1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
]);

const NB = LATENCY_BUCKETS_MS.length + 1;
/** One slot per second, five minutes kept. */
export const WINDOW_SECONDS = 300;
// Slot layout: requests, 5xx, max latency, then the bucket counts.
const S_REQ = 0;
const S_5XX = 1;
const S_MAX = 2;
const S_HIST = 3;
const SLOT = S_HIST + NB;

export interface WindowStats {
  requests: number;
  errors5xx: number;
  /** errors5xx / requests; 0 without requests. */
  errorRate: number;
  p50Ms: number;
  p99Ms: number;
}

export interface VersionTotals {
  version: string;
  requests: number;
  errors5xx: number;
  errorRate: number;
  /** Upstream connect failures and resets (per attempt, so retried ones count too). */
  connectErrors: number;
  byClass: { '1xx': number; '2xx': number; '3xx': number; '4xx': number; '5xx': number };
  byCode: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  histogram: { boundsMs: readonly number[]; counts: number[] };
  /**
   * Requests the gateway faulted on purpose (chaos experiments). Aborted ones are counted here only,
   * never in the numbers above; delayed ones are in them too (the pod's answer is real), with their
   * latency counted from the end of the injected delay.
   */
  faults: { aborted: number; delayed: number };
}

class Series {
  requests = 0;
  /** Second of the last request recorded. */
  lastSecond = -1;
  errors5xx = 0;
  connectErrors = 0;
  faultsAborted = 0;
  faultsDelayed = 0;
  maxMs = 0;
  /** Index = status / 100; index 0 unused. */
  readonly byClass = [0, 0, 0, 0, 0, 0];
  readonly byCode = new Map<number, number>();
  readonly hist = new Float64Array(NB);
  readonly slotSecond = new Float64Array(WINDOW_SECONDS).fill(-1);
  readonly slots = new Float64Array(WINDOW_SECONDS * SLOT);
}

function bucketOf(latencyMs: number): number {
  let i = 0;
  while (i < NB - 1 && latencyMs > LATENCY_BUCKETS_MS[i]) i++;
  return i;
}

/**
 * Percentile from bucket counts: the upper bound of the bucket holding the
 * q-th request, so the answer over-estimates by at most one bucket width (a
 * p99 of 250 means "99 % finished within 250 ms"). In the overflow bucket the
 * largest latency observed stands in for the missing bound.
 */
function percentile(counts: ArrayLike<number>, total: number, q: number, maxMs: number): number {
  if (total === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < NB - 1; i++) {
    seen += counts[i];
    if (seen >= rank) return LATENCY_BUCKETS_MS[i];
  }
  return maxMs;
}

export class VersionStats {
  private readonly series = new Map<string, Map<string, Series>>();

  record(service: string, version: string, status: number, latencyMs: number, now: number): void {
    const s = this.get(service, version);
    s.requests++;
    const is5xx = status >= 500 && status < 600;
    if (is5xx) s.errors5xx++;
    const cls = (status / 100) | 0;
    if (cls >= 1 && cls <= 5) s.byClass[cls]++;
    s.byCode.set(status, (s.byCode.get(status) ?? 0) + 1);
    if (latencyMs > s.maxMs) s.maxMs = latencyMs;
    const b = bucketOf(latencyMs);
    s.hist[b]++;

    const sec = Math.floor(now / 1000);
    s.lastSecond = sec;
    const slot = sec % WINDOW_SECONDS;
    const base = slot * SLOT;
    const slots = s.slots;
    if (s.slotSecond[slot] !== sec) {
      s.slotSecond[slot] = sec;
      slots.fill(0, base, base + SLOT);
    }
    slots[base + S_REQ]++;
    if (is5xx) slots[base + S_5XX]++;
    if (latencyMs > slots[base + S_MAX]) slots[base + S_MAX] = latencyMs;
    slots[base + S_HIST + b]++;
  }

  /**
   * A request faulted on purpose (aborted, delayed or both), counted apart. An aborted one stays out
   * of requests, errors and latency (the pod never saw it); a delayed one that reached the pod is
   * also `record`ed when it ends, like any request.
   */
  recordFault(service: string, version: string, aborted: boolean, delayed: boolean, now: number): void {
    const s = this.get(service, version);
    if (aborted) s.faultsAborted++;
    if (delayed) s.faultsDelayed++;
    s.lastSecond = Math.floor(now / 1000);
  }

  recordConnectError(service: string, version: string): void {
    this.get(service, version).connectErrors++;
  }

  /**
   * Requests recorded from `sinceMs` to `now`, at 1 s granularity: the second
   * holding `sinceMs` counts whole, and nothing older than WINDOW_SECONDS is kept.
   */
  window(service: string, version: string, sinceMs: number, now: number): WindowStats {
    const s = this.series.get(service)?.get(version);
    if (s === undefined) return { requests: 0, errors5xx: 0, errorRate: 0, p50Ms: 0, p99Ms: 0 };
    const nowSec = Math.floor(now / 1000);
    const fromSec = Math.max(Math.floor(sinceMs / 1000), nowSec - WINDOW_SECONDS + 1);
    const hist = new Float64Array(NB);
    let requests = 0;
    let errors5xx = 0;
    let maxMs = 0;
    for (let sec = fromSec; sec <= nowSec; sec++) {
      const slot = sec % WINDOW_SECONDS;
      if (s.slotSecond[slot] !== sec) continue;
      const base = slot * SLOT;
      requests += s.slots[base + S_REQ];
      errors5xx += s.slots[base + S_5XX];
      if (s.slots[base + S_MAX] > maxMs) maxMs = s.slots[base + S_MAX];
      for (let i = 0; i < NB; i++) hist[i] += s.slots[base + S_HIST + i];
    }
    return {
      requests,
      errors5xx,
      errorRate: requests === 0 ? 0 : errors5xx / requests,
      p50Ms: percentile(hist, requests, 0.5, maxMs),
      p99Ms: percentile(hist, requests, 0.99, maxMs),
    };
  }

  totals(service: string): VersionTotals[] {
    const byVersion = this.series.get(service);
    if (byVersion === undefined) return [];
    const out: VersionTotals[] = [];
    for (const [version, s] of byVersion) {
      const byCode: Record<string, number> = {};
      for (const [code, n] of [...s.byCode].sort((a, b) => a[0] - b[0])) byCode[String(code)] = n;
      out.push({
        version,
        requests: s.requests,
        errors5xx: s.errors5xx,
        errorRate: s.requests === 0 ? 0 : s.errors5xx / s.requests,
        connectErrors: s.connectErrors,
        byClass: { '1xx': s.byClass[1], '2xx': s.byClass[2], '3xx': s.byClass[3], '4xx': s.byClass[4], '5xx': s.byClass[5] },
        byCode,
        p50Ms: percentile(s.hist, s.requests, 0.5, s.maxMs),
        p99Ms: percentile(s.hist, s.requests, 0.99, s.maxMs),
        maxMs: s.maxMs,
        histogram: { boundsMs: LATENCY_BUCKETS_MS, counts: Array.from(s.hist) },
        faults: { aborted: s.faultsAborted, delayed: s.faultsDelayed },
      });
    }
    return out;
  }

  services(): string[] {
    return [...this.series.keys()];
  }

  forget(service: string, version?: string): void {
    if (version === undefined) {
      this.series.delete(service);
      return;
    }
    const byVersion = this.series.get(service);
    byVersion?.delete(version);
    if (byVersion?.size === 0) this.series.delete(service);
  }

  /**
   * Drops the series of versions not in `keep` that saw no request in the last
   * WINDOW_SECONDS (nothing windowed is left of them): old revisions' numbers do
   * not pile up over many rollouts. Returns the versions dropped.
   */
  pruneIdle(service: string, keep: ReadonlySet<string>, now: number): string[] {
    const byVersion = this.series.get(service);
    if (byVersion === undefined) return [];
    const nowSec = Math.floor(now / 1000);
    const dropped: string[] = [];
    for (const [version, s] of byVersion) {
      if (keep.has(version) || nowSec - s.lastSecond < WINDOW_SECONDS) continue;
      byVersion.delete(version);
      dropped.push(version);
    }
    if (byVersion.size === 0) this.series.delete(service);
    return dropped;
  }

  private get(service: string, version: string): Series {
    let byVersion = this.series.get(service);
    if (byVersion === undefined) {
      byVersion = new Map();
      this.series.set(service, byVersion);
    }
    let s = byVersion.get(version);
    if (s === undefined) {
      s = new Series();
      byVersion.set(version, s);
    }
    return s;
  }
}
