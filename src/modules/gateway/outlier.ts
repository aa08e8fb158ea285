// Envoy-style passive outlier detection (consecutive_5xx), pure: every
// time-dependent call takes `now` (ms) so tests drive it with a fake clock.

export interface OutlierOptions {
  /** Consecutive failures (5xx, connect failures, resets) that eject a pod. Envoy: 5. */
  consecutive5xx?: number;
  /** Ejection time = base x times ejected. Envoy: 30 s. */
  baseEjectionMs?: number;
  /** Cap on one ejection. Envoy: 300 s. */
  maxEjectionMs?: number;
  /** Share of a service's pods that may be ejected at once; at least one is always allowed. Envoy: 10 %. */
  maxEjectionPercent?: number;
  /** Each full interval a pod stays un-ejected takes one off its ejection multiplier. Envoy: 10 s. */
  intervalMs?: number;
}

export interface EjectionResult {
  ejected: boolean;
  untilMs?: number;
  timesEjected?: number;
}

export interface Ejection {
  service: string;
  podId: string;
  untilMs: number;
  timesEjected: number;
}

interface PodState {
  service: string;
  podId: string;
  consecutive: number;
  timesEjected: number;
  /** End of the latest ejection; kept after it ends, for the multiplier's decay. */
  untilMs: number;
  /** Ejected and not yet reported as returned (by expire() or probePassed()). */
  active: boolean;
}

const NONE: readonly Ejection[] = Object.freeze([]);
const NOT_EJECTED: EjectionResult = Object.freeze({ ejected: false });

export class OutlierDetector {
  private readonly consecutive5xx: number;
  private readonly baseEjectionMs: number;
  private readonly maxEjectionMs: number;
  private readonly maxEjectionPercent: number;
  private readonly intervalMs: number;
  /** Only pods that ever failed have state: the success path of a healthy pod is one miss. */
  private readonly pods = new Map<string, PodState>();
  private readonly byService = new Map<string, Set<PodState>>();
  private activeEjections = 0;
  private nextExpiryMs = Infinity;

  constructor(options: OutlierOptions = {}) {
    this.consecutive5xx = options.consecutive5xx ?? 5;
    this.baseEjectionMs = options.baseEjectionMs ?? 30_000;
    // Envoy: a base above the cap raises the cap.
    this.maxEjectionMs = Math.max(options.maxEjectionMs ?? 300_000, this.baseEjectionMs);
    this.maxEjectionPercent = options.maxEjectionPercent ?? 10;
    this.intervalMs = options.intervalMs ?? 10_000;
  }

  /**
   * Ejections not yet reported back by expire()/probePassed(); may include some
   * that already ran out. Zero means nobody is ejected, which lets callers skip
   * availability checks entirely.
   */
  get activeCount(): number {
    return this.activeEjections;
  }

  recordSuccess(_service: string, podId: string): void {
    const st = this.pods.get(podId);
    if (st !== undefined) st.consecutive = 0;
  }

  recordFailure(service: string, podId: string, totalEndpointsOfService: number, now: number): EjectionResult {
    let st = this.pods.get(podId);
    if (st === undefined) {
      st = { service, podId, consecutive: 0, timesEjected: 0, untilMs: 0, active: false };
      this.pods.set(podId, st);
      let set = this.byService.get(service);
      if (set === undefined) {
        set = new Set();
        this.byService.set(service, set);
      }
      set.add(st);
    }
    if (st.active && st.untilMs > now) return NOT_EJECTED;
    st.consecutive++;
    // Below the threshold, or the cap refused: the count stays, so the next
    // failure tries again once another pod has returned.
    if (st.consecutive < this.consecutive5xx || !this.mayEject(service, totalEndpointsOfService, now)) {
      return NOT_EJECTED;
    }
    if (st.timesEjected > 0) {
      const healthyIntervals = Math.floor((now - st.untilMs) / this.intervalMs);
      if (healthyIntervals > 0) st.timesEjected = Math.max(0, st.timesEjected - healthyIntervals);
    }
    st.timesEjected++;
    st.consecutive = 0;
    st.untilMs = now + Math.min(this.baseEjectionMs * st.timesEjected, this.maxEjectionMs);
    if (!st.active) {
      st.active = true;
      this.activeEjections++;
    }
    if (st.untilMs < this.nextExpiryMs) this.nextExpiryMs = st.untilMs;
    return { ejected: true, untilMs: st.untilMs, timesEjected: st.timesEjected };
  }

  isEjected(podId: string, now: number): boolean {
    if (this.activeEjections === 0) return false;
    const st = this.pods.get(podId);
    return st !== undefined && st.active && st.untilMs > now;
  }

  /**
   * A passing readiness probe proves the pod serves again: it returns at once.
   * timesEjected is kept so a relapse is ejected for longer. Returns the ended
   * ejection, if there was one, so the caller can report the return.
   */
  probePassed(podId: string): Ejection | undefined {
    const st = this.pods.get(podId);
    if (st === undefined) return undefined;
    st.consecutive = 0;
    if (!st.active) return undefined;
    st.active = false;
    this.activeEjections--;
    return { service: st.service, podId, untilMs: st.untilMs, timesEjected: st.timesEjected };
  }

  /**
   * Ends the ejections whose time is up and returns them, each exactly once.
   * O(1) until the earliest ejection ends, so it can be called per request.
   */
  expire(now: number): readonly Ejection[] {
    if (this.activeEjections === 0 || now < this.nextExpiryMs) return NONE;
    const out: Ejection[] = [];
    let next = Infinity;
    for (const st of this.pods.values()) {
      if (!st.active) continue;
      if (st.untilMs <= now) {
        st.active = false;
        this.activeEjections--;
        out.push({ service: st.service, podId: st.podId, untilMs: st.untilMs, timesEjected: st.timesEjected });
      } else if (st.untilMs < next) {
        next = st.untilMs;
      }
    }
    this.nextExpiryMs = next;
    return out;
  }

  /** Current ejections (for REST and dashboards). */
  ejected(now: number): Ejection[] {
    const out: Ejection[] = [];
    for (const st of this.pods.values()) {
      if (st.active && st.untilMs > now) {
        out.push({ service: st.service, podId: st.podId, untilMs: st.untilMs, timesEjected: st.timesEjected });
      }
    }
    return out;
  }

  forget(podId: string): void {
    const st = this.pods.get(podId);
    if (st === undefined) return;
    if (st.active) this.activeEjections--;
    this.pods.delete(podId);
    const set = this.byService.get(st.service);
    if (set !== undefined) {
      set.delete(st);
      if (set.size === 0) this.byService.delete(st.service);
    }
  }

  /** Forgets every pod not in `live` (pods that left the routes). */
  retain(live: ReadonlySet<string>): void {
    for (const podId of [...this.pods.keys()]) {
      if (!live.has(podId)) this.forget(podId);
    }
  }

  private mayEject(service: string, total: number, now: number): boolean {
    let ejectedNow = 0;
    const set = this.byService.get(service);
    if (set !== undefined) {
      for (const st of set) if (st.active && st.untilMs > now) ejectedNow++;
    }
    // Envoy allows one ejection whatever the percentage; but the last pod of a
    // service is never ejected: a struggling pod beats a guaranteed 503.
    const allowed = Math.min(Math.max(1, Math.floor((total * this.maxEjectionPercent) / 100)), total - 1);
    return ejectedNow < allowed;
  }
}
