import { FakeClock } from '../../common/clock/fake-clock.js';
import { WorkQueue } from './work-queue.js';

/** Polls until cond() holds; fails after timeoutMs instead of hanging the suite. */
async function until(cond: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A queue that records every processed key and the highest number of keys in process at once. */
function recording(onProcess?: (key: string, sut: WorkQueue, calls: string[]) => void, chunk?: number) {
  const clock = new FakeClock(1_000);
  const calls: string[] = [];
  let inFlight = 0;
  const probe = { calls, maxInFlight: 0 };
  const sut: WorkQueue = new WorkQueue(
    (key) => {
      inFlight++;
      probe.maxInFlight = Math.max(probe.maxInFlight, inFlight);
      try {
        calls.push(key);
        onProcess?.(key, sut, calls);
      } finally {
        inFlight--;
      }
    },
    clock,
    chunk,
  );
  return { sut, probe, clock };
}

describe(WorkQueue.name, () => {
  const queues: WorkQueue[] = [];
  const track = <T extends { sut: WorkQueue }>(q: T): T => {
    queues.push(q.sut);
    return q;
  };
  afterEach(() => {
    for (const q of queues.splice(0)) q.stop();
  });

  it('processes a key added 5 times before processing once', async () => {
    const { sut, probe } = track(recording());

    for (let i = 0; i < 5; i++) sut.add('api');

    expect(sut.length).toBe(1);
    expect(probe.calls).toEqual([]);
    await sut.drained();
    expect(probe.calls).toEqual(['api']);
    expect(sut.length).toBe(0);
  });

  it('processes distinct keys once each, in the order first added', async () => {
    const { sut, probe } = track(recording());

    for (const k of ['a', 'b', 'a', 'c', 'b']) sut.add(k);
    await sut.drained();

    expect(probe.calls).toEqual(['a', 'b', 'c']);
  });

  it('processes a key re-added while being processed again afterwards, never re-entrantly', async () => {
    const seenDuringNestedAdd: number[] = [];
    const { sut, probe } = track(
      recording((key, q, calls) => {
        if (calls.length === 1) {
          q.add(key);
          q.add(key);
          seenDuringNestedAdd.push(calls.length);
        }
      }),
    );

    sut.add('api');
    await sut.drained();

    expect(seenDuringNestedAdd).toEqual([1]);
    expect(probe.calls).toEqual(['api', 'api']);
    expect(probe.maxInFlight).toBe(1);
  });

  it('keeps re-processing a key that re-adds itself until it stops, one run at a time', async () => {
    const { sut, probe } = track(
      recording((key, q, calls) => {
        if (calls.length < 4) q.add(key);
      }),
    );

    sut.add('api');
    await sut.drained();

    expect(probe.calls).toEqual(['api', 'api', 'api', 'api']);
    expect(probe.maxInFlight).toBe(1);
  });

  it('processes every key when more keys are queued than one chunk holds', async () => {
    const { sut, probe } = track(recording(undefined, 2));
    const keys = ['k0', 'k1', 'k2', 'k3', 'k4'];

    for (const k of keys) sut.add(k);
    await sut.drained();

    expect(probe.calls).toEqual(keys);
  });

  it('yields to the event loop between chunks', async () => {
    const order: string[] = [];
    const { sut } = track(recording((key) => order.push(key), 2));

    for (const k of ['k0', 'k1', 'k2', 'k3']) sut.add(k);
    setImmediate(() => order.push('other work'));
    await sut.drained();

    expect(order).toEqual(['k0', 'k1', 'other work', 'k2', 'k3']);
  });

  describe('addAfter', () => {
    it('replaces a later deadline with an earlier one', async () => {
      const { sut, probe, clock } = track(recording());

      sut.addAfter('api', 60_000);
      sut.addAfter('api', 5);
      clock.advance(4);
      await sut.drained();
      expect(probe.calls).toEqual([]);

      clock.advance(1);
      await sut.drained();
      expect(probe.calls).toEqual(['api']);
    });

    it('keeps an earlier deadline when a later one is requested', async () => {
      const { sut, probe, clock } = track(recording());

      sut.addAfter('api', 5);
      sut.addAfter('api', 60_000);
      clock.advance(5);
      await sut.drained();

      expect(probe.calls).toEqual(['api']);
    });

    it('cancels the replaced timer, so the key runs once', async () => {
      const { sut, probe, clock } = track(recording());

      sut.addAfter('api', 40);
      sut.addAfter('api', 5);
      clock.advance(5);
      await sut.drained();
      clock.advance(100);
      await sut.drained();

      expect(probe.calls).toEqual(['api']);
      expect(clock.pending).toBe(0);
    });

    it('does not count delayed keys as queued', async () => {
      const { sut, probe } = track(recording());

      sut.addAfter('api', 60_000);

      expect(sut.length).toBe(0);
      await sut.drained();
      expect(probe.calls).toEqual([]);
    });

    it('tells onDue when a delayed key comes due, before it runs', async () => {
      const clock = new FakeClock();
      const seen: string[] = [];
      const sut = new WorkQueue((k) => seen.push(`run ${k}`), clock, 500, (k) => seen.push(`due ${k}`));
      queues.push(sut);

      sut.addAfter('api', 10);
      clock.advance(10);
      await sut.drained();

      expect(seen).toEqual(['due api', 'run api']);
    });
  });

  describe('drained', () => {
    it('resolves at once when nothing is queued', async () => {
      const { sut } = track(recording());

      await expect(sut.drained()).resolves.toBeUndefined();
    });

    it('resolves every waiter only after all queued keys ran', async () => {
      const { sut, probe } = track(recording());
      const seen: number[][] = [];

      for (const k of ['a', 'b', 'c']) sut.add(k);
      await Promise.all([sut.drained().then(() => seen.push([probe.calls.length])), sut.drained().then(() => seen.push([probe.calls.length]))]);

      expect(seen).toEqual([[3], [3]]);
    });

    it('waits for keys re-added during processing', async () => {
      const { sut, probe } = track(
        recording((key, q) => {
          if (key === 'a') q.add('b');
        }),
      );

      sut.add('a');
      await sut.drained();

      expect(probe.calls).toEqual(['a', 'b']);
    });
  });

  describe('stop', () => {
    it('drops queued and delayed keys and ignores later adds', async () => {
      const { sut, probe, clock } = track(recording());

      sut.add('queued');
      sut.addAfter('delayed', 5);
      sut.stop();
      sut.add('after-stop');
      sut.addAfter('after-stop-delayed', 1);

      expect(sut.length).toBe(0);
      expect(clock.pending).toBe(0);
      clock.advance(60);
      await sut.drained();
      expect(probe.calls).toEqual([]);
    });

    it('stops processing the rest of a batch and still resolves drained()', async () => {
      const { sut, probe } = track(
        recording((key, q) => {
          if (key === 'a') q.stop();
        }),
      );

      for (const k of ['a', 'b', 'c']) sut.add(k);
      let drained = false;
      void sut.drained().then(() => (drained = true));

      await until(() => drained);
      expect(probe.calls).toEqual(['a']);
    });
  });
});
