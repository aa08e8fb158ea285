// The two ways an alert leaves Grid. Each send is one attempt, bounded by the signal the
// delivery queue aborts at its per-attempt timeout; retries are the queue's.
import nodemailer, { type Transporter } from 'nodemailer';
import type { EmailConfig } from '../../common/config/config.js';
import type { AlertMessage } from './alert-format.js';

export type ChannelName = 'email' | 'webhook';

export interface AlertChannel {
  readonly name: ChannelName;
  /** One attempt; resolves with what the other side answered. */
  send(m: AlertMessage, signal: AbortSignal): Promise<string>;
  /** What GET /alerts shows: where alerts go, never a credential. */
  describe(): Record<string, unknown>;
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

export class EmailChannel implements AlertChannel {
  readonly name = 'email';
  private readonly transport: Transporter;

  constructor(
    private readonly cfg: EmailConfig,
    timeoutMs: number,
  ) {
    this.transport = nodemailer.createTransport({
      host: cfg.host,
      port: cfg.port,
      secure: cfg.secure,
      auth: cfg.user ? { user: cfg.user, pass: cfg.pass } : undefined,
      // Each phase is bounded on its own, so a server that accepts and then says nothing cannot hold a socket forever.
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      logger: false,
      disableFileAccess: true,
      disableUrlAccess: true,
    });
  }

  async send(m: AlertMessage, signal: AbortSignal): Promise<string> {
    const sent = this.transport.sendMail({ from: this.cfg.from, to: this.cfg.to, subject: `${this.cfg.subjectPrefix}${m.title}`, text: m.text });
    // The queue moves on at its deadline; nodemailer's own timeouts end the socket.
    sent.catch(() => undefined);
    const info = (await Promise.race([sent, aborted(signal)])) as { response?: string };
    return info.response ?? 'sent';
  }

  describe(): Record<string, unknown> {
    return { host: this.cfg.host, port: this.cfg.port, secure: this.cfg.secure, auth: this.cfg.user !== undefined, from: this.cfg.from, to: this.cfg.to, subjectPrefix: this.cfg.subjectPrefix };
  }
}

export class WebhookChannel implements AlertChannel {
  readonly name = 'webhook';

  constructor(private readonly url: string) {}

  async send(m: AlertMessage, signal: AbortSignal): Promise<string> {
    const res = await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(m.payload), signal, redirect: 'error' });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`HTTP ${res.status} from the webhook`);
    return `HTTP ${res.status}`;
  }

  /** The origin only: a webhook's path or query often is its secret (Slack, Teams, Discord). */
  describe(): Record<string, unknown> {
    return { origin: new URL(this.url).origin };
  }
}

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  cause?: unknown;
}

/** An error in words, without the webhook URL (fetch puts none in its messages; causes carry host:port only). Duck-typed: undici's errors come from another realm under test runners. */
export function errorText(e: unknown): string {
  if (typeof e !== 'object' || e === null) return String(e);
  const err = e as ErrorLike;
  const message = String(err.message ?? e);
  const c = err.cause as ErrorLike | undefined;
  const cause = c && typeof c === 'object' ? String(c.message || c.code || '') : '';
  return cause && cause !== message ? `${message}: ${cause}` : message;
}
