import { GridException } from '../../common/errors/grid.exception.js';
import { scaleChange } from './scale-change.js';

type Q = { delta?: string; replicas?: string };

describe(scaleChange.name, () => {
  const sut = scaleChange;

  it.each<[Q, object]>([
    [{ delta: '1' }, { delta: 1 }],
    [{ delta: '-3' }, { delta: -3 }],
    [{ replicas: '0' }, { replicas: 0 }],
    [{ replicas: '7' }, { replicas: 7 }],
  ])('%j → %j', (q, want) => {
    expect(sut(q.delta, q.replicas)).toEqual(want);
  });

  it.each<[Q, string, string]>([
    [{}, 'delta', 'is required'],
    [{ delta: '1', replicas: '2' }, 'replicas', 'not both'],
    [{ replicas: '1001' }, 'replicas', '0..1000'],
    [{ replicas: '-1' }, 'replicas', '0..1000'],
    [{ replicas: 'two' }, 'replicas', 'integer'],
    [{ delta: 'x' }, 'delta', 'integer'],
    // Empty is a value given, not an absent one: `replicas=1&delta=` is as ambiguous as both.
    [{ delta: '', replicas: '4' }, 'replicas', 'not both'],
    [{ delta: '' }, 'delta', 'is required'],
    [{ replicas: '' }, 'replicas', 'is required'],
  ])('%j is refused naming %s', (q, field, text) => {
    let err: unknown;
    try {
      sut(q.delta, q.replicas);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GridException);
    expect((err as GridException).errors?.[0].path).toBe(field);
    expect((err as GridException).message).toContain(text);
  });
});
