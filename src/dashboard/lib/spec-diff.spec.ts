import { formatValue } from './spec-diff.js';

describe(formatValue.name, () => {
  it.each<[unknown, string]>([
    [null, '—'],
    ['v2', 'v2'],
    [3, '3'],
    [{ a: 1 }, '{"a":1}'],
    ['x'.repeat(200), 'x'.repeat(200)],
    [['y'.repeat(200)], '["' + 'y'.repeat(115) + '…'],
  ])('%j → %s', (v, expected) => {
    expect(formatValue(v)).toBe(expected);
  });
});
