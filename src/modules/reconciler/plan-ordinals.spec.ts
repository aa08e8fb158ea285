import fc from 'fast-check';
import { podFixture, specFixture } from '../../../test/utils/fixtures.js';
import type { Pod } from '../runtime/pod.types.js';
import type { RolloutSpec } from '../specs/spec.types.js';
import { plan, type DesiredService, type PodAction } from './plan.js';

// spec.storage.persistent: the planner's StatefulSet rules (ordinals, one-at-a-time updates, highest ordinal first).
const T0 = 1_000_000;
const now = T0 + 60_000;

function desired(replicas: number, revision = 1, rollout: Partial<RolloutSpec> = {}, hold = false): DesiredService {
  return { name: 'db', generation: 1, revision, templateHash: `h${revision}`, replicas, spec: specFixture({ replicas, storage: { persistent: true } }, rollout), hold };
}

/** A Ready pod of `revision` on `ordinal`, named db-r<revision>-<ordinal>. */
function on(ordinal: number, revision = 1, overrides: Partial<Pod> = {}): Pod {
  return podFixture({ createdAt: T0 + ordinal, readySince: T0 }, { id: `db-r${revision}-${ordinal}`, service: 'db', revision, ordinal, ...overrides });
}

const starting: Partial<Pod> = { phase: 'Running', ready: false, readySince: undefined };
const stopping: Partial<Pod> = { phase: 'Terminating', ready: false, readySince: undefined };
const crashed: Partial<Pod> = { phase: 'Exited', ready: false, readySince: undefined, lastExit: { at: T0, code: 1, signal: null, reason: 'Error', message: 'exit 1' }, backoffStep: 3 };

/** The replica step of a plan in short: "create 1,2" (ordinals), "delete <ids>", or "-". */
function step(actions: PodAction[]): string {
  const a = actions.find((x) => x.type === 'create' || x.type === 'delete');
  if (!a) return '-';
  if (a.type === 'create') return `create r${a.revision} on ${a.ordinals?.join(',')}`;
  if (a.type === 'delete') return `delete ${a.podIds.join(',')}`;
  return '-';
}

describe(`${plan.name} with spec.storage.persistent`, () => {
  const sut = plan;

  it.each<[string, DesiredService, Pod[], string]>([
    // ordinal assignment: lowest free first
    ['3 replicas from nothing take ordinals 0..2', desired(3), [], 'create r1 on 0,1,2'],
    ['a lost pod is replaced on its own ordinal', desired(3), [on(0), on(2)], 'create r1 on 1'],
    ['scale up adds the next ordinals', desired(5), [on(0), on(1), on(2)], 'create r1 on 3,4'],
    ['an ordinal whose pod is still stopping is not free', desired(3), [on(0), on(1, 1, stopping), on(2)], '-'],
    ['a stopping pod above the others holds its ordinal on scale-up', desired(3), [on(0), on(2, 1, stopping)], 'create r1 on 1'],
    ['a crashed pod keeps its ordinal (it is restarted, not replaced)', desired(2), [on(0), on(1, 1, crashed)], '-'],
    // scale down: highest ordinals first
    ['scale down removes the highest ordinals, highest first', desired(1), [on(0), on(1), on(2)], 'delete db-r1-2,db-r1-1'],
    ['scale to 0 removes all, highest first', desired(0), [on(1), on(0)], 'delete db-r1-1,db-r1-0'],
    ['scale down during an update removes the highest, old or new', desired(2), [on(0), on(1), on(2, 2)], 'delete db-r2-2'],
    // rolling update: one at a time, highest first, a new pod only on a free ordinal
    ['an update starts with the highest ordinal', desired(3, 2), [on(0), on(1), on(2)], 'delete db-r1-2'],
    ['maxSurge and maxUnavailable of the spec are ignored', desired(3, 2, { maxSurge: '100%', maxUnavailable: '100%' }), [on(0), on(1), on(2)], 'delete db-r1-2'],
    ['no new pod while the old one on its ordinal is stopping', desired(3, 2), [on(0), on(1), on(2, 1, stopping)], '-'],
    ['the new revision takes the ordinal once its old pod is gone', desired(3, 2), [on(0), on(1)], 'create r2 on 2'],
    ['the next old pod waits for the new one to be available', desired(3, 2), [on(0), on(1), on(2, 2, starting)], '-'],
    ['then the next highest goes', desired(3, 2), [on(0), on(1), on(2, 2)], 'delete db-r1-1'],
    ['waits for minReadySeconds too', desired(3, 2, { minReadySeconds: 30 }), [on(0), on(1), on(2, 2, { readySince: now - 10_000 })], '-'],
    ['an old pod that serves nothing is replaced first', desired(3, 2), [on(0, 1, crashed), on(1), on(2)], 'delete db-r1-0'],
    ['a 1-replica service: stop, then start', desired(1, 2), [on(0)], 'delete db-r1-0'],
    ['the last step of an update', desired(2, 2), [on(0, 1), on(1, 2)], 'delete db-r1-0'],
    ['a finished update does nothing', desired(2, 2), [on(0, 2), on(1, 2)], '-'],
    ['pods without an ordinal (the service just became persistent) go one at a time', desired(2, 2), [on(0, 1, { ordinal: undefined, id: 'a' }), on(0, 1, { ordinal: undefined, id: 'b' })], 'delete a'],
    ['a paused update takes no step', desired(3, 2, {}, true), [on(0), on(1)], '-'],
    // never two on one ordinal
    ['a second live pod on an ordinal goes (the newer)', desired(2), [on(0), on(1), on(1, 2, { id: 'dup', createdAt: T0 + 99 })], 'delete dup'],
  ])('%s', (_name, d, pods, expected) => {
    const result = sut(d, pods, now);

    expect(step(result.actions)).toBe(expected);
  });

  it('explains a create with its ordinals and a scale-down with the kept directories', () => {
    const up = sut(desired(2), [on(0, 1, stopping)], now).actions[0];
    const down = sut(desired(1), [on(0), on(1)], now).actions[0];

    expect(up).toMatchObject({ type: 'create', count: 1, ordinals: [1], reason: 'ScaledUp' });
    expect(up.explain).toContain('1 still stopping');
    expect(down).toMatchObject({ type: 'delete', reason: 'ScaledDown' });
    expect(down.explain).toContain('data directories pods/db-1 are kept for a later scale-up (gridctl get volumes lists them)');
  });

  it('leaves non-persistent services alone: no ordinals on their creates', () => {
    const d = { ...desired(2), spec: specFixture({ replicas: 2 }) };

    const result = sut(d, [], now);

    expect(result.actions[0]).not.toHaveProperty('ordinals');
  });

  /**
   * A rollout driven to its end through random timings: pods take their time to stop and to
   * become ready, and crash now and then. At no point do two pods (stopping ones included) hold
   * one ordinal, and it ends with every ordinal on the new revision.
   */
  it('never puts two pods on one ordinal, whatever the timing', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(fc.nat(99), { minLength: 400, maxLength: 400 }), (replicas, dice) => {
        let pods: Pod[] = Array.from({ length: replicas }, (_, i) => on(i));
        let t = now;
        let n = 0;
        const roll = (): number => dice[n++ % dice.length];
        for (let i = 0; i < 300; i++) {
          t += 1000;
          for (const a of plan(desired(replicas, 2), pods, t).actions) {
            if (a.type === 'create') {
              for (const o of a.ordinals!) pods.push(on(o, 2, { ...starting, id: `new-${i}-${o}`, createdAt: t }));
            } else if (a.type === 'delete') {
              pods = pods.map((p) => (a.podIds.includes(p.id) ? { ...p, ...stopping } : p));
            } else if (a.type === 'restart') {
              pods = pods.map((p) => (p.id === a.podId ? { ...p, ...starting } : p));
            }
          }
          // The world moves on: stopping pods exit, starting pods get ready, a ready pod crashes.
          pods = pods.flatMap((p) => {
            const r = roll();
            if (p.phase === 'Terminating') return r < 40 ? [] : [p];
            if (p.phase === 'Running') return r < 50 ? [{ ...p, phase: 'Ready' as const, ready: true, readySince: t }] : [p];
            if (p.phase === 'Ready' && r < 3) return [{ ...p, ...crashed, lastExit: { ...crashed.lastExit!, at: t }, backoffStep: 0 }];
            return [p];
          });
          const held = pods.map((p) => p.ordinal);
          expect(new Set(held).size).toBe(held.length);
        }
        // Quiet: no more crashes, everything settles.
        for (let i = 0; i < 50; i++) {
          t += 1000;
          for (const a of plan(desired(replicas, 2), pods, t).actions) {
            if (a.type === 'create') for (const o of a.ordinals!) pods.push(on(o, 2, { id: `late-${i}-${o}`, createdAt: t, readySince: t }));
            else if (a.type === 'delete') pods = pods.filter((p) => !a.podIds.includes(p.id));
            else if (a.type === 'restart') pods = pods.map((p) => (p.id === a.podId ? { ...p, phase: 'Ready' as const, ready: true, readySince: t } : p));
          }
          pods = pods.filter((p) => p.phase !== 'Terminating');
        }
        expect(pods.map((p) => `${p.revision}@${p.ordinal}`).sort()).toEqual(Array.from({ length: replicas }, (_, i) => `2@${i}`));
      }),
      { numRuns: 100 },
    );
  });
});
