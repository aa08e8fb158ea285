// The gateway's raw-socket fast path: every connection to the dedicated listener
// (GRID_GATEWAY_PORT), and every connection to the main port, starts here.
//
// Why: Node's http server plus undici costs ~2.5x nginx's CPU per proxied
// request on this machine, the Grid proxy on top ~3x (bench/results/gateway.md);
// a proxy that reads and writes the sockets itself costs ~1.3x. So requests in
// a strict HTTP/1.1 subset (wire.ts: origin-form, one Host, no
// Transfer-Encoding/Expect/Upgrade, bodies up to 64 KiB, which are buffered
// like nginx does) are parsed here and forwarded over pooled keep-alive upstream
// sockets, with the response head rewritten and its body passed through with
// its own framing (Content-Length, chunked, or until close). Anything else
// (every request for a simulated service, and on the main port every request
// outside /gateway/ and /proxy/) is handed, with the bytes already read, to a
// Node http.Server on the same connection, which serves it (with the full proxy,
// node-path.ts, or with Fastify) from then on.
//
// Here: the listener side (accepting, timeouts by one coarse sweep, closing).
// wire-client.ts serves a client connection, wire-upstream.ts one request's
// upstream attempts, wire-pool.ts keeps the upstream connections.
//
// Selection, outlier ejection, statistics, in-flight counts (drains) and
// events are the shared ProxyCore's: both paths behave the same.
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import {
  CLIENT_BODY_TIMEOUT_MS,
  CLIENT_HEAD_TIMEOUT_MS,
  CLIENT_IDLE_TIMEOUT_MS,
  CLIENT_REQUEST_MAX_MS,
  CLIENT_SEND_TIMEOUT_MS,
  clientVerdict,
  IDLE_TIMED_OUT,
  KEEP,
  SEND_TIMED_OUT,
  type ClientLimits,
} from './client-limits.js';
import type { ProxyCore, UpstreamConnections } from './proxy-core.js';
import { serveClient, type ClientConn } from './wire-client.js';
import { WirePools } from './wire-pool.js';

export interface WireRoute {
  service: string;
  /** Upstream path (starts with '/', keeps the query). */
  path: string;
}

/** Maps a request to a service, or undefined to let the fallback http.Server take it (and the connection). */
export type WireRouter = (target: string, host: string, preview: boolean) => WireRoute | undefined;

export interface WireProxyOptions {
  core: ProxyCore;
  router: WireRouter;
  /**
   * Serves what the fast path does not: gets the connection, with the bytes read
   * so far pushed back into it (typically an http.Server's connection listener).
   */
  fallback: (socket: net.Socket) => void;
  /** No response bytes from the upstream for this long -> 504. */
  upstreamTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Idle client keep-alive connections are closed after this long (Node server's keepAliveTimeout as Grid sets it). */
  clientIdleMs?: number;
  /** A request head must arrive within this long of its first byte (Node's headersTimeout; CLIENT_HEAD_TIMEOUT_MS). */
  headersTimeoutMs?: number;
  /** Once the head is in, the longest gap between two reads of body bytes (CLIENT_BODY_TIMEOUT_MS). */
  bodyTimeoutMs?: number;
  /** Header lines (each ending CRLF) added to every proxied response: MAIN_PORT_SANDBOX_LINE on the main port. */
  responseLines?: string;
  /** A request's head and body must arrive within this long of its first byte, else 408 (Node's requestTimeout; CLIENT_REQUEST_MAX_MS; tests shorten it). */
  requestTimeoutMs?: number;
  /** A client whose send buffer stays full this long without draining is cut (CLIENT_SEND_TIMEOUT_MS). */
  sendTimeoutMs?: number;
  /** Where the fast path reports what it refused to write (default: Nest's logger). */
  warn?: (message: string) => void;
  /** Idle upstream connections kept per pod. */
  maxIdlePerUpstream?: number;
}

export class WireProxy implements UpstreamConnections {
  /** The listener of listen(), if this proxy has its own. */
  server?: net.Server;
  readonly core: ProxyCore;
  readonly router: WireRouter;
  readonly fallback: (socket: net.Socket) => void;
  readonly upstreamTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** The bounds on receiving a request (none above requestTimeoutMs), and on idle and unread connections. */
  readonly limits: ClientLimits;
  readonly upstreams: WirePools;
  readonly responseLines: string;
  readonly conns = new Set<ClientConn>();
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;
  /** Clients cut for not reading (for tests and the bench). */
  sendTimeouts = 0;
  /** Set by closeIdle(): connections close after their current response. */
  draining = false;
  /** performance.now() as of the last sweep: for idle times, where a sweep period of error is fine. */
  coarseNow = performance.now();

  constructor(options: WireProxyOptions) {
    this.core = options.core;
    this.router = options.router;
    this.fallback = options.fallback;
    this.responseLines = options.responseLines ?? '';
    this.upstreamTimeoutMs = options.upstreamTimeoutMs ?? options.core.upstreamTimeoutMs;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
    const requestTimeoutMs = options.requestTimeoutMs ?? CLIENT_REQUEST_MAX_MS;
    const headTimeoutMs = Math.min(options.headersTimeoutMs ?? CLIENT_HEAD_TIMEOUT_MS, requestTimeoutMs);
    const bodyTimeoutMs = Math.min(options.bodyTimeoutMs ?? CLIENT_BODY_TIMEOUT_MS, requestTimeoutMs);
    const sendTimeoutMs = options.sendTimeoutMs ?? CLIENT_SEND_TIMEOUT_MS;
    this.limits = { headTimeoutMs, bodyTimeoutMs, requestTimeoutMs, idleTimeoutMs: options.clientIdleMs ?? CLIENT_IDLE_TIMEOUT_MS, sendTimeoutMs };
    const logger = options.warn === undefined ? new Logger(WireProxy.name) : undefined;
    this.upstreams = new WirePools(options.maxIdlePerUpstream ?? 256, options.warn ?? ((m) => logger!.warn(m)));
    this.core.addConnections(this);
    // Timeouts are checked by one coarse sweep instead of a timer per request.
    const period = Math.max(10, Math.min(1000, Math.floor(Math.min(this.upstreamTimeoutMs, this.connectTimeoutMs, headTimeoutMs, bodyTimeoutMs, sendTimeoutMs) / 4)));
    this.sweeper = setInterval(() => this.sweep(), period);
    this.sweeper.unref();
  }

  /** Listens on its own port, half-open like an http.Server (Grid itself attaches the fast path to http.Servers; this is for tests and embedding). */
  listen(port: number, host: string): Promise<net.AddressInfo> {
    const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => this.handle(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(server.address() as net.AddressInfo);
      });
    });
  }

  /** Serves a newly accepted client connection. */
  handle(socket: net.Socket): void {
    this.conns.add(serveClient(this, socket));
  }

  prune(liveKeys: ReadonlySet<string>): void {
    this.upstreams.prune(liveKeys);
  }

  private sweep(): void {
    const now = performance.now();
    this.coarseNow = now;
    this.upstreams.sweepIdle(now);
    const limits = this.limits;
    for (const conn of this.conns) {
      const socket = conn.socket;
      // A 'drain' clears it (wire-client.ts): the stall is measured from the first sweep that saw it.
      if (conn.stalledSince === 0 && socket.writableNeedDrain) conn.stalledSince = now;
      const ex = conn.ex;
      const unsent = socket.writableLength;
      const verdict = clientVerdict(
        { inFlight: ex !== null, headSince: conn.headSince, bodyReadAt: conn.bodyReadAt, lastActive: conn.lastActive, unsent, stalledSince: conn.stalledSince },
        limits,
        now,
      );
      if (verdict === KEEP) ex?.checkTimeout(now);
      else if (verdict === IDLE_TIMED_OUT || verdict === SEND_TIMED_OUT) {
        if (verdict === SEND_TIMED_OUT) this.sendTimeouts++;
        socket.destroy();
      } else conn.requestTimedOut(verdict);
    }
  }

  /**
   * For a server shutting down: idle client connections are closed now, busy ones
   * after their response (what node's closeIdleConnections does for its own).
   */
  closeIdle(): void {
    this.draining = true;
    for (const conn of [...this.conns]) if (conn.ex === null) conn.socket.destroy();
  }

  /** Stops accepting, cuts every client connection and every upstream connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    this.server?.close();
    for (const conn of [...this.conns]) conn.socket.destroy();
    this.upstreams.close();
  }
}
