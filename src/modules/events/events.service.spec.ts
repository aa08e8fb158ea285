import { openTestStore, removeStore, type TestStore } from '../../../test/utils/database.js';
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
});
