// One listener's connection cap (GRID_MAX_CONNECTIONS), for everything the listener serves: on the
// main port the API and the unauthenticated /gateway/* share it. Refusing newcomers at the cap let
// anyone who can open that many bare sockets lock operators out of the API, credentials or not;
// so at the cap the connection cheapest to lose is closed instead (client-limits.ts decides which),
// and near it connections that never sent a byte get a shorter idle timeout.
// Cost: per accept a clock read and a map entry; a look over the connections only at the cap
// (one per shedBatch newcomers) and, above PRESSURE_THRESHOLD, at most once per sweep period.
import type * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import {
  capWarning,
  capWarningDelay,
  kActivity,
  PRESSURE_THRESHOLD,
  SHED_UNUSED,
  shedBatch,
  shedOrder,
  shedView,
  unusedTimeoutMs,
  type CapClosures,
  type ConnActivity,
  type ShedInput,
  type ShedRank,
} from './client-limits.js';

type TrackedSocket = net.Socket & { [kActivity]?: ConnActivity };

export interface ConnectionCapOptions {
  /** What the listener is called in its log lines and metrics ('main', 'gateway'). */
  listener?: string;
  /** Where the closures are reported, at most once per CAP_WARNING_PERIOD_MS (default: Nest's logger). */
  warn?: (message: string) => void;
}

export class ConnectionCap {
  /** Open connections and when each was accepted, in accept order. */
  private readonly open = new Map<TrackedSocket, number>();
  /** The next connections to close at the cap, and the rank each had when picked. */
  private victims: TrackedSocket[] = [];
  private victimRanks: ShedRank[] = [];
  private readonly batch: number;
  private readonly sweepPeriodMs: number;
  private lastSweep = 0;
  /** Connections closed to make room, by rank (unused, idle, receiving). */
  readonly shed = [0, 0, 0];
  /** Newcomers refused because every open connection had a request in flight. */
  refused = 0;
  readonly listener: string;
  private readonly warn: (message: string) => void;
  /** The counts as of the last warning, and when it was logged (performance.now()). */
  private warned: CapClosures = { shed: [0, 0, 0], refused: 0 };
  private warnedAt: number | undefined;
  private warnTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly maxConnections: number,
    private readonly idleTimeoutMs: number,
    options: ConnectionCapOptions = {},
  ) {
    this.listener = options.listener ?? 'listener';
    if (options.warn) this.warn = options.warn;
    else {
      const logger = new Logger('ConnectionCap');
      this.warn = (m) => logger.warn(m);
    }
    this.batch = shedBatch(maxConnections);
    this.sweepPeriodMs = Math.max(50, Math.min(1_000, Math.floor(unusedTimeoutMs(idleTimeoutMs, maxConnections, maxConnections) / 4)));
  }

  get size(): number {
    return this.open.size;
  }

  /** Takes a newly accepted connection, making room for it if the listener is full; false if it was refused (and destroyed). */
  admit(socket: net.Socket): boolean {
    const now = performance.now();
    const open = this.open;
    if (open.size >= this.maxConnections && !this.shedOne(now)) {
      this.refused++;
      socket.destroy();
      this.closedSome(now);
      return false;
    }
    open.set(socket, now);
    socket.once('close', () => open.delete(socket));
    if (open.size > this.maxConnections * PRESSURE_THRESHOLD && now - this.lastSweep >= this.sweepPeriodMs) this.closeUnused(now);
    return true;
  }

  /** Closes the cheapest connection; false if every one is busy. */
  private shedOne(now: number): boolean {
    for (let attempt = 0; attempt < 2; attempt++) {
      while (this.victims.length > 0) {
        const socket = this.victims.pop()!;
        const rank = this.victimRanks.pop()!;
        if (!this.open.has(socket)) continue;
        // Picked a while ago: closed only if it has not become dearer since.
        const view = shedView(this.input(socket), now);
        if (view.rank > rank) continue;
        this.open.delete(socket);
        this.shed[view.rank]++;
        socket.destroy();
        this.closedSome(now);
        return true;
      }
      if (attempt === 0) this.pick(now);
    }
    return false;
  }

  private pick(now: number): void {
    const sockets = [...this.open.keys()];
    const views = sockets.map((s) => shedView(this.input(s), now));
    // Reversed so that pop() takes the cheapest first.
    const order = shedOrder(views, this.batch).reverse();
    this.victims = order.map((i) => sockets[i]);
    this.victimRanks = order.map((i) => views[i].rank);
  }

  /** Under pressure: connections that never sent a byte are closed after the reduced idle timeout. */
  private closeUnused(now: number): void {
    this.lastSweep = now;
    const timeout = unusedTimeoutMs(this.idleTimeoutMs, this.open.size, this.maxConnections);
    const before = this.shed[SHED_UNUSED];
    for (const [socket, acceptedAt] of this.open) {
      // Accept order: the rest are younger.
      if (now - acceptedAt <= timeout) break;
      const view = shedView(this.input(socket), now);
      if (view.rank !== SHED_UNUSED) continue;
      this.open.delete(socket);
      this.shed[SHED_UNUSED]++;
      socket.destroy();
    }
    if (this.shed[SHED_UNUSED] > before) this.closedSome(now);
  }

  /**
   * Connections were closed or refused: logged now if the last line is a period old, else once
   * the period is over, with everything since. Closures at the cap were silent before: an operator
   * saw clients reset and nothing in Grid's log.
   */
  private closedSome(now: number): void {
    if (this.warnTimer !== undefined) return;
    const delay = capWarningDelay(this.warnedAt, now);
    if (delay === 0) return this.report(now);
    this.warnTimer = setTimeout(() => {
      this.warnTimer = undefined;
      this.report(performance.now());
    }, delay);
    this.warnTimer.unref();
  }

  private report(now: number): void {
    const current: CapClosures = { shed: [...this.shed], refused: this.refused };
    const message = capWarning(this.listener, this.maxConnections, this.open.size, this.warned, current);
    this.warned = current;
    this.warnedAt = now;
    if (message !== undefined) this.warn(message);
  }

  private input(socket: TrackedSocket): ShedInput {
    return { bytesRead: socket.bytesRead, unsent: socket.writableLength, acceptedAt: this.open.get(socket)!, activity: socket[kActivity] };
  }
}
