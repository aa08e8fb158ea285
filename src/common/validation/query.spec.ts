import { GridException } from '../errors/grid.exception.js';
import { boolParam } from './query.js';

describe(boolParam.name, () => {
  it.each([
    [undefined, false, false],
    [undefined, true, true],
    ['true', false, true],
    ['false', true, false],
  ])('reads %p (default %p) as %p', (value, def, want) => {
    expect(boolParam(value, 'purge', def)).toBe(want);
  });

  it.each([['1'], ['0'], ['TRUE'], ['False'], ['yes'], [''], [['true', 'true']]])('refuses %p with a 400 naming the parameter', (value) => {
    let err: unknown;
    try {
      boolParam(value, 'purge', false);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GridException);
    expect((err as GridException).message).toMatch(/^purge: must be (true or false|given once)/);
  });
});
