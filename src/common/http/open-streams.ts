import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

/**
 * The long-lived responses a controller holds open (SSE). The HTTP server's close waits for
 * every open response, so a stream nobody ends keeps Grid from exiting on SIGTERM: the
 * owner ends them all when the application shuts down.
 */
export class OpenStreams {
  private readonly open = new Set<ServerResponse>();

  /** Takes the response from Fastify, sends an event stream's head and tracks the stream until it closes. */
  openEventStream(reply: FastifyReply): ServerResponse {
    reply.hijack();
    const res = reply.raw;
    this.open.add(res);
    res.once('close', () => this.open.delete(res));
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    return res;
  }

  get size(): number {
    return this.open.size;
  }

  endAll(): void {
    for (const res of this.open) res.end();
    this.open.clear();
  }
}
