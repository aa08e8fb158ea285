// Issue 15, state that survives: examples/shop.yaml on a real Grid. The store (1 replica,
// spec.storage) holds the shop's data; the other services start after it (dependsOn) and keep
// nothing of their own, so every replica answers the same, and neither a SIGKILLed store pod
// nor a Grid restart loses an acknowledged order.
import { applyYaml, cleanupAll, example, expectEventually, json, readyPods, startGrid, type GridHandle, type StatePod } from '../utils/grid.js';

interface Broadcast {
  results: { pod: string; status?: number; body?: unknown; error?: string }[];
}

const SERVICES = { store: 1, 'data-ingest': 2, 'business-logic': 2, 'frontend-api': 2 } as const;

async function allReady(g: GridHandle): Promise<Record<string, StatePod[]>> {
  const out: Record<string, StatePod[]> = {};
  for (const [s, n] of Object.entries(SERVICES)) out[s] = await readyPods(g, s, n);
  return out;
}

function postJson(url: string, body: unknown) {
  return json(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** The same GET to every Ready pod of `service`: one [status, body] per pod, all of which must be `expected`. */
async function everyReplicaAnswers(g: GridHandle, service: string, path: string, expected: unknown, replicas: number): Promise<void> {
  const r = await json<Broadcast>(`${g.url}/broadcast/${service}${path}`);
  expect(r.status).toBe(200);
  expect(r.body.results).toHaveLength(replicas);
  for (const one of r.body.results) expect([one.pod, one.status, one.body]).toEqual([one.pod, 200, expected]);
}

describe('the shop keeps its data in the store', () => {
  let g: GridHandle;
  afterAll(cleanupAll);

  it('all Ready; an order placed through frontend-api is read back from every replica, after a store SIGKILL and after a Grid restart', async () => {
    g = await startGrid();
    expect((await applyYaml(g, example('shop.yaml'))).status).toBe(200);
    const pods = await expectEventually(() => allReady(g), 60_000, 200);

    const user = await postJson(`${g.url}/gateway/frontend-api/api/v1/users`, { username: 'alice_1', email: 'alice@example.com' });
    expect(user.status).toBe(201);
    const order = await postJson(`${g.url}/gateway/frontend-api/api/v1/orders`, { user_id: user.body.id, amount: 10 });
    expect(order.status).toBe(201);
    expect(order.body).toMatchObject({ user_id: user.body.id, amount: 10, tax: 0.8, total: 10.8, status: 'processed' });
    const ingest = await postJson(`${g.url}/gateway/frontend-api/api/v1/data/ingest`, { type: 'sensor', data: { t: 25.5 } });
    expect(ingest.status).toBe(201);
    const dup = await postJson(`${g.url}/gateway/frontend-api/api/v1/users`, { username: 'alice_1', email: 'other@example.com' });
    expect(dup.status).toBe(409);

    const orderPath = `/api/v1/orders/${order.body.order_id}`;
    const users = { users: [user.body], count: 1 };
    const checkEveryReplica = async () => {
      await everyReplicaAnswers(g, 'frontend-api', orderPath, order.body, 2);
      await everyReplicaAnswers(g, 'business-logic', orderPath, order.body, 2);
      await everyReplicaAnswers(g, 'frontend-api', '/api/v1/users', users, 2);
      await everyReplicaAnswers(g, 'data-ingest', '/api/v1/ingest/stats', { total: 1, by_type: { sensor: 1 }, by_source: { api: 1 } }, 2);
    };
    await checkEveryReplica();

    // The store crashes: SIGKILL its process. Grid starts it again on the same directory.
    const [store] = pods.store;
    process.kill(store.pid!, 'SIGKILL');
    await expectEventually(async () => {
      const [now] = await readyPods(g, 'store', 1);
      return now.pid !== store.pid;
    }, 30_000, 100);
    // The others did not restart: they only had to reach the store again.
    const after = await expectEventually(() => allReady(g), 30_000, 100);
    for (const s of ['data-ingest', 'business-logic', 'frontend-api']) expect(after[s].map((p) => [p.id, p.pid])).toEqual(pods[s].map((p) => [p.id, p.pid]));
    await expectEventually(async () => (await json(`${g.url}/gateway/frontend-api${orderPath}`)).status === 200, 15_000, 100);
    await checkEveryReplica();

    // Grid itself stops (and stops its pods) and starts again on the same data dir.
    await g.stop();
    g = await startGrid({ dataDir: g.dataDir });
    await expectEventually(() => allReady(g), 60_000, 200);
    await checkEveryReplica();
    const next = await postJson(`${g.url}/gateway/frontend-api/api/v1/orders`, { user_id: user.body.id, amount: 5 });
    expect(next.status).toBe(201);
    expect(next.body.order_id).toBeGreaterThan(order.body.order_id);
  }, 240_000);
});
