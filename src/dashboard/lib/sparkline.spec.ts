import { sparkPoints } from './sparkline.js';

describe(sparkPoints.name, () => {
  it.each<[string, (number | null)[], string]>([
    ['nothing', [], ''],
    ['one point at the left', [5], '2.0,2.0'],
    ['scaled to the largest value', [0, 10, 5], '2.0,18.0 51.0,2.0 100.0,10.0'],
    ['a failed check is drawn at the top', [0, null], '2.0,18.0 100.0,2.0'],
  ])('%s', (_, values, expected) => {
    expect(sparkPoints(values, 102, 20)).toBe(expected);
  });
});
