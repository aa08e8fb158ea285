import type { ServerResponse } from 'node:http';

/**
 * The long-lived responses a controller holds open (SSE). The HTTP server's close waits for
 * every open response, so a stream nobody ends keeps Grid from exiting on SIGTERM: the
 * owner ends them all when the application shuts down.
 */
export class OpenStreams {
  private readonly open = new Set<ServerResponse>();

  add(res: ServerResponse): void {
    this.open.add(res);
    res.once('close', () => this.open.delete(res));
  }

  get size(): number {
    return this.open.size;
  }

  endAll(): void {
    for (const res of this.open) res.end();
    this.open.clear();
  }
}
