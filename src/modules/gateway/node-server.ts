// Strict HTTP/1.1 for Grid's node:http servers (the main port, Fastify's API
// and the gateway's node path, and the dedicated gateway listener). Node's
// server (llhttp) accepts and normalises request lines and headers a proxy must
// refuse, because the hop before or after it may read them differently
// (request smuggling): `GET  /` (two spaces), `GET /` (HTTP/0.9), `HTTP/2.0`,
// a `#fragment`, a duplicate Host, `Transfer-Encoding: gzip, chunked`,
// `Connection: close<TAB>`, and more headers than maxHeadersCount (the rest
// are dropped silently). Some of this is lost once llhttp has parsed the
// request (spaces, a trailing tab), so a ConnectionGuard reads each
// connection's bytes just before llhttp does and judges every request line
// and header line; strictRequest() answers the verdicts, for every request
// on the server, before Fastify or the gateway see the request.
import type * as http from 'node:http';
import type * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  bodyStalled,
  CLIENT_BODY_TIMEOUT_MS,
  CLIENT_HEAD_TIMEOUT_MS,
  CLIENT_IDLE_TIMEOUT_MS,
  CLIENT_REQUEST_MAX_MS,
  kActivity,
  MAX_CLIENT_CONNECTIONS,
  type ConnActivity,
} from './client-limits.js';
import { ConnectionCap, type ConnectionCapOptions } from './connection-cap.js';
import { errorBody, JSON_CONTENT_TYPE, reasonPhrase, type GatewayErrorStatus } from './http-semantics.js';
/** More request headers than this: 431 (Node would drop the rest silently). */
export const MAX_REQUEST_HEADERS = 1000;
/** Longest line the guard keeps; llhttp refuses heads over maxHeaderSize (16 KiB) long before. */
const MAX_LINE = 64 * 1024;

export interface StrictServerOptions {
  /** A request head must arrive within this long of its first byte: default CLIENT_HEAD_TIMEOUT_MS (GRID_CLIENT_REQUEST_TIMEOUT_MS). */
  headTimeoutMs?: number;
  /** The whole request, head and body: default CLIENT_REQUEST_MAX_MS (tests shorten it). Responses are not bounded by it. */
  requestTimeoutMs?: number;
  /** Keep-alive: default CLIENT_IDLE_TIMEOUT_MS (GRID_CLIENT_IDLE_TIMEOUT_MS). */
  idleTimeoutMs?: number;
}

/**
 * Options for http.createServer: the bounds on receiving a request's head and the whole of it (a
 * gap in a body is hardenServer's), and llhttp's strict mode stated rather than assumed.
 */
export function strictServerOptions(options: StrictServerOptions = {}): http.ServerOptions {
  // A head timeout set above the whole-request bound raises the bound rather than being cut short by it.
  const requestTimeout = options.requestTimeoutMs ?? Math.max(CLIENT_REQUEST_MAX_MS, options.headTimeoutMs ?? 0);
  // Node refuses a headersTimeout above requestTimeout.
  const headersTimeout = Math.min(options.headTimeoutMs ?? CLIENT_HEAD_TIMEOUT_MS, requestTimeout);
  return {
    requestTimeout,
    headersTimeout,
    keepAliveTimeout: options.idleTimeoutMs ?? CLIENT_IDLE_TIMEOUT_MS,
    // Node checks both timeouts on this period: each bound is its timeout plus at most one period.
    connectionsCheckingInterval: Math.min(5_000, Math.max(10, Math.floor(headersTimeout / 4))),
    insecureHTTPParser: false,
    requireHostHeader: true,
    joinDuplicateHeaders: false,
  };
}

/**
 * Requests one connection may send before node:http answers it with Connection: close, as
 * nginx's keepalive_requests (1000): a client pipelining tens of thousands of requests over
 * one connection gets a bounded share, and new connections are not starved behind it.
 */
export const MAX_REQUESTS_PER_CONNECTION = 1000;

const kGuard = Symbol('grid.connectionGuard');
type GuardedSocket = net.Socket & { [kGuard]?: ConnectionGuard; [kActivity]?: ConnActivity };
const kServe = Symbol('grid.serveConnection');
type HardenedServer = http.Server & { [kServe]?: (socket: net.Socket) => void };

export interface HardenOptions extends ConnectionCapOptions {
  /** Once a head is in, the longest gap between two reads of its body: default CLIENT_BODY_TIMEOUT_MS (GRID_CLIENT_BODY_TIMEOUT_MS). */
  bodyTimeoutMs?: number;
}

/**
 * Makes `server` strict and bounded: at most `maxConnections` open (ConnectionCap: at the cap the
 * cheapest connection is closed for the newcomer), one more header than MAX_REQUEST_HEADERS is kept
 * (so that a cut is visible), a body that stalls is answered 408 (BodyWatch), and every connection
 * node:http serves gets a ConnectionGuard. Call before anything else takes the server's
 * connections (takeConnections).
 */
export function hardenServer(server: http.Server, maxConnections = MAX_CLIENT_CONNECTIONS, options: HardenOptions = {}): ConnectionCap {
  server.maxHeadersCount = MAX_REQUEST_HEADERS + 1;
  server.maxRequestsPerSocket = MAX_REQUESTS_PER_CONNECTION;
  const listeners = server.listeners('connection');
  if (listeners.length !== 1) throw new Error(`hardenServer: expected node:http's one connection listener, found ${listeners.length}`);
  const nodeHttp = listeners[0] as (socket: net.Socket) => void;
  server.removeListener('connection', nodeHttp);
  const hardened = server as HardenedServer;
  const bodies = new BodyWatch(Math.min(options.bodyTimeoutMs ?? CLIENT_BODY_TIMEOUT_MS, server.requestTimeout || Infinity));
  hardened[kServe] = function strictConnection(socket: net.Socket) {
    nodeHttp.call(server, socket);
    // After node:http's listener: a 'data' listener added now makes node:http read
    // through JS (it unconsumes its parser), and prepending puts the guard first.
    const guard = new ConnectionGuard({ bodies, socket });
    (socket as GuardedSocket)[kGuard] = guard;
    (socket as GuardedSocket)[kActivity] = guard;
    socket.prependListener('data', (chunk: Buffer) => guard.feed(chunk));
  };
  // Not net.Server's maxConnections: that refuses the newcomer before anything can look at who holds the slots.
  const cap = new ConnectionCap(maxConnections, server.keepAliveTimeout, options);
  server.on('connection', (socket: net.Socket) => {
    if (cap.admit(socket)) hardened[kServe]!(socket);
  });
  return cap;
}

/**
 * Makes `serve` take a hardened server's new connections (after its cap has admitted them);
 * returns what took them before, to hand a connection on to. undefined, changing nothing, if
 * `server` was not made with hardenServer.
 */
export function takeConnections(server: http.Server, serve: (socket: net.Socket) => void): ((socket: net.Socket) => void) | undefined {
  const hardened = server as HardenedServer;
  const previous = hardened[kServe];
  if (previous === undefined) return undefined;
  hardened[kServe] = serve;
  return previous;
}

/**
 * The body gap of the node path (GRID_CLIENT_BODY_TIMEOUT_MS; the fast path's is in its sweep):
 * node:http bounds only the head (headersTimeout) and the whole request (requestTimeout), so a
 * legitimate upload slower than the whole-request bound was cut, and a stalled one waited it out.
 * Connections whose body is arriving are checked on one timer, running only while there are any.
 */
export class BodyWatch {
  private readonly guards = new Map<ConnectionGuard, net.Socket>();
  private timer: NodeJS.Timeout | undefined;
  private readonly periodMs: number;

  constructor(readonly bodyTimeoutMs: number) {
    this.periodMs = Math.max(10, Math.min(1_000, Math.floor(bodyTimeoutMs / 4)));
  }

  add(guard: ConnectionGuard, socket: net.Socket): void {
    this.guards.set(guard, socket);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), this.periodMs);
      this.timer.unref();
    }
  }

  private sweep(): void {
    const now = performance.now();
    for (const [guard, socket] of this.guards) {
      if (!guard.receivingBody() || socket.destroyed) {
        this.guards.delete(guard);
        guard.watched = false;
      } else if (socket.isPaused()) {
        // Paused by Grid, not the client: the pod reads the body slower than it comes, or pipelined requests are held.
        guard.bodyReadAt = now;
      } else if (bodyStalled(guard.bodyReadAt, now, this.bodyTimeoutMs)) {
        this.guards.delete(guard);
        guard.watched = false;
        onClientError(Object.assign(new Error(`request body stalled: no bytes for ${this.bodyTimeoutMs} ms`), { code: BODY_TIMEOUT }), socket);
      }
    }
    if (this.guards.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/** The code of the error BodyWatch hands onClientError. */
const BODY_TIMEOUT = 'GRID_BODY_TIMEOUT';

const L_REQUEST = 0;
const L_HEADER = 1;
const L_CHUNK_SIZE = 2;
const L_CHUNK_END = 3;
const L_TRAILER = 4;
const B_LENGTH = 5;
const B_CHUNK = 6;
/** Framing not followed any more (a refused request, CONNECT, an unknown coding): the connection ends with the refusal. */
const OFF = 7;

/**
 * Follows one connection's requests over its bytes (request line, header lines,
 * bodies by Content-Length or chunked) and queues a verdict per request head:
 * '' for a strict one, else what is wrong. Bodies are skipped by count, so the
 * cost is linear in the head bytes whatever the body size or chunking.
 */
export class ConnectionGuard implements ConnActivity {
  private state = L_REQUEST;
  private line = '';
  private remaining = 0;
  private problem = '';
  private headers = 0;
  private contentLength = -1;
  private chunked = false;
  private connect = false;
  private readonly verdicts: string[] = [];
  /** A refusal was answered: later requests on the connection are not served. */
  refused = false;
  /** The guard lost track of the framing: requests it did not see are refused, not served unchecked. */
  lost = false;
  /** Requests of this connection node:http has emitted whose responses have not finished. */
  outstanding = 0;
  /** Reading is paused until the outstanding requests drain (holdPipelining). */
  holding = false;
  /** performance.now() of the first bytes of the request being received. */
  private since = 0;
  /** performance.now() when the outstanding requests were last all answered (or the guard was made). */
  idle = performance.now();
  /** performance.now() of the last read that ended inside a body (or its head). */
  bodyReadAt = 0;
  /** In its BodyWatch's set. */
  watched = false;

  /** `bodies` watches the gaps in this connection's request bodies (none in unit tests of the framing). */
  constructor(private readonly watch?: { bodies: BodyWatch; socket: net.Socket }) {}

  /** The head of the request being received is in; its body is not all in yet. */
  receivingBody(): boolean {
    return this.state >= L_CHUNK_SIZE && this.state <= B_CHUNK;
  }

  /** For the connection cap: the request whose head or body is arriving, unless one before it is still being answered. */
  receivingSince(): number {
    const state = this.state;
    if (state === OFF || (state === L_REQUEST && this.line === '')) return 0;
    // node:http emits a request once its head is in: while its body arrives, that request is the one outstanding.
    return this.outstanding <= (state === L_REQUEST || state === L_HEADER ? 0 : 1) ? this.since : 0;
  }

  busy(): boolean {
    return this.outstanding > 0 && this.receivingSince() === 0;
  }

  idleSince(): number {
    return this.idle;
  }

  /** The verdict on the next request llhttp emits; undefined if the guard did not see its head. */
  next(): string | undefined {
    return this.verdicts.shift();
  }

  feed(buf: Buffer): void {
    this.scan(buf);
    // Only reads that end inside a body (a request wholly in one read costs nothing here).
    if (this.receivingBody() && this.watch !== undefined) {
      this.bodyReadAt = performance.now();
      if (!this.watched) {
        this.watched = true;
        this.watch.bodies.add(this, this.watch.socket);
      }
    }
  }

  private scan(buf: Buffer): void {
    // Once per request (a chunk that starts one), not per chunk of it.
    if (this.state === L_REQUEST && this.line === '') this.since = performance.now();
    let i = 0;
    const n = buf.length;
    while (i < n && this.state !== OFF) {
      if (this.state === B_LENGTH || this.state === B_CHUNK) {
        const take = Math.min(this.remaining, n - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = this.state === B_LENGTH ? L_REQUEST : L_CHUNK_END;
        continue;
      }
      const lf = buf.indexOf(10, i);
      if (lf < 0) {
        this.line += buf.toString('latin1', i, n);
        if (this.line.length > MAX_LINE) this.lose();
        return;
      }
      const part = buf.toString('latin1', i, lf);
      const line = this.line === '' ? part : this.line + part;
      this.line = '';
      i = lf + 1;
      this.onLine(line);
    }
  }

  private onLine(raw: string): void {
    const crlf = raw.endsWith('\r');
    const line = crlf ? raw.slice(0, -1) : raw;
    switch (this.state) {
      case L_REQUEST:
        // llhttp skips empty lines between messages.
        if (line === '') return;
        this.problem = crlf ? requestLineProblem(line) : 'the request line must end in CRLF';
        this.headers = 0;
        this.contentLength = -1;
        this.chunked = false;
        this.connect = line.startsWith('CONNECT ');
        this.state = L_HEADER;
        return;
      case L_HEADER:
        if (line === '') return this.endHead();
        if (this.problem === '') this.problem = this.headerLine(line, crlf);
        return;
      case L_CHUNK_SIZE: {
        let size = 0;
        let digits = 0;
        let significant = 0;
        for (; digits < line.length; digits++) {
          const h = HEX.indexOf(line[digits].toLowerCase());
          if (h < 0) break;
          size = size * 16 + h;
          // llhttp reads any number of leading zeros: only the digits after them can overflow.
          if (size > 0) significant++;
        }
        // A size llhttp cannot read either: the connection fails in llhttp, nothing more to follow.
        if (digits === 0 || significant > 12) this.lose();
        else if (size === 0) this.state = L_TRAILER;
        else {
          this.remaining = size;
          this.state = B_CHUNK;
        }
        return;
      }
      case L_CHUNK_END:
        if (line === '') this.state = L_CHUNK_SIZE;
        else this.lose();
        return;
      case L_TRAILER:
        if (line === '') this.state = L_REQUEST;
        return;
    }
  }

  private headerLine(line: string, crlf: boolean): string {
    if (!crlf) return 'header lines must end in CRLF';
    if (++this.headers > MAX_REQUEST_HEADERS) return '';
    const colon = line.indexOf(':');
    if (colon <= 0) return 'malformed header line';
    const name = line.slice(0, colon).toLowerCase();
    if (name === 'content-length') {
      const v = line.slice(colon + 1).trim();
      // llhttp reads any number of leading zeros; a length it reads differently from us must not pass.
      const digits = /^[0-9]+$/.test(v) ? v.replace(/^0+(?=[0-9])/, '') : '';
      if (digits.length > 15) return 'Content-Length too large';
      this.contentLength = digits === '' ? -1 : Number(digits);
    } else if (name === 'transfer-encoding') {
      if (line.includes('\t', colon)) return 'a tab in Transfer-Encoding';
      const codings = line.slice(colon + 1).split(',');
      this.chunked = codings[codings.length - 1].trim().toLowerCase() === 'chunked';
    } else if (name === 'connection') {
      // llhttp reads "close<TAB>" as no close at all.
      if (line.includes('\t', colon)) return 'a tab in Connection';
    }
    return '';
  }

  /** The bytes can no longer be followed: no later request on this connection is served unchecked. */
  private lose(): void {
    this.state = OFF;
    this.lost = true;
  }

  private endHead(): void {
    this.verdicts.push(this.problem);
    if (this.problem !== '' || this.connect) this.state = OFF;
    else if (this.chunked) this.state = L_CHUNK_SIZE;
    else if (this.contentLength > 0) {
      this.remaining = this.contentLength;
      this.state = B_LENGTH;
    } else this.state = L_REQUEST;
  }
}

const HEX = '0123456789abcdef';

/** What is wrong with a request line (without its CRLF), '' if nothing: `METHOD SP target SP HTTP/1.x`, single spaces. */
function requestLineProblem(line: string): string {
  const sp1 = line.indexOf(' ');
  if (sp1 <= 0) return 'malformed request line';
  const sp2 = line.indexOf(' ', sp1 + 1);
  if (sp2 < 0) return 'the request line has no HTTP version (HTTP/0.9 is not served)';
  if (sp2 === sp1 + 1 || line.indexOf(' ', sp2 + 1) >= 0) return 'more than one space between the parts of the request line';
  const version = line.slice(sp2 + 1);
  if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') return `unsupported HTTP version '${version}' (only HTTP/1.0 and HTTP/1.1)`;
  if (line.lastIndexOf('#', sp2) > sp1) return 'a fragment (#) in the request target';
  return '';
}

export interface Refusal {
  status: Extract<GatewayErrorStatus, 400 | 431 | 501>;
  message: string;
}

/** Why `req` must be refused, or undefined. Reads what llhttp kept, plus the guard's verdict on what it dropped. */
export function refusalOf(req: http.IncomingMessage, verdict: string | undefined): Refusal | undefined {
  if (verdict) return { status: 400, message: verdict };
  const version = req.httpVersion;
  if (version !== '1.1' && version !== '1.0') return { status: 400, message: `unsupported HTTP version '${version}' (only HTTP/1.0 and HTTP/1.1)` };
  if (req.url !== undefined && req.url.includes('#')) return { status: 400, message: 'a fragment (#) in the request target' };
  const raw = req.rawHeaders;
  if (raw.length > MAX_REQUEST_HEADERS * 2) return { status: 431, message: `more than ${MAX_REQUEST_HEADERS} request header fields` };
  let hosts = 0;
  let te: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length === 4) {
      if (name.toLowerCase() === 'host') hosts++;
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') te = te === undefined ? raw[i + 1] : te + ',' + raw[i + 1];
    else if (name.length === 10 && name.toLowerCase() === 'connection' && raw[i + 1].includes('\t')) return { status: 400, message: 'a tab in Connection' };
  }
  // RFC 9112 3.2: a request with more than one Host is answered 400.
  if (hosts > 1) return { status: 400, message: `${hosts} Host header fields (exactly one is allowed)` };
  if (te !== undefined) return transferEncodingRefusal(te, version);
  return undefined;
}

/** RFC 9112 6.1: the only transfer coding served is a single `chunked`, and not in HTTP/1.0. */
function transferEncodingRefusal(value: string, version: string): Refusal | undefined {
  if (version === '1.0') return { status: 400, message: 'Transfer-Encoding in an HTTP/1.0 request' };
  if (value.includes('\t')) return { status: 400, message: 'a tab in Transfer-Encoding' };
  const codings = value.split(',').map((c) => c.trim().toLowerCase());
  if (codings.some((c) => c === '')) return { status: 400, message: `malformed Transfer-Encoding '${value}' (an empty list element)` };
  const unknown = codings.find((c) => c !== 'chunked');
  if (unknown !== undefined) return { status: 501, message: `transfer coding '${unknown}' is not implemented (only chunked)` };
  if (codings.length > 1) return { status: 400, message: `malformed Transfer-Encoding '${value}' (chunked more than once)` };
  return undefined;
}

/**
 * node:http parses pipelined requests as fast as they arrive and queues their responses
 * without bound (20,000 pipelined requests per connection took Grid to 3.5 GB and stalled
 * every route). A connection with more than this many requests unanswered stops being read
 * until they are down to half of it, as the fast path pauses a flooding client.
 */
export const MAX_PIPELINED = 16;

/**
 * Pausing bounds what is read, not what one read holds: llhttp parses a whole 64 KiB read at
 * once, about a thousand small pipelined requests. Past this many unanswered requests the
 * connection gets a 503 in its turn and is closed; the requests after it go unanswered, which
 * RFC 9112 9.3.2 lets a client that pipelines retry. No browser or HTTP library pipelines this deep.
 */
export const MAX_UNANSWERED = 64;

function holdPipelining(guard: ConnectionGuard, socket: net.Socket, res: http.ServerResponse): void {
  guard.outstanding++;
  res.once('close', () => {
    if (--guard.outstanding === 0) guard.idle = performance.now();
    if (guard.holding && guard.outstanding <= MAX_PIPELINED / 2 && !socket.destroyed) {
      guard.holding = false;
      socket.resume();
    }
  });
  if (!guard.holding && guard.outstanding > MAX_PIPELINED) {
    guard.holding = true;
    socket.pause();
  }
}

/**
 * Answers `req` itself if it must be refused (status, JSON body, and the
 * connection closed: its framing is no longer trusted) and returns true; on
 * a connection that already had a refusal, swallows the request unanswered.
 * Every request handler on a hardened server calls this first.
 */
export function strictRequest(req: http.IncomingMessage, res: http.ServerResponse): boolean {
  const guard = (req.socket as GuardedSocket)[kGuard];
  if (guard) holdPipelining(guard, req.socket, res);
  if (guard?.refused) {
    req.resume();
    return true;
  }
  const verdict = guard?.next();
  const refusal =
    guard?.lost && verdict === undefined
      ? { status: 400 as const, message: "the connection's framing could not be followed" }
      : guard !== undefined && guard.outstanding > MAX_UNANSWERED
        ? { status: 503 as const, message: `more than ${MAX_UNANSWERED} pipelined requests unanswered on one connection; send the rest on a new connection` }
        : refusalOf(req, verdict);
  if (refusal === undefined) return false;
  if (guard) guard.refused = true;
  req.resume();
  const body = errorBody(refusal.status, `request refused: ${refusal.message}`);
  res.writeHead(refusal.status, { 'content-type': JSON_CONTENT_TYPE, 'content-length': Buffer.byteLength(body), connection: 'close' }).end(body);
  return true;
}

/**
 * The 'clientError' handler of a hardened server (Fastify's `clientErrorHandler`
 * on the main port, the listener's own on the dedicated one): llhttp gave up on
 * the connection's bytes. Answers at most once per connection, and only when no
 * other response can be on its way: after the guard's refusal (which already
 * answered and closes the connection), once a response has started (as Node's
 * own handler does) or with pipelined requests still unanswered, it only closes. Fastify's default wrote a
 * second response after the refusal; Node's wrote one after a finished response.
 */
export function onClientError(err: NodeJS.ErrnoException, socket: net.Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const guard = (socket as GuardedSocket)[kGuard];
  const inFlight = (socket as net.Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage;
  // Node's rule (no response, or none of it written yet), and not behind another pipelined request's answer.
  if (guard?.refused || socket.writableEnded || (inFlight && inFlight.headersSent) || (guard !== undefined && guard.outstanding > 1)) {
    // Whatever was written (the refusal) leaves first; nothing more is read or answered.
    if (socket.writableEnded || socket.writableLength === 0) socket.destroy();
    else socket.end(() => socket.destroy());
    return;
  }
  if (guard) guard.refused = true;
  const status: GatewayErrorStatus = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === BODY_TIMEOUT ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const message =
    err.code === BODY_TIMEOUT ? err.message : status === 408 ? 'the request was not received in time' : status === 431 ? 'request head too large' : `malformed request (${err.code ?? 'parse error'})`;
  const body = errorBody(status, `request refused: ${message}`);
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\ncontent-type: ${JSON_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      'latin1',
      () => socket.destroy(),
    );
  } else socket.destroy();
}
