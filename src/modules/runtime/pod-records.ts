import type { Logger } from '@nestjs/common';
import type { Repository } from 'typeorm';
import type { Clock } from '../../common/clock/clock.js';
import { WriteBehind } from '../../common/persistence/write-behind.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import type { PodEntity } from './pod.entity.js';

/** What must become true of one pod's record: the whole row, some fields of it, or no row. */
type Write = { op: 'save'; row: PodEntity } | { op: 'update'; fields: Partial<PodEntity> } | { op: 'delete' };

/**
 * The database records of pods that can outlive Grid (what adoption reads after a restart).
 * A write never fails the pod it is about: a pod whose process runs stays managed even when
 * its record cannot be written. Writes are queued per pod, retried until they land, and
 * counted in grid_persist_errors_total{store="pods"} when they fail.
 */
export class PodRecords {
  private readonly writes: WriteBehind<string, Write>;

  constructor(
    private readonly repo: Repository<PodEntity>,
    clock: Clock,
    metrics: MetricsService,
    logger: Logger,
  ) {
    this.writes = new WriteBehind({
      clock,
      delayMs: 0,
      describe: (n) => `the records of ${n} pods`,
      failed: (message) => {
        metrics.persistErrors.inc({ store: 'pods' });
        logger.error(message);
      },
      write: (batch) =>
        this.repo.manager.transaction(async (em) => {
          const repo = em.getRepository<PodEntity>(this.repo.target);
          for (const [id, w] of batch) {
            if (w.op === 'save') await repo.save(w.row, { reload: false });
            else if (w.op === 'update') await repo.update({ id }, w.fields);
            else await repo.delete({ id });
          }
        }),
    });
  }

  save(row: PodEntity): void {
    this.writes.set(row.id, { op: 'save', row });
  }

  update(podId: string, fields: Partial<PodEntity>): void {
    const cur = this.writes.get(podId);
    if (cur?.op === 'save') this.writes.set(podId, { op: 'save', row: { ...cur.row, ...fields } });
    else if (cur?.op === 'update') this.writes.set(podId, { op: 'update', fields: { ...cur.fields, ...fields } });
    else if (cur?.op !== 'delete') this.writes.set(podId, { op: 'update', fields });
  }

  delete(podId: string): void {
    this.writes.set(podId, { op: 'delete' });
  }

  all(): Promise<PodEntity[]> {
    return this.repo.find();
  }

  flush(): Promise<void> {
    return this.writes.flush();
  }

  /** Grid stops its pods: nothing pending matters any more, and no record should be left. */
  async clear(): Promise<void> {
    await this.writes.discard();
    await this.repo.clear();
  }
}
