import { podFixture, specFixture } from '../../../test/utils/fixtures.js';
import type { Pod } from '../runtime/pod.types.js';
import type { RolloutSpec, ServiceSpec } from '../specs/spec.types.js';
import {
  deletionOrder,
  effectiveBackoffStep,
  isAvailable,
  plan,
  resolveIntOrPercent,
  restartDelayMs,
  rollingBounds,
  type DesiredService,
  type PodAction,
} from './plan.js';

const T0 = 1_000_000;
const BACKOFF = { initialSeconds: 1, maxSeconds: 60, resetAfterSeconds: 600 };

/** Pods and desired state are matched by template hash; the fixtures derive it from the revision. */
const hashOf = (revision: number): string => `h${revision}`;

function pod(overrides: Partial<Pod> = {}): Pod {
  return podFixture({ createdAt: T0, readySince: T0 }, { version: 'v1', ...overrides });
}

/** A pod of the given revision that exited at `exitAt` after running `ranMs`. */
function exited(overrides: Partial<Pod> & { exitAt: number; ranMs?: number }): Pod {
  const { exitAt, ranMs = 5_000, ...rest } = overrides;
  return pod({
    phase: 'Exited',
    ready: false,
    readySince: undefined,
    startedAt: exitAt - ranMs,
    lastExit: { at: exitAt, code: 1, signal: null, reason: 'Error', message: 'exit code 1' },
    ...rest,
  });
}

function spec(overrides: Partial<ServiceSpec> = {}, rollout: Partial<RolloutSpec> = {}): ServiceSpec {
  return specFixture({ restartBackoff: { ...BACKOFF }, ...overrides }, rollout);
}

function desired(
  overrides: Partial<Omit<DesiredService, 'spec'>> & { spec?: Partial<ServiceSpec>; rollout?: Partial<RolloutSpec> } = {},
): DesiredService {
  const { spec: specOverrides, rollout, ...rest } = overrides;
  const s = spec(specOverrides, rollout);
  const revision = rest.revision ?? 1;
  return { name: 'api', generation: 1, revision, templateHash: hashOf(revision), replicas: rest.replicas ?? s.replicas, spec: s, ...rest };
}

function readyPods(n: number, revision: number, prefix = `r${revision}`): Pod[] {
  return Array.from({ length: n }, (_, i) => pod({ id: `${prefix}-${i}`, revision, createdAt: T0 + i }));
}

describe(plan.name, () => {
  const sut = plan;
  const now = T0 + 3_600_000;

  describe('scaling', () => {
    it('scales up from 0 with one create of all missing replicas', () => {
      const result = sut(desired(), [], now);

      expect(result).toEqual({
        actions: [
          {
            type: 'create',
            count: 3,
            revision: 1,
            templateHash: 'h1',
            reason: 'ScaledUp',
            explain: 'Starting 3 pods because 0 of 3 desired replicas were running',
          },
        ],
      });
      expect((result.actions[0] as Extract<PodAction, { type: 'create' }>).explain).toContain('0 of 3 desired replicas');
    });

    it('replaces a killed pod: 2 of 3 present creates exactly 1', () => {
      const result = sut(desired(), readyPods(2, 1), now);

      expect(result.actions).toEqual([
        { type: 'create', count: 1, revision: 1, templateHash: 'h1', reason: 'ScaledUp', explain: 'Starting 1 pod because 2 of 3 desired replicas were running' },
      ]);
      expect(result.requeueAfterMs).toBeUndefined();
    });

    it('does nothing and asks for no requeue when converged', () => {
      expect(sut(desired(), readyPods(3, 1), now)).toEqual({ actions: [] });
    });

    it.each([
      {
        name: 'not-ready pods go first, then the newest ready one',
        replicas: 2,
        pods: [
          pod({ id: 'old-ready', createdAt: T0 + 1 }),
          pod({ id: 'newest-ready', createdAt: T0 + 3 }),
          pod({ id: 'starting', phase: 'Starting', ready: false, readySince: undefined, createdAt: T0 }),
          pod({ id: 'mid-ready', createdAt: T0 + 2 }),
        ],
        want: ['starting', 'newest-ready'],
      },
      {
        name: 'among ready pods the newest goes first',
        replicas: 1,
        pods: [pod({ id: 'a', createdAt: T0 + 1 }), pod({ id: 'c', createdAt: T0 + 3 }), pod({ id: 'b', createdAt: T0 + 2 })],
        want: ['c', 'b'],
      },
      {
        name: 'among equal pods the one with more restarts goes first',
        replicas: 2,
        pods: [pod({ id: 'a', createdAt: T0 + 5 }), pod({ id: 'flaky', restarts: 4, createdAt: T0 }), pod({ id: 'b', createdAt: T0 + 1 })],
        want: ['flaky'],
      },
      {
        name: 'to zero deletes everything',
        replicas: 0,
        pods: readyPods(3, 1),
        want: ['r1-2', 'r1-1', 'r1-0'],
      },
    ])('scales down: $name', ({ replicas, pods, want }) => {
      const result = sut(desired({ replicas }), pods, now);

      expect(result.actions).toHaveLength(1);
      expect(result.actions[0]).toMatchObject({ type: 'delete', podIds: want, reason: 'ScaledDown' });
    });

    it('ignores Terminating pods when counting', () => {
      const pods = [...readyPods(2, 1), pod({ id: 'going', phase: 'Terminating', ready: false })];

      expect(sut(desired(), pods, now).actions).toEqual([
        { type: 'create', count: 1, revision: 1, templateHash: 'h1', reason: 'ScaledUp', explain: 'Starting 1 pod because 2 of 3 desired replicas were running' },
      ]);
    });

    it('does not scale down because of Terminating pods', () => {
      const pods = [...readyPods(3, 1), pod({ id: 'going', phase: 'Terminating', ready: false })];

      expect(sut(desired(), pods, now)).toEqual({ actions: [] });
    });
  });

  describe('service deleted', () => {
    it('deletes every live pod', () => {
      const pods = [...readyPods(2, 1), pod({ id: 'crashed', phase: 'CrashLoopBackOff', ready: false }), pod({ id: 'going', phase: 'Terminating' })];

      expect(sut(undefined, pods, now)).toEqual({
        actions: [
          { type: 'delete', podIds: ['r1-0', 'r1-1', 'crashed'], reason: 'ServiceDeleted', explain: 'Stopping 3 pods because the service was deleted' },
        ],
      });
    });

    it('does nothing when only Terminating pods remain', () => {
      const pods = [pod({ id: 'a', phase: 'Terminating' }), pod({ id: 'b', phase: 'Terminating' })];

      expect(sut(undefined, pods, now)).toEqual({ actions: [] });
    });

    it('does nothing when no pods exist', () => {
      expect(sut(undefined, [], now)).toEqual({ actions: [] });
    });
  });

  describe('restarts with exponential backoff', () => {
    const exitAt = T0 + 10_000;
    const others = readyPods(2, 1, 'ok');

    it('restarts a first exit immediately with backoffStep 1', () => {
      const crashed = exited({ id: 'p1', exitAt, backoffStep: 0 });

      expect(sut(desired(), [crashed, ...others], exitAt)).toEqual({
        actions: [
          { type: 'restart', podId: 'p1', backoffStep: 1, reason: 'Restarting', explain: 'Restarting pod p1 because it stopped: Error (exit code 1)' },
        ],
      });
    });

    it.each([
      { step: 0, delayMs: 0 },
      { step: 1, delayMs: 1_000 },
      { step: 2, delayMs: 2_000 },
      { step: 3, delayMs: 4_000 },
      { step: 4, delayMs: 8_000 },
      { step: 5, delayMs: 16_000 },
      { step: 6, delayMs: 32_000 },
      { step: 7, delayMs: 60_000 },
      { step: 8, delayMs: 60_000 },
      { step: 9, delayMs: 60_000 },
      { step: 10, delayMs: 60_000 },
    ])('after $step consecutive failures waits $delayMs ms', ({ step, delayMs }) => {
      const crashed = exited({ id: 'p1', exitAt, backoffStep: step });

      const result = sut(desired(), [crashed, ...others], exitAt);

      if (delayMs === 0) {
        expect(result).toEqual({ actions: [expect.objectContaining({ type: 'restart', podId: 'p1', backoffStep: 1 })] });
      } else {
        expect(result).toEqual({
          actions: [expect.objectContaining({ type: 'backoff', podId: 'p1', until: exitAt + delayMs, reason: 'CrashLoopBackOff' })],
          requeueAfterMs: delayMs,
        });
      }
    });

    it('requeues for the remaining part of the backoff', () => {
      const crashed = exited({ id: 'p1', exitAt, backoffStep: 1 });

      expect(sut(desired(), [crashed, ...others], exitAt + 400)).toEqual({
        actions: [
          {
            type: 'backoff',
            podId: 'p1',
            until: exitAt + 1_000,
            reason: 'CrashLoopBackOff',
            explain:
              'Waiting 0.6s before restarting pod p1 because it failed 1 time in a row (Error (exit code 1)); the delay doubles each time up to 60s',
          },
        ],
        requeueAfterMs: 600,
      });
    });

    it.each([
      { step: 1, at: exitAt + 1_000, explain: 'Restarting pod p1 because it stopped: Error (exit code 1) (restart 3, after a 1s backoff)' },
      { step: 3, at: exitAt + 4_000, explain: 'Restarting pod p1 because it stopped: Error (exit code 1) (restart 3, after a 4s backoff)' },
      { step: 9, at: exitAt + 60_000, explain: 'Restarting pod p1 because it stopped: Error (exit code 1) (restart 3, after a 60s backoff)' },
    ])('restarts once the backoff of step $step has passed', ({ step, at, explain }) => {
      const crashed = exited({ id: 'p1', exitAt, backoffStep: step, restarts: 2, phase: 'CrashLoopBackOff', backoffUntil: at });

      expect(sut(desired(), [crashed, ...others], at)).toEqual({
        actions: [{ type: 'restart', podId: 'p1', backoffStep: step + 1, reason: 'Restarting', explain }],
      });
    });

    it('does not repeat the backoff action for a pod already waiting until the same time, but still requeues', () => {
      const crashed = exited({ id: 'p1', exitAt, backoffStep: 2, phase: 'CrashLoopBackOff', backoffUntil: exitAt + 2_000 });

      expect(sut(desired(), [crashed, ...others], exitAt + 500)).toEqual({ actions: [], requeueAfterMs: 1_500 });
    });

    it('re-issues the backoff when the recorded backoffUntil is stale', () => {
      const crashed = exited({ id: 'p1', exitAt, backoffStep: 2, phase: 'CrashLoopBackOff', backoffUntil: exitAt - 5_000 });

      const result = sut(desired(), [crashed, ...others], exitAt + 500);

      expect(result.actions).toEqual([expect.objectContaining({ type: 'backoff', podId: 'p1', until: exitAt + 2_000 })]);
      expect(result.requeueAfterMs).toBe(1_500);
    });

    it.each([
      { ranMs: 600_000, want: { type: 'restart', backoffStep: 1 } },
      { ranMs: 3_600_000, want: { type: 'restart', backoffStep: 1 } },
      { ranMs: 599_999, want: { type: 'backoff', until: exitAt + 16_000 } },
    ])('a run of $ranMs ms before the exit with backoffStep 5 gives $want.type', ({ ranMs, want }) => {
      const crashed = exited({ id: 'p1', exitAt, ranMs, backoffStep: 5 });

      expect(sut(desired(), [crashed, ...others], exitAt).actions).toEqual([expect.objectContaining({ podId: 'p1', ...want })]);
    });

    it('treats a Failed (spawn error) pod like an exited one', () => {
      const failed = exited({
        id: 'p1',
        exitAt,
        phase: 'Failed',
        backoffStep: 2,
        lastExit: { at: exitAt, code: null, signal: null, reason: 'SpawnError', message: 'spawn ./missing ENOENT' },
      });

      expect(sut(desired(), [failed, ...others], exitAt)).toEqual({
        actions: [
          {
            type: 'backoff',
            podId: 'p1',
            until: exitAt + 2_000,
            reason: 'CrashLoopBackOff',
            explain: 'Waiting 2.0s before restarting pod p1 because it failed 2 times in a row (SpawnError); the delay doubles each time up to 60s',
          },
        ],
        requeueAfterMs: 2_000,
      });
    });

    it('counts a crashed pod as present, so no replacement is created', () => {
      const crashed = exited({ id: 'p1', exitAt, backoffStep: 1 });

      const types = sut(desired(), [crashed, ...others], exitAt).actions.map((a) => a.type);

      expect(types).toEqual(['backoff']);
    });

    it('requeues after the earliest of several backoffs', () => {
      const a = exited({ id: 'a', exitAt, backoffStep: 3 });
      const b = exited({ id: 'b', exitAt, backoffStep: 1 });

      const result = sut(desired(), [a, b, ...readyPods(1, 1)], exitAt);

      expect(result.actions.map((x) => [x.type, 'podId' in x ? x.podId : undefined])).toEqual([
        ['backoff', 'a'],
        ['backoff', 'b'],
      ]);
      expect(result.requeueAfterMs).toBe(1_000);
    });
  });

  describe('rolling update from revision 1 to 2', () => {
    it('replicas 3 at 25%/25% (surge 1, unavailable 0): the first pass creates exactly 1 new pod', () => {
      const result = sut(desired({ revision: 2 }), readyPods(3, 1), now);

      expect(result).toEqual({
        actions: [
          {
            type: 'create',
            count: 1,
            revision: 2,
            templateHash: 'h2',
            reason: 'RollingUpdate',
            explain: 'Starting 1 pod of revision 2 because the rollout may run up to 4 pods (3 + maxSurge 1) and 0 of 3 are on the new revision',
          },
        ],
      });
    });

    it('waits while the new pod is not ready', () => {
      const pods = [...readyPods(3, 1), pod({ id: 'new', revision: 2, phase: 'Running', ready: false, readySince: undefined })];

      expect(sut(desired({ revision: 2 }), pods, now)).toEqual({ actions: [] });
    });

    it('deletes exactly 1 old pod (the newest) once the new one is Ready', () => {
      const pods = [...readyPods(3, 1), pod({ id: 'new', revision: 2, createdAt: now - 5_000, readySince: now - 1_000 })];

      const result = sut(desired({ revision: 2 }), pods, now);

      expect(result.actions).toEqual([expect.objectContaining({ type: 'delete', podIds: ['r1-2'], reason: 'RollingUpdate' })]);
      expect(result.requeueAfterMs).toBeUndefined();
    });

    it('deletes old unready pods first, once the new pod is available (maxScaledDown)', () => {
      const pods = [
        pod({ id: 'old-a', createdAt: T0 }),
        pod({ id: 'old-b', createdAt: T0 + 1 }),
        pod({ id: 'old-sick', phase: 'Running', ready: false, readySince: undefined, createdAt: T0 + 2 }),
        pod({ id: 'new', revision: 2 }),
      ];

      expect(sut(desired({ revision: 2 }), pods, now).actions).toEqual([
        {
          type: 'delete',
          podIds: ['old-sick'],
          reason: 'RollingUpdate',
          explain: 'Stopping old-sick of the old revision because 3 pods are available and at least 3 must stay (3 - maxUnavailable 0)',
        },
      ]);
    });

    it('keeps unready old pods while the new ones are not available either (no outage when old pods flap or were just adopted)', () => {
      const pods = [
        ...['a', 'b', 'c'].map((id, i) => pod({ id: `old-${id}`, phase: 'Running', ready: false, readySince: undefined, createdAt: T0 + i })),
        pod({ id: 'new', revision: 2, phase: 'Running', ready: false, readySince: undefined }),
      ];

      expect(sut(desired({ revision: 2 }), pods, now).actions).toEqual([]);
    });

    it('deletes crashed old pods instead of restarting them', () => {
      const pods = [
        ...readyPods(3, 1),
        exited({ id: 'old-crashed', exitAt: now - 100, backoffStep: 0 }),
        pod({ id: 'new', revision: 2, phase: 'Starting', ready: false, readySince: undefined }),
      ];

      expect(sut(desired({ revision: 2, replicas: 4 }), pods, now).actions).toEqual([
        expect.objectContaining({ type: 'delete', podIds: ['old-crashed'] }),
      ]);
    });

    it('replicas 10 at 25%/25% (surge 3 = ceil 2.5, unavailable 2 = floor 2.5): the first pass creates 3', () => {
      const d = desired({ revision: 2, replicas: 10 });

      expect(rollingBounds(d.spec, 10)).toEqual({ maxSurge: 3, maxUnavailable: 2 });
      expect(sut(d, readyPods(10, 1), now).actions).toEqual([expect.objectContaining({ type: 'create', count: 3, revision: 2 })]);
    });

    it('replicas 10: with 3 new pods starting, deletes the 2 newest old pods', () => {
      const newPods = [0, 1, 2].map((i) => pod({ id: `new-${i}`, revision: 2, phase: 'Starting', ready: false, readySince: undefined }));

      const result = sut(desired({ revision: 2, replicas: 10 }), [...readyPods(10, 1), ...newPods], now);

      expect(result.actions).toEqual([expect.objectContaining({ type: 'delete', podIds: ['r1-9', 'r1-8'] })]);
    });

    it('minReadySeconds keeps old pods until the new one has been ready long enough, and requeues for that moment', () => {
      const d = desired({ revision: 2, rollout: { minReadySeconds: 5 } });
      const newPod = pod({ id: 'new', revision: 2, createdAt: now - 3_000, readySince: now - 2_000 });
      const pods = [...readyPods(3, 1), newPod];

      expect(sut(d, pods, now)).toEqual({ actions: [], requeueAfterMs: 3_000 });
      expect(sut(d, pods, now + 3_000).actions).toEqual([expect.objectContaining({ type: 'delete', podIds: ['r1-2'] })]);
    });

    it('adopts pods by template hash: re-applying the old template as revision 3 replaces nothing', () => {
      const d = desired({ revision: 3, templateHash: hashOf(1) });

      expect(sut(d, readyPods(3, 1), now)).toEqual({ actions: [] });
    });

    it('rolls back to a re-applied old template by keeping its pods and removing the others', () => {
      const d = desired({ revision: 3, templateHash: hashOf(1) });
      const pods = [...readyPods(3, 1), pod({ id: 'rev2', revision: 2, createdAt: now - 1_000 })];

      expect(sut(d, pods, now).actions).toEqual([expect.objectContaining({ type: 'delete', podIds: ['rev2'], reason: 'RollingUpdate' })]);
    });

    it('scales the new revision down once no old pod is left', () => {
      const pods = readyPods(4, 2);

      expect(sut(desired({ revision: 2 }), pods, now).actions).toEqual([expect.objectContaining({ type: 'delete', podIds: ['r2-3'], reason: 'ScaledDown' })]);
    });

    describe('driven to completion against a simulated runtime', () => {
      interface Trace {
        passes: number;
        converged: boolean;
        pods: Pod[];
        maxLive: number;
        minAvailable: number;
      }

      // Applies each pass's actions to an in-memory pod list; a created pod becomes
      // Ready at the start of the next pass and a deleted pod is Terminating for one pass.
      function rollOut(d: DesiredService, maxPasses: number): Trace {
        const minReady = d.spec.rollout.minReadySeconds;
        let pods = readyPods(d.replicas, 1, 'old');
        let t = now;
        let seq = 0;
        let maxLive = pods.length;
        let minAvailable = pods.length;
        for (let pass = 1; pass <= maxPasses; pass++) {
          pods = pods
            .filter((p) => p.phase !== 'Terminating')
            .map((p) => (p.phase === 'Running' ? { ...p, phase: 'Ready', ready: true, readySince: t } : p));
          const result = plan(d, pods, t);
          if (result.actions.length === 0 && result.requeueAfterMs === undefined) return { passes: pass, converged: true, pods, maxLive, minAvailable };
          for (const a of result.actions) {
            if (a.type === 'create') {
              for (let i = 0; i < a.count; i++) {
                pods.push(pod({ id: `new-${seq++}`, revision: a.revision, phase: 'Running', ready: false, createdAt: t, startedAt: t, readySince: undefined }));
              }
            } else if (a.type === 'delete') {
              pods = pods.map((p) => (a.podIds.includes(p.id) ? { ...p, phase: 'Terminating', ready: false } : p));
            } else {
              throw new Error(`unexpected ${a.type} action during a clean rollout`);
            }
          }
          const live = pods.filter((p) => p.phase !== 'Terminating');
          maxLive = Math.max(maxLive, live.length);
          minAvailable = Math.min(minAvailable, live.filter((p) => isAvailable(p, minReady, t)).length);
          t += result.requeueAfterMs ?? 1_000;
        }
        return { passes: maxPasses, converged: false, pods, maxLive, minAvailable };
      }

      it.each([
        { replicas: 3, maxSurge: '25%', maxUnavailable: '25%', minReadySeconds: 0, surge: 1, unavailable: 0 },
        { replicas: 10, maxSurge: '25%', maxUnavailable: '25%', minReadySeconds: 0, surge: 3, unavailable: 2 },
        { replicas: 10, maxSurge: '25%', maxUnavailable: '25%', minReadySeconds: 5, surge: 3, unavailable: 2 },
        { replicas: 1, maxSurge: '25%', maxUnavailable: '25%', minReadySeconds: 0, surge: 1, unavailable: 0 },
        { replicas: 4, maxSurge: 0, maxUnavailable: 1, minReadySeconds: 0, surge: 0, unavailable: 1 },
        { replicas: 5, maxSurge: 2, maxUnavailable: 0, minReadySeconds: 0, surge: 2, unavailable: 0 },
        { replicas: 6, maxSurge: '50%', maxUnavailable: '50%', minReadySeconds: 0, surge: 3, unavailable: 3 },
        { replicas: 3, maxSurge: 0, maxUnavailable: 0, minReadySeconds: 0, surge: 0, unavailable: 1 },
        { replicas: 7, maxSurge: '100%', maxUnavailable: 0, minReadySeconds: 2, surge: 7, unavailable: 0 },
      ])(
        'replicas $replicas, maxSurge $maxSurge, maxUnavailable $maxUnavailable, minReadySeconds $minReadySeconds',
        ({ replicas, maxSurge, maxUnavailable, minReadySeconds, surge, unavailable }) => {
          const d = desired({ revision: 2, replicas, rollout: { maxSurge, maxUnavailable, minReadySeconds } });
          expect(rollingBounds(d.spec, replicas)).toEqual({ maxSurge: surge, maxUnavailable: unavailable });

          const trace = rollOut(d, 4 * replicas + 4);

          expect(trace.converged).toBe(true);
          expect(trace.maxLive).toBeLessThanOrEqual(replicas + surge);
          expect(trace.minAvailable).toBeGreaterThanOrEqual(replicas - unavailable);
          expect(trace.pods.map((p) => [p.revision, p.phase])).toEqual(Array.from({ length: replicas }, () => [2, 'Ready']));
        },
      );
    });
  });
});

describe(restartDelayMs.name, () => {
  const sut = restartDelayMs;

  it.each([
    { step: -1, b: BACKOFF, want: 0 },
    { step: 0, b: BACKOFF, want: 0 },
    { step: 1, b: BACKOFF, want: 1_000 },
    { step: 2, b: BACKOFF, want: 2_000 },
    { step: 6, b: BACKOFF, want: 32_000 },
    { step: 7, b: BACKOFF, want: 60_000 },
    { step: 50, b: BACKOFF, want: 60_000 },
    { step: 1, b: { initialSeconds: 10, maxSeconds: 300, resetAfterSeconds: 600 }, want: 10_000 },
    { step: 5, b: { initialSeconds: 10, maxSeconds: 300, resetAfterSeconds: 600 }, want: 160_000 },
    { step: 6, b: { initialSeconds: 10, maxSeconds: 300, resetAfterSeconds: 600 }, want: 300_000 },
  ])('step $step with initial $b.initialSeconds s, cap $b.maxSeconds s → $want ms', ({ step, b, want }) => {
    expect(sut(step, b)).toBe(want);
  });
});

describe(effectiveBackoffStep.name, () => {
  const sut = effectiveBackoffStep;

  it.each([
    { name: 'no exit yet', p: pod({ backoffStep: 4 }), want: 4 },
    { name: 'never started', p: exited({ exitAt: T0, backoffStep: 4, startedAt: undefined }), want: 4 },
    { name: 'short run', p: exited({ exitAt: T0, ranMs: 1_000, backoffStep: 4 }), want: 4 },
    { name: 'run of exactly resetAfterSeconds', p: exited({ exitAt: T0, ranMs: 600_000, backoffStep: 4 }), want: 0 },
    { name: 'long run', p: exited({ exitAt: T0, ranMs: 900_000, backoffStep: 4 }), want: 0 },
  ])('$name → $want', ({ p, want }) => {
    expect(sut(p, BACKOFF)).toBe(want);
  });
});

describe(resolveIntOrPercent.name, () => {
  const sut = resolveIntOrPercent;

  it.each([
    { v: '25%', total: 3, roundUp: true, want: 1 },
    { v: '25%', total: 3, roundUp: false, want: 0 },
    { v: '50%', total: 5, roundUp: true, want: 3 },
    { v: '50%', total: 5, roundUp: false, want: 2 },
    { v: '25%', total: 10, roundUp: true, want: 3 },
    { v: '25%', total: 10, roundUp: false, want: 2 },
    { v: 2, total: 10, roundUp: true, want: 2 },
    { v: 2, total: 10, roundUp: false, want: 2 },
    { v: '0%', total: 10, roundUp: true, want: 0 },
    { v: '0%', total: 10, roundUp: false, want: 0 },
    { v: '100%', total: 4, roundUp: true, want: 4 },
    { v: '100%', total: 4, roundUp: false, want: 4 },
  ])('$v of $total (round up: $roundUp) → $want', ({ v, total, roundUp, want }) => {
    expect(sut(v, total, roundUp)).toBe(want);
  });
});

describe(rollingBounds.name, () => {
  const sut = rollingBounds;

  it.each([
    { maxSurge: '25%', maxUnavailable: '25%', replicas: 3, want: { maxSurge: 1, maxUnavailable: 0 } },
    { maxSurge: '25%', maxUnavailable: '25%', replicas: 10, want: { maxSurge: 3, maxUnavailable: 2 } },
    { maxSurge: 0, maxUnavailable: 0, replicas: 3, want: { maxSurge: 0, maxUnavailable: 1 } },
    { maxSurge: '0%', maxUnavailable: '0%', replicas: 10, want: { maxSurge: 0, maxUnavailable: 1 } },
    { maxSurge: 0, maxUnavailable: '25%', replicas: 3, want: { maxSurge: 0, maxUnavailable: 1 } },
    { maxSurge: 2, maxUnavailable: 0, replicas: 3, want: { maxSurge: 2, maxUnavailable: 0 } },
  ])('$maxSurge/$maxUnavailable of $replicas → $want.maxSurge/$want.maxUnavailable', ({ maxSurge, maxUnavailable, replicas, want }) => {
    expect(sut(spec({}, { maxSurge, maxUnavailable }), replicas)).toEqual(want);
  });
});

describe(isAvailable.name, () => {
  const sut = isAvailable;

  it.each([
    { name: 'ready for longer than minReadySeconds', p: pod({ readySince: T0 }), minReady: 5, at: T0 + 6_000, want: true },
    { name: 'ready exactly minReadySeconds', p: pod({ readySince: T0 }), minReady: 5, at: T0 + 5_000, want: true },
    { name: 'ready for less than minReadySeconds', p: pod({ readySince: T0 }), minReady: 5, at: T0 + 4_999, want: false },
    { name: 'not ready', p: pod({ ready: false, phase: 'Running' }), minReady: 0, at: T0 + 1, want: false },
    { name: 'ready without readySince', p: pod({ readySince: undefined }), minReady: 0, at: T0 + 1, want: false },
  ])('$name → $want', ({ p, minReady, at, want }) => {
    expect(sut(p, minReady, at)).toBe(want);
  });
});

describe(deletionOrder.name, () => {
  const sut = deletionOrder;

  it('orders not-ready phases first, then more restarts, then newest', () => {
    const pods = [
      pod({ id: 'ready-old', createdAt: T0 }),
      pod({ id: 'ready-new', createdAt: T0 + 9 }),
      pod({ id: 'ready-flaky', restarts: 3, createdAt: T0 }),
      pod({ id: 'running', phase: 'Running', ready: false }),
      pod({ id: 'pending', phase: 'Pending', ready: false }),
      pod({ id: 'starting', phase: 'Starting', ready: false }),
      pod({ id: 'exited', phase: 'Exited', ready: false }),
      pod({ id: 'crashloop', phase: 'CrashLoopBackOff', ready: false }),
      pod({ id: 'failed', phase: 'Failed', ready: false }),
    ];

    expect([...pods].sort(sut).map((p) => p.id)).toEqual([
      'failed',
      'crashloop',
      'exited',
      'pending',
      'starting',
      'running',
      'ready-flaky',
      'ready-new',
      'ready-old',
    ]);
  });
});
