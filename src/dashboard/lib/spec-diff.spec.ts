import { changedFields, formatValue } from './spec-diff.js';

describe(changedFields.name, () => {
  it.each<[string, unknown, unknown, ReturnType<typeof changedFields>]>([
    ['nothing changed', { spec: { replicas: 3 } }, { spec: { replicas: 3 } }, []],
    ['a scalar', { spec: { replicas: 3 } }, { spec: { replicas: 5 } }, [{ path: 'spec.replicas', from: 3, to: 5 }]],
    ['defaults the YAML leaves out are not changes', { spec: { replicas: 3, terminationGracePeriodSeconds: 30 } }, { spec: { replicas: 3 } }, []],
    ['a new field', { spec: {} }, { spec: { image: 'x' } }, [{ path: 'spec.image', from: null, to: 'x' }]],
    [
      'a list compares whole',
      { spec: { env: [{ name: 'VERSION', value: 'v1' }] } },
      { spec: { env: [{ name: 'VERSION', value: 'v2' }] } },
      [{ path: 'spec.env', from: [{ name: 'VERSION', value: 'v1' }], to: [{ name: 'VERSION', value: 'v2' }] }],
    ],
    ['a whole new section', { spec: {} }, { spec: { rollout: { strategy: 'Canary' } } }, [{ path: 'spec.rollout', from: null, to: { strategy: 'Canary' } }]],
  ])('%s', (_, from, to, expected) => {
    expect(changedFields(from, to)).toEqual(expected);
  });
});

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
