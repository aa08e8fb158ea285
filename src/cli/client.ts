// gridctl's HTTP client: node:http (the global fetch costs Node ~140 ms to load on a 2-core
// machine, more than the request itself). JSON in and out, Grid's error bodies turned into
// ApiError, connection failures into one line that names the URL, and SSE for the watches.
import * as http from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Connection } from './config.js';
import { ApiError, CliError, UsageError, type ApiErrorBody } from './errors.js';

/** Answers larger than this are refused rather than held in memory. */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** An SSE line or event larger than this ends the stream: Grid's events and log lines are far smaller. */
export const MAX_SSE_EVENT_BYTES = 1024 * 1024;

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  query?: Query;
  /** An object is sent as JSON; a string or Buffer as it is, with `contentType`. */
  body?: unknown;
  contentType?: string;
  /** Statuses to return instead of throwing (e.g. 404 when the caller checks existence). */
  accept?: number[];
  timeoutMs?: number;
}

export interface Response<T = unknown> {
  status: number;
  headers: http.IncomingHttpHeaders;
  data: T;
  text: string;
}

export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

const VERSION = '0.1.0';

export class GridClient {
  constructor(readonly conn: Connection) {}

  url(path: string, query?: Query): string {
    // new URL() resolves dot segments (and %2e%2e): `describe pod ..` must not become GET /.
    for (const seg of path.split('/')) {
      let name = seg;
      try {
        name = decodeURIComponent(seg);
      } catch {
        // left as sent; the server refuses it
      }
      if (name === '.' || name === '..') throw new UsageError(`'${name}' is not a name`);
    }
    const u = new URL(this.conn.url + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== false) u.searchParams.set(k, String(v));
    return u.toString();
  }

  async get<T = unknown>(path: string, query?: Query): Promise<T> {
    return (await this.request<T>('GET', path, { query })).data;
  }

  async post<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
    return (await this.request<T>('POST', path, opts)).data;
  }

  async delete<T = unknown>(path: string, query?: Query): Promise<T> {
    return (await this.request<T>('DELETE', path, { query })).data;
  }

  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<Response<T>> {
    const url = this.url(path, opts.query);
    let body: Buffer | undefined;
    let contentType = opts.contentType;
    if (opts.body !== undefined) {
      if (typeof opts.body === 'string' || Buffer.isBuffer(opts.body)) body = Buffer.from(opts.body as string);
      else {
        body = Buffer.from(JSON.stringify(opts.body));
        contentType ??= 'application/json';
      }
    }
    const timeoutMs = opts.timeoutMs ?? this.conn.timeoutMs;
    // One deadline for the whole exchange: a server that drips a byte a second never resets it.
    const deadline = AbortSignal.timeout(timeoutMs);
    let res: IncomingMessage;
    let text: string;
    try {
      res = await this.open(method, url, { body, contentType, timeoutMs, accept: 'application/json', signal: deadline });
      text = await readAll(res, MAX_RESPONSE_BYTES, url, deadline);
    } catch (e) {
      if (deadline.aborted) throw connectionError(Object.assign(new Error('timeout'), { code: 'GRID_TIMEOUT', timeoutMs }), url, this.conn.source);
      throw e;
    }
    const status = res.statusCode ?? 0;
    const isJson = String(res.headers['content-type'] ?? '').includes('json');
    let data: unknown = text;
    if (isJson && text.length > 0) {
      try {
        data = JSON.parse(text);
      } catch {
        throw new CliError(`${method} ${url}: the answer is not valid JSON`);
      }
    }
    if ((status < 200 || status >= 300) && !(opts.accept ?? []).includes(status)) {
      throw new ApiError(status, isJson ? (data as ApiErrorBody) : { message: text.trim().slice(0, 500) || `HTTP ${status}` }, method, url);
    }
    return { status, headers: res.headers, data: data as T, text };
  }

  /**
   * Reads a Server-Sent Events stream until the server ends it or `signal` aborts; calls
   * `onEvent` for each event. Resolves when the stream ends, rejects on a connection error.
   * `lastEventId` resumes a dropped stream after that event (SSE's Last-Event-ID).
   */
  async stream(path: string, query: Query | undefined, onEvent: (e: SseEvent) => void | Promise<void>, signal?: AbortSignal, lastEventId?: string): Promise<void> {
    const url = this.url(path, query);
    const res = await this.open('GET', url, { accept: 'text/event-stream', signal, lastEventId });
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      const text = await readAll(res, 1024 * 1024, url);
      let body: ApiErrorBody | undefined;
      try {
        body = JSON.parse(text) as ApiErrorBody;
      } catch {
        body = { message: text.trim() || `HTTP ${status}` };
      }
      throw new ApiError(status, body, 'GET', url);
    }
    res.setEncoding('utf8');
    let buf = '';
    let cur: Partial<SseEvent> & { data?: string } = {};
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        res.destroy();
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const tooBig = () => {
        signal?.removeEventListener('abort', onAbort);
        res.destroy();
        reject(new CliError(`${url}: an event larger than ${MAX_SSE_EVENT_BYTES} bytes; the stream was closed`));
      };
      res.on('data', (chunk: string) => {
        const scanFrom = buf.length;
        buf += chunk;
        let nl = buf.indexOf('\n', scanFrom);
        if (nl < 0 && buf.length > MAX_SSE_EVENT_BYTES) return tooBig();
        for (; nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl).replace(/\r$/, '');
          buf = buf.slice(nl + 1);
          if (line === '') {
            if (cur.data !== undefined) void onEvent({ event: cur.event ?? 'message', id: cur.id, data: cur.data });
            cur = {};
            continue;
          }
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'data') {
            cur.data = cur.data === undefined ? value : `${cur.data}\n${value}`;
            if (cur.data.length > MAX_SSE_EVENT_BYTES) return tooBig();
          }
          else if (field === 'event') cur.event = value;
          else if (field === 'id') cur.id = value;
        }
      });
      res.on('end', () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      res.on('error', (e) => (signal?.aborted ? resolve() : reject(connectionError(e as NodeJS.ErrnoException, url, this.conn.source))));
    });
  }

  private async open(method: string, url: string, o: { body?: Buffer; contentType?: string; timeoutMs?: number; accept: string; signal?: AbortSignal; lastEventId?: string }): Promise<IncomingMessage> {
    const u = new URL(url);
    const mod: typeof http = u.protocol === 'https:' ? ((await import('node:https')) as unknown as typeof http) : http;
    const headers: http.OutgoingHttpHeaders = { accept: o.accept, 'user-agent': `gridctl/${VERSION}` };
    if (o.body) {
      headers['content-type'] = o.contentType ?? 'application/octet-stream';
      headers['content-length'] = o.body.length;
    }
    if (o.lastEventId !== undefined) headers['last-event-id'] = o.lastEventId;
    if (this.conn.apiKey) headers['x-api-key'] = this.conn.apiKey;
    else if (this.conn.user !== undefined) headers.authorization = `Basic ${Buffer.from(`${this.conn.user}:${this.conn.password ?? ''}`).toString('base64')}`;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = mod.request(u, { method, headers, signal: o.signal }, resolve);
      if (o.timeoutMs) {
        req.setTimeout(o.timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'GRID_TIMEOUT', timeoutMs: o.timeoutMs })));
      }
      req.on('error', (e) => reject(connectionError(e as NodeJS.ErrnoException & { timeoutMs?: number }, url, this.conn.source)));
      req.end(o.body);
    });
  }
}

function readAll(res: IncomingMessage, limit: number, url: string, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    signal?.addEventListener(
      'abort',
      () => {
        res.destroy();
        reject(new CliError(`${url}: no complete answer in time`));
      },
      { once: true },
    );
    const chunks: Buffer[] = [];
    let n = 0;
    res.on('data', (c: Buffer) => {
      n += c.length;
      if (n > limit) {
        res.destroy();
        reject(new CliError(`${url}: answer larger than ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', (e) => reject(new CliError(`${url}: the answer was cut off (${e.message})`)));
  });
}

/** One line that names the URL and what to do: `cannot reach Grid at http://…: connection refused (is Grid running? …)`. */
export function connectionError(e: NodeJS.ErrnoException & { timeoutMs?: number }, url: string, source: string): CliError {
  if (e instanceof CliError) return e;
  const base = new URL(url).origin;
  const where = `${base} (from ${source})`;
  switch (e.code) {
    case 'ECONNREFUSED':
      return new CliError(`cannot reach Grid at ${where}: connection refused. Is Grid running? Set the address with --server, GRID_URL or a context`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new CliError(`cannot reach Grid at ${where}: host not found`);
    case 'GRID_TIMEOUT':
      return new CliError(`Grid at ${where} did not answer within ${(e.timeoutMs ?? 0) / 1000} s (--request-timeout)`);
    case 'ECONNRESET':
      return new CliError(`Grid at ${where} closed the connection`);
    default:
      return new CliError(`cannot reach Grid at ${where}: ${e.message}`);
  }
}
