import { VersionStats, WINDOW_SECONDS } from './stats.js';

const T0 = 1_700_000_000_000;

describe(VersionStats.name, () => {
  it('counts requests and 5xx in a window, per version', () => {
    const sut = new VersionStats();
    for (let i = 0; i < 18; i++) sut.record('api', 'v2', 200, 3, T0 + i * 100);
    sut.record('api', 'v2', 503, 3, T0 + 2000);
    sut.record('api', 'v2', 500, 3, T0 + 2500);
    sut.record('api', 'v1', 500, 3, T0 + 2500);

    expect(sut.window('api', 'v2', T0, T0 + 3000)).toMatchObject({ requests: 20, errors5xx: 2, errorRate: 0.1 });
    expect(sut.window('api', 'v1', T0, T0 + 3000)).toMatchObject({ requests: 1, errors5xx: 1, errorRate: 1 });
  });

  it('leaves out seconds before sinceMs and beyond the ring', () => {
    const sut = new VersionStats();
    sut.record('api', 'v1', 500, 3, T0);
    sut.record('api', 'v1', 200, 3, T0 + 10_000);
    sut.record('api', 'v1', 200, 3, T0 + 11_000);

    expect(sut.window('api', 'v1', T0 + 10_000, T0 + 12_000)).toMatchObject({ requests: 2, errors5xx: 0, errorRate: 0 });
    expect(sut.window('api', 'v1', T0, T0 + (WINDOW_SECONDS + 5) * 1000).requests).toBe(2);
    expect(sut.window('api', 'v1', T0, T0 + (WINDOW_SECONDS + 20) * 1000).requests).toBe(0);
  });

  it('overwrites a reused ring slot instead of adding to it', () => {
    const sut = new VersionStats();
    sut.record('api', 'v1', 200, 3, T0);
    const later = T0 + WINDOW_SECONDS * 1000;
    sut.record('api', 'v1', 200, 3, later);

    expect(sut.window('api', 'v1', later, later).requests).toBe(1);
  });

  it.each([
    { name: 'all fast', latencies: Array(100).fill(3), p50: 5, p99: 5 },
    { name: 'one slow in 100', latencies: [...Array(99).fill(3), 700], p50: 5, p99: 5 },
    { name: 'two slow in 100', latencies: [...Array(98).fill(3), 700, 700], p50: 5, p99: 1000 },
    { name: 'bucket bounds are inclusive', latencies: [10, 10, 25, 25], p50: 10, p99: 25 },
    { name: 'overflow reports the max seen', latencies: [...Array(50).fill(1), ...Array(50).fill(12_345)], p50: 1, p99: 12_345 },
  ])('estimates percentiles as the upper bound of the bucket: $name', ({ latencies, p50, p99 }) => {
    const sut = new VersionStats();
    latencies.forEach((ms) => sut.record('api', 'v1', 200, ms, T0));

    expect(sut.window('api', 'v1', T0, T0)).toMatchObject({ p50Ms: p50, p99Ms: p99 });
  });

  it('counts faulted requests apart: they stay out of the window analysis reads and out of the totals', () => {
    const sut = new VersionStats();
    sut.record('api', 'v2', 200, 3, T0);
    sut.recordFault('api', 'v2', true, false, T0);
    sut.recordFault('api', 'v2', true, true, T0);
    sut.recordFault('api', 'v2', false, true, T0);

    expect(sut.window('api', 'v2', T0, T0)).toMatchObject({ requests: 1, errors5xx: 0, errorRate: 0 });
    expect(sut.totals('api')[0]).toMatchObject({ requests: 1, errors5xx: 0, faults: { aborted: 2, delayed: 2 } });
  });

  it('returns zeros for an unknown version', () => {
    const sut = new VersionStats();

    expect(sut.window('api', 'v9', T0, T0)).toEqual({ requests: 0, errors5xx: 0, errorRate: 0, p50Ms: 0, p99Ms: 0 });
    expect(sut.totals('api')).toEqual([]);
  });

  it('keeps cumulative totals by class and code', () => {
    const sut = new VersionStats();
    sut.record('api', 'v1', 200, 1, T0);
    sut.record('api', 'v1', 204, 2, T0 + 400_000);
    sut.record('api', 'v1', 404, 2, T0);
    sut.record('api', 'v1', 502, 40, T0);
    sut.recordConnectError('api', 'v1');

    const [v1] = sut.totals('api');
    expect(v1).toMatchObject({
      version: 'v1',
      requests: 4,
      errors5xx: 1,
      errorRate: 0.25,
      connectErrors: 1,
      byClass: { '1xx': 0, '2xx': 2, '3xx': 0, '4xx': 1, '5xx': 1 },
      byCode: { '200': 1, '204': 1, '404': 1, '502': 1 },
      p50Ms: 2,
      p99Ms: 50,
      maxMs: 40,
    });
    expect(v1.histogram.counts.reduce((a, b) => a + b, 0)).toBe(4);
  });

  it('forgets a version or a whole service', () => {
    const sut = new VersionStats();
    sut.record('api', 'v1', 200, 1, T0);
    sut.record('api', 'v2', 200, 1, T0);
    sut.forget('api', 'v1');
    expect(sut.totals('api').map((t) => t.version)).toEqual(['v2']);
    sut.forget('api');

    expect(sut.services()).toEqual([]);
  });

  describe('pruneIdle', () => {
    const W = WINDOW_SECONDS * 1000;
    it.each([
      { name: 'kept versions stay however old', keep: ['v1', 'v2'], lastAt: T0, now: T0 + 10 * W, dropped: [] },
      { name: 'a version left the route but served within the window stays', keep: [], lastAt: T0, now: T0 + W - 1000, dropped: [] },
      { name: 'versions that left the route and idled for the whole window go', keep: [], lastAt: T0, now: T0 + W, dropped: ['v1', 'v2'] },
      { name: 'only the idle one of two goes', keep: ['v2'], lastAt: T0, now: T0 + 2 * W, dropped: ['v1'] },
    ])('$name', ({ keep, lastAt, now, dropped }) => {
      const sut = new VersionStats();
      sut.record('api', 'v1', 200, 3, lastAt);
      sut.record('api', 'v2', 200, 3, lastAt);

      expect(sut.pruneIdle('api', new Set(keep), now)).toEqual(dropped);
      expect(sut.totals('api').map((t) => t.version).sort()).toEqual(['v1', 'v2'].filter((v) => !dropped.includes(v)));
    });

    it('forgets the service when no version is left', () => {
      const sut = new VersionStats();
      sut.record('api', 'v1', 200, 3, T0);

      sut.pruneIdle('api', new Set(), T0 + W);

      expect(sut.services()).toEqual([]);
    });
  });
});
