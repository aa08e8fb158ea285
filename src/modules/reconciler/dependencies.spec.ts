import type { Dependency } from '../specs/spec.types.js';
import { dependencyGate, type DependencyView } from './dependencies.js';

const view = (v: Partial<DependencyView> = {}): DependencyView => ({ replicas: 1, availableReplicas: 0, availableCondition: false, startedPods: 0, ...v });
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
    ['available pods but condition False (2 of 3, minimum 3)', [db()], { db: view({ replicas: 3, availableReplicas: 2 }) }, false, ['db'], 'Waiting for db (2/3 Available)'],
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
