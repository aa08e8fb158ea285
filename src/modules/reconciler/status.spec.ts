import type { Pod } from '../runtime/pod.types.js';
import type { RolloutSpec, ServiceSpec } from '../specs/spec.types.js';
import type { DesiredService } from './plan.js';
import { computeStatus, sameStatus, setCondition, type Condition } from './status.js';
import { podFixture, specFixture } from '../../../test/utils/fixtures.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const iso = (t: number): string => new Date(t).toISOString();
const hashOf = (revision: number): string => `h${revision}`;

function pod(overrides: Partial<Pod> = {}): Pod {
  return podFixture({ createdAt: T0 - 60_000, readySince: T0 - 50_000 }, overrides);
}

function readyPods(n: number, revision: number): Pod[] {
  return Array.from({ length: n }, (_, i) => pod({ id: `r${revision}-${i}`, revision }));
}

function spec(rollout: Partial<RolloutSpec> = {}): ServiceSpec {
  return specFixture({}, rollout);
}

function desired(overrides: Partial<Omit<DesiredService, 'spec'>> & { rollout?: Partial<RolloutSpec> } = {}): DesiredService {
  const { rollout, ...rest } = overrides;
  const revision = rest.revision ?? 1;
  return { name: 'api', generation: 1, revision, templateHash: hashOf(revision), replicas: 3, spec: spec(rollout), ...rest };
}

function condition(conditions: Condition[], type: Condition['type']): Condition {
  const c = conditions.find((x) => x.type === type);
  if (!c) throw new Error(`no ${type} condition`);
  return c;
}

describe(computeStatus.name, () => {
  const sut = computeStatus;
  const now = T0;

  it('reports a converged service as Available, NewRevisionAvailable and not Degraded', () => {
    const status = sut(desired({ generation: 7 }), readyPods(3, 1), [], now);

    expect(status).toEqual({
      observedGeneration: 7,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      unavailableReplicas: 0,
      conditions: [
        { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: '3 of 3 replicas available (minimum 3)', lastTransitionTime: iso(now) },
        { type: 'Progressing', status: 'True', reason: 'NewRevisionAvailable', message: 'revision 1 has 3 available replicas', lastTransitionTime: iso(now) },
        { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no pod is crash-looping', lastTransitionTime: iso(now) },
      ],
    });
  });

  it.each([
    {
      name: 'all pods ready',
      replicas: 3,
      pods: readyPods(3, 1),
      want: { status: 'True', reason: 'MinimumReplicasAvailable', message: '3 of 3 replicas available (minimum 3)' },
    },
    {
      name: 'one of 3 missing (maxUnavailable 0)',
      replicas: 3,
      pods: readyPods(2, 1),
      want: { status: 'False', reason: 'MinimumReplicasUnavailable', message: '2 of 3 replicas available, fewer than the minimum 3' },
    },
    {
      name: 'two of 10 missing (maxUnavailable 2)',
      replicas: 10,
      pods: readyPods(8, 1),
      want: { status: 'True', reason: 'MinimumReplicasAvailable', message: '8 of 10 replicas available (minimum 8)' },
    },
    {
      name: 'three of 10 missing',
      replicas: 10,
      pods: readyPods(7, 1),
      want: { status: 'False', reason: 'MinimumReplicasUnavailable', message: '7 of 10 replicas available, fewer than the minimum 8' },
    },
    {
      name: 'a ready but Terminating pod does not count',
      replicas: 3,
      pods: [...readyPods(2, 1), pod({ id: 'going', phase: 'Terminating' })],
      want: { status: 'False', reason: 'MinimumReplicasUnavailable', message: '2 of 3 replicas available, fewer than the minimum 3' },
    },
    {
      name: 'zero replicas wanted',
      replicas: 0,
      pods: [],
      want: { status: 'True', reason: 'MinimumReplicasAvailable', message: '0 of 0 replicas available (minimum 0)' },
    },
  ])('Available: $name → $want.status', ({ replicas, pods, want }) => {
    const status = sut(desired({ replicas }), pods, [], now);

    expect(condition(status.conditions, 'Available')).toEqual({ type: 'Available', ...want, lastTransitionTime: iso(now) });
  });

  it('counts a pod as available only after minReadySeconds', () => {
    const pods = [...readyPods(2, 1), pod({ id: 'fresh', readySince: now - 2_000 })];

    const status = sut(desired({ rollout: { minReadySeconds: 5 } }), pods, [], now);

    expect([status.readyReplicas, status.availableReplicas, status.unavailableReplicas]).toEqual([3, 2, 1]);
    expect(condition(status.conditions, 'Available').status).toBe('False');
  });

  it.each([
    {
      name: 'rolling from revision 1 to 2',
      pods: [...readyPods(3, 1), pod({ id: 'new', revision: 2, phase: 'Running', ready: false, readySince: undefined })],
      want: { reason: 'RevisionUpdating', message: '1 of 3 pods on revision 2, 3 available' },
    },
    {
      name: 'rollout done',
      pods: readyPods(3, 2),
      want: { reason: 'NewRevisionAvailable', message: 'revision 2 has 3 available replicas' },
    },
    {
      name: 'new revision complete but one pod not ready yet',
      pods: [...readyPods(2, 2), pod({ id: 'new', revision: 2, phase: 'Starting', ready: false, readySince: undefined })],
      want: { reason: 'ReplicasUpdating', message: '3 of 3 pods on revision 2, 2 available' },
    },
    {
      name: 'only Terminating old pods left',
      pods: [...readyPods(3, 2), pod({ id: 'old', revision: 1, phase: 'Terminating', ready: false })],
      want: { reason: 'NewRevisionAvailable', message: 'revision 2 has 3 available replicas' },
    },
  ])('Progressing: $name → $want.reason', ({ pods, want }) => {
    const status = sut(desired({ revision: 2 }), pods, [], now);

    expect(condition(status.conditions, 'Progressing')).toEqual({ type: 'Progressing', status: 'True', ...want, lastTransitionTime: iso(now) });
  });

  it('reports updatedReplicas by template hash', () => {
    const pods = [...readyPods(2, 1), pod({ id: 'new', revision: 2 })];

    const status = sut(desired({ revision: 2 }), pods, [], now);

    expect([status.replicas, status.updatedReplicas, status.readyReplicas]).toEqual([3, 1, 3]);
  });

  it.each([
    {
      name: 'a CrashLoopBackOff pod, named with its last exit',
      pods: [
        ...readyPods(2, 1),
        pod({
          id: 'api-7',
          phase: 'CrashLoopBackOff',
          ready: false,
          restarts: 4,
          backoffStep: 4,
          lastExit: { at: now - 1_000, code: 1, signal: null, reason: 'Error', message: 'exit code 1' },
        }),
      ],
      want: { status: 'True', reason: 'CrashLoopBackOff', message: 'api-7: Error: exit code 1 (4 restarts)' },
    },
    {
      name: 'a Failed pod',
      pods: [
        ...readyPods(2, 1),
        pod({
          id: 'api-8',
          phase: 'Failed',
          ready: false,
          lastExit: { at: now - 1_000, code: null, signal: null, reason: 'SpawnError', message: 'spawn ./missing ENOENT' },
        }),
      ],
      want: { status: 'True', reason: 'PodsFailed', message: 'api-8: SpawnError: spawn ./missing ENOENT (0 restarts)' },
    },
    {
      name: 'a pod starting again after two failures in a row',
      pods: [...readyPods(2, 1), pod({ id: 'api-9', phase: 'Starting', ready: false, readySince: undefined, restarts: 2, backoffStep: 2 })],
      want: { status: 'True', reason: 'CrashLoopBackOff', message: 'api-9: Starting (2 restarts)' },
    },
    {
      name: 'a pod starting after one failure',
      pods: [...readyPods(2, 1), pod({ id: 'api-9', phase: 'Starting', ready: false, readySince: undefined, restarts: 1, backoffStep: 1 })],
      want: { status: 'False', reason: 'AsExpected', message: 'no pod is crash-looping' },
    },
    {
      name: 'healthy pods',
      pods: readyPods(3, 1),
      want: { status: 'False', reason: 'AsExpected', message: 'no pod is crash-looping' },
    },
  ])('Degraded: $name → $want.reason', ({ pods, want }) => {
    const status = sut(desired(), pods, [], now);

    expect(condition(status.conditions, 'Degraded')).toEqual({ type: 'Degraded', ...want, lastTransitionTime: iso(now) });
  });

  it('lets overrides replace Progressing and Degraded', () => {
    const status = sut(desired(), readyPods(3, 1), [], now, {
      progressing: { type: 'Progressing', status: 'False', reason: 'RolloutAborted', message: 'canary failed analysis' },
      degraded: { type: 'Degraded', status: 'True', reason: 'RolloutAborted', message: 'canary failed analysis' },
    });

    expect(status.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Available', 'True', 'MinimumReplicasAvailable'],
      ['Progressing', 'False', 'RolloutAborted'],
      ['Degraded', 'True', 'RolloutAborted'],
    ]);
  });

  it('keeps lastTransitionTime when the status holds but the reason and message change', () => {
    const earlier = now - 30_000;
    const rolling = sut(desired({ revision: 2 }), [...readyPods(3, 1), pod({ id: 'new', revision: 2, phase: 'Running', ready: false })], [], earlier);
    expect(condition(rolling.conditions, 'Progressing')).toMatchObject({ status: 'True', reason: 'RevisionUpdating', lastTransitionTime: iso(earlier) });

    const done = sut(desired({ revision: 2 }), readyPods(3, 2), rolling.conditions, now);

    expect(condition(done.conditions, 'Progressing')).toEqual({
      type: 'Progressing',
      status: 'True',
      reason: 'NewRevisionAvailable',
      message: 'revision 2 has 3 available replicas',
      lastTransitionTime: iso(earlier),
    });
  });

  it('changes lastTransitionTime when the status flips, and only for that condition', () => {
    const earlier = now - 30_000;
    const healthy = sut(desired(), readyPods(3, 1), [], earlier);

    const short = sut(desired(), readyPods(2, 1), healthy.conditions, now);

    expect(short.conditions.map((c) => [c.type, c.status, c.lastTransitionTime])).toEqual([
      ['Available', 'False', iso(now)],
      ['Progressing', 'True', iso(earlier)],
      ['Degraded', 'False', iso(earlier)],
    ]);
  });

  it('carries observedGeneration from the desired state', () => {
    expect(sut(desired({ generation: 42 }), [], [], now).observedGeneration).toBe(42);
  });
});

describe(setCondition.name, () => {
  const sut = setCondition;
  const prev: Condition[] = [{ type: 'Available', status: 'True', reason: 'A', message: 'a', lastTransitionTime: iso(T0) }];

  it.each([
    { name: 'same status, new reason', next: { status: 'True' as const, reason: 'B' }, want: iso(T0) },
    { name: 'flipped status', next: { status: 'False' as const, reason: 'A' }, want: iso(T0 + 5_000) },
    { name: 'to Unknown', next: { status: 'Unknown' as const, reason: 'A' }, want: iso(T0 + 5_000) },
  ])('$name → lastTransitionTime $want', ({ next, want }) => {
    const c = sut(prev, { type: 'Available', message: 'm', ...next }, T0 + 5_000);

    expect(c).toEqual({ type: 'Available', message: 'm', ...next, lastTransitionTime: want });
  });

  it('stamps a condition seen for the first time with now', () => {
    expect(sut(prev, { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'm' }, T0 + 1).lastTransitionTime).toBe(iso(T0 + 1));
  });
});

describe(sameStatus.name, () => {
  const sut = sameStatus;
  const d = desired();

  it.each([
    { name: 'no previous status', a: undefined, b: computeStatus(d, readyPods(3, 1), [], T0), want: false },
    { name: 'identical', a: computeStatus(d, readyPods(3, 1), [], T0), b: computeStatus(d, readyPods(3, 1), [], T0), want: true },
    { name: 'different counts', a: computeStatus(d, readyPods(3, 1), [], T0), b: computeStatus(d, readyPods(2, 1), [], T0), want: false },
  ])('$name → $want', ({ a, b, want }) => {
    expect(sut(a, b)).toBe(want);
  });
});
