import { openTestStore, removeStore, type TestStore } from '../../../test/utils/database.js';
import { ControllerStateEntity } from './controller-state.entity.js';
import { ControllerStateRepository } from './controller-state.repository.js';
import type { ServiceStatus } from './status.js';

const status = (replicas: number): ServiceStatus => ({ observedGeneration: 1, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas, unavailableReplicas: 0, conditions: [] });

/** Lets the repository's async flush (a TypeORM transaction) finish. */
async function settle(sut: ControllerStateRepository): Promise<void> {
  await sut.flush();
}

describe(ControllerStateRepository.name, () => {
  let store: TestStore;
  let sut: ControllerStateRepository;

  async function open(dir?: string): Promise<void> {
    store = await openTestStore({ dir });
    sut = new ControllerStateRepository(store.ds.getRepository(ControllerStateEntity), store.clock, store.metrics);
    await sut.onModuleInit();
  }

  beforeEach(() => open());
  afterEach(async () => {
    await store.close();
    removeStore(store.dir);
  });

  const rows = () => store.ds.query('SELECT service, status IS NOT NULL AS hasStatus, autoscale IS NOT NULL AS hasAutoscale FROM controller_state ORDER BY service');

  it('serves a patch from memory at once and writes it within the flush period', async () => {
    sut.patch('api', { status: status(3) });

    expect(sut.get('api').status?.replicas).toBe(3);
    expect(await rows()).toEqual([]);
    await settle(sut);
    expect(await rows()).toEqual([{ service: 'api', hasStatus: 1, hasAutoscale: 0 }]);
  });

  it('reads back typed state after a restart', async () => {
    sut.patch('api', { status: status(2), autoscale: { replicas: 4, state: { recommendations: [], scaleUps: [] } } });
    await settle(sut);
    const dir = store.dir;
    await store.close();
    await open(dir);

    expect(sut.get('api').status?.replicas).toBe(2);
    expect(sut.get('api').autoscale?.replicas).toBe(4);
  });

  it('clears a part with undefined and drops the row on delete', async () => {
    sut.patch('api', { status: status(1), autoscale: { replicas: 1, state: { recommendations: [], scaleUps: [] } } });
    sut.patch('api', { autoscale: undefined });
    await settle(sut);
    expect(await rows()).toEqual([{ service: 'api', hasStatus: 1, hasAutoscale: 0 }]);

    sut.delete('api');
    await settle(sut);
    expect(await rows()).toEqual([]);
    expect(sut.get('api')).toEqual({});
  });

  it('retries a failed write with backoff, counts it, and lands the newest state', async () => {
    await store.ds.query('ALTER TABLE controller_state RENAME TO away');
    sut.patch('api', { status: status(1) });
    await settle(sut);
    sut.patch('api', { status: status(5) });
    const errors = async () => (await store.metrics.persistErrors.get()).values.find((v) => v.labels.store === 'controller_state')?.value;
    expect(await errors()).toBe(1);

    await store.ds.query('ALTER TABLE away RENAME TO controller_state');
    store.clock.advance(200);
    await settle(sut);

    expect(await store.ds.query("SELECT json_extract(status, '$.replicas') AS r FROM controller_state")).toEqual([{ r: 5 }]);
    expect(await errors()).toBe(1);
  });
});
