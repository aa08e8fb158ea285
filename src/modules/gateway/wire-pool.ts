// The fast path's upstream side, connections: plain keep-alive sockets per pod
// address. A connection goes back to its pool only after a response ended
// exactly (wire-upstream.ts decides); bytes on an idle one destroy it.
import * as net from 'node:net';
import type { GatewayEndpoint, VersionBackend } from './gateway.types.js';
import { isSafeHeaderValue } from './http-semantics.js';
import type { ResponseHead } from './wire.js';
import type { Exchange } from './wire-upstream.js';

/** Used when the upstream gives no Keep-Alive timeout (Node servers default to 5 s). */
const DEFAULT_UPSTREAM_IDLE_MS = 4_000;
/** Margin under the upstream's announced keep-alive timeout, as undici keeps. */
const KEEP_ALIVE_MARGIN_MS = 1_000;

export const kExchange = Symbol('wire.exchange');
export const kError = Symbol('wire.error');
export const kPool = Symbol('wire.pool');
const kIdleUntil = Symbol('wire.idleUntil');

export interface UpstreamSocket extends net.Socket {
  [kExchange]: Exchange | null;
  [kError]: Error | null;
  [kPool]: UpstreamPool;
  [kIdleUntil]: number;
}

export class UpstreamPool {
  readonly idle: UpstreamSocket[] = [];
  closed = false;
  /** The last response head parsed from this upstream, by its exact text: pods tend to send the same head again and again. */
  lastHeadText = '';
  lastHeadIsHead = false;
  lastHead: ResponseHead | null = null;
  /**
   * The X-Grid-Pod/X-Grid-Version lines for gridLinesEndpoint in gridLinesBackend,
   * checked once: route objects live until the next rebuild, so this is once per
   * route, not per request (and saves building the lines per response).
   */
  gridLines = '';
  gridLinesEndpoint: GatewayEndpoint | null = null;
  gridLinesBackend: VersionBackend | null = null;
  constructor(
    readonly key: string,
    readonly host: string,
    readonly port: number,
  ) {}

  closeIdle(): void {
    for (const s of this.idle.splice(0)) s.destroy();
  }
}

// Upstream socket listeners: installed once per socket, dispatching to its current exchange.
function onUpstreamData(this: UpstreamSocket, chunk: Buffer): void {
  const ex = this[kExchange];
  if (ex === null) {
    // Bytes on an idle connection: nothing asked for them, the connection is unusable.
    this.destroy();
    return;
  }
  ex.upstreamData(chunk);
}

function onUpstreamError(this: UpstreamSocket, err: Error): void {
  this[kError] = err;
}

function onUpstreamClose(this: UpstreamSocket): void {
  const pool = this[kPool];
  const i = pool.idle.indexOf(this);
  if (i >= 0) pool.idle.splice(i, 1);
  const ex = this[kExchange];
  if (ex !== null) {
    this[kExchange] = null;
    ex.upstreamClosed(this[kError]);
  }
}

/** The fast path's idle upstream connections, per pod address. */
export class WirePools {
  private readonly pools = new Map<string, UpstreamPool>();
  private readonly poolOf = new WeakMap<GatewayEndpoint, UpstreamPool>();

  /** Values already reported as unsafe for a head: each is logged once. */
  private readonly warned = new Set<string>();

  constructor(
    /** Idle connections kept per pod address. */
    private readonly maxIdle: number,
    /** Where a value refused for a response head is reported. */
    private readonly warn: (message: string) => void,
  ) {}

  /** The pool of an endpoint's address (for a socket already released). */
  poolOfEndpoint(ep: GatewayEndpoint): UpstreamPool {
    return this.poolFor(ep);
  }

  /**
   * The `x-grid-pod`/`x-grid-version` header lines (each ending CRLF) for responses
   * from this endpoint of this version. A value that could break out of its
   * header (CR, LF, NUL, other control bytes) is never written: its line is left
   * out and the value logged once.
   */
  gridLines(pool: UpstreamPool, ep: GatewayEndpoint, backend: VersionBackend): string {
    if (pool.gridLinesEndpoint === ep && pool.gridLinesBackend === backend) return pool.gridLines;
    pool.gridLines = this.safeLine('x-grid-pod', ep.podId) + this.safeLine('x-grid-version', backend.version);
    pool.gridLinesEndpoint = ep;
    pool.gridLinesBackend = backend;
    return pool.gridLines;
  }

  private safeLine(name: string, value: string): string {
    if (isSafeHeaderValue(value)) return name + ': ' + value + '\r\n';
    const key = name + '\u0000' + value;
    if (!this.warned.has(key)) {
      this.warned.add(key);
      this.warn(`gateway: ${name} left out of responses: its value ${JSON.stringify(value)} holds bytes a header must not (CR, LF, NUL or another control byte)`);
    }
    return '';
  }

  private poolFor(ep: GatewayEndpoint): UpstreamPool {
    // Endpoint objects live until the next route rebuild: their pool is cached on them.
    let pool = this.poolOf.get(ep);
    if (pool !== undefined && !pool.closed) return pool;
    const key = ep.host + ':' + ep.port;
    pool = this.pools.get(key);
    if (pool === undefined) {
      pool = new UpstreamPool(key, ep.host, ep.port);
      this.pools.set(key, pool);
    }
    this.poolOf.set(ep, pool);
    return pool;
  }

  /** A new upstream connection to the endpoint. */
  connectTo(ep: GatewayEndpoint): UpstreamSocket {
    return this.connect(this.poolFor(ep));
  }

  /** An upstream connection to the endpoint: an idle pooled one if any is still fresh, else a new one. */
  acquire(ep: GatewayEndpoint, now: number): { socket: UpstreamSocket; reused: boolean } {
    const pool = this.poolFor(ep);
    while (pool.idle.length > 0) {
      const s = pool.idle.pop()!;
      if (s[kIdleUntil] > now && !s.destroyed) return { socket: s, reused: true };
      s.destroy();
    }
    return { socket: this.connect(pool), reused: false };
  }

  private connect(pool: UpstreamPool): UpstreamSocket {
    const s = net.connect({ host: pool.host, port: pool.port, noDelay: true }) as UpstreamSocket;
    s[kExchange] = null;
    s[kError] = null;
    s[kPool] = pool;
    s[kIdleUntil] = 0;
    s.on('data', onUpstreamData);
    s.on('error', onUpstreamError);
    s.on('close', onUpstreamClose);
    return s;
  }

  /** A finished exchange's upstream connection: back to the pool when it can carry another request; its idle time counts from `since`. */
  release(s: UpstreamSocket, reusable: boolean, keepAliveMs: number, since: number): void {
    s[kExchange] = null;
    const pool = s[kPool];
    if (!reusable || pool.closed || s.destroyed || pool.idle.length >= this.maxIdle || this.pools.get(pool.key) !== pool) {
      s.destroy();
      return;
    }
    const idleMs = keepAliveMs > 0 ? Math.max(0, keepAliveMs - KEEP_ALIVE_MARGIN_MS) : DEFAULT_UPSTREAM_IDLE_MS;
    s[kIdleUntil] = since + idleMs;
    pool.idle.push(s);
  }

  prune(liveKeys: ReadonlySet<string>): void {
    for (const [key, pool] of this.pools) {
      if (liveKeys.has(key)) continue;
      // In-flight exchanges finish on their sockets; those are destroyed on release.
      this.pools.delete(key);
      pool.closed = true;
      pool.closeIdle();
    }
  }

  /** Destroys idle connections whose keep-alive time is over. */
  sweepIdle(now: number): void {
    for (const pool of this.pools.values()) {
      for (let i = pool.idle.length - 1; i >= 0; i--) {
        if (pool.idle[i][kIdleUntil] <= now) pool.idle.splice(i, 1)[0].destroy();
      }
    }
  }

  close(): void {
    for (const pool of this.pools.values()) {
      pool.closed = true;
      pool.closeIdle();
    }
    this.pools.clear();
  }
}
