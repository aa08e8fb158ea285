// The proxy's shared state and decisions, used by both paths (node-path.ts and
// the raw-socket fast path, wire-*.ts): picking a version and a pod, outlier
// ejection, retries' second pick, in-flight counts (drains), statistics and
// events. Upstream connections belong to the paths; the core only prunes and
// closes them.
import { performance } from 'node:perf_hooks';
import type { GatewayEndpoint, GatewayEvent, GatewayRoute, RouteLookup, VersionBackend } from './gateway.types.js';
import { FAULT_ABORT, FAULT_DELAY, FaultTable, type FaultHit } from './faults.js';
import { EndpointPicker, WeightedVersionPicker, type LbMode, type PodPredicate } from './lb.js';
import { OutlierDetector, type OutlierOptions } from './outlier.js';
import { VersionStats } from './stats.js';

export interface ProxyCoreOptions {
  routes: RouteLookup;
  lb?: LbMode;
  /** No response headers (or no body bytes) from the upstream for this long -> 504. */
  upstreamTimeoutMs?: number;
  outlier?: OutlierOptions;
  /** Wall clock (ms) for ejections and stats windows (Grid's injected clock); latency uses performance.now(). */
  now: () => number;
  onEvent?: (e: GatewayEvent) => void;
  /** Called once per proxied request, e.g. to feed a prom-client histogram. */
  observe?: (service: string, version: string, status: number, seconds: number) => void;
  /** Called once per request a fault rule aborted or delayed (`kind`: FAULT_ABORT and/or FAULT_DELAY bits), e.g. for grid_gateway_faults_total. */
  onFault?: (service: string, version: string, kind: number) => void;
}

// Unique per process without crypto per request.
const REQUEST_ID_PREFIX = Math.round(performance.timeOrigin).toString(36) + '-';
let requestSeq = 0;

/** An X-Request-Id for a request that came without one. */
export function newRequestId(): string {
  return REQUEST_ID_PREFIX + (++requestSeq).toString(36);
}

/** What the core needs of one request attempt, whichever path (node:http + undici, or the raw-socket fast path) serves it. */
export interface Attempt {
  readonly service: string;
  readonly route: GatewayRoute;
  backend: VersionBackend;
  endpoint: GatewayEndpoint;
  /** performance.now() when the request arrived, or when its fault delay ended: latency leaves the injected delay out. */
  readonly startedAt: number;
  /** FAULT_ABORT/FAULT_DELAY bits of an injected fault; 0 for a real request. */
  readonly fault: number;
}

/** One path's upstream connections (undici pools, the fast path's sockets), pruned and closed by the core. */
export interface UpstreamConnections {
  /** Drops connections to upstreams whose `host:port` is not in `liveKeys`, letting in-flight requests finish. */
  prune(liveKeys: ReadonlySet<string>): void;
  close(): void | Promise<void>;
}

/** The proxy's state, shared by the facade, the per-request handlers and the raw-socket fast path. */
export class ProxyCore {
  readonly routes: RouteLookup;
  readonly now: () => number;
  readonly stats = new VersionStats();
  readonly outlier: OutlierDetector;
  readonly versions = new WeightedVersionPicker();
  readonly endpoints: EndpointPicker;
  readonly onEvent: ((e: GatewayEvent) => void) | undefined;
  readonly observe: ((service: string, version: string, status: number, seconds: number) => void) | undefined;
  readonly upstreamTimeoutMs: number;
  /** Running fault experiments; the paths read `faults.size` first, so without any a request pays one field read. */
  readonly faults = new FaultTable();
  private readonly onFault: ((service: string, version: string, kind: number) => void) | undefined;
  private readonly inflightByPod = new Map<string, number>();
  private readonly drainWaiters = new Map<string, Set<(drained: boolean) => void>>();
  /** Version of each ejected pod, for the 'returned' event. */
  private readonly ejectedVersion = new Map<string, string>();
  private readonly connections: UpstreamConnections[] = [];
  /** The clock reading availability checks use; set before each pick. */
  private clock = 0;
  private readonly available: PodPredicate = (podId) => !this.outlier.isEjected(podId, this.clock);

  constructor(options: ProxyCoreOptions) {
    this.routes = options.routes;
    this.now = options.now;
    this.outlier = new OutlierDetector(options.outlier);
    this.endpoints = new EndpointPicker(options.lb ?? 'round-robin', (podId) => this.inflightByPod.get(podId) ?? 0);
    this.onEvent = options.onEvent;
    this.observe = options.observe;
    this.onFault = options.onFault;
    this.upstreamTimeoutMs = options.upstreamTimeoutMs ?? 30_000;
  }

  /** Ends due ejections and returns the availability predicate, or undefined when nobody is ejected. */
  availability(): PodPredicate | undefined {
    if (this.outlier.activeCount === 0) return undefined;
    const now = this.now();
    for (const e of this.outlier.expire(now)) this.returned(e.podId, e.service, 'ejection time elapsed');
    this.clock = now;
    return this.outlier.activeCount === 0 ? undefined : this.available;
  }

  returned(podId: string, service: string, why: string): void {
    const version = this.ejectedVersion.get(podId) ?? '';
    this.ejectedVersion.delete(podId);
    this.onEvent?.({ type: 'returned', service, podId, version, message: `pod '${podId}' back in service: ${why}` });
  }

  /** Starts one attempt's claim on its pod (least-request balancing and drains count claims). */
  claim(podId: string): void {
    this.inflightByPod.set(podId, (this.inflightByPod.get(podId) ?? 0) + 1);
  }

  /** Ends one attempt's claim on its pod. */
  release(podId: string): void {
    const n = (this.inflightByPod.get(podId) ?? 1) - 1;
    if (n > 0) {
      this.inflightByPod.set(podId, n);
      return;
    }
    this.inflightByPod.delete(podId);
    const waiters = this.drainWaiters.get(podId);
    if (waiters === undefined) return;
    this.drainWaiters.delete(podId);
    for (const resolve of waiters) resolve(true);
  }

  inflight(podId: string): number {
    return this.inflightByPod.get(podId) ?? 0;
  }

  drain(podId: string, timeoutMs: number): Promise<boolean> {
    if (this.inflight(podId) === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      let waiters = this.drainWaiters.get(podId);
      if (waiters === undefined) {
        waiters = new Set();
        this.drainWaiters.set(podId, waiters);
      }
      const timer = setTimeout(() => {
        waiters.delete(done);
        if (waiters.size === 0 && this.drainWaiters.get(podId) === waiters) this.drainWaiters.delete(podId);
        resolve(false);
      }, timeoutMs);
      const done = (drained: boolean): void => {
        clearTimeout(timer);
        resolve(drained);
      };
      waiters.add(done);
    });
  }

  recordUpstreamStatus(ex: Attempt, status: number): void {
    if (status >= 500) this.recordFailure(ex, `HTTP ${status}`);
    else this.outlier.recordSuccess(ex.service, ex.endpoint.podId);
  }

  recordFailure(ex: Attempt, what: string): void {
    const ep = ex.endpoint;
    const version = ex.backend.version;
    let total = 0;
    for (const v of ex.route.versions) total += v.endpoints.length;
    const now = this.now();
    const r = this.outlier.recordFailure(ex.service, ep.podId, total, now);
    if (!r.ejected) return;
    this.ejectedVersion.set(ep.podId, version);
    this.onEvent?.({
      type: 'ejected',
      service: ex.service,
      podId: ep.podId,
      version,
      message:
        `pod '${ep.podId}' (${version}) ejected for ${(r.untilMs ?? now) - now} ms ` +
        `(ejection #${r.timesEjected}) after consecutive failures, last: ${what}`,
    });
  }

  /**
   * Another pod for a retry: same version if it has one, else any version, weighted ones first.
   * On a failover group's active target the standby targets (weight 0) come first.
   */
  pickRetry(ex: Attempt): boolean {
    const route = ex.route;
    if (route.failover && ex.backend.weight > 0) {
      for (const v of route.versions) if (v.weight === 0 && this.retryOn(ex, v)) return true;
    }
    if (this.retryOn(ex, ex.backend)) return true;
    for (const weighted of [true, false]) {
      for (const v of route.versions) {
        if (v === ex.backend || v.weight > 0 !== weighted) continue;
        if (this.retryOn(ex, v)) return true;
      }
    }
    return false;
  }

  private retryOn(ex: Attempt, v: VersionBackend): boolean {
    const ep = this.endpoints.pick(ex.route.service, v.version, v.endpoints, this.availability(), ex.endpoint.podId);
    if (ep === undefined) return false;
    ex.backend = v;
    ex.endpoint = ep;
    return true;
  }

  /**
   * The fault a running experiment injects into a request picked to a pod of `version`, counted
   * apart (stats, metrics); undefined for a request to serve as it is. Asked after the pick, so a
   * version-scoped fault sees exactly its version's requests.
   */
  fault(service: string, version: string): FaultHit | undefined {
    const hit = this.faults.decide(service, version);
    if (hit === undefined) return undefined;
    this.stats.recordFault(service, version, (hit.kind & FAULT_ABORT) !== 0, (hit.kind & FAULT_DELAY) !== 0, this.now());
    this.onFault?.(service, version, hit.kind);
    return hit;
  }

  /**
   * The request is over: it enters the numbers analysis reads. An aborted one never gets here (the pod
   * was not called); a delayed one does, as Envoy keeps delayed requests in its upstream stats: the pod's
   * answer is real, and its latency counts from the end of the hold (startedAt moves then).
   */
  finish(ex: Attempt, status: number): void {
    const latencyMs = performance.now() - ex.startedAt;
    this.stats.record(ex.service, ex.backend.version, status, latencyMs, this.now());
    this.observe?.(ex.service, ex.backend.version, status, latencyMs / 1000);
  }

  emit(type: GatewayEvent['type'], ex: Attempt, message: string): void {
    this.onEvent?.({ type, service: ex.service, podId: ex.endpoint.podId, version: ex.backend.version, message });
  }

  prune(active: Iterable<GatewayEndpoint>): void {
    const keys = new Set<string>();
    const pods = new Set<string>();
    for (const ep of active) {
      keys.add(ep.host + ':' + ep.port);
      pods.add(ep.podId);
    }
    for (const c of this.connections) c.prune(keys);
    this.outlier.retain(pods);
    for (const podId of this.ejectedVersion.keys()) if (!pods.has(podId)) this.ejectedVersion.delete(podId);
  }

  addConnections(c: UpstreamConnections): void {
    this.connections.push(c);
  }

  /** The pick for a new request: weighted version, then a pod of it; undefined when none is Ready. */
  pick(route: GatewayRoute): { backend: VersionBackend; endpoint: GatewayEndpoint } | undefined {
    const avail = this.availability();
    let backend = this.versions.pick(route, avail);
    let endpoint = backend && this.endpoints.pick(route.service, backend.version, backend.endpoints, avail);
    if (endpoint === undefined && avail !== undefined) {
      // Every pod is ejected (the route shrank under the ejections): serving
      // from a suspect pod beats a certain 503, as in Envoy's panic mode.
      backend = this.versions.pick(route);
      endpoint = backend && this.endpoints.pick(route.service, backend.version, backend.endpoints);
    }
    return backend && endpoint && { backend, endpoint };
  }

  async close(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.close()));
  }
}
