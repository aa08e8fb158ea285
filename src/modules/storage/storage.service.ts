import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import type BetterSqlite3 from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Gauge } from 'prom-client';
import type { DataSource } from 'typeorm';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { GRID_CONFIG, type GridConfig } from '../../common/config/config.js';
import { GridErrorCode, GridException } from '../../common/errors/grid.exception.js';
import { EventBus } from '../../common/events/event-bus.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { describeFault, faultOf, initialStatus, mutationRefusal, nextProbeInMs, onFault, onProbeOk, type StorageStatus } from './storage-state.js';

const PROBE_JOB = 'storage.probe';
const PROBE_FILE = '.storage-probe';
/** What the file probe writes and syncs: a disk with less room than this left counts as full. */
const PROBE_BYTES = 64 * 1024;

export interface StorageView {
  state: StorageStatus['state'];
  writable: boolean;
  since: string;
  reason: string | null;
}

/**
 * Whether Grid can write its data dir. Every writer reports its failed writes here (noteWriteError),
 * so the first EROFS or SQLITE_FULL anywhere flips the state at once; a probe, scheduled through the
 * SchedulerRegistry, writes and syncs a small file and commits a SQLite transaction, to find a fault
 * between writes and to see the data dir recover. The decisions are in storage-state.ts.
 * Mutations are refused (refuseIfDegraded, called by the audit interceptor before every @Mutating
 * route) while the data dir cannot be written; reads, gateway traffic and pods carry on.
 */
@Injectable()
export class StorageService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(StorageService.name);
  private status: StorageStatus;
  private db?: BetterSqlite3.Database;
  private closed = false;

  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(GRID_CONFIG) private readonly config: GridConfig,
    @InjectDataSource() private readonly ds: DataSource,
    private readonly bus: EventBus,
    private readonly scheduler: SchedulerRegistry,
    metrics: MetricsService,
  ) {
    this.status = initialStatus(clock.now());
    const self = this;
    new Gauge({
      name: 'grid_storage_writable',
      help: 'Whether Grid can write its data dir (1) or not (0: read-only or full; changes are refused with 503 until it can).',
      registers: [metrics.registry],
      collect() {
        this.set(self.status.state === 'Healthy' ? 1 : 0);
      },
    });
  }

  onModuleInit(): void {
    this.db = (this.ds.driver as unknown as { databaseConnection: BetterSqlite3.Database }).databaseConnection;
    this.schedule();
  }

  onModuleDestroy(): void {
    this.closed = true;
    if (this.scheduler.doesExist('timeout', PROBE_JOB)) this.scheduler.deleteTimeout(PROBE_JOB);
  }

  get writable(): boolean {
    return this.status.state === 'Healthy';
  }

  /** For callers allowed to read Grid's state (/state): the reason names the data dir. */
  view(): StorageView {
    return { ...this.publicView(), reason: describeFault(this.status, this.config.dataDir) ?? null };
  }

  /** For anyone (/healthz, no credentials): the same without the data dir's path. */
  publicView(): StorageView {
    return { state: this.status.state, writable: this.writable, since: new Date(this.status.since).toISOString(), reason: describeFault(this.status) ?? null };
  }

  /**
   * A write failed: if the error is a storage fault, the state follows it (and the probe speeds up).
   * True when it was one, so the caller can leave the explaining to this service.
   */
  noteWriteError(e: unknown): boolean {
    const fault = faultOf(e);
    if (!fault) return false;
    this.set(onFault(this.status, fault, this.clock.now()));
    return true;
  }

  /** Throws the 503 a mutation gets while the data dir cannot be written. */
  refuseIfDegraded(): void {
    const r = mutationRefusal(this.status, this.config.dataDir, this.clock.now());
    if (r) throw new GridException(GridErrorCode.Unavailable, r.message, undefined, r.retryAfterSeconds);
  }

  /** Maps a storage fault thrown by a mutation's write to the same 503 (the write's transaction rolled back). */
  refusalFor(e: unknown): GridException | undefined {
    if (!this.noteWriteError(e)) return undefined;
    const r = mutationRefusal(this.status, this.config.dataDir, this.clock.now());
    return r && new GridException(GridErrorCode.Unavailable, r.message, undefined, r.retryAfterSeconds);
  }

  /** Public for tests; runs on the schedule otherwise. */
  probe(): void {
    try {
      this.probeFile();
      // The same value back: a committed write (one WAL frame) that changes nothing TypeORM uses.
      const v = this.db!.pragma('user_version', { simple: true }) as number;
      this.db!.pragma(`user_version = ${Number(v)}`);
      this.set(onProbeOk(this.status, this.clock.now()));
    } catch (e) {
      if (!this.noteWriteError(e)) this.logger.warn(`storage probe failed, not with a storage fault: ${(e as Error).message}`);
    }
  }

  private probeFile(): void {
    const file = path.join(this.config.dataDir, PROBE_FILE);
    let fd: number | undefined;
    try {
      fd = fs.openSync(file, 'w');
      fs.writeSync(fd, Buffer.alloc(PROBE_BYTES));
      fs.fsyncSync(fd);
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
      fs.rmSync(file, { force: true });
    }
  }

  private set(next: StorageStatus): void {
    const prev = this.status;
    this.status = next;
    if (next.state === prev.state) return;
    const reason = describeFault(next, this.config.dataDir) ?? null;
    if (reason) this.logger.error(`${reason}: refusing changes until it can be written (checking every ${nextProbeInMs(next) / 1000}s); gateway traffic and pods carry on`);
    else this.logger.log(`data dir ${this.config.dataDir} is writable again after ${Math.round((next.since - prev.since) / 1000)}s: changes are accepted`);
    this.bus.emit('storage.changed', { state: next.state, previous: prev.state, reason, degradedForMs: prev.state === 'Healthy' ? 0 : next.since - prev.since });
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.scheduler.doesExist('timeout', PROBE_JOB)) this.scheduler.deleteTimeout(PROBE_JOB);
    const t = setTimeout(() => {
      this.scheduler.deleteTimeout(PROBE_JOB);
      this.probe();
      this.schedule();
    }, nextProbeInMs(this.status));
    t.unref();
    this.scheduler.addTimeout(PROBE_JOB, t);
  }
}
