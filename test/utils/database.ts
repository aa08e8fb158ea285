// A real, migrated Grid SQLite file in a temp dir, for unit tests of the services that
// persist (specs, reconciler state, events): the same schema and driver as Grid itself.
import { EventEmitter2 } from '@nestjs/event-emitter';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { databaseOptions } from '../../src/common/database/database.module.js';
import { EventBus } from '../../src/common/events/event-bus.js';
import { FakeClock } from '../../src/common/clock/fake-clock.js';
import { EventsService } from '../../src/modules/events/events.service.js';
import { MetricsService } from '../../src/modules/metrics/metrics.service.js';
import { StorageService } from '../../src/modules/storage/storage.service.js';
import { SchedulerRegistry } from '@nestjs/schedule';
import { loadConfig } from '../../src/common/config/config.js';

export interface TestStore {
  dir: string;
  ds: DataSource;
  clock: FakeClock;
  bus: EventBus;
  metrics: MetricsService;
  events: EventsService;
  /** Told of failed writes; its probe is not scheduled (onModuleInit is not called). */
  storage: StorageService;
  /** Closes the database; with reopen, opens the same file again (a restart of Grid). */
  close(): Promise<void>;
}

export async function openTestStore(opts: { dir?: string; now?: number } = {}): Promise<TestStore> {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'grid-unit-'));
  const ds = new DataSource(databaseOptions(dir));
  await ds.initialize();
  const clock = new FakeClock(opts.now ?? Date.UTC(2026, 0, 1));
  const bus = new EventBus(new EventEmitter2());
  const metrics = new MetricsService();
  const storage = new StorageService(clock, loadConfig({ GRID_DATA_DIR: dir }, dir), ds, bus, new SchedulerRegistry(), metrics);
  const events = new EventsService(clock, ds, bus, metrics, storage);
  await events.onModuleInit();
  return {
    dir,
    ds,
    clock,
    bus,
    metrics,
    events,
    storage,
    async close() {
      events.onApplicationShutdown();
      await ds.destroy();
    },
  };
}

export function removeStore(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
