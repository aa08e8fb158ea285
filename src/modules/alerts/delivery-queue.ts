import type { Clock, ClockTimer } from '../../common/clock/clock.js';
import { errorText, type AlertChannel, type ChannelName } from './alert-channels.js';
import type { AlertMessage } from './alert-format.js';

export type DeliveryState = 'queued' | 'sending' | 'retrying' | 'ok' | 'failed' | 'dropped';
export type DeliveryOutcome = 'ok' | 'failed' | 'dropped';

export interface DeliveryView {
  id: number;
  channel: ChannelName;
  subject: string;
  title: string;
  state: DeliveryState;
  attempts: number;
  queuedAt: string;
  finishedAt: string | null;
  nextAttemptAt: string | null;
  lastError: string | null;
  response: string | null;
}

export interface DeliveryOptions {
  maxAttempts: number;
  attemptTimeoutMs: number;
  /** The wait after the first failure; it doubles after each one, up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Unfinished deliveries kept; beyond it the oldest waiting one is dropped (and counted). */
  maxPending: number;
  /** Attempts in flight per channel: a slow server holds at most this many sockets. */
  maxInFlight: number;
  /** Finished deliveries kept for GET /alerts. */
  keepFinished: number;
}

export const DEFAULT_DELIVERY: Omit<DeliveryOptions, 'maxAttempts' | 'attemptTimeoutMs'> = { backoffMs: 1000, maxBackoffMs: 60_000, maxPending: 500, maxInFlight: 4, keepFinished: 50 };

export interface DeliveryHooks {
  attempted?(channel: ChannelName, ok: boolean): void;
  finished?(channel: ChannelName, outcome: DeliveryOutcome): void;
}

interface Delivery {
  id: number;
  channel: AlertChannel;
  message: AlertMessage;
  state: DeliveryState;
  attempts: number;
  queuedAt: number;
  finishedAt?: number;
  nextAttemptAt?: number;
  lastError?: string;
  response?: string;
  timer?: ClockTimer;
  abort?: AbortController;
}

/**
 * Sends alert messages off the caller's path: enqueue() returns at once, attempts run in the
 * background, each bounded by a timeout, retried with exponential backoff on the injected clock.
 * Nothing here awaits in a request or a reconcile, so a dead or slow server costs them nothing.
 */
export class DeliveryQueue {
  private nextId = 1;
  private readonly pending: Delivery[] = [];
  private readonly finished: Delivery[] = [];
  private readonly inFlight = new Map<ChannelName, number>();
  private closed = false;

  constructor(
    readonly channels: readonly AlertChannel[],
    private readonly clock: Clock,
    private readonly opts: DeliveryOptions,
    private readonly hooks: DeliveryHooks = {},
  ) {}

  /** One delivery per channel; answers what was queued. */
  enqueue(message: AlertMessage): DeliveryView[] {
    const out: Delivery[] = [];
    for (const channel of this.channels) {
      const d: Delivery = { id: this.nextId++, channel, message, state: 'queued', attempts: 0, queuedAt: this.clock.now() };
      this.pending.push(d);
      out.push(d);
    }
    while (this.pending.length > this.opts.maxPending) {
      const victim = this.pending.find((d) => d.state !== 'sending');
      if (!victim) break;
      this.clock.clearTimeout(victim.timer);
      this.finish(victim, 'dropped', 'dropped: too many alerts waiting (the oldest go first)');
    }
    this.pump();
    return out.map(view);
  }

  /** Waiting and in-flight deliveries, then the most recent finished ones, newest first. */
  list(): DeliveryView[] {
    return [...this.pending, ...this.finished].sort((a, b) => b.id - a.id).map(view);
  }

  close(): void {
    this.closed = true;
    for (const d of this.pending) {
      this.clock.clearTimeout(d.timer);
      d.abort?.abort(new Error('Grid is shutting down'));
    }
  }

  private pump(): void {
    if (this.closed) return;
    for (const d of this.pending) {
      if (d.state !== 'queued') continue;
      const n = this.inFlight.get(d.channel.name) ?? 0;
      if (n >= this.opts.maxInFlight) continue;
      this.inFlight.set(d.channel.name, n + 1);
      this.attempt(d);
    }
  }

  private attempt(d: Delivery): void {
    d.state = 'sending';
    d.attempts++;
    d.nextAttemptAt = undefined;
    const abort = new AbortController();
    d.abort = abort;
    const ms = this.opts.attemptTimeoutMs;
    d.timer = this.clock.setTimeout(() => abort.abort(new Error(`no answer within ${ms} ms (ALERT_SEND_TIMEOUT_MS)`)), ms);
    let result: Promise<string>;
    try {
      result = d.channel.send(d.message, abort.signal);
    } catch (e) {
      result = Promise.reject(e);
    }
    result.then(
      (response) => this.settle(d, undefined, response),
      (e: unknown) => this.settle(d, errorText(e)),
    );
  }

  private settle(d: Delivery, error: string | undefined, response?: string): void {
    this.clock.clearTimeout(d.timer);
    d.abort = undefined;
    this.inFlight.set(d.channel.name, (this.inFlight.get(d.channel.name) ?? 1) - 1);
    if (d.state !== 'sending') return;
    this.hooks.attempted?.(d.channel.name, error === undefined);
    if (error === undefined) {
      d.response = response;
      this.finish(d, 'ok');
    } else if (d.attempts >= this.opts.maxAttempts || this.closed) {
      this.finish(d, 'failed', error);
    } else {
      d.lastError = error;
      d.state = 'retrying';
      const wait = Math.min(this.opts.maxBackoffMs, this.opts.backoffMs * 2 ** (d.attempts - 1));
      d.nextAttemptAt = this.clock.now() + wait;
      d.timer = this.clock.setTimeout(() => {
        d.state = 'queued';
        this.pump();
      }, wait);
    }
    this.pump();
  }

  private finish(d: Delivery, outcome: DeliveryOutcome, error?: string): void {
    d.state = outcome;
    d.finishedAt = this.clock.now();
    d.nextAttemptAt = undefined;
    if (error !== undefined) d.lastError = error;
    this.pending.splice(this.pending.indexOf(d), 1);
    this.finished.unshift(d);
    if (this.finished.length > this.opts.keepFinished) this.finished.pop();
    this.hooks.finished?.(d.channel.name, outcome);
  }
}

function view(d: Delivery): DeliveryView {
  const iso = (t: number | undefined) => (t === undefined ? null : new Date(t).toISOString());
  return {
    id: d.id,
    channel: d.channel.name,
    subject: d.message.subject,
    title: d.message.title,
    state: d.state,
    attempts: d.attempts,
    queuedAt: new Date(d.queuedAt).toISOString(),
    finishedAt: iso(d.finishedAt),
    nextAttemptAt: iso(d.nextAttemptAt),
    lastError: d.lastError ?? null,
    response: d.response ?? null,
  };
}
