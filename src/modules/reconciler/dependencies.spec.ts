import type { Dependency } from '../specs/spec.types.js';
import type { Pod } from '../runtime/pod.types.js';
import { dependencyGate, isFailing, type DependencyView } from './dependencies.js';

const view = (v: Partial<DependencyView> = {}): DependencyView => ({ replicas: 1, availableReplicas: 0, availableCondition: false, startedPods: 0, failingPods: 0, ...v });
const AVAILABLE = view({ availableReplicas: 1, availableCondition: true, startedPods: 1 });
const db = (condition: Dependency['condition'] = 'Available'): Dependency => ({ service: 'db', condition });

describe(dependencyGate.name, () => {
  it.each<[string, Dependency[], Record<string, DependencyView>, boolean, string[], string]>([
    ['no dependencies', [], {}, true, [], ''],
    ['an Available dependency', [db()], { db: AVAILABLE }, true, [], 'db is Available'],
    ['a missing dependency waits', [db()], {}, false, ['db'], 'Waiting for db (not applied yet)'],
    ['no pod available yet', [db()], { db: view() }, false, ['db'], 'Waiting for db (0/1 Available)'],
    // maxUnavailable 25% of 1 makes the condition True with 0 pods: that is not a database that answers
    ['condition True but 0 available', [db()], { db: view({ availableCondition: true }) }, false, ['db'], 'Waiting for db (0/1 Available)'],
    ['available pods but condition False (2 of 3, minimum 3) with one failing', [db()], { db: view({ replicas: 3, availableReplicas: 2, failingPods: 1 }) }, false, ['db'], 'Waiting for db (2/3 Available)'],
    // a scale-up 1 → 3: the condition turns False (minimum 3) while the one pod answers
    ['scaling up: 1 of 3 available, the others still starting', [db()], { db: view({ replicas: 3, availableReplicas: 1, startedPods: 1 }) }, true, [], 'db is Available'],
    ['scaling up with a new pod failing', [db()], { db: view({ replicas: 3, availableReplicas: 1, startedPods: 2, failingPods: 1 }) }, false, ['db'], 'Waiting for db (1/3 Available)'],
    ['scaling up from 0: nothing available yet', [db()], { db: view({ replicas: 3, startedPods: 1 }) }, false, ['db'], 'Waiting for db (0/3 Available)'],
    ['Started: a running pod that is not ready', [db('Started')], { db: view({ startedPods: 1 }) }, true, [], 'db is Started'],
    ['Started: no running pod', [db('Started')], { db: view({ replicas: 2 }) }, false, ['db'], 'Waiting for db (0/2 Started)'],
    ['a dependency scaled to 0 never is Available', [db()], { db: view({ replicas: 0, availableCondition: true }) }, false, ['db'], 'Waiting for db (0/0 Available)'],
    [
      'lists only the unmet ones, in spec order',
      [{ service: 'cache', condition: 'Available' }, db(), { service: 'queue', condition: 'Started' }],
      { cache: view(), db: AVAILABLE },
      false,
      ['cache', 'queue'],
      'Waiting for cache (0/1 Available), queue (not applied yet)',
    ],
  ])('%s', (_name, deps, views, ready, waitingFor, message) => {
    const sut = dependencyGate(deps, (s) => views[s]);

    expect(sut).toMatchObject({ ready, waitingFor, message });
    expect(sut.reasons).toHaveLength(waitingFor.length);
  });

  it('explains each unmet dependency', () => {
    const sut = dependencyGate([db(), { service: 'cache', condition: 'Started' }], (s) => (s === 'db' ? view() : undefined));

    expect(sut.reasons).toEqual(['db, which has 0 of 1 replicas available', 'cache, which is not applied yet']);
  });
});

describe(isFailing.name, () => {
  const pod = (p: Partial<Pod> = {}): Pod => ({ phase: 'Starting', ready: false, restarts: 0, probes: { readiness: [], liveness: [], startup: [] }, ...p }) as Pod;
  const passed = { at: 1, ok: true, latencyMs: 1 };

  it.each<[string, Pod, boolean]>([
    ['a new pod starting', pod(), false],
    ['a new pod running, not ready yet', pod({ phase: 'Running', probes: { readiness: [{ ...passed, ok: false }], liveness: [], startup: [] } }), false],
    ['a ready pod', pod({ phase: 'Ready', ready: true, probes: { readiness: [passed], liveness: [], startup: [] } }), false],
    ['a stopping pod', pod({ phase: 'Terminating', restarts: 3 }), false],
    ['a pod that lost readiness', pod({ phase: 'Running', probes: { readiness: [passed, { ...passed, ok: false }], liveness: [], startup: [] } }), true],
    ['a restarted pod starting again', pod({ restarts: 1 }), true],
    ['a pod that exited', pod({ phase: 'Exited', lastExit: { reason: 'Error', at: 1 } as Pod['lastExit'] }), true],
    ['a pod in CrashLoopBackOff', pod({ phase: 'CrashLoopBackOff' }), true],
  ])('%s: %p', (_name, p, want) => {
    expect(isFailing(p)).toBe(want);
  });
});
