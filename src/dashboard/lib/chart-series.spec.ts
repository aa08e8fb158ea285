import { latestText, seriesOf, toUnixSeconds, type History } from './chart-series.js';

const T0 = 1_800_000_000; // seconds

function hist(n: number, stepS = 5): History {
  return {
    stepSeconds: stepS,
    points: Array.from({ length: n }, (_, i) => ({ t: (T0 + i * stepS) * 1000, desired: 3, ready: i % 3, restarts: i, rps: i * 2, errorRate: 0.0125, p99Ms: 40 + i })),
  };
}

describe(seriesOf.name, () => {
  it.each([
    ['ready (with desired)', 'ready' as const, [0, 1, 2], [3, 3, 3]],
    ['restarts', 'restarts' as const, [0, 1, 2], undefined],
    ['rps', 'rps' as const, [0, 2, 4], undefined],
    ['errors as percent', 'errors' as const, [1.25, 1.25, 1.25], undefined],
    ['p99', 'p99' as const, [40, 41, 42], undefined],
  ])('%s', (_name, metric, ys, second) => {
    const sut = seriesOf(hist(3), metric);
    expect(sut[0]).toEqual([T0, T0 + 5, T0 + 10]);
    expect(sut[1]).toEqual(ys);
    expect(sut[2]).toEqual(second);
  });

  it('keeps only the last 15 minutes, oldest first', () => {
    const h = hist(300); // 25 minutes at 5 s
    h.points.reverse();
    const sut = seriesOf(h, 'rps');
    expect(sut[0].length).toBe(180);
    expect(sut[0][0]).toBe(T0 + 120 * 5);
    expect(sut[0][179]).toBe(T0 + 299 * 5);
  });

  it('gives empty columns for no history', () => {
    expect(seriesOf(null, 'p99')).toEqual([[], []]);
  });
});

describe(toUnixSeconds.name, () => {
  it.each([
    [T0 * 1000, T0],
    [T0, T0],
    [new Date(T0 * 1000).toISOString(), T0],
  ])('%p → %p', (input, out) => expect(toUnixSeconds(input)).toBe(out));
});

describe(latestText.name, () => {
  it.each([
    [[[], []], '', 'no history yet'],
    [[[1, 2], [1, 2.345]], ' ms', 'now 2.3 ms'],
    [[[1], [1234.5]], '/s', 'now 1235/s'],
  ])('%j → %s', (series, unit, out) => expect(latestText(series as number[][], unit)).toBe(out));
});
