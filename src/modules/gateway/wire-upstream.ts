// The fast path's upstream side: one client request sent to a pod, its response
// head parsed and rewritten, its body passed through with its own framing, and
// failures retried or answered as the node path does (http-semantics.ts).
import { performance } from 'node:perf_hooks';
import type { GatewayEndpoint, GatewayRoute, VersionBackend } from './gateway.types.js';
import { FAULT_ABORT, faultHeader } from './faults.js';
import { F_CONNECT, F_TIMEOUT, F_UPSTREAM, upstreamFailure, type FaultAnswer } from './http-semantics.js';
import type { Attempt } from './proxy-core.js';
import {
  ChunkedScanner,
  FRAME_CHUNKED,
  FRAME_CLOSE,
  FRAME_LENGTH,
  FRAME_NONE,
  MAX_RESPONSE_HEAD,
  findHeadEnd,
  parseResponseHead,
  responseHeadPrefixOk,
  type ResponseHead,
} from './wire.js';
import type { ClientConn } from './wire-client.js';
import { kError, kExchange, kPool, type UpstreamSocket } from './wire-pool.js';

/** Bodies up to this size that arrive with their head are copied into the head's write rather than corked beside it. */
const SMALL_BODY = 16 * 1024;

function errorCode(err: Error | null): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'ECONNRESET';
}

/** A held (fault-delayed) exchange's time is up: it is aborted or sent. */
function onHoldEnd(ex: Exchange, answer: FaultAnswer): void {
  ex.holdEnded(answer);
}

/** One client request on the fast path, over at most two upstream attempts (plus a fresh-connection resend after a stale keep-alive one). */
export class Exchange implements Attempt {
  /** Moved to the end of a fault delay, so the pod's latency leaves the injected delay out. */
  startedAt = performance.now();
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
  /** A fault delay in progress: no pod is claimed or called until it ends. */
  private holdTimer: NodeJS.Timeout | null = null;

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
    /** FAULT_ABORT/FAULT_DELAY bits a fault experiment set on this request; 0 for a real one. */
    readonly fault: number,
  ) {
    this.closeClient = closeRequested;
  }

  /** Holds the request `ms` (a fault delay), then aborts it with `answer` (FAULT_ABORT set too) or sends it. */
  hold(ms: number, answer: FaultAnswer): void {
    this.holdTimer = setTimeout(onHoldEnd, ms, this, answer);
  }

  holdEnded(answer: FaultAnswer): void {
    this.holdTimer = null;
    if (this.done) return;
    if ((this.fault & FAULT_ABORT) !== 0) {
      this.done = true;
      this.conn.faultReply(answer, this.fault, this.backend.version, this.closeClient, this.requestId);
      this.conn.finished(this.closeClient);
      return;
    }
    // The upstream timeout and the latency count from here: the hold was Grid's, not the pod's.
    this.startedAt = performance.now();
    this.lastActivity = this.startedAt;
    this.send(false);
  }

  /** Sends the request to the current endpoint; `fresh` forces a new connection. */
  send(fresh: boolean): void {
    const proxy = this.conn.proxy;
    const ep = this.endpoint;
    let s: UpstreamSocket;
    if (fresh) {
      s = proxy.upstreams.connectTo(ep);
      this.reused = false;
    } else {
      const got = proxy.upstreams.acquire(ep, this.lastActivity === 0 ? this.startedAt : performance.now());
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
        // A head that can no longer be valid (LF-only line ends, say) is refused now, not when the pod closes or times out.
        if (!responseHeadPrefixOk(buf, from, from === 0 ? this.rscan : from)) {
          return this.fail(F_UPSTREAM, 'UPSTREAM_PROTOCOL', 'malformed response head (a bare CR or LF, or not HTTP/1.x)');
        }
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
      proxy.upstreams.gridLines(this.upstream![kPool], this.endpoint, this.backend) +
      proxy.responseLines +
      (this.fault === 0 ? '' : 'x-grid-fault: delay\r\n') +
      (res.hasRequestId ? '' : 'x-request-id: ' + this.requestId + '\r\n') +
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
    // A chunked body's trailer lines are not forwarded: the scanner says where this buffer's bytes stop.
    const stop = framing === FRAME_CHUNKED ? this.chunked!.keep : end;
    if (stop > from) {
      const ok = client.destroyed || client.write(from === 0 && stop === buf.length ? buf : buf.subarray(from, stop));
      if (!ok && !last) this.upstream?.pause();
    }
    if (last && framing === FRAME_CHUNKED && this.chunked!.endsTrailer && !client.destroyed) client.write('\r\n', 'latin1');
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
    // Bytes already read past the response's end (buffered while paused for a slow client) make it unusable too.
    const exact = !this.overrun && s.readableLength === 0;
    if (s.isPaused()) s.resume();
    // Idle from now; the coarse clock lags, so the socket is retired early rather than late.
    proxy.upstreams.release(s, res.reusable && exact, res.keepAliveMs, Math.max(this.startedAt, proxy.coarseNow));
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
    if (this.holdTimer !== null) {
      // Gone during a fault delay: nothing was claimed or sent.
      clearTimeout(this.holdTimer);
      this.holdTimer = null;
      return;
    }
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
    const extra = proxy.upstreams.gridLines(proxy.upstreams.poolOfEndpoint(this.endpoint), this.endpoint, this.backend) + (this.fault === 0 ? '' : 'x-grid-fault: delay\r\n');
    const answer = upstreamFailure(kind, this.service, podId, code, this.retried, proxy.upstreamTimeoutMs);
    this.conn.reply(answer.status, answer.message, this.closeClient, this.requestId, extra);
    core.finish(this, answer.status);
    this.conn.finished(this.closeClient);
  }
}
