import { SchedulerRegistry } from '@nestjs/schedule';
import * as os from 'node:os';
import { loadConfig, type EventsRetention } from '../../common/config/config.js';
import { openTestStore, removeStore, type TestStore } from '../../../test/utils/database.js';
import { EventsRetentionService, PRUNE_BATCH } from './events-retention.service.js';

const HOUR = 3_600_000;

describe(EventsRetentionService.name, () => {
  let store: TestStore;

  beforeEach(async () => {
    store = await openTestStore();
  });
  afterEach(async () => {
    await store.close();
    removeStore(store.dir);
  });

  function retention(settings: EventsRetention): EventsRetentionService {
    const config = { ...loadConfig({}, os.tmpdir()), eventsRetention: settings };
    const sut = new EventsRetentionService(store.events, store.ds, store.clock, config, new SchedulerRegistry(), store.metrics);
    sut.open();
    return sut;
  }

  /** n events, one every `everyMs` of the fake clock, written to the file. */
  function record(n: number, everyMs: number): void {
    for (let i = 0; i < n; i++) {
      store.events.record({ type: 'pod.started', service: 'api', pod: `api-${i}`, reason: 'Started', message: `started pod api-${i}`, explain: `Started pod api-${i} because 2 of 3 desired replicas were running` });
      store.clock.advance(everyMs);
    }
    store.events.flush();
  }

  async function stored(): Promise<{ ids: number[]; min: number; max: number; n: number }> {
    const rows = (await store.ds.query('SELECT id FROM events ORDER BY id')) as { id: number }[];
    const ids = rows.map((r) => r.id);
    return { ids, min: ids[0], max: ids[ids.length - 1], n: ids.length };
  }

  const contiguous = (ids: number[]) => ids.every((id, i) => i === 0 || id === ids[i - 1] + 1);

  it('by count: keeps the newest maxCount rows, contiguous, in several batches', async () => {
    record(2 * PRUNE_BATCH + 500, 10);
    const sut = retention({ maxCount: 300 });

    expect(await sut.prune()).toBe(2 * PRUNE_BATCH + 200);

    const s = await stored();
    expect(s).toMatchObject({ n: 300, max: 2 * PRUNE_BATCH + 500, min: 2 * PRUNE_BATCH + 201 });
    expect(contiguous(s.ids)).toBe(true);
    expect(sut.rows).toBe(300);
    expect((await store.metrics.eventsPruned.get()).values[0].value).toBe(2 * PRUNE_BATCH + 200);
  });

  it('by age: deletes what is older than maxAge as the fake clock moves, never the younger', async () => {
    record(48, HOUR); // ids 1..48, one an hour; the clock is now 48 h after the first
    const sut = retention({ maxAgeMs: 24 * HOUR });

    expect(await sut.prune()).toBe(24); // ids 1..24 are more than 24 h old; id 25 is exactly 24 h old and stays
    expect(await stored()).toMatchObject({ n: 24, min: 25, max: 48 });

    store.clock.advance(10 * HOUR);
    expect(await sut.prune()).toBe(10);
    const s = await stored();
    expect(s).toMatchObject({ n: 14, min: 35, max: 48 });
    expect(contiguous(s.ids)).toBe(true);
  });

  it('both limits: whichever deletes more wins, and rows written after a prune are counted', async () => {
    record(100, HOUR);
    const sut = retention({ maxAgeMs: 50 * HOUR, maxCount: 80 });

    await sut.prune();
    expect(await stored()).toMatchObject({ n: 50, min: 51, max: 100 });

    record(40, 1);
    await sut.prune();
    const s = await stored();
    expect(s).toMatchObject({ n: 80, max: 140, min: 61 });
    expect(contiguous(s.ids)).toBe(true);
    expect(sut.rows).toBe(80);
  });

  it('keeps everything with no limits set, and the next Grid continues the ids after the newest kept row', async () => {
    record(10, HOUR);
    expect(await retention({}).prune()).toBe(0);
    expect((await stored()).n).toBe(10);

    await retention({ maxCount: 3 }).prune();
    await store.close();
    const again = await openTestStore({ dir: store.dir });
    store = again;
    expect(again.events.record({ type: 't.noted', reason: 'T', message: 'm', explain: 'e' }).id).toBe(11);
  });
});
