import { pickPods, planPause, type PickablePod } from './pick-pods.js';

const pod = (id: string, over: Partial<PickablePod> = {}): PickablePod => ({ id, version: 'v1', phase: 'Ready', ready: true, createdAt: 0, ...over });

describe(pickPods.name, () => {
  const pods: PickablePod[] = [
    pod('a', { phase: 'Running', ready: false, createdAt: 1 }),
    pod('b', { createdAt: 5 }),
    pod('c', { createdAt: 2 }),
    pod('d', { version: 'v2', createdAt: 0 }),
    pod('e', { phase: 'Terminating', ready: false, createdAt: 0 }),
    pod('f', { phase: 'CrashLoopBackOff', ready: false, createdAt: 0 }),
    pod('g', { paused: true, createdAt: 0 }),
    pod('h', { version: 'v2', phase: 'Starting', ready: false, createdAt: 3 }),
  ];

  it.each<[string, Parameters<typeof pickPods>[1], string[]]>([
    ['kill: Ready first, oldest first, never a Terminating pod', { kind: 'kill', count: 10 }, ['d', 'g', 'c', 'b', 'f', 'a', 'h']],
    ['kill: count caps the pick', { kind: 'kill', count: 2 }, ['d', 'g']],
    ['kill: only the given version', { kind: 'kill', count: 10, version: 'v2' }, ['d', 'h']],
    ['pause: only running, not already paused, processes', { kind: 'pause', count: 10 }, ['d', 'c', 'b', 'a']],
    ['pause: version v1, one pod: the oldest Ready', { kind: 'pause', count: 1, version: 'v1' }, ['c']],
    ['pause: a version with nothing running', { kind: 'pause', count: 3, version: 'v3' }, []],
    ['pause: v2 has one running pod of two', { kind: 'pause', count: 2, version: 'v2' }, ['d']],
  ])('%s', (_name, want, ids) => {
    expect(pickPods(pods, want).map((p) => p.id)).toEqual(ids);
  });

  it('ties on readiness and age are broken by id, so the pick does not depend on listing order', () => {
    const same = [pod('y'), pod('x'), pod('z')];
    expect(pickPods(same, { kind: 'pause', count: 2 }).map((p) => p.id)).toEqual(['x', 'y']);
    expect(pickPods([...same].reverse(), { kind: 'pause', count: 2 }).map((p) => p.id)).toEqual(['x', 'y']);
  });
});

describe(planPause.name, () => {
  const three = [pod('a', { createdAt: 1 }), pod('b', { createdAt: 2 }), pod('c', { createdAt: 3, version: 'v2' })];
  const plan = (pods: PickablePod[], want: Omit<Parameters<typeof planPause>[1], 'service'>) => {
    const p = planPause(pods, { service: 'api', ...want });
    return 'pods' in p ? p.pods.map((x) => x.id) : `${p.field}: ${p.problem}`;
  };

  it.each<[string, PickablePod[], Omit<Parameters<typeof planPause>[1], 'service'>, string[] | RegExp]>([
    ['one pod of three by default', three, {}, ['a']],
    ['two of three leave one running', three, { count: 2 }, ['a', 'b']],
    ['a count above the running pods names count', three, { count: 5 }, /^count: asks for 5, api has 3 running pods$/],
    ['even with all', three, { count: 5, all: true }, /^count: asks for 5/],
    ['above the running pods of a version', three, { count: 2, version: 'v2' }, /^count: asks for 2, api has 1 running pod of version v2$/],
    ['every running pod is an outage without all', three, { count: 3 }, /^all: pausing 3 pods would freeze every pod of api \(3 of 3\): a full outage, which a PodDisruptionBudget would refuse/],
    ['every running pod with all', three, { count: 3, all: true }, ['a', 'b', 'c']],
    ['all without count takes every running pod', three, { all: true }, ['a', 'b', 'c']],
    ['all with a version takes that version', three, { all: true, version: 'v1' }, ['a', 'b']],
    ['a single-pod service needs all', [pod('a')], {}, /^all: pausing 1 pod would freeze every pod of api \(1 of 1\)/],
    ['the last pod not yet paused counts as every pod', [pod('a'), pod('b', { paused: true })], {}, /^all: .*\(2 of 2\)/],
    ['a version-scoped pause leaving the stable running is fine', three, { version: 'v2' }, ['c']],
    ['a version-scoped pause of the last running pods needs all', [pod('a', { version: 'v2' }), pod('b', { phase: 'Starting', ready: false })], { version: 'v2' }, /^all: pausing 1 pod of version v2 would freeze every pod of api/],
    ['nothing running in scope: no pods, the caller says why', three, { version: 'v9' }, []],
  ])('%s', (_name, pods, want, expected) => {
    const got = plan(pods, want);
    if (expected instanceof RegExp) expect(got).toMatch(expected);
    else expect(got).toEqual(expected);
  });
});
