import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import * as http from 'node:http';
import type * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { GRID_CONFIG, type GridConfig } from '../../common/config/config.js';
import { EventBus } from '../../common/events/event-bus.js';
import { EventsService } from '../events/events.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { RuntimeService } from '../runtime/runtime.service.js';
import { SpecsService } from '../specs/specs.service.js';
import type { GatewayEndpoint, GatewayRoute, VersionBackend } from './gateway.types.js';
import { GatewayProxy, type GatewaySelection } from './proxy.js';
import { routeGatewayUrl } from './routing.js';
import { WireProxy, type WireRouter } from './wire-proxy.js';
import { TrafficFaults, TrafficRouting, TrafficStats, type AliasTarget } from './traffic.js';
import { FAULT_ABORT, FAULT_DELAY, faultHeader, type FaultCounts, type FaultHit, type FaultRule } from './faults.js';
import { JSON_CONTENT_TYPE, MAIN_PORT_SANDBOX, MAIN_PORT_SANDBOX_LINE, errorBody, noReadyPods } from './http-semantics.js';
import { hardenServer, onClientError, strictRequest, strictServerOptions, takeConnections } from './node-server.js';
import type { VersionTotals, WindowStats } from './stats.js';
import type { Ejection } from './outlier.js';

const PREVIEW = '--preview';
/** The /traffic pruning job's name in the SchedulerRegistry. */
const PRUNE_JOB = 'gateway.prune-stats';

/** GET /traffic's answer. */
export interface TrafficView {
  service: string;
  versions: Array<{ version: string; weight: number; share: number; pods: string[] }>;
  totals: VersionTotals[];
  window: { seconds: number; byVersion: Array<{ version: string } & WindowStats> };
  ejected: Ejection[];
}

/** The first Host header (what req.headers.host holds), without building req.headers. */
function firstHost(raw: string[]): string {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length === 4 && name.toLowerCase() === 'host') return raw[i + 1];
  }
  return '';
}

/**
 * Keeps one route per service (Ready pods grouped by version, with weights) and
 * serves /gateway/<service>/... on the main port and, if configured, on a dedicated
 * listener. Weights default to each version's share of Ready pods (what a Kubernetes
 * Service does during a rolling update); rollouts override them with exact weights.
 */
@Injectable()
export class GatewayService implements TrafficStats, TrafficRouting, TrafficFaults, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(GatewayService.name);
  private readonly proxy: GatewayProxy;
  private readonly routes = new Map<string, GatewayRoute>();
  private readonly dirty = new Set<string>();
  /** Explicit weights by version (set by rollouts); absent = proportional to Ready pods. */
  private readonly weights = new Map<string, Map<string, number>>();
  /** Version served at <service>--preview (blue/green). */
  private readonly previews = new Map<string, string>();
  private readonly ejectionCounts = new Map<string, number>();
  /** Names routed to other routes (failover groups): rebuilt with every rebuild, since they follow their targets' pods. */
  private readonly aliases = new Map<string, readonly AliasTarget[]>();
  private dedicated?: http.Server;
  private mainWire?: WireProxy;

  constructor(
    private readonly runtime: RuntimeService,
    private readonly specs: SpecsService,
    private readonly events: EventsService,
    private readonly bus: EventBus,
    private readonly metrics: MetricsService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(GRID_CONFIG) private readonly config: GridConfig,
    private readonly scheduler: SchedulerRegistry,
  ) {
    this.proxy = new GatewayProxy({
      routes: (service) => this.route(service),
      lb: config.gatewayLb,
      sendTimeoutMs: config.clientSendTimeoutMs,
      now: () => this.clock.now(),
      onEvent: (e) => {
        if (e.type === 'ejected') this.ejectionCounts.set(`${e.service}\u0000${e.version}`, this.ejections(e.service, e.version) + 1);
        this.events.record({
          type: `gateway.${e.type}`,
          service: e.service,
          pod: e.podId,
          reason: e.type === 'ejected' ? 'OutlierEjected' : e.type === 'returned' ? 'OutlierReturned' : e.type === 'retried' ? 'Retried' : 'UpstreamError',
          message: e.message,
          explain:
            e.type === 'ejected'
              ? `The gateway stopped sending traffic to ${e.podId} (${e.version}) for a while because its recent requests kept failing: ${e.message}`
              : e.type === 'returned'
                ? `The gateway sends traffic to ${e.podId} again: ${e.message}`
                : e.message,
        });
      },
      observe: (service, version, status, seconds) => this.observe(service, version, status, seconds),
      onFault: (service, version, kind) => {
        if ((kind & FAULT_ABORT) !== 0) this.metrics.gatewayFaults.inc({ service, version, kind: 'abort' });
        if ((kind & FAULT_DELAY) !== 0) this.metrics.gatewayFaults.inc({ service, version, kind: 'delay' });
      },
    });
  }

  /** Plain counters read at scrape time (MetricsService.gateway): no prom-client label hashing per proxied request. */
  private observe(service: string, version: string, status: number, seconds: number): void {
    this.metrics.gateway.observe(service, version, status, seconds);
  }

  onModuleInit(): void {
    const touch = (service: string): void => {
      this.dirty.add(service);
    };
    this.bus.on('pod.changed', (e) => touch(e.service));
    this.bus.on('pod.removed', (e) => touch(e.service));
    this.bus.on('spec.applied', (e) => touch(e.service));
    this.bus.on('spec.deleted', (e) => {
      this.weights.delete(e.service);
      this.proxy.forgetService(e.service);
      touch(e.service);
    });
    // The runtime stops a pod only once the drain it is handed here has settled.
    this.bus.on('pod.draining', (e) => e.waitFor(this.proxy.drain(e.podId, e.timeoutMs).then(() => undefined)));
    this.bus.on('probe.passed', (e) => this.proxy.probePassed(e.podId));
    const prune = setInterval(() => this.pruneStats(), 60_000);
    prune.unref();
    this.scheduler.addInterval(PRUNE_JOB, prune);
  }

  /** Forgets the /traffic numbers of versions that left the route and have been idle for the whole window. */
  pruneStats(): void {
    const now = this.clock.now();
    for (const service of this.proxy.stats.services()) {
      const keep = new Set<string>();
      for (const r of [this.route(service), this.route(`${service}${PREVIEW}`)]) for (const v of r?.versions ?? []) keep.add(v.version);
      for (const w of this.weights.get(service)?.keys() ?? []) keep.add(w);
      this.proxy.stats.pruneIdle(service, keep, now);
    }
  }

  /** The pod a request for `service` would go to next (advances the round robin like a request); undefined when none is Ready. */
  select(service: string): GatewaySelection | undefined {
    return this.proxy.select(service);
  }

  /** What /traffic shows: each version's weight and share of traffic, totals, the last `windowSeconds`, and ejected pods. */
  traffic(service: string, windowSeconds: number): TrafficView {
    const now = this.clock.now();
    const versions = this.route(service)?.versions ?? [];
    const stats = this.proxy.stats;
    const total = versions.reduce((n, v) => n + (v.endpoints.length > 0 ? v.weight : 0), 0);
    return {
      service,
      // weight: exact rollout weights, or each version's count of Ready pods outside a rollout; share: the resulting % of traffic.
      versions: versions.map((v) => ({ version: v.version, weight: v.weight, share: total > 0 && v.endpoints.length > 0 ? Math.round((v.weight / total) * 1000) / 10 : 0, pods: v.endpoints.map((e) => e.podId) })),
      totals: stats.totals(service),
      window: { seconds: windowSeconds, byVersion: versions.map((v) => ({ version: v.version, ...stats.window(service, v.version, now - windowSeconds * 1000, now) })) },
      ejected: this.proxy.ejections().filter((e) => e.service === service),
    };
  }

  /** Route for a service, rebuilt lazily after its pods changed. `x--preview` is the blue/green preview. */
  private route(service: string): GatewayRoute | undefined {
    if (this.dirty.size > 0) this.rebuild();
    return this.routes.get(service);
  }

  /** Exact weights by version (rollouts); undefined returns to weights proportional to Ready pods. */
  setWeights(service: string, weights: Record<string, number> | undefined): void {
    const cur = this.weights.get(service);
    const same = weights ? cur !== undefined && cur.size === Object.keys(weights).length && Object.entries(weights).every(([v, w]) => cur.get(v) === w) : cur === undefined;
    if (same) return;
    if (weights) this.weights.set(service, new Map(Object.entries(weights)));
    else this.weights.delete(service);
    this.dirty.add(service);
  }

  weightsOf(service: string): Record<string, number> | undefined {
    const w = this.weights.get(service);
    return w ? Object.fromEntries(w) : undefined;
  }

  setPreview(service: string, version: string | undefined): void {
    if (this.previews.get(service) === version) return;
    if (version) this.previews.set(service, version);
    else this.previews.delete(service);
    this.dirty.add(service);
  }

  setAlias(name: string, targets: readonly AliasTarget[] | undefined): void {
    if (targets && targets.length > 0) this.aliases.set(name, targets);
    else {
      this.aliases.delete(name);
      this.routes.delete(name);
    }
    this.dirty.add(name);
  }

  ejections(service: string, version: string): number {
    return this.ejectionCounts.get(`${service}\u0000${version}`) ?? 0;
  }

  addFault(rule: FaultRule): void {
    this.proxy.core.faults.add(rule);
  }

  removeFault(id: string): FaultCounts | undefined {
    return this.proxy.core.faults.remove(id);
  }

  faultCounts(id: string): FaultCounts | undefined {
    return this.proxy.core.faults.counts(id);
  }

  window(service: string, version: string, sinceMs: number): WindowStats {
    return this.proxy.stats.window(service, version, sinceMs, this.clock.now());
  }

  private rebuild(): void {
    const services = [...this.dirty];
    this.dirty.clear();
    const live: GatewayEndpoint[] = [];
    for (const service of services) {
      if (this.aliases.has(service)) continue;
      if (!this.specs.get(service)) {
        this.routes.delete(service);
        this.routes.delete(`${service}${PREVIEW}`);
        continue;
      }
      const byVersion = new Map<string, VersionBackend>();
      for (const p of this.runtime.list(service)) {
        // Simulated pods have no port; they stay in the route (for /lb/select and simulated answers) with port 0.
        if (!p.ready || (p.port === undefined && p.runtime !== 'sim')) continue;
        let b = byVersion.get(p.version);
        if (!b) byVersion.set(p.version, (b = { version: p.version, weight: 0, endpoints: [] }));
        b.endpoints.push({ podId: p.id, version: p.version, host: '127.0.0.1', port: p.port ?? 0 });
      }
      const explicit = this.weights.get(service);
      for (const b of byVersion.values()) b.weight = explicit ? (explicit.get(b.version) ?? 0) : b.endpoints.length;
      const preview = this.previews.get(service);
      const versions = [...byVersion.values()];
      this.routes.set(service, { service, versions: preview ? versions.filter((v) => v.version !== preview) : versions });
      const pv = preview ? byVersion.get(preview) : undefined;
      if (preview) this.routes.set(`${service}${PREVIEW}`, { service: `${service}${PREVIEW}`, versions: pv ? [{ ...pv, weight: 100 }] : [] });
      // No preview waiting: the preview route is the active one (Argo Rollouts' preview service points at the active ReplicaSet then).
      else this.routes.set(`${service}${PREVIEW}`, { service: `${service}${PREVIEW}`, versions: this.routes.get(service)!.versions });
    }
    for (const [name, targets] of this.aliases) this.routes.set(name, this.aliasRoute(name, targets));
    for (const r of this.routes.values()) for (const v of r.versions) live.push(...v.endpoints);
    this.proxy.prune(live);
  }

  /**
   * The first target's versions with their own weights, then the other targets' versions
   * at weight 0: the version picker serves weight-0 versions only when no weighted one
   * has a Ready pod, and a retry after a refused connection moves on to them.
   */
  private aliasRoute(name: string, targets: readonly AliasTarget[]): GatewayRoute {
    const versions: VersionBackend[] = [];
    targets.forEach((t, i) => {
      const own: VersionBackend[] =
        'service' in t
          ? (this.routes.get(t.service)?.versions ?? [])
          : [{ version: t.url, weight: 1, endpoints: [{ podId: t.url, version: t.url, host: t.host, port: t.port }] }];
      for (const v of own) versions.push(i === 0 ? v : { ...v, weight: 0 });
    });
    return { service: name, versions, failover: true };
  }

  serve(req: http.IncomingMessage, res: http.ServerResponse, service: string, path: string): void {
    // req.headers is built lazily from rawHeaders: only touched when a preview exists.
    service = this.routedService(service, this.previews.has(service) && req.headers['x-grid-preview'] === '1');
    if (this.simulated(service)) return this.simulate(req, res, service, path);
    this.proxy.handle(req, res, service, path);
  }

  /** The route a request for `service` takes: its preview route when the request asks for it (X-Grid-Preview: 1) and a preview is waiting. */
  private routedService(service: string, previewAsked: boolean): string {
    return previewAsked && this.previews.size > 0 && this.previews.has(service) && !service.endsWith(PREVIEW) ? `${service}${PREVIEW}` : service;
  }

  /** Whether the route's pods are simulated (the gateway answers for them). */
  private simulated(service: string): boolean {
    const base = service.endsWith(PREVIEW) ? service.slice(0, -PREVIEW.length) : service;
    return this.specs.get(base)?.manifest.spec.runtime === 'sim';
  }

  /** Simulated pods cannot answer HTTP, so the gateway answers for the pod it picked: the seeds' teaching flow, with real load balancing. */
  private simulate(req: http.IncomingMessage, res: http.ServerResponse, service: string, path: string): void {
    req.resume();
    const s = this.proxy.select(service);
    const core = this.proxy.core;
    // Fault experiments apply to simulated pods too: the gateway answers for them, so it injects the fault itself.
    const hit = s && core.faults.size !== 0 ? core.fault(service, s.version) : undefined;
    if (hit === undefined || (hit.kind & FAULT_DELAY) === 0) return this.simulatedAnswer(req, res, service, path, s, hit);
    const timer = setTimeout(() => this.simulatedAnswer(req, res, service, path, s, hit), hit.fault.rule.delayMs);
    res.on('close', () => clearTimeout(timer));
  }

  private simulatedAnswer(req: http.IncomingMessage, res: http.ServerResponse, service: string, path: string, s: GatewaySelection | undefined, hit: FaultHit | undefined): void {
    if (res.destroyed) return;
    if (s && hit && (hit.kind & FAULT_ABORT) !== 0) {
      const a = hit.fault.answer;
      res.writeHead(a.status, a.reason, { 'content-type': JSON_CONTENT_TYPE, 'x-grid-fault': faultHeader(hit.kind), 'x-grid-version': s.version }).end(a.body);
      return;
    }
    const t0 = performance.now();
    const body = s ? JSON.stringify({ service, version: s.version, pod: s.endpoint.podId, path, method: req.method, simulated: true }) : errorBody(503, noReadyPods(service));
    const status = s ? 200 : 503;
    const headers: http.OutgoingHttpHeaders = { 'content-type': JSON_CONTENT_TYPE };
    if (s) {
      headers['x-grid-pod'] = s.endpoint.podId;
      headers['x-grid-version'] = s.version;
      // A delayed answer is still the pod's answer (t0 is taken after the delay, which its latency leaves out).
      if (hit) headers['x-grid-fault'] = 'delay';
      const ms = performance.now() - t0;
      this.proxy.stats.record(service, s.version, status, ms, this.clock.now());
      this.observe(service, s.version, status, ms / 1000);
    }
    res.writeHead(status, headers).end(body);
  }

  /**
   * For the main port's http.Server (made with hardenServer): refuses what
   * strict HTTP/1.1 refuses, for the API as for the gateway, then serves
   * /gateway/* and /proxy/*; says whether it answered.
   */
  interceptor(): (req: http.IncomingMessage, res: http.ServerResponse) => boolean {
    return (req, res) => {
      if (strictRequest(req, res)) return true;
      const url = req.url;
      if (url === undefined || (!url.startsWith('/gateway/') && !url.startsWith('/proxy/'))) return false;
      const target = routeGatewayUrl(url);
      if (!target) {
        const body = errorBody(400, 'service: must be a DNS label such as "api"');
        res.writeHead(400, { 'content-type': JSON_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) }).end(body);
        return true;
      }
      // A pod's page must not act as the dashboard's origin (MAIN_PORT_SANDBOX); node-path merges this into its head.
      res.setHeader('content-security-policy', MAIN_PORT_SANDBOX);
      this.serve(req, res, target.service, target.path);
      return true;
    };
  }

  /**
   * Puts the raw-socket fast path (wire-proxy.ts) in front of the main port's
   * http.Server: connections start on the fast path, and the first request that
   * is not plain gateway traffic hands the connection to the server's own
   * connection listener (Fastify, and the interceptor above). Returns false,
   * changing nothing, if the server does not look as expected.
   */
  attachMainServer(server: http.Server): boolean {
    const wire = this.attachFastPath(
      server,
      (url, _host, preview) => {
        if (!url.startsWith('/gateway/') && !url.startsWith('/proxy/')) return undefined;
        const target = routeGatewayUrl(url);
        return target && this.fastTarget(target, preview);
      },
      MAIN_PORT_SANDBOX_LINE,
    );
    if (wire) this.mainWire = wire;
    return wire !== undefined;
  }

  /**
   * Routes the hardened server's new connections through a WireProxy whose fallback is the
   * server's own connection handling (node:http with its guard). The server keeps listening, timing out and
   * closing as usual: its close paths (closeIdleConnections, closeAllConnections,
   * which server.close() and Fastify's close call) also reach the fast path's
   * connections, so a shutdown is not held up by an idle keep-alive client.
   */
  private attachFastPath(server: http.Server, router: WireRouter, responseLines = ''): WireProxy | undefined {
    // After the server's connection cap, which counts a connection whichever path serves it.
    const nodeHttp = takeConnections(server, (socket) => wire.handle(socket));
    if (nodeHttp === undefined) return undefined;
    // The server's own keep-alive, headers and request timeouts apply on the fast path too.
    const wire = new WireProxy({
      core: this.proxy.core,
      fallback: nodeHttp,
      router,
      clientIdleMs: server.keepAliveTimeout,
      headersTimeoutMs: server.headersTimeout,
      requestTimeoutMs: server.requestTimeout,
      bodyTimeoutMs: this.config.clientBodyTimeoutMs,
      sendTimeoutMs: this.config.clientSendTimeoutMs,
      responseLines,
    });
    const closeIdle = server.closeIdleConnections.bind(server);
    const closeAll = server.closeAllConnections.bind(server);
    server.closeIdleConnections = () => {
      wire.closeIdle();
      closeIdle();
    };
    server.closeAllConnections = () => {
      wire.close();
      closeAll();
    };
    return wire;
  }

  /**
   * Optional dedicated listener: /<service>/... or Host: <service>.<anything>.
   * Its connections start on the fast path too; requests outside its HTTP/1.1
   * subset, and simulated services, go to this node:http server's own handler,
   * which uses the full proxy.
   */
  async listenDedicated(): Promise<string | undefined> {
    const config = this.config;
    if (config.gatewayPort === undefined) return undefined;
    const server = http.createServer(strictServerOptions({ headTimeoutMs: config.clientHeadTimeoutMs, idleTimeoutMs: config.clientIdleTimeoutMs }), (req, res) => {
      if (strictRequest(req, res)) return;
      const target = this.dedicatedTarget(req.url ?? '/', firstHost(req.rawHeaders));
      this.serve(req, res, target.service, target.path);
    });
    const cap = hardenServer(server, config.maxConnections, { listener: 'gateway port', bodyTimeoutMs: config.clientBodyTimeoutMs });
    this.metrics.watchConnections('gateway', cap);
    server.on('clientError', onClientError);
    if (config.gatewayFastPath) this.attachFastPath(server, (url, host, preview) => this.fastTarget(this.dedicatedTarget(url, host), preview));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.gatewayPort, config.host, resolve);
    });
    this.dedicated = server;
    return `http://${config.host}:${(server.address() as net.AddressInfo).port}`;
  }

  /** What serve() would do, for the fast path: the preview route if asked for, undefined for simulated services (served by serve()). */
  private fastTarget(target: { service: string; path: string }, preview: boolean): { service: string; path: string } | undefined {
    const service = this.routedService(target.service, preview);
    if (this.simulated(service)) return undefined;
    return service === target.service ? target : { service, path: target.path };
  }

  /** Service and upstream path of a request on the dedicated listener. */
  private dedicatedTarget(url: string, host: string): { service: string; path: string } {
    if (url.startsWith('http://') || url.startsWith('https://')) {
      // Absolute form (the listener used as an HTTP proxy, curl -x): host and path come from the URL.
      try {
        const u = new URL(url);
        return this.dedicatedTarget(u.pathname + u.search, u.host);
      } catch {
        return { service: '', path: url };
      }
    }
    // Host routing: the first label of a name with a dot; not of an address (127.0.0.1:8081) or localhost.
    const dot = host.indexOf('.');
    const c = host.charCodeAt(0);
    const byHost = dot > 0 && !(c >= 48 && c <= 57) && c !== 91 /* [ */ ? host.slice(0, dot).toLowerCase() : '';
    if (byHost && this.route(byHost)) return { service: byHost, path: url };
    const slash = url.indexOf('/', 1);
    const q = url.indexOf('?');
    const end = slash > 0 ? slash : q > 0 ? q : url.length;
    const service = url.slice(1, end);
    const path = end < url.length ? (url[end] === '/' ? url.slice(end) : `/${url.slice(end)}`) : '/';
    // A Host that names no service and a path that names none either: the 404 names the Host's (what the user meant).
    if (byHost && byHost !== 'localhost' && !this.route(service)) return { service: byHost, path: url };
    return { service, path };
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.scheduler.doesExist('interval', PRUNE_JOB)) this.scheduler.deleteInterval(PRUNE_JOB);
    // Pods have been drained and stopped (RuntimeService.beforeApplicationShutdown): cut what is left.
    this.mainWire?.close();
    if (this.dedicated) {
      const server = this.dedicated;
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
    await this.proxy.close().catch((e: Error) => this.logger.warn(`closing gateway pools: ${e.message}`));
  }
}
