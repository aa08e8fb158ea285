import type { Logger } from '@nestjs/common';
import type { Repository } from 'typeorm';
import type { Clock, ClockTimer } from '../../common/clock/clock.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import type { PodEntity } from './pod.entity.js';

const RETRY_BASE_MS = 200;
const RETRY_MAX_MS = 30_000;

/** What must become true of one pod's record: the whole row, some fields of it, or no row. */
type Write = { op: 'save'; row: PodEntity } | { op: 'update'; fields: Partial<PodEntity> } | { op: 'delete' };

/**
 * The database records of pods that can outlive Grid (what adoption reads after a restart).
 * A write never fails the pod it is about: a pod whose process runs stays managed even when
 * its record cannot be written. Writes are queued per pod (the newest intent wins), retried
 * with backoff until they land, logged and counted in grid_persist_errors_total{store="pods"}.
 */
export class PodRecords {
  private pending = new Map<string, Write>();
  private timer?: ClockTimer;
  private failures = 0;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly repo: Repository<PodEntity>,
    private readonly clock: Clock,
    private readonly metrics: MetricsService,
    private readonly logger: Logger,
  ) {}

  save(row: PodEntity): void {
    this.queue(row.id, { op: 'save', row });
  }

  update(podId: string, fields: Partial<PodEntity>): void {
    const cur = this.pending.get(podId);
    if (cur?.op === 'save') this.queue(podId, { op: 'save', row: { ...cur.row, ...fields } });
    else if (cur?.op === 'update') this.queue(podId, { op: 'update', fields: { ...cur.fields, ...fields } });
    else if (cur?.op !== 'delete') this.queue(podId, { op: 'update', fields });
  }

  delete(podId: string): void {
    this.queue(podId, { op: 'delete' });
  }

  all(): Promise<PodEntity[]> {
    return this.repo.find();
  }

  /** Writes what is pending; resolves when the writes queued before the call have landed or failed. */
  flush(): Promise<void> {
    const run = this.writing.then(() => this.write());
    this.writing = run;
    return run;
  }

  /** Grid stops its pods: nothing pending matters any more, and no record should be left. */
  async clear(): Promise<void> {
    this.clock.clearTimeout(this.timer);
    this.pending.clear();
    await this.writing;
    await this.repo.clear();
  }

  private queue(podId: string, w: Write): void {
    this.pending.set(podId, w);
    this.timer ??= this.clock.setTimeout(() => void this.flush(), 0);
  }

  private async write(): Promise<void> {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.repo.manager.transaction(async (em) => {
        const repo = em.getRepository<PodEntity>(this.repo.target);
        for (const [id, w] of batch) {
          if (w.op === 'save') await repo.save(w.row, { reload: false });
          else if (w.op === 'update') await repo.update({ id }, w.fields);
          else await repo.delete({ id });
        }
      });
      this.failures = 0;
    } catch (e) {
      // A newer intent for the same pod, queued while this batch ran, wins over the failed one.
      for (const [id, w] of batch) if (!this.pending.has(id)) this.pending.set(id, w);
      this.failures++;
      this.metrics.persistErrors.inc({ store: 'pods' });
      const delay = Math.min(RETRY_BASE_MS * 2 ** (this.failures - 1), RETRY_MAX_MS);
      this.logger.error(`could not write the records of ${batch.size} pods (attempt ${this.failures}, retrying in ${delay} ms): ${(e as Error).message}`);
      this.timer = this.clock.setTimeout(() => void this.flush(), delay);
    }
  }
}
