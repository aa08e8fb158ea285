import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { SchedulerRegistry } from '@nestjs/schedule';
import type BetterSqlite3 from 'better-sqlite3';
import type { DataSource } from 'typeorm';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { GRID_CONFIG, type GridConfig } from '../../common/config/config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { EventsService } from './events.service.js';
import { nextPruneStep, type StoredEventHead } from './retention.js';

/** The pruning job's name in the SchedulerRegistry. */
export const RETENTION_JOB = 'events.retention';
const RETENTION_EVERY_MS = 60_000;
/**
 * Rows deleted per step; the loop yields to other work between steps. 2,000 rows took 10 ms
 * (p50) and up to 40 ms on a busy 2-core machine (the prefix delete plus two index updates,
 * bench/retention.js); a quarter of that keeps each step near the cost of a reconcile pass.
 */
export const PRUNE_BATCH = 500;

/**
 * Keeps the event log within GRID_EVENTS_RETENTION (age) and GRID_EVENTS_RETENTION_COUNT (rows)
 * by deleting its oldest events, once at boot and then every minute. What to delete is
 * nextPruneStep's decision; this only reads the oldest rows and deletes the prefix it names.
 */
@Injectable()
export class EventsRetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(EventsRetentionService.name);
  private db!: BetterSqlite3.Database;
  /** Rows in the table: counted once, then followed from what EventsService wrote and this deleted (COUNT(*) of a million rows is not free). */
  private stored = 0;
  private writtenSeen = 0;
  private running?: Promise<number>;
  private stopped = false;

  constructor(
    private readonly events: EventsService,
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(GRID_CONFIG) private readonly config: GridConfig,
    private readonly scheduler: SchedulerRegistry,
    private readonly metrics: MetricsService,
  ) {}

  onApplicationBootstrap(): void {
    this.open();
    void this.prune();
    const timer = setInterval(() => void this.prune(), RETENTION_EVERY_MS);
    timer.unref();
    this.scheduler.addInterval(RETENTION_JOB, timer);
  }

  onModuleDestroy(): void {
    this.stopped = true;
    if (this.scheduler.doesExist('interval', RETENTION_JOB)) this.scheduler.deleteInterval(RETENTION_JOB);
  }

  /** Reads the row count; tests call it instead of the bootstrap hook so no real timer runs. */
  open(): void {
    this.db = (this.ds.driver as unknown as { databaseConnection: BetterSqlite3.Database }).databaseConnection;
    this.stored = (this.db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
    this.writtenSeen = this.events.written;
  }

  /** Deletes what the settings say, a batch per turn of the event loop; resolves to the rows deleted. One run at a time. */
  prune(): Promise<number> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<number> {
    const settings = this.config.eventsRetention;
    if (settings.maxAgeMs === undefined && settings.maxCount === undefined) return 0;
    const oldest = this.db.prepare('SELECT id, time FROM events ORDER BY id ASC LIMIT ?');
    const del = this.db.prepare('DELETE FROM events WHERE id <= ?');
    let deleted = 0;
    try {
      while (!this.stopped) {
        this.stored += this.events.written - this.writtenSeen;
        this.writtenSeen = this.events.written;
        const step = nextPruneStep(oldest.all(PRUNE_BATCH) as StoredEventHead[], this.stored, settings, this.clock.now());
        if (step.throughId === undefined) break;
        const n = del.run(step.throughId).changes;
        this.stored -= n;
        deleted += n;
        this.metrics.eventsPruned.inc(n);
        await new Promise<void>((r) => setImmediate(r));
      }
    } catch (e) {
      // A full or read-only disk: the next run tries again; the log only grows meanwhile.
      this.logger.warn(`pruning the event log failed after ${deleted} rows: ${(e as Error).message}`);
      this.metrics.persistErrors.inc({ store: 'events-retention' });
    }
    if (deleted > 0) this.logger.log(`pruned ${deleted} old events (GRID_EVENTS_RETENTION ${describe(settings.maxAgeMs)}, GRID_EVENTS_RETENTION_COUNT ${settings.maxCount ?? 0}; ${this.stored} kept)`);
    return deleted;
  }

  /** Rows in the table as this service counts them. */
  get rows(): number {
    return this.stored + (this.events.written - this.writtenSeen);
  }
}

function describe(ms: number | undefined): string {
  if (ms === undefined) return '0';
  return ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 1000}s`;
}
