import { openTestStore, removeStore, type TestStore } from '../../../test/utils/database.js';
import type { GridEventRecord } from '../../common/events/event-map.js';
import { EventsService } from './events.service.js';

describe(EventsService.name, () => {
  let store: TestStore;
  let sut: EventsService;

  beforeEach(async () => {
    store = await openTestStore();
    sut = store.events;
  });
  afterEach(async () => {
    await store.close();
    removeStore(store.dir);
  });

  const note = (service: string, message: string) => sut.record({ type: 'test.noted', service, reason: 'Test', message, explain: message });

  it("keeps a deleted service's events out of the history of a new service of the same name", () => {
    sut.bindService('api', 'first');
    note('api', 'old life');
    sut.bindService('api', 'second');
    note('api', 'new life');

    expect(sut.query({ service: 'api', limit: 10 }).map((e) => e.message)).toEqual(['new life']);
    expect(sut.query({ service: 'api', serviceUid: 'first', limit: 10 }).map((e) => e.message)).toEqual(['old life']);
    expect(sut.lastEvents(10, 'api').map((e) => e.message)).toEqual(['new life']);
    expect(sut.after(0, 'api', 10).map((e) => e.message)).toEqual(['new life']);
  });

  it('writes events in a batch after 100 ms of the clock, and reads them back after a restart', async () => {
    note('api', 'one');
    note('api', 'two');
    expect(sut.written).toBe(0);

    store.clock.advance(100);
    expect(sut.written).toBe(2);

    const again = new EventsService(store.clock, store.ds, store.bus, store.metrics, store.storage);
    await again.onModuleInit();
    expect(again.lastEvents(10).map((e) => e.message)).toEqual(['one', 'two']);
    expect(again.record({ type: 'test.noted', reason: 'Test', message: 'three', explain: 'three' }).id).toBe(3);
  });

  it('keeps events it could not write, counts the failure and writes them once the database takes them', async () => {
    await store.ds.query('ALTER TABLE events RENAME TO events_away');
    note('api', 'kept');
    store.clock.advance(100);
    const errors = async () => (await store.metrics.persistErrors.get()).values.find((v) => v.labels.store === 'events')?.value;
    expect(await errors()).toBe(1);

    await store.ds.query('ALTER TABLE events_away RENAME TO events');
    store.clock.advance(1000);

    expect(sut.written).toBe(1);
    expect(sut.query({ limit: 10 }).map((e) => e.message)).toEqual(['kept']);
  });

  describe('what leaves the process (SSE)', () => {
    const maxWritten = () => (store.ds.driver as unknown as { databaseConnection: { prepare(q: string): { get(): { max: number | null } } } }).databaseConnection.prepare('SELECT MAX(id) AS max FROM events').get().max ?? 0;
    /** What a subscriber saw, and the newest written id at the moment it saw each event. */
    const watch = () => {
      const seen: { id: number; message: string; persisted: boolean; writtenThen: number }[] = [];
      sut.subscribe((e, persisted) => seen.push({ id: e.id, message: e.message, persisted, writtenThen: maxWritten() }));
      return seen;
    };

    it('tells subscribers of an event only after the batch that wrote it, in id order, while the bus hears at once', () => {
      const onBus: number[] = [];
      store.bus.on('event.recorded', (e) => {
        onBus.push(e.id);
      });
      const seen = watch();
      const ids = ['one', 'two', 'three'].map((m) => note('api', m).id);

      expect(onBus).toEqual(ids);
      expect(seen).toEqual([]);
      store.clock.advance(9);
      expect(seen).toEqual([]);

      store.clock.advance(1);
      expect(seen.map((s) => s.id)).toEqual(ids);
      expect(seen.every((s) => s.persisted && s.writtenThen >= s.id)).toBe(true);

      note('api', 'four');
      store.clock.advance(10);
      expect(seen.map((s) => s.message)).toEqual(['one', 'two', 'three', 'four']);
    });

    it('writes after 100 ms with no subscriber, after 10 ms with one', () => {
      note('api', 'alone');
      store.clock.advance(10);
      expect(sut.written).toBe(0);
      store.clock.advance(90);
      expect(sut.written).toBe(1);

      watch();
      note('api', 'watched');
      store.clock.advance(10);
      expect(sut.written).toBe(2);
    });

    it('replays on connect only events already streamed', () => {
      note('api', 'written');
      store.clock.advance(100);
      note('api', 'pending');

      expect(sut.lastEvents(10).map((e) => e.message)).toEqual(['written']);
      expect(sut.lastEvents(10, 'api').map((e) => e.message)).toEqual(['written']);
    });

    it('streams events at once, flagged unwritten, while the data dir is degraded, and writes them with the same ids on recovery', async () => {
      store.storage.onModuleInit();
      try {
        const seen = watch();
        // Reads work and writes fail, as on a full disk.
        await store.ds.query("CREATE TRIGGER full BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
        const held = note('api', 'held');
        store.clock.advance(10);
        expect(seen).toEqual([]);

        store.storage.noteWriteError(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
        const during = note('api', 'during');
        expect(seen.map((s) => [s.id, s.persisted])).toEqual([
          [held.id, false],
          [held.id + 1, false],
          [during.id, false],
        ]);
        expect(seen.every((s) => s.writtenThen === 0)).toBe(true);
        expect(sut.lastEvents(10).map((e) => e.type)).toEqual(['test.noted', 'storage.degraded', 'test.noted']);
        expect(sut.lastEvents(10).map((e) => e.id)).toEqual(seen.map((s) => s.id));
        expect(sut.resume(held.id, undefined, 10)).toEqual({ reset: null, events: [expect.objectContaining({ id: held.id + 1 }), expect.objectContaining({ id: during.id })] });

        await store.ds.query('DROP TRIGGER full');
        store.storage.probe();

        expect(seen.slice(3).map((s) => [s.message.startsWith('data dir writable again'), s.persisted])).toEqual([[true, true]]);
        const rows = sut.query({ limit: 10 });
        expect(rows.map((e) => e.id)).toEqual(seen.map((s) => s.id));
        expect(rows.find((e) => e.id === held.id)?.message).toBe('held');
        expect(rows.find((e) => e.id === during.id)?.message).toBe('during');
      } finally {
        store.storage.onModuleDestroy();
      }
    });

    it('resumes a Last-Event-ID from the log, and one no Grid wrote with a reset to where this Grid started', async () => {
      for (const m of ['one', 'two', 'three']) note('api', m);
      store.clock.advance(100);
      expect(sut.resume(1, undefined, 10)).toEqual({ reset: null, events: [expect.objectContaining({ id: 2 }), expect.objectContaining({ id: 3 })] });

      // A crashed Grid streamed 4..7 and wrote none of them: the next one hands out 4 again.
      const again = new EventsService(store.clock, store.ds, store.bus, store.metrics, store.storage);
      await again.onModuleInit();
      again.record({ type: 'test.noted', reason: 'Test', message: 'new four', explain: 'new four' });
      const r = again.resume(7, undefined, 10);

      expect(r.reset).toEqual({ lastEventId: 7, newestId: 4, resumeAfter: 3 });
      expect(r.events.map((e: GridEventRecord) => [e.id, e.message])).toEqual([[4, 'new four']]);
      again.onApplicationShutdown();
    });
  });
});
