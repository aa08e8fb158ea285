import { nextPruneStep, type StoredEventHead } from './retention.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);

/** Events with ids from..to, one per `everyMs`, the last one `lastAgeMs` before NOW. */
function heads(from: number, to: number, lastAgeMs: number, everyMs = 1000): StoredEventHead[] {
  const out: StoredEventHead[] = [];
  for (let id = from; id <= to; id++) out.push({ id, time: NOW - lastAgeMs - (to - id) * everyMs });
  return out;
}

describe(nextPruneStep.name, () => {
  const sut = nextPruneStep;

  it.each([
    { name: 'an empty log: nothing', oldest: [], count: 0, settings: { maxAgeMs: DAY, maxCount: 10 }, want: { throughId: undefined, rows: 0, because: 'none' } },
    { name: 'no limits: nothing', oldest: heads(1, 10, 400 * DAY), count: 10, settings: {}, want: { throughId: undefined, rows: 0, because: 'none' } },
    { name: 'within both limits: nothing', oldest: heads(1, 10, 0), count: 10, settings: { maxAgeMs: DAY, maxCount: 10 }, want: { throughId: undefined, rows: 0, because: 'none' } },
    { name: 'over the count: the surplus oldest rows', oldest: heads(1, 10, 0), count: 13, settings: { maxCount: 10 }, want: { throughId: 3, rows: 3, because: 'count' } },
    { name: 'count surplus larger than the batch: one batch', oldest: heads(5, 9, 0), count: 100, settings: { maxCount: 10 }, want: { throughId: 9, rows: 5, because: 'count' } },
    // ids 1..10, one second apart, id 10 five seconds old: ids 1..4 are older than 10 s.
    { name: 'older than maxAge: the leading old run', oldest: heads(1, 10, 5000), count: 10, settings: { maxAgeMs: 10_000 }, want: { throughId: 4, rows: 4, because: 'age' } },
    { name: 'exactly maxAge old is kept', oldest: heads(1, 1, 10_000), count: 1, settings: { maxAgeMs: 10_000 }, want: { throughId: undefined, rows: 0, because: 'none' } },
    { name: 'one ms past maxAge goes', oldest: heads(1, 1, 10_001), count: 1, settings: { maxAgeMs: 10_000 }, want: { throughId: 1, rows: 1, because: 'age' } },
    { name: 'the whole batch is old: all of it (the caller asks again)', oldest: heads(1, 5, 2 * DAY), count: 1000, settings: { maxAgeMs: DAY, maxCount: 100_000 }, want: { throughId: 5, rows: 5, because: 'age' } },
    { name: 'both: the larger of the two', oldest: heads(1, 10, 5000), count: 12, settings: { maxAgeMs: 10_000, maxCount: 10 }, want: { throughId: 4, rows: 4, because: 'count+age' } },
    { name: 'both, count asks more', oldest: heads(1, 10, 5000), count: 17, settings: { maxAgeMs: 10_000, maxCount: 10 }, want: { throughId: 7, rows: 7, because: 'count+age' } },
    {
      name: 'a clock stepped back: the age run stops at the first young row, so no hole in the ids',
      oldest: [{ id: 1, time: NOW - 2 * DAY }, { id: 2, time: NOW - 1000 }, { id: 3, time: NOW - 3 * DAY }, { id: 4, time: NOW }],
      count: 4,
      settings: { maxAgeMs: DAY },
      want: { throughId: 1, rows: 1, because: 'age' },
    },
    { name: 'ids need not start at 1 (earlier pruning)', oldest: heads(501, 510, 0), count: 10, settings: { maxCount: 8 }, want: { throughId: 502, rows: 2, because: 'count' } },
  ])('$name', ({ oldest, count, settings, want }) => {
    expect(sut(oldest, count, settings, NOW)).toEqual(want.throughId === undefined ? { rows: 0, because: 'none' } : want);
  });

  it('run to completion with a fake clock, keeps a contiguous suffix of the newest ids within both limits', () => {
    // 10,000 events one minute apart; keep 2 days and at most 2,000 rows; batches of 300.
    let log = heads(1, 10_000, 0, 60_000);
    const settings = { maxAgeMs: 2 * DAY, maxCount: 2000 };
    for (let steps = 0; steps < 1000; steps++) {
      const step = sut(log.slice(0, 300), log.length, settings, NOW);
      if (step.throughId === undefined) break;
      expect(step.rows).toBeLessThanOrEqual(300);
      log = log.filter((e) => e.id > step.throughId!);
    }
    const ids = log.map((e) => e.id);
    expect(ids[ids.length - 1]).toBe(10_000);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => ids[0] + i));
    expect(ids.length).toBe(Math.min(2000, 2 * 24 * 60 + 1));
  });
});
