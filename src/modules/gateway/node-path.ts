// The gateway's node path: requests Node's http server parsed, proxied with
// undici (pooled keep-alive connections per pod). Written against raw node http
// objects and undici's dispatch API rather than a framework proxy plugin: the measured cost
// is ~50 µs per request against ~90 for @fastify/http-proxy (see
// shared/reference/proxy-baseline.md), and the target is 2x nginx.
//
// Hot-path rules kept here: one handler object per request (methods on the
// prototype, no closures), headers passed as flat arrays (no header objects
// built or parsed), no regexes, and undici's callback-style handler methods
// (onConnect/onHeaders/onData/onComplete/onError). Those are what undici 7's
// clients call natively (its types mark them deprecated); the newer
// onRequestStart family goes through an adapter that also parses every response
// header into an object, an allocation per header per request. Revisit when
// moving to undici 8.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { CLIENT_SEND_TIMEOUT_MS } from './client-limits.js';
import type { GatewayEndpoint, GatewayRoute, VersionBackend } from './gateway.types.js';
import {
  errorBody,
  F_BAD_REQUEST,
  F_CLIENT_GONE,
  F_CONNECT,
  F_LOCAL,
  F_TIMEOUT,
  F_UPSTREAM,
  forwardedFor,
  forwardedHeaderValue,
  isUnderscoreHeaderName,
  JSON_CONTENT_TYPE,
  noReadyPods,
  parseDecimal,
  REQUEST_HEADER_KIND,
  REQUEST_HEADER_LENGTH,
  RESPONSE_HEADER_KIND,
  RESPONSE_HEADER_LENGTH,
  RQ_CONNECTION,
  RQ_CONTENT_LENGTH,
  RQ_HOST,
  RQ_IDEMPOTENCY_KEY,
  RQ_PREVIEW,
  RQ_REQUEST_ID,
  RQ_TRANSFER_ENCODING,
  RQ_XFF,
  RS_CONNECTION,
  RS_CONTENT_LENGTH,
  RS_REQUEST_ID,
  serviceNotFound,
  upstreamFailure,
  type FaultAnswer,
  type GatewayErrorStatus,
} from './http-semantics.js';
import { FAULT_ABORT, faultHeader } from './faults.js';
import { newRequestId, type ProxyCore, type UpstreamConnections } from './proxy-core.js';

export interface NodePathOptions {
  connectTimeoutMs?: number;
  /** A client that takes nothing of a response for this long is cut (CLIENT_SEND_TIMEOUT_MS). */
  sendTimeoutMs?: number;
  /** Keep-alive connections per upstream origin. */
  connections?: number;
}

/** Removes the headers a `Connection` header names (RFC 9110 7.6.1). */
function dropConnectionListed(headers: string[], connection: string): string[] {
  const listed = new Set<string>();
  for (const token of connection.split(',')) {
    const name = token.trim().toLowerCase();
    if (name !== '') listed.add(name);
  }
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!listed.has(headers[i].toLowerCase())) out.push(headers[i], headers[i + 1]);
  }
  return out;
}

function isPlainConnection(value: string): boolean {
  const v = value.toLowerCase();
  return v === 'keep-alive' || v === 'close';
}

const CONNECT_OR_RESET: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);
const BAD_REQUEST: ReadonlySet<string> = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
]);

/** Reason passed to undici's abort when the client went away; recognised by identity. */
const CLIENT_GONE = new Error('client closed the connection');

function errorCode(err: Error): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : err.name;
}

function sendJson(res: ServerResponse, status: GatewayErrorStatus, message: string, extra: string[]): void {
  if (res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorBody(status, message);
  extra.push('content-type', JSON_CONTENT_TYPE, 'content-length', String(Buffer.byteLength(body)));
  res.writeHead(status, extra);
  res.end(body);
}

/** An abort a fault experiment injected (no pod was called). */
function sendFault(res: ServerResponse, answer: FaultAnswer, kind: number, version: string, requestId: string): void {
  if (res.destroyed) return;
  res.writeHead(answer.status, answer.reason, [
    'content-type',
    JSON_CONTENT_TYPE,
    'content-length',
    String(Buffer.byteLength(answer.body)),
    'x-grid-fault',
    faultHeader(kind),
    'x-grid-version',
    version,
    'x-request-id',
    requestId,
  ]);
  res.end(answer.body);
}

/** A held (fault-delayed) exchange's time is up: it is aborted or sent. */
function onHoldEnd(ex: Exchange, answer: FaultAnswer): void {
  ex.holdEnded(answer);
}

const kExchange = Symbol('gateway.exchange');
type ResponseWithExchange = ServerResponse & { [kExchange]?: Exchange };

function onResponseClose(this: ResponseWithExchange): void {
  this[kExchange]?.clientClosed();
}

function onResponseDrain(this: ResponseWithExchange): void {
  const socket = this.socket as StallableSocket | null;
  if (socket !== null) {
    socket[kStalled] = false;
    socket.setTimeout(0);
  }
  this[kExchange]?.resumeUpstream();
}

/**
 * The send timeout of a client that stopped reading: undici does not time out a body it
 * was asked to pause, so without it such a client held a pod connection for good. The
 * socket's own idle timer runs only while stalled: it restarts on every write that reaches
 * the kernel, which is what "the client took some" means.
 */
const kStalled = Symbol('gateway.stalled');
type StallableSocket = Socket & { [kStalled]?: boolean };

function onSocketTimeout(this: StallableSocket): void {
  if (this[kStalled]) this.destroy();
}

function stall(socket: StallableSocket, ms: number): void {
  if (socket[kStalled] === undefined) socket.on('timeout', onSocketTimeout);
  socket[kStalled] = true;
  socket.setTimeout(ms);
}

/**
 * A client connection's turn: node:http emits pipelined requests at once, but
 * the next request of a connection goes upstream only once the previous
 * response has finished (RFC 9112 9.3.2: a pipelined unsafe request must not
 * overtake or run beside the one before it), as on the fast path.
 */
class Turn {
  busy = false;
  readonly waiting: Array<{ req: IncomingMessage; res: ServerResponse; service: string; upstreamPath: string }> = [];

  constructor(readonly node: NodePath) {}

  /** The response holding the turn has closed (finished or cut): the next waiting request of a live connection goes. */
  pass(): void {
    this.busy = false;
    let next;
    while ((next = this.waiting.shift()) !== undefined) {
      if (next.res.destroyed || next.req.socket.destroyed) continue;
      this.node.handle(next.req, next.res, next.service, next.upstreamPath);
      return;
    }
  }
}
const kTurn = Symbol('gateway.turn');
type SocketWithTurn = IncomingMessage['socket'] & { [kTurn]?: Turn };
type ResponseWithTurn = ServerResponse & { [kTurn]?: Turn };

function onTurnResponseClose(this: ResponseWithTurn): void {
  this[kTurn]?.pass();
}

/** Proxies requests Node's http server parsed; owns the undici pools (one per pod address). */
export class NodePath implements UpstreamConnections {
  private readonly poolOptions: Pool.Options;
  private readonly pools = new Map<string, Pool>();
  private readonly poolOf = new WeakMap<GatewayEndpoint, Pool>();
  readonly sendTimeoutMs: number;

  constructor(
    private readonly core: ProxyCore,
    options: NodePathOptions,
  ) {
    this.poolOptions = {
      connections: options.connections ?? 128,
      pipelining: 1,
      connectTimeout: options.connectTimeoutMs ?? 2_000,
      headersTimeout: core.upstreamTimeoutMs,
      bodyTimeout: core.upstreamTimeoutMs,
    };
    this.sendTimeoutMs = options.sendTimeoutMs ?? CLIENT_SEND_TIMEOUT_MS;
    core.addConnections(this);
  }

  /** Proxies one request to a pod of `service`; `upstreamPath` starts with `/` and keeps the query. */
  handle(req: IncomingMessage, res: ServerResponse, service: string, upstreamPath: string): void {
    const socket = req.socket as SocketWithTurn;
    let turn = socket[kTurn];
    if (turn === undefined) socket[kTurn] = turn = new Turn(this);
    if (turn.busy) {
      turn.waiting.push({ req, res, service, upstreamPath });
      return;
    }
    turn.busy = true;
    (res as ResponseWithTurn)[kTurn] = turn;
    res.on('close', onTurnResponseClose);
    this.serve(req, res, service, upstreamPath);
  }

  private serve(req: IncomingMessage, res: ServerResponse, service: string, upstreamPath: string): void {
    const core = this.core;
    const route = core.routes(service);
    if (route === undefined) {
      sendJson(res, 404, serviceNotFound(service), []);
      return;
    }
    if (req.headers.upgrade !== undefined) {
      sendJson(res, 501, `protocol upgrades (${req.headers.upgrade}) are not proxied by Grid's gateway; send plain HTTP requests to service '${service}'`, []);
      return;
    }
    const selected = core.pick(route);
    if (selected === undefined) {
      sendJson(res, 503, noReadyPods(service), []);
      return;
    }
    const hit = core.faults.size === 0 ? undefined : core.fault(service, selected.backend.version);
    if (hit !== undefined && hit.kind === FAULT_ABORT) {
      const id = req.headers['x-request-id'];
      sendFault(res, hit.fault.answer, hit.kind, selected.backend.version, typeof id === 'string' && id !== '' ? id : newRequestId());
      return;
    }

    const raw = req.rawHeaders;
    let headers: string[] = [];
    let host = '';
    let xff = '';
    let connection = '';
    let requestId = '';
    let hasBody = false;
    let idempotencyKey = false;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i];
      const value = raw[i + 1];
      const kind = REQUEST_HEADER_LENGTH[name.length] === 1 ? REQUEST_HEADER_KIND.get(name.toLowerCase()) : undefined;
      if (kind === undefined) {
        if (!isUnderscoreHeaderName(name)) headers.push(name, value);
        continue;
      }
      switch (kind) {
        case RQ_HOST:
          host = value;
          break;
        case RQ_XFF:
          xff = xff === '' ? value : xff + ', ' + value;
          break;
        case RQ_CONNECTION:
          connection = connection === '' ? value : connection + ',' + value;
          break;
        case RQ_REQUEST_ID:
          if (requestId === '') requestId = value;
          break;
        case RQ_CONTENT_LENGTH:
          hasBody = value !== '0';
          headers.push(name, value);
          break;
        case RQ_TRANSFER_ENCODING:
          hasBody = true;
          break;
        case RQ_IDEMPOTENCY_KEY:
          idempotencyKey = true;
          headers.push(name, value);
          break;
        case RQ_PREVIEW:
          headers.push(name, value);
          break;
        // RQ_FORWARDED (replaced below), RQ_DROP, RQ_EXPECT (Node's server has answered 100-continue; undici refuses the header), RQ_UPGRADE (answered 501 above).
      }
    }
    if (connection !== '' && !isPlainConnection(connection)) headers = dropConnectionListed(headers, connection);
    if (requestId === '') requestId = newRequestId();
    const client = req.socket.remoteAddress ?? '';
    headers.push(
      'x-forwarded-for',
      xff === '' ? client : xff + ', ' + client,
      'x-forwarded-proto',
      'http',
      'x-request-id',
      requestId,
      'forwarded',
      forwardedHeaderValue(forwardedFor(client), host),
    );
    if (host !== '') headers.push('x-forwarded-host', host);

    const method = req.method;
    const idempotent = method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || idempotencyKey;
    const ex = new Exchange(
      this,
      core,
      req,
      res,
      service,
      route,
      upstreamPath,
      headers,
      hasBody,
      idempotent,
      requestId,
      selected.backend,
      selected.endpoint,
      hit === undefined ? 0 : hit.kind,
    );
    (res as ResponseWithExchange)[kExchange] = ex;
    res.on('close', onResponseClose);
    if (hit === undefined) this.dispatch(ex);
    else ex.hold(hit.fault.rule.delayMs, hit.fault.answer);
  }

  dispatch(ex: Exchange): void {
    const ep = ex.endpoint;
    // Endpoint objects live until the next route rebuild: their pool is cached on
    // them, checked against pruning (a pruned pool is closed).
    let pool = this.poolOf.get(ep);
    if (pool === undefined || pool.closed || pool.destroyed) {
      const key = ep.host + ':' + ep.port;
      pool = this.pools.get(key);
      if (pool === undefined) {
        const host = ep.host.includes(':') ? `[${ep.host}]` : ep.host;
        pool = new Pool(`http://${host}:${ep.port}`, this.poolOptions);
        this.pools.set(key, pool);
      }
      this.poolOf.set(ep, pool);
    }
    this.core.claim(ep.podId);
    pool.dispatch({ path: ex.path, method: ex.req.method as Dispatcher.HttpMethod, headers: ex.headers, body: ex.hasBody ? ex.req : null }, ex);
  }

  prune(liveKeys: ReadonlySet<string>): void {
    for (const [key, pool] of this.pools) {
      if (liveKeys.has(key)) continue;
      this.pools.delete(key);
      // close() lets in-flight requests finish: pruning must not cut a drain short.
      pool.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
  }
}

/** One client request: undici's handler for each upstream attempt (at most two). */
class Exchange implements Dispatcher.DispatchHandler {
  /** Moved to the end of a fault delay, so the pod's latency leaves the injected delay out. */
  startedAt = performance.now();
  abort: ((err?: Error) => void) | null = null;
  resume: (() => void) | null = null;
  status = 0;
  retried = false;
  /** Response headers went to the client: from here on, failures can only cut the connection. */
  responded = false;
  /** Body bytes still to come per the upstream's content-length; -1 when it sent none. */
  remaining = -1;
  /** The whole body, held from onData to onComplete so headers and body leave in one res.end(). */
  held: Buffer | null = null;
  clientGone = false;
  done = false;
  /** A fault delay in progress: no pod is claimed or called until it ends. */
  private holdTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly node: NodePath,
    readonly core: ProxyCore,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly service: string,
    readonly route: GatewayRoute,
    readonly path: string,
    readonly headers: string[],
    readonly hasBody: boolean,
    readonly idempotent: boolean,
    readonly requestId: string,
    public backend: VersionBackend,
    public endpoint: GatewayEndpoint,
    /** FAULT_ABORT/FAULT_DELAY bits a fault experiment set on this request; 0 for a real one. */
    readonly fault: number,
  ) {}

  /** Holds the request `ms` (a fault delay), then aborts it with `answer` (FAULT_ABORT set too) or dispatches it. */
  hold(ms: number, answer: FaultAnswer): void {
    this.holdTimer = setTimeout(onHoldEnd, ms, this, answer);
  }

  holdEnded(answer: FaultAnswer): void {
    this.holdTimer = null;
    if (this.done) return;
    if ((this.fault & FAULT_ABORT) !== 0) {
      this.done = true;
      sendFault(this.res, answer, this.fault, this.backend.version, this.requestId);
      return;
    }
    // The latency counts from here: the hold was Grid's, not the pod's.
    this.startedAt = performance.now();
    this.node.dispatch(this);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort;
    if (this.clientGone) abort(CLIENT_GONE);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode < 200) return true;
    this.status = statusCode;
    this.resume = resume;
    this.core.recordUpstreamStatus(this, statusCode);
    const out: string[] = [];
    let connection = '';
    let hasRequestId = false;
    let contentLength = -1;
    // RFC 9110 8.6 / RFC 9112 6.1: a 204 has no body and declares none; the client gets it without framing headers.
    const noFraming = statusCode === 204;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      // latin1 maps bytes 1:1, and node writes header strings back as latin1.
      const name = rawHeaders[i].toString('latin1');
      const value = rawHeaders[i + 1].toString('latin1');
      // Only names of a length some special header has are lower-cased and looked at.
      const kind = RESPONSE_HEADER_LENGTH[name.length] === 1 ? RESPONSE_HEADER_KIND.get(name.toLowerCase()) : undefined;
      if (kind !== undefined) {
        if (kind === RS_CONTENT_LENGTH) {
          if (noFraming) continue;
          // A repeated Content-Length, or one that is not plain digits, leaves the body unheld.
          const n = contentLength === -1 ? parseDecimal(value) : -1;
          contentLength = n >= 0 ? n : -2;
        } else if (kind === RS_REQUEST_ID) hasRequestId = true;
        else {
          // Hop-by-hop (and Transfer-Encoding: Node frames the body itself).
          if (kind === RS_CONNECTION) connection = value;
          continue;
        }
      }
      out.push(name, value);
    }
    this.remaining = contentLength >= 0 ? contentLength : -1;
    const headers = connection === '' || isPlainConnection(connection) ? out : dropConnectionListed(out, connection);
    headers.push('x-grid-pod', this.endpoint.podId, 'x-grid-version', this.backend.version);
    if (this.fault !== 0) headers.push('x-grid-fault', 'delay');
    if (!hasRequestId) headers.push('x-request-id', this.requestId);
    if (statusText) this.res.writeHead(statusCode, statusText, headers);
    else this.res.writeHead(statusCode, headers);
    this.responded = true;
    if (statusCode === 204 || statusCode === 304) {
      // Complete without a body whatever the pod declared. undici fails a 204/304 that
      // declared a length (and destroys its connection, so late body bytes reach no one):
      // the client's response must not wait for that.
      this.done = true;
      this.res.end();
      this.core.release(this.endpoint.podId);
      this.core.finish(this, statusCode);
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    // A chunk that completes a content-length body is the last one: undici calls
    // onComplete right after it (same parser pass). Holding it lets a one-chunk
    // body go out with the headers in a single res.end(), without res.write()'s
    // cork-until-next-tick; streamed bodies are written as they come.
    if (this.remaining >= 0 && (this.remaining -= chunk.length) === 0 && this.held === null) {
      this.held = chunk;
      return true;
    }
    if (this.held !== null) {
      const held = this.held;
      this.held = null;
      this.res.write(held);
    }
    if (this.res.write(chunk)) return true;
    this.res.once('drain', onResponseDrain);
    const socket = this.res.socket;
    if (socket !== null) stall(socket, this.node.sendTimeoutMs);
    return false;
  }

  onComplete(): void {
    if (this.done) return;
    this.done = true;
    const held = this.held;
    if (held !== null) {
      this.held = null;
      this.res.end(held);
    } else {
      this.res.end();
    }
    this.core.release(this.endpoint.podId);
    this.core.finish(this, this.status);
  }

  onError(err: Error): void {
    // A bodiless response already went out whole (onHeaders); this is undici closing its connection.
    if (this.done) return;
    const core = this.core;
    const podId = this.endpoint.podId;
    core.release(podId);
    const kind = this.classify(err);
    const code = errorCode(err);
    if (kind >= F_TIMEOUT) {
      core.emit('upstreamError', this, `${code} from pod '${podId}' for ${this.req.method} ${this.path}: ${err.message}`);
      core.recordFailure(this, code);
    }
    if (kind === F_CONNECT) core.stats.recordConnectError(this.service, this.backend.version);

    if (this.responded || kind === F_CLIENT_GONE) {
      this.done = true;
      if (!this.res.destroyed) this.res.destroy();
      core.finish(this, kind === F_CLIENT_GONE ? 499 : this.status >= 500 ? this.status : 502);
      return;
    }
    if (kind === F_CONNECT && this.idempotent && !this.retried && this.bodyUntouched() && core.pickRetry(this)) {
      this.retried = true;
      this.abort = null;
      core.emit('retried', this, `retrying ${this.req.method} ${this.path} on pod '${this.endpoint.podId}' after ${code} from pod '${podId}'`);
      this.node.dispatch(this);
      return;
    }
    this.done = true;
    const extra = ['x-request-id', this.requestId, 'x-grid-pod', podId, 'x-grid-version', this.backend.version];
    if (this.fault !== 0) extra.push('x-grid-fault', 'delay');
    let status: GatewayErrorStatus;
    if (kind === F_BAD_REQUEST) {
      status = 400;
      sendJson(this.res, status, `request to service '${this.service}' rejected: ${err.message}`, extra);
    } else {
      const answer = upstreamFailure(kind, this.service, podId, code, this.retried, core.upstreamTimeoutMs);
      status = answer.status;
      sendJson(this.res, status, answer.message, extra);
    }
    core.finish(this, status);
  }

  clientClosed(): void {
    if (this.done) return;
    if (this.holdTimer !== null) {
      // Gone during a fault delay: nothing was claimed or sent.
      clearTimeout(this.holdTimer);
      this.holdTimer = null;
      this.done = true;
      return;
    }
    this.clientGone = true;
    this.abort?.(CLIENT_GONE);
  }

  resumeUpstream(): void {
    this.resume?.();
  }

  private classify(err: Error): number {
    // A destroyed client socket means the client left (an aborted upload shows
    // up as a reset of the body stream): never the pod's fault.
    if (err === CLIENT_GONE || this.clientGone || this.req.socket.destroyed) return F_CLIENT_GONE;
    const code = errorCode(err);
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return F_TIMEOUT;
    if (CONNECT_OR_RESET.has(code)) return F_CONNECT;
    if (BAD_REQUEST.has(code)) return F_BAD_REQUEST;
    if (code === 'UND_ERR_CLOSED' || code === 'UND_ERR_DESTROYED') return F_LOCAL;
    return F_UPSTREAM;
  }

  /**
   * A body can be replayed only while undici has not started reading it, which
   * holds after a refused connection: an idempotent POST is retried then.
   */
  private bodyUntouched(): boolean {
    return !this.hasBody || (!this.req.readableDidRead && !this.req.destroyed);
  }
}
