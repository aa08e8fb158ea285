import { pickPods, type PickablePod } from './pick-pods.js';

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
