import { warningsOf } from './export.js';

describe(warningsOf.name, () => {
  it.each([
    [undefined, []],
    ['299 - "web: a \\"quoted\\" word"', ['web: a "quoted" word']],
    ['299 - "a, b", 299 - "c"', ['a, b', 'c']],
    [['299 - "a"', '299 - "b"'], ['a', 'b']],
  ] as const)('%j → %j', (header, out) => expect(warningsOf(header as string | string[] | undefined)).toEqual(out));
});
