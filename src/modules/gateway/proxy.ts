// The gateway's proxy as GatewayService uses it: the shared core (proxy-core.ts)
// with the node path (node-path.ts) for requests Node's http server parsed. The
// raw-socket fast path (wire-proxy.ts) is attached to the same core.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayEndpoint } from './gateway.types.js';
import { NodePath, type NodePathOptions } from './node-path.js';
import type { Ejection, OutlierDetector } from './outlier.js';
import { ProxyCore, type ProxyCoreOptions } from './proxy-core.js';
import type { VersionStats } from './stats.js';

export type GatewayProxyOptions = ProxyCoreOptions & NodePathOptions;

export interface GatewaySelection {
  version: string;
  endpoint: GatewayEndpoint;
}

export class GatewayProxy {
  /** Per-service, per-version request statistics (canary analysis, REST). */
  readonly stats: VersionStats;
  readonly outlier: OutlierDetector;
  /** Shared with the raw-socket fast path (wire-proxy.ts). */
  readonly core: ProxyCore;

  private readonly node: NodePath;

  constructor(options: GatewayProxyOptions) {
    this.core = new ProxyCore(options);
    this.node = new NodePath(this.core, options);
    this.stats = this.core.stats;
    this.outlier = this.core.outlier;
  }

  /** Proxies one request to a pod of `service`; `upstreamPath` starts with `/` and keeps the query. */
  handle(req: IncomingMessage, res: ServerResponse, service: string, upstreamPath: string): void {
    this.node.handle(req, res, service, upstreamPath);
  }

  /** The pick handle() would make, without proxying (for `/lb/select`). */
  select(service: string): GatewaySelection | undefined {
    const route = this.core.routes(service);
    const selected = route && this.core.pick(route);
    return selected && { version: selected.backend.version, endpoint: selected.endpoint };
  }

  /** A readiness probe passed: an ejected pod returns to service at once. */
  probePassed(podId: string): void {
    const ended = this.core.outlier.probePassed(podId);
    if (ended !== undefined) this.core.returned(podId, ended.service, 'readiness probe passed');
  }

  ejections(): Ejection[] {
    return this.core.outlier.ejected(this.core.now());
  }

  inflight(podId: string): number {
    return this.core.inflight(podId);
  }

  /** Resolves true once the pod has no request in flight, false after `timeoutMs`. */
  drain(podId: string, timeoutMs: number): Promise<boolean> {
    return this.core.drain(podId, timeoutMs);
  }

  /** A deleted service: drops its balancing state and statistics. */
  forgetService(service: string): void {
    this.core.versions.forget(service);
    this.core.endpoints.forget(service);
    this.core.stats.forget(service);
  }

  /** Drops pools and outlier state of upstreams absent from `activeEndpoints` (the live set). */
  prune(activeEndpoints: Iterable<GatewayEndpoint>): void {
    this.core.prune(activeEndpoints);
  }

  close(): Promise<void> {
    return this.core.close();
  }
}
