import { procStateOf, isFrozenState } from './proc-state.js';

describe(procStateOf.name, () => {
  it.each([
    ['1234 (node) S 1 1234 1234 0 -1 4194560', 'S'],
    ['1234 (node) T 1 1234 1234 0 -1 4194560', 'T'],
    ['1234 (my (odd) name) t 1 1234', 't'],
    ['1234 (a) b) R 1', 'R'],
    ['1234 (x) Z 1', 'Z'],
    ['', undefined],
    ['1234 node S', undefined],
    ['1234 (node)', undefined],
  ])('%j → %s', (stat, want) => {
    expect(procStateOf(stat)).toBe(want);
  });
});

describe(isFrozenState.name, () => {
  it.each([
    ['T', true],
    ['t', false],
    ['S', false],
    ['R', false],
    ['D', false],
    ['Z', false],
    [undefined, false],
  ])('state %s → resume %s', (state, want) => {
    expect(isFrozenState(state)).toBe(want);
  });
});
