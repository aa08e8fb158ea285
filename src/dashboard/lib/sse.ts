// Server-Sent Events over fetch, so the stream carries the same credentials as every other
// call (EventSource cannot send headers). Reconnects with backoff and resumes with Last-Event-ID.
import { authHeaders, notifyUnauthorized } from './api.js';

export interface SseMessage {
  id: string | null;
  event: string;
  data: string;
}

export interface StreamHandle {
  close(): void;
}

export interface StreamOptions {
  onMessage: (m: SseMessage) => void;
  onState?: (state: 'live' | 'reconnecting') => void;
  /** A stream that ends by itself (e.g. a pod's log when the pod is gone) is not reopened. */
  reconnect?: boolean;
}

/** Splits an SSE byte stream into messages; feed it decoded text in any chunking. */
export class SseParser {
  private buf = '';
  private data: string[] = [];
  private event = '';
  private id: string | null = null;
  lastId: string | null = null;
  retryMs: number | null = null;

  constructor(private readonly emit: (m: SseMessage) => void) {}

  push(text: string): void {
    this.buf += text;
    let nl: number;
    while ((nl = this.buf.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(this.buf[nl] === '\r' && this.buf[nl + 1] === '\n' ? nl + 2 : nl + 1);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0) {
        if (this.id !== null) this.lastId = this.id;
        this.emit({ id: this.id, event: this.event || 'message', data: this.data.join('\n') });
      }
      this.data = [];
      this.event = '';
      this.id = null;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id') this.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
  }
}

export function openStream(path: string, opts: StreamOptions): StreamHandle {
  let closed = false;
  let ctrl: AbortController | null = null;
  let lastId: string | null = null;
  let failures = 0;
  const run = async () => {
    while (!closed) {
      ctrl = new AbortController();
      const headers: Record<string, string> = { ...authHeaders(), accept: 'text/event-stream' };
      if (lastId !== null) headers['last-event-id'] = lastId;
      let retryMs = 2000;
      try {
        const res = await fetch(path, { headers, signal: ctrl.signal, credentials: 'omit', cache: 'no-store' });
        if (res.status === 401 || res.status === 429) {
          // Retrying refused credentials would only feed the login limiter until it locks out everyone at this address.
          notifyUnauthorized(res.status);
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        opts.onState?.('live');
        failures = 0;
        const parser = new SseParser((m) => {
          if (m.id !== null) lastId = m.id;
          opts.onMessage(m);
        });
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.push(value);
        }
        retryMs = parser.retryMs ?? retryMs;
        if (opts.reconnect === false) return;
      } catch (e) {
        if (closed) return;
        failures++;
        if (opts.reconnect === false && (e as Error).message.startsWith('HTTP')) return;
      }
      if (closed) return;
      opts.onState?.('reconnecting');
      await new Promise((r) => setTimeout(r, Math.min(30_000, retryMs * 2 ** Math.min(failures, 4))));
    }
  };
  void run();
  return {
    close() {
      closed = true;
      ctrl?.abort();
    },
  };
}
