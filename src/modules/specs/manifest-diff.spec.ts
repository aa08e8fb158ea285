import { manifestChanges, MAX_CHANGES } from './manifest-diff.js';

describe(manifestChanges.name, () => {
  const cases: Array<{ name: string; from: unknown; to: unknown; want: unknown }> = [
    { name: 'nothing changed', from: { spec: { replicas: 2 } }, to: { spec: { replicas: 2 } }, want: [] },
    { name: 'a scalar', from: { spec: { replicas: 2 } }, to: { spec: { replicas: 3 } }, want: [{ path: 'spec.replicas', from: 2, to: 3 }] },
    { name: 'an added and a removed key', from: { spec: { env: { A: '1' } } }, to: { spec: { env: { B: '2' } } }, want: [{ path: 'spec.env.A', from: '1' }, { path: 'spec.env.B', to: '2' }] },
    { name: 'array items by index', from: { spec: { command: ['node', 'a.js'] } }, to: { spec: { command: ['node', 'b.js', '--x'] } }, want: [{ path: 'spec.command[1]', from: 'a.js', to: 'b.js' }, { path: 'spec.command[2]', to: '--x' }] },
    { name: 'keys that are not identifiers are quoted', from: { m: { 'a.b/c': 1 } }, to: { m: { 'a.b/c': 2 } }, want: [{ path: 'm["a.b/c"]', from: 1, to: 2 }] },
    { name: 'object replaced by a scalar is one change', from: { spec: { probe: { path: '/' } } }, to: { spec: { probe: null } }, want: [{ path: 'spec.probe', from: { path: '/' }, to: null }] },
    { name: 'nothing before: every leaf is new', from: undefined, to: { spec: { replicas: 1 } }, want: [{ path: '', to: { spec: { replicas: 1 } } }] },
  ];
  it.each(cases)('$name', ({ from, to, want }) => {
    expect(manifestChanges(from, to)).toEqual(want);
  });

  it(`stops at ${MAX_CHANGES} changes`, () => {
    const a = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i]));
    const b = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i + 1]));
    expect(manifestChanges(a, b)).toHaveLength(MAX_CHANGES);
  });
});
