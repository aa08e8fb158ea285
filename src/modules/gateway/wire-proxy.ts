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
// proxy.ts, or with Fastify) from then on.
//
// Selection, outlier ejection, statistics, in-flight counts (drains) and
// events are the shared ProxyCore's: both paths behave the same.
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { GatewayEndpoint, GatewayRoute, VersionBackend } from './gateway.types.js';
import { newRequestId, type Attempt, type ProxyCore, type UpstreamConnections } from './proxy-core.js';
import {
  ChunkedScanner,
  FALLBACK,
  FRAME_CHUNKED,
  FRAME_CLOSE,
  FRAME_LENGTH,
  FRAME_NONE,
  INCOMPLETE,
  MAX_RESPONSE_HEAD,
  findHeadEnd,
  parseRequestHead,
  parseResponseHead,
  type RequestHead,
  type ResponseHead,
} from './wire.js';
import { JSON_CONTENT_TYPE, errorBody, F_CONNECT, F_TIMEOUT, F_UPSTREAM, noReadyPods, reasonPhrase, serviceNotFound, upstreamFailure, type GatewayErrorStatus } from './http-semantics.js';

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
  /** A request head must arrive within this long (Node's headersTimeout). */
  headersTimeoutMs?: number;
  /** Idle upstream connections kept per pod. */
  maxIdlePerUpstream?: number;
}

/** Used when the upstream gives no Keep-Alive timeout (Node servers default to 5 s). */
const DEFAULT_UPSTREAM_IDLE_MS = 4_000;
/** Margin under the upstream's announced keep-alive timeout, as undici keeps. */
const KEEP_ALIVE_MARGIN_MS = 1_000;
/** Bodies up to this size that arrive with their head are copied into the head's write rather than corked beside it. */
const SMALL_BODY = 16 * 1024;
/** Pipelined bytes buffered while a request is in flight before the client is paused. */
const MAX_PIPELINED = 1024 * 1024;

const kExchange = Symbol('wire.exchange');
const kError = Symbol('wire.error');
const kPool = Symbol('wire.pool');
const kIdleUntil = Symbol('wire.idleUntil');
const kConn = Symbol('wire.conn');

interface UpstreamSocket extends net.Socket {
  [kExchange]: Exchange | null;
  [kError]: Error | null;
  [kPool]: UpstreamPool;
  [kIdleUntil]: number;
}

interface ClientSocket extends net.Socket {
  [kConn]: ClientConn;
}

class UpstreamPool {
  readonly idle: UpstreamSocket[] = [];
  closed = false;
  /** The last response head parsed from this upstream, by its exact text: pods tend to send the same head again and again. */
  lastHeadText = '';
  lastHeadIsHead = false;
  lastHead: ResponseHead | null = null;
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

function onClientData(this: ClientSocket, chunk: Buffer): void {
  this[kConn].data(chunk);
}

function onClientDrain(this: ClientSocket): void {
  const conn = this[kConn];
  if (conn.ex !== null) conn.ex.clientDrained();
  // The idle time of a keep-alive connection starts once its last response is flushed.
  else conn.lastActive = conn.proxy.coarseNow;
}

function onClientEnd(this: ClientSocket): void {
  this[kConn].clientEnded();
}

function onClientClose(this: ClientSocket): void {
  this[kConn].closed();
}

function onClientError(): void {
  // 'close' follows; a client resetting its connection is not Grid's error.
}

function errorCode(err: Error | null): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'ECONNRESET';
}

/** An answer of the gateway's own as bytes on the wire; the body is the node path's, byte for byte. */
function jsonReply(status: GatewayErrorStatus, message: string, extraLines: string, close: boolean): string {
  const body = errorBody(status, message);
  return (
    `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\ncontent-type: ${JSON_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
    extraLines +
    (close ? 'connection: close\r\n' : '') +
    '\r\n' +
    body
  );
}

export class WireProxy implements UpstreamConnections {
  /** The listener of listen(), if this proxy has its own. */
  server?: net.Server;
  readonly core: ProxyCore;
  readonly router: WireRouter;
  readonly fallback: (socket: net.Socket) => void;
  readonly upstreamTimeoutMs: number;
  readonly connectTimeoutMs: number;
  private readonly clientIdleMs: number;
  private readonly headersTimeoutMs: number;
  private readonly maxIdle: number;
  private readonly pools = new Map<string, UpstreamPool>();
  private readonly poolOf = new WeakMap<GatewayEndpoint, UpstreamPool>();
  readonly conns = new Set<ClientConn>();
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;
  /** Set by closeIdle(): connections close after their current response. */
  draining = false;
  /** performance.now() as of the last sweep: for idle times, where a sweep period of error is fine. */
  coarseNow = performance.now();

  constructor(options: WireProxyOptions) {
    this.core = options.core;
    this.router = options.router;
    this.fallback = options.fallback;
    this.upstreamTimeoutMs = options.upstreamTimeoutMs ?? options.core.upstreamTimeoutMs;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
    this.clientIdleMs = options.clientIdleMs ?? 65_000;
    this.headersTimeoutMs = options.headersTimeoutMs ?? 60_000;
    this.maxIdle = options.maxIdlePerUpstream ?? 256;
    this.core.addConnections(this);
    // Timeouts are checked by one coarse sweep instead of a timer per request.
    const period = Math.max(10, Math.min(1000, Math.floor(Math.min(this.upstreamTimeoutMs, this.connectTimeoutMs) / 4)));
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
  handle(client: net.Socket): void {
    const socket = client as ClientSocket;
    const conn = new ClientConn(this, socket);
    socket[kConn] = conn;
    this.conns.add(conn);
    socket.on('data', onClientData);
    socket.on('drain', onClientDrain);
    socket.on('close', onClientClose);
    socket.on('end', onClientEnd);
    socket.on('error', onClientError);
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

  private sweep(): void {
    const now = performance.now();
    this.coarseNow = now;
    for (const pool of this.pools.values()) {
      for (let i = pool.idle.length - 1; i >= 0; i--) {
        if (pool.idle[i][kIdleUntil] <= now) pool.idle.splice(i, 1)[0].destroy();
      }
    }
    for (const conn of this.conns) {
      const ex = conn.ex;
      if (ex !== null) ex.checkTimeout(now);
      else if (conn.headSince > 0 && now - conn.headSince > this.headersTimeoutMs) conn.socket.destroy();
      else if (conn.headSince === 0 && conn.socket.writableLength === 0 && now - conn.lastActive > this.clientIdleMs) conn.socket.destroy();
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
    for (const pool of this.pools.values()) {
      pool.closed = true;
      pool.closeIdle();
    }
    this.pools.clear();
  }
}

/** One client connection served by the fast path. */
class ClientConn {
  buf: Buffer | null = null;
  /** Where the search for the end of the next head resumes. */
  scanFrom = 0;
  /** A parsed head whose body has not fully arrived yet. */
  pendingHead: RequestHead | null = null;
  ex: Exchange | null = null;
  /** performance.now() of the last completed exchange (or accept). */
  lastActive = performance.now();
  /** performance.now() when the first bytes of an unfinished head arrived; 0 when none are waiting. */
  headSince = 0;
  readonly remote: string;
  private pausedForPipeline = false;
  private handedOff = false;
  /** Chunks that arrived while an exchange was in flight. */
  private queued: Buffer[] | null = null;
  private queuedBytes = 0;

  constructor(
    readonly proxy: WireProxy,
    readonly socket: ClientSocket,
  ) {
    this.remote = socket.remoteAddress ?? '';
  }

  data(chunk: Buffer): void {
    if (this.ex !== null) {
      // Pipelined: kept as chunks (joined once, when served after the current exchange).
      (this.queued ??= []).push(chunk);
      this.queuedBytes += chunk.length;
      if (this.queuedBytes > MAX_PIPELINED && !this.pausedForPipeline) {
        this.pausedForPipeline = true;
        this.socket.pause();
      }
      return;
    }
    this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    this.next();
  }

  /** Moves the chunks queued during an exchange into buf. */
  private unqueue(): void {
    const queued = this.queued;
    if (queued === null) return;
    this.queued = null;
    this.queuedBytes = 0;
    if (this.buf !== null) queued.unshift(this.buf);
    this.buf = queued.length === 1 ? queued[0] : Buffer.concat(queued);
  }

  /** Serves buffered requests until one is in flight, more bytes are needed, or the connection is handed off. */
  next(): void {
    this.unqueue();
    if (this.pausedForPipeline) {
      this.pausedForPipeline = false;
      this.socket.resume();
    }
    while (this.ex === null && this.buf !== null && !this.socket.destroyed) {
      const buf = this.buf;
      let head = this.pendingHead;
      if (head === null) {
        const end = findHeadEnd(buf, this.scanFrom);
        const parsed = parseRequestHead(buf, end);
        if (parsed === INCOMPLETE) {
          this.scanFrom = buf.length;
          if (this.headSince === 0) this.headSince = performance.now();
          return;
        }
        if (parsed === FALLBACK) return this.handOff();
        head = parsed;
      }
      const total = head.headEnd + head.contentLength;
      if (buf.length < total) {
        // Body still arriving: buffered whole (up to 64 KiB) before the request goes out.
        this.pendingHead = head;
        if (this.headSince === 0) this.headSince = performance.now();
        return;
      }
      const route = this.proxy.router(head.target, head.host, head.preview);
      if (route === undefined) return this.handOff();
      this.pendingHead = null;
      this.headSince = 0;
      this.scanFrom = 0;
      const body = head.contentLength > 0 ? buf.subarray(head.headEnd, total) : null;
      this.buf = buf.length > total ? buf.subarray(total) : null;
      this.start(head, route, body);
    }
  }

  private start(head: RequestHead, target: WireRoute, body: Buffer | null): void {
    const core = this.proxy.core;
    const requestId = head.requestId === '' ? newRequestId() : head.requestId;
    const route = core.routes(target.service);
    if (route === undefined) return this.reply(404, serviceNotFound(target.service), head.close, requestId);
    const selected = core.pick(route);
    if (selected === undefined) return this.reply(503, noReadyPods(target.service), head.close, requestId);
    const method = head.method;
    const forwardedFor = head.xff === '' ? this.remote : head.xff + ', ' + this.remote;
    const tail =
      '\r\n' +
      head.forwarded +
      'x-forwarded-for: ' +
      forwardedFor +
      '\r\nx-forwarded-proto: http\r\nx-request-id: ' +
      requestId +
      (head.host === '' ? '\r\n\r\n' : '\r\nx-forwarded-host: ' + head.host + '\r\n\r\n');
    const ex = new Exchange(
      this,
      target.service,
      route,
      selected.backend,
      selected.endpoint,
      method,
      target.path,
      method + ' ' + target.path + ' HTTP/1.1\r\nHost: ',
      tail,
      body,
      method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || head.idempotencyKey,
      requestId,
      head.close,
    );
    this.ex = ex;
    ex.send(false);
  }

  /** An answer of the gateway's own (no pod involved). */
  reply(status: GatewayErrorStatus, message: string, close: boolean, requestId: string, extra = ''): void {
    if (this.socket.destroyed) return;
    this.socket.write(jsonReply(status, message, 'x-request-id: ' + requestId + '\r\n' + extra, close), 'latin1');
    if (close) {
      // Requests pipelined behind a `Connection: close` one are not served.
      this.buf = null;
      this.queued = null;
      this.socket.end();
    }
  }

  /** The exchange in flight is over (answered or failed); the connection carries on unless it must close. */
  finished(closeClient: boolean): void {
    this.ex = null;
    this.lastActive = this.proxy.coarseNow;
    if (closeClient || this.proxy.draining) {
      this.buf = null;
      this.queued = null;
      this.socket.end();
      return;
    }
    if (this.buf !== null || this.queued !== null) this.next();
  }

  /**
   * The client sent FIN. Node's server (without httpAllowHalfOpen) aborts what is
   * in flight and closes; so does the fast path, so both paths behave alike.
   */
  clientEnded(): void {
    this.buf = null;
    this.queued = null;
    this.ex?.clientGone();
    this.socket.end();
  }

  /** Hands the connection, with the bytes read so far, to Node's http server. */
  private handOff(): void {
    if (this.handedOff) return;
    this.handedOff = true;
    const socket = this.socket;
    this.proxy.conns.delete(this);
    socket.removeListener('data', onClientData);
    socket.removeListener('drain', onClientDrain);
    socket.removeListener('close', onClientClose);
    socket.removeListener('end', onClientEnd);
    socket.pause();
    this.unqueue();
    if (this.buf !== null) socket.unshift(this.buf);
    this.buf = null;
    this.proxy.fallback(socket);
    socket.resume();
  }

  closed(): void {
    this.proxy.conns.delete(this);
    this.buf = null;
    this.ex?.clientGone();
  }
}

/** One client request on the fast path, over at most two upstream attempts (plus a fresh-connection resend after a stale keep-alive one). */
class Exchange implements Attempt {
  readonly startedAt = performance.now();
  upstream: UpstreamSocket | null = null;
  reused = false;
  /** performance.now() of the last upstream activity seen by the timeout sweep (or of the send). */
  lastActivity = 0;
  /** Bytes came from the upstream since the last sweep (a flag, not a clock read per chunk). */
  active = false;
  gotBytes = false;
  retried = false;
  staleResent = false;
  /** Response head bytes so far. */
  rbuf: Buffer | null = null;
  rscan = 0;
  res: ResponseHead | null = null;
  remaining = 0;
  chunked: ChunkedScanner | null = null;
  /** Bytes after the response's end: the upstream connection cannot be reused. */
  overrun = false;
  closeClient: boolean;
  done = false;
  status = 0;

  constructor(
    readonly conn: ClientConn,
    readonly service: string,
    readonly route: GatewayRoute,
    public backend: VersionBackend,
    public endpoint: GatewayEndpoint,
    readonly method: string,
    readonly path: string,
    readonly headPrefix: string,
    readonly headTail: string,
    readonly body: Buffer | null,
    readonly idempotent: boolean,
    readonly requestId: string,
    closeRequested: boolean,
  ) {
    this.closeClient = closeRequested;
  }

  /** Sends the request to the current endpoint; `fresh` forces a new connection. */
  send(fresh: boolean): void {
    const proxy = this.conn.proxy;
    const ep = this.endpoint;
    let s: UpstreamSocket;
    if (fresh) {
      s = proxy.connectTo(ep);
      this.reused = false;
    } else {
      const got = proxy.acquire(ep, this.lastActivity === 0 ? this.startedAt : performance.now());
      s = got.socket;
      this.reused = got.reused;
    }
    s[kExchange] = this;
    s[kError] = null;
    this.upstream = s;
    this.gotBytes = false;
    this.rbuf = null;
    this.rscan = 0;
    this.lastActivity = this.lastActivity === 0 ? this.startedAt : performance.now();
    this.active = false;
    proxy.core.claim(ep.podId);
    const head = this.headPrefix + ep.host + ':' + ep.port + this.headTail;
    if (this.body === null) s.write(head, 'latin1');
    else {
      s.cork();
      s.write(head, 'latin1');
      s.write(this.body);
      s.uncork();
    }
  }

  upstreamData(chunk: Buffer): void {
    this.gotBytes = true;
    this.active = true;
    if (this.res === null) {
      const buf = this.rbuf === null ? chunk : Buffer.concat([this.rbuf, chunk]);
      this.parseHead(buf);
      return;
    }
    this.forwardBody(chunk, 0);
  }

  private parseHead(buf: Buffer): void {
    let from = 0;
    for (;;) {
      const end = findHeadEnd(buf, from === 0 ? this.rscan : from);
      if (end < 0) {
        if (buf.length - from > MAX_RESPONSE_HEAD) return this.fail(F_UPSTREAM, 'UPSTREAM_PROTOCOL', 'response head too large');
        this.rbuf = from === 0 ? buf : buf.subarray(from);
        this.rscan = this.rbuf.length;
        return;
      }
      const isHead = this.method === 'HEAD';
      const pool = this.upstream![kPool];
      const text = buf.toString('latin1', from, end);
      let res: ResponseHead;
      if (pool.lastHead !== null && pool.lastHeadText === text && pool.lastHeadIsHead === isHead) {
        res = pool.lastHead;
      } else {
        try {
          res = parseResponseHead(from === 0 ? buf : buf.subarray(from), end - from, isHead);
        } catch (err) {
          return this.fail(F_UPSTREAM, 'UPSTREAM_PROTOCOL', (err as Error).message);
        }
        pool.lastHeadText = text;
        pool.lastHeadIsHead = isHead;
        pool.lastHead = res;
      }
      if (res.status < 200) {
        if (res.status === 101) return this.fail(F_UPSTREAM, 'UPSTREAM_PROTOCOL', 'unrequested protocol switch');
        // 1xx informational (e.g. 103 Early Hints): dropped, as the node:http path does; the final response follows.
        from = end;
        this.rscan = 0;
        continue;
      }
      this.rbuf = null;
      this.respond(res, buf, end);
      return;
    }
  }

  private respond(res: ResponseHead, buf: Buffer, bodyStart: number): void {
    const proxy = this.conn.proxy;
    this.res = res;
    this.status = res.status;
    proxy.core.recordUpstreamStatus(this, res.status);
    if (res.framing === FRAME_CLOSE || proxy.draining) this.closeClient = true;
    const head =
      'HTTP/1.1 ' +
      res.statusText +
      '\r\n' +
      res.lines +
      'x-grid-pod: ' +
      this.endpoint.podId +
      '\r\nx-grid-version: ' +
      this.backend.version +
      (res.hasRequestId ? '\r\n' : '\r\nx-request-id: ' + this.requestId + '\r\n') +
      (this.closeClient ? 'connection: close\r\n\r\n' : '\r\n');
    const client = this.conn.socket;
    if (res.framing === FRAME_LENGTH) {
      const length = res.contentLength;
      if (length <= SMALL_BODY && buf.length - bodyStart >= length) {
        // The whole (small) body came with the head: one string, one write, no cork.
        const end = bodyStart + length;
        this.overrun = end < buf.length;
        client.write(length === 0 ? head : head + buf.toString('latin1', bodyStart, end), 'latin1');
        this.complete();
        return;
      }
      this.remaining = length;
    } else if (res.framing === FRAME_CHUNKED) this.chunked = new ChunkedScanner();
    // Head and the body bytes that came with it leave in one write (one syscall).
    if (bodyStart === buf.length || res.framing === FRAME_NONE) {
      client.write(head, 'latin1');
      // (A zero-length body was answered above, with the small ones.)
      if (res.framing === FRAME_NONE) {
        this.overrun = bodyStart < buf.length;
        this.complete();
      }
      return;
    }
    client.cork();
    client.write(head, 'latin1');
    this.forwardBody(buf, bodyStart);
    // complete() may have ended the socket already; uncork is harmless then.
    client.uncork();
  }

  private forwardBody(buf: Buffer, from: number): void {
    const client = this.conn.socket;
    let end = buf.length;
    let last = false;
    const framing = this.res!.framing;
    if (framing === FRAME_LENGTH) {
      const take = Math.min(this.remaining, end - from);
      this.remaining -= take;
      if (this.remaining === 0) {
        last = true;
        end = from + take;
      }
    } else if (framing === FRAME_CHUNKED) {
      let e: number;
      try {
        e = this.chunked!.scan(buf, from);
      } catch (err) {
        return this.fail(F_UPSTREAM, 'UPSTREAM_PROTOCOL', (err as Error).message);
      }
      if (e >= 0) {
        last = true;
        end = e;
      }
    }
    if (last && end < buf.length) this.overrun = true;
    if (end > from) {
      const ok = client.destroyed || client.write(from === 0 && end === buf.length ? buf : buf.subarray(from, end));
      if (!ok && !last) this.upstream?.pause();
    }
    if (last) this.complete();
  }

  clientDrained(): void {
    const s = this.upstream;
    if (s === null || !s.isPaused()) return;
    // The pause was the client's doing: the pod's timeout starts again from here.
    this.lastActivity = performance.now();
    this.active = false;
    s.resume();
  }

  /** The response is complete: the upstream connection goes back to the pool, the client connection carries on. */
  private complete(): void {
    if (this.done) return;
    this.done = true;
    const proxy = this.conn.proxy;
    const s = this.upstream!;
    this.upstream = null;
    const res = this.res!;
    if (s.isPaused()) s.resume();
    // Idle from now; the coarse clock lags, so the socket is retired early rather than late.
    proxy.release(s, res.reusable && !this.overrun, res.keepAliveMs, Math.max(this.startedAt, proxy.coarseNow));
    proxy.core.release(this.endpoint.podId);
    proxy.core.finish(this, this.status);
    this.conn.finished(this.closeClient);
  }

  upstreamClosed(err: Error | null): void {
    if (this.done) return;
    this.upstream = null;
    if (this.res !== null && this.res.framing === FRAME_CLOSE && err === null) {
      // A clean close is the end of this body (a reset is a failure, below).
      this.done = true;
      const proxy = this.conn.proxy;
      proxy.core.release(this.endpoint.podId);
      proxy.core.finish(this, this.status);
      this.conn.finished(true);
      return;
    }
    const code = err === null ? 'ECONNRESET' : errorCode(err);
    const message = err === null ? 'upstream closed the connection' : err.message;
    this.fail(F_CONNECT, code, message, false);
  }

  checkTimeout(now: number): void {
    if (this.done || this.upstream === null) return;
    if (this.active) {
      this.active = false;
      this.lastActivity = now;
      return;
    }
    const s = this.upstream;
    if (s.connecting) {
      if (now - this.lastActivity > this.conn.proxy.connectTimeoutMs) {
        this.fail(F_CONNECT, 'ETIMEDOUT', `no connection within ${this.conn.proxy.connectTimeoutMs} ms`);
      }
    } else if (!s.isPaused() && now - this.lastActivity > this.conn.proxy.upstreamTimeoutMs) {
      // (A paused upstream waits for a slow client, not the other way round.)
      this.fail(F_TIMEOUT, 'UPSTREAM_TIMEOUT', `no response within ${this.conn.proxy.upstreamTimeoutMs} ms`);
    }
  }

  clientGone(): void {
    if (this.done) return;
    this.done = true;
    const proxy = this.conn.proxy;
    const s = this.upstream;
    this.upstream = null;
    if (s !== null) {
      s[kExchange] = null;
      s.destroy();
    }
    proxy.core.release(this.endpoint.podId);
    proxy.core.finish(this, 499);
  }

  /**
   * One attempt failed. Before any response byte: a stale pooled connection is
   * resent once on a fresh one (idempotent requests); a refused or reset one
   * counts against the pod and an idempotent request is retried once on another
   * pod; otherwise the gateway answers 502/504. After the response started, the
   * client connection is cut.
   */
  private fail(kind: number, code: string, message: string, destroy = true): void {
    if (this.done) return;
    const proxy = this.conn.proxy;
    const core = proxy.core;
    const s = this.upstream;
    this.upstream = null;
    if (s !== null) {
      s[kExchange] = null;
      if (destroy) s.destroy();
    }
    const podId = this.endpoint.podId;
    core.release(podId);
    const client = this.conn.socket;
    if (client.destroyed) {
      this.done = true;
      core.finish(this, 499);
      return;
    }
    if (kind === F_CONNECT && !this.gotBytes && this.reused && !this.staleResent && this.idempotent) {
      // The pod closed a keep-alive connection as this request went out on it: not the pod's failure.
      this.staleResent = true;
      this.send(true);
      return;
    }
    core.emit('upstreamError', this, `${code} from pod '${podId}' for ${this.method} ${this.path}: ${message}`);
    core.recordFailure(this, code);
    if (kind === F_CONNECT && !this.gotBytes) core.stats.recordConnectError(this.service, this.backend.version);

    const responded = this.res !== null;
    if (responded) {
      this.done = true;
      client.destroy();
      core.finish(this, this.status >= 500 ? this.status : 502);
      return;
    }
    if (kind === F_CONNECT && !this.gotBytes && this.idempotent && !this.retried && core.pickRetry(this)) {
      this.retried = true;
      core.emit('retried', this, `retrying ${this.method} ${this.path} on pod '${this.endpoint.podId}' after ${code} from pod '${podId}'`);
      this.send(false);
      return;
    }
    this.done = true;
    const extra = `x-grid-pod: ${podId}\r\nx-grid-version: ${this.backend.version}\r\n`;
    const answer = upstreamFailure(kind, this.service, podId, code, this.retried, proxy.upstreamTimeoutMs);
    this.conn.reply(answer.status, answer.message, this.closeClient, this.requestId, extra);
    core.finish(this, answer.status);
    this.conn.finished(this.closeClient);
  }
}
