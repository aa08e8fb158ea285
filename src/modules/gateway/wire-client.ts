// The fast path's client side: one client connection, its request heads parsed
// (wire.ts) and served one at a time, pipelined ones queued, anything outside
// the subset handed with the bytes read so far to the fallback http.Server.
import type * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { kActivity, timeoutMessage, type ClientVerdict, type ConnActivity } from './client-limits.js';
import {
  errorBody,
  forwardedFor,
  forwardedHeaderValue,
  JSON_CONTENT_TYPE,
  noReadyPods,
  reasonPhrase,
  serviceNotFound,
  type FaultAnswer,
  type GatewayErrorStatus,
} from './http-semantics.js';
import { FAULT_ABORT, faultHeader } from './faults.js';
import { newRequestId } from './proxy-core.js';
import { FALLBACK, HS_CR, HS_CRLF, HS_CRLFCR, HS_END, HS_NONE, INCOMPLETE, MAX_REQUEST_HEAD, findHeadEnd, parseRequestHead, scanHeadBytes, type RequestHead } from './wire.js';
import type { WireProxy, WireRoute } from './wire-proxy.js';
import { Exchange } from './wire-upstream.js';

/** Pipelined bytes buffered while a request is in flight before the client is paused. */
const MAX_PIPELINED = 1024 * 1024;

const kConn = Symbol('wire.conn');

interface ClientSocket extends net.Socket {
  [kConn]: ClientConn;
  [kActivity]?: ConnActivity;
}

/** Serves a newly accepted client connection on the fast path. */
export function serveClient(proxy: WireProxy, client: net.Socket): ClientConn {
  const socket = client as ClientSocket;
  const conn = new ClientConn(proxy, socket);
  socket[kConn] = conn;
  socket[kActivity] = conn;
  socket.on('data', onClientData);
  socket.on('drain', onClientDrain);
  socket.on('close', onClientClose);
  socket.on('end', onClientEnd);
  socket.on('error', onClientError);
  return conn;
}

function onClientData(this: ClientSocket, chunk: Buffer): void {
  this[kConn].data(chunk);
}

function onClientDrain(this: ClientSocket): void {
  const conn = this[kConn];
  conn.stalledSince = 0;
  if (conn.ex !== null) conn.ex.clientDrained();
  else {
    // The idle time of a keep-alive connection starts once its last response is flushed.
    conn.lastActive = conn.proxy.coarseNow;
    if (conn.awaitingDrain) conn.drained();
  }
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

/** One client connection served by the fast path. */
export class ClientConn implements ConnActivity {
  buf: Buffer | null = null;
  /** Where the search for the end of the next head resumes. */
  scanFrom = 0;
  /** A parsed head whose body has not fully arrived yet. */
  pendingHead: RequestHead | null = null;
  ex: Exchange | null = null;
  /** performance.now() of the last completed exchange (or accept). */
  lastActive = performance.now();
  /** performance.now() when the first bytes of an unfinished request arrived; 0 when none are waiting. */
  headSince = 0;
  /** performance.now() when body bytes of the unfinished request last arrived (or its head ended); 0 while its head is arriving. */
  bodyReadAt = 0;
  /** performance.now() (as of a sweep) since when the send buffer has been full without a 'drain'; 0 when not. */
  stalledSince = 0;
  /**
   * The last response is still in the send buffer, over its high-water mark: the next pipelined
   * request waits (and the socket is not read) until the client takes it. Without this, a client
   * pipelining requests and reading nothing had every response buffered in Grid.
   */
  awaitingDrain = false;
  readonly remote: string;
  /** This client's `for=` in the Forwarded header, and the last Forwarded line built (per Host, which rarely changes on a connection). */
  private readonly forwardedFor: string;
  private forwardedHost: string | null = null;
  private forwardedLine = '';
  /**
   * Bytes of an unfinished request that came after `buf`, kept as they came and
   * joined once, when the request is complete: however it is dripped, each byte
   * is copied once and looked at a bounded number of times.
   */
  private parts: Buffer[] | null = null;
  /** Bytes in buf plus parts. */
  private waiting = 0;
  /** scanHeadBytes' state at the end of the unfinished head's bytes so far. */
  private headState = HS_NONE;
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
    this.forwardedFor = forwardedFor(this.remote);
  }

  busy(): boolean {
    return this.ex !== null;
  }

  receivingSince(): number {
    return this.headSince;
  }

  idleSince(): number {
    return this.lastActive;
  }

  data(chunk: Buffer): void {
    // After a closing answer (Connection: close, 408) nothing more is served.
    if (this.socket.writableEnded) return;
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
    if (this.buf === null) {
      this.buf = chunk;
      this.next();
      return;
    }
    // More of an unfinished request: kept aside until the head (or the whole body) is there.
    (this.parts ??= []).push(chunk);
    this.waiting += chunk.length;
    const head = this.pendingHead;
    if (head === null) {
      // Only the new bytes are scanned; the state carries what the bytes before them ended with.
      this.headState = scanHeadBytes(chunk, 0, this.headState);
      if (this.headState < HS_END && this.waiting <= MAX_REQUEST_HEAD) return;
    } else if (this.waiting < head.headEnd + head.contentLength) {
      // The body gap (GRID_CLIENT_BODY_TIMEOUT_MS) restarts: a slow upload is served, a stalled one is not.
      this.bodyReadAt = performance.now();
      return;
    }
    // The head ended, can no longer be one, grew too large, or the body is complete: parsed from here as one buffer.
    this.join();
    this.next();
  }

  /** Joins buf and the parts that came after it: the one copy of an unfinished request's bytes. */
  private join(): void {
    const parts = this.parts;
    if (parts === null) return;
    this.parts = null;
    parts.unshift(this.buf!);
    this.buf = Buffer.concat(parts, this.waiting);
  }

  /** Starts collecting parts behind buf, an unfinished request (its head too, unless `head` is false). */
  private wait(buf: Buffer, head: boolean): void {
    this.waiting = buf.length;
    const now = performance.now();
    if (this.headSince === 0) this.headSince = now;
    if (!head) {
      this.bodyReadAt = now;
      return;
    }
    // What buf ends with (it holds no CRLFCRLF and, being a plausible head, no bare CR or LF).
    const n = buf.length;
    this.headState = buf[n - 1] === 13 ? (n >= 3 && buf[n - 2] === 10 && buf[n - 3] === 13 ? HS_CRLFCR : HS_CR) : buf[n - 1] === 10 ? HS_CRLF : HS_NONE;
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
          this.wait(buf, true);
          return;
        }
        if (parsed === FALLBACK) return this.handOff();
        head = parsed;
      }
      const total = head.headEnd + head.contentLength;
      if (buf.length < total) {
        // Body still arriving: buffered whole (up to 64 KiB) before the request goes out.
        this.pendingHead = head;
        this.wait(buf, false);
        return;
      }
      const route = this.proxy.router(head.target, head.host, head.preview);
      if (route === undefined) return this.handOff();
      this.pendingHead = null;
      this.headSince = 0;
      this.bodyReadAt = 0;
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
    const hit = core.faults.size === 0 ? undefined : core.fault(target.service, selected.backend.version);
    if (hit !== undefined && hit.kind === FAULT_ABORT) return this.faultReply(hit.fault.answer, hit.kind, selected.backend.version, head.close, requestId);
    const method = head.method;
    const forwardedFor = head.xff === '' ? this.remote : head.xff + ', ' + this.remote;
    const tail =
      '\r\n' +
      head.forwarded +
      'x-forwarded-for: ' +
      forwardedFor +
      '\r\nx-forwarded-proto: http\r\nx-request-id: ' +
      requestId +
      (head.host === '' ? '\r\n' : '\r\nx-forwarded-host: ' + head.host + '\r\n') +
      this.forwarded(head.host) +
      '\r\n';
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
      hit === undefined ? 0 : hit.kind,
    );
    this.ex = ex;
    if (hit === undefined) ex.send(false);
    else ex.hold(hit.fault.rule.delayMs, hit.fault.answer);
  }

  /** The Forwarded line (RFC 7239) for a request with this Host: the client's own was dropped (wire.ts). */
  private forwarded(host: string): string {
    if (host !== this.forwardedHost) {
      this.forwardedHost = host;
      this.forwardedLine = 'forwarded: ' + forwardedHeaderValue(this.forwardedFor, host) + '\r\n';
    }
    return this.forwardedLine;
  }

  /** The request arriving was too slow (its head, a gap in its body, or the whole: `verdict`): 408, and the connection closes. */
  requestTimedOut(verdict: ClientVerdict): void {
    this.headSince = 0;
    this.bodyReadAt = 0;
    this.pendingHead = null;
    this.parts = null;
    this.reply(408, timeoutMessage(verdict, this.proxy.limits), true, newRequestId());
  }

  /** An answer of the gateway's own (no pod involved). */
  reply(status: GatewayErrorStatus, message: string, close: boolean, requestId: string, extra = ''): void {
    if (this.socket.destroyed) return;
    this.socket.write(jsonReply(status, message, 'x-request-id: ' + requestId + '\r\n' + extra, close), 'latin1');
    if (close) {
      // Requests pipelined behind a `Connection: close` one are not served.
      this.buf = null;
      this.parts = null;
      this.queued = null;
      this.socket.end();
    }
  }

  /** An abort a fault experiment injected (no pod was called). */
  faultReply(answer: FaultAnswer, kind: number, version: string, close: boolean, requestId: string): void {
    if (this.socket.destroyed) return;
    this.socket.write(
      `HTTP/1.1 ${answer.status} ${answer.reason}\r\ncontent-type: ${JSON_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(answer.body)}\r\n` +
        `x-grid-fault: ${faultHeader(kind)}\r\nx-grid-version: ${version}\r\nx-request-id: ${requestId}\r\n` +
        this.proxy.responseLines +
        (close ? 'connection: close\r\n' : '') +
        '\r\n' +
        answer.body,
      'latin1',
    );
    if (close) {
      this.buf = null;
      this.parts = null;
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
    if (this.socket.writableNeedDrain) {
      this.awaitingDrain = true;
      this.socket.pause();
      return;
    }
    if (this.buf !== null || this.queued !== null) this.next();
  }

  /** The client took the response it was behind on: reading and serving carry on. */
  drained(): void {
    this.awaitingDrain = false;
    if (!this.pausedForPipeline) this.socket.resume();
    if (this.buf !== null || this.queued !== null) this.next();
  }

  /**
   * The client sent FIN. Node's server (without httpAllowHalfOpen) aborts what is
   * in flight and closes; so does the fast path, so both paths behave alike.
   */
  clientEnded(): void {
    this.buf = null;
    this.parts = null;
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
    this.join();
    this.unqueue();
    if (this.buf !== null) socket.unshift(this.buf);
    this.buf = null;
    this.proxy.fallback(socket);
    socket.resume();
  }

  closed(): void {
    this.proxy.conns.delete(this);
    this.buf = null;
    this.parts = null;
    this.ex?.clientGone();
  }
}
