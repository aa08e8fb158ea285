import { conflictMessage, faultConflict, unknownVersion } from './fault-scope.js';

describe('faultConflict', () => {
  const v2 = { id: 'faults-v2', version: 'v2' };
  const all = { id: 'faults-all' };
  it.each([
    ['nothing running', [], 'v2', undefined],
    ['another version', [v2], 'v1', undefined],
    ['the same version', [v2], 'v2', v2],
    ['a service-wide rule blocks a version rule', [all], 'v1', all],
    ['a version rule blocks a service-wide rule', [v2], undefined, v2],
    ['two service-wide rules', [all], undefined, all],
  ])('%s', (_, running, version, expected) => expect(faultConflict(running, version)).toEqual(expected));

  it('names the experiment, its scope and how to stop it', () => {
    expect(conflictMessage('api', { id: 'faults-ab12', version: 'v2' })).toBe('faults-ab12 already injects faults into api v2; stop it first (DELETE /chaos/experiments/faults-ab12)');
    expect(conflictMessage('api', { id: 'faults-ab12' })).toMatch(/into api \(every version\)/);
  });
});

describe('unknownVersion', () => {
  it.each([
    ['a known version', 'v2', ['v1', 'v2', 'v2'], undefined],
    ['a typo lists the versions there are', 'v9', ['v2', 'v1', 'v2'], /version 'v9' of service 'api' not found: it has v1, v2/],
    ['a service with no version yet', 'v1', [], /it has no version yet/],
  ])('%s', (_, version, known, expected) => {
    const got = unknownVersion('api', version, known);
    if (expected === undefined) expect(got).toBeUndefined();
    else expect(got).toMatch(expected);
  });
});
