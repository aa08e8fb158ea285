import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { CLOCK, type Clock, type ClockTimer } from '../../common/clock/clock.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ControllerStateEntity } from './controller-state.entity.js';
import type { ControllerState } from './controller-state.js';

const FLUSH_MS = 100;
const RETRY_BASE_MS = 200;
const RETRY_MAX_MS = 30_000;
const KEYS = ['status', 'rollout', 'autoscale'] as const;

/**
 * The reconciler's state per service (status, rollout, autoscaler), typed and owned here.
 * Reads come from memory; a change is written to SQLite with the other changes of the same
 * 100 ms in one transaction: at 10,000 pods a row-per-statement write was a sixth of the
 * convergence CPU. A failed write is logged, counted (grid_persist_errors_total) and
 * retried with backoff until it lands; the in-memory state stays the truth meanwhile.
 */
@Injectable()
export class ControllerStateRepository implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(ControllerStateRepository.name);
  private readonly states = new Map<string, ControllerState>();
  /** Services whose row must be written (or deleted, when no state is left). */
  private dirty = new Set<string>();
  private timer?: ClockTimer;
  private failures = 0;
  /** After the final flush at shutdown nothing is scheduled: the database is about to close. */
  private closed = false;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    @InjectRepository(ControllerStateEntity) private readonly repo: Repository<ControllerStateEntity>,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly metrics: MetricsService,
  ) {}

  async onModuleInit(): Promise<void> {
    for (const row of await this.repo.find()) {
      const s: ControllerState = {};
      for (const k of KEYS) if (row[k] !== null) s[k] = JSON.parse(row[k]) as never;
      this.states.set(row.service, s);
    }
  }

  get(service: string): Readonly<ControllerState> {
    return this.states.get(service) ?? EMPTY;
  }

  services(): string[] {
    return [...this.states.keys()];
  }

  /** Sets the given parts of a service's state (undefined clears a part) and schedules the write. */
  patch(service: string, patch: Partial<ControllerState>): void {
    const next: ControllerState = { ...this.states.get(service) };
    for (const k of KEYS) {
      if (!(k in patch)) continue;
      if (patch[k] === undefined) delete next[k];
      else next[k] = patch[k] as never;
    }
    this.states.set(service, next);
    this.markDirty(service);
  }

  /** The service is gone: so is what the reconciler knew of it. */
  delete(service: string): void {
    if (!this.states.delete(service)) return;
    this.markDirty(service);
  }

  /**
   * Writes pending changes; also runs before shutdown, while the database is still open.
   * Flushes run one after another, so a caller's flush resolves only when what was pending
   * at its call is written (or failed), whatever flush was already running.
   */
  flush(): Promise<void> {
    const run = this.writing.then(() => this.write());
    this.writing = run;
    return run;
  }

  private async write(): Promise<void> {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.dirty.size === 0) return;
    const batch = this.dirty;
    this.dirty = new Set();
    try {
      await this.repo.manager.transaction(async (em) => {
        for (const service of batch) {
          const s = this.states.get(service);
          if (!s) {
            await em.query('DELETE FROM controller_state WHERE service = ?', [service]);
            continue;
          }
          const cols = KEYS.map((k) => (s[k] === undefined ? null : JSON.stringify(s[k])));
          await em.query(
            'INSERT INTO controller_state (service, status, rollout, autoscale) VALUES (?, ?, ?, ?) ON CONFLICT(service) DO UPDATE SET status = excluded.status, rollout = excluded.rollout, autoscale = excluded.autoscale',
            [service, ...cols],
          );
        }
      });
      this.failures = 0;
    } catch (e) {
      // The newest state is in memory: writing those services again later writes it.
      for (const s of batch) this.dirty.add(s);
      this.failures++;
      this.metrics.persistErrors.inc({ store: 'controller_state' });
      const delay = Math.min(RETRY_BASE_MS * 2 ** (this.failures - 1), RETRY_MAX_MS);
      this.logger.error(`could not save the controller state of ${batch.size} services (attempt ${this.failures}, retrying in ${delay} ms): ${(e as Error).message}`);
      if (!this.closed) this.timer = this.clock.setTimeout(() => void this.flush(), delay);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.flush();
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    if (this.dirty.size > 0) this.logger.error(`exiting with the controller state of ${this.dirty.size} services unsaved; the next Grid recomputes it from the specs and the pods`);
  }

  private markDirty(service: string): void {
    this.dirty.add(service);
    if (!this.closed) this.timer ??= this.clock.setTimeout(() => void this.flush(), FLUSH_MS);
  }
}

const EMPTY: Readonly<ControllerState> = Object.freeze({});
