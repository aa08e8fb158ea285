// Issue 15, start order: spec.dependsOn with real processes and real readiness probes.
import { applyYaml, cleanupAll, expectEventually, json, podsOf, readyPods, startGrid, type GridHandle } from '../utils/grid.js';

function spec(name: string, dependsOn = ''): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  replicas: 1
  command: ["node", "demo-services/versioned/server.js"]
  env:
    - { name: VERSION, value: v1 }
  readinessProbe: { httpGet: { path: /health/ready }, periodSeconds: 1, failureThreshold: 1 }
  terminationGracePeriodSeconds: 3
${dependsOn}`;
}

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

async function condition(g: GridHandle, service: string, type: string): Promise<Condition | undefined> {
  const { body } = await json<{ conditions: Condition[] }>(`${g.url}/services/${service}`);
  return body.conditions.find((c) => c.type === type);
}

describe('spec.dependsOn', () => {
  let g: GridHandle;
  afterAll(cleanupAll);

  beforeAll(async () => {
    g = await startGrid();
  });

  it('starts no pod of api until db is Available, then starts it', async () => {
    expect((await applyYaml(g, spec('api', '  dependsOn: [{ service: db }]'))).status).toBe(200);

    const waiting = await expectEventually(async () => {
      const c = await condition(g, 'api', 'DependenciesReady');
      expect(c).toMatchObject({ status: 'False', reason: 'WaitingForDependency', message: 'Waiting for db (not applied yet)' });
      return c;
    });
    expect(waiting).toBeDefined();
    expect(await podsOf(g, 'api')).toEqual([]);
    const events = (await json(`${g.url}/events?service=api&type=spec.waiting`)).body.events as { explain: string }[];
    expect(events).toHaveLength(1);
    expect(events[0].explain).toBe('Starting no pod of api because it depends on db, which is not applied yet');

    expect((await applyYaml(g, spec('db'))).status).toBe(200);

    await expectEventually(() => readyPods(g, 'db', 1), 15000);
    await expectEventually(() => readyPods(g, 'api', 1), 15000);
    const met = await condition(g, 'api', 'DependenciesReady');
    expect(met).toMatchObject({ status: 'True', reason: 'DependenciesMet', message: 'db is Available' });
    const goingOn = (await json(`${g.url}/events?service=api&type=spec.dependenciesReady`)).body.events;
    expect(goingOn).toHaveLength(1);
    expect((await json(`${g.url}/events?service=api&type=spec.waiting`)).body.events).toHaveLength(1);
  });

  it('does not report db not ready while it scales up with its one pod answering', async () => {
    await expectEventually(() => readyPods(g, 'api', 1), 15000);
    expect((await json(`${g.url}/scale?service=db&replicas=3`, { method: 'POST' })).status).toBe(200);

    // The Available condition of db turns False (minimum 3 of 3) while its new pods start; api must not take that for db failing.
    let dbUnavailable = 0;
    const apiConditions = new Set<string>();
    await expectEventually(async () => {
      const [db, api] = await Promise.all([condition(g, 'db', 'Available'), condition(g, 'api', 'DependenciesReady')]);
      if (db?.status === 'False') dbUnavailable++;
      apiConditions.add(`${api?.status} ${api?.reason}`);
      return readyPods(g, 'db', 3);
    }, 20000);

    expect(dbUnavailable).toBeGreaterThan(0);
    expect([...apiConditions]).toEqual(['True DependenciesMet']);
    expect((await json(`${g.url}/events?service=api&type=spec.dependencyNotReady`)).body.events).toEqual([]);
  });

  it('refuses a cycle through a stored service with a 400 naming it, and stores nothing', async () => {
    const before = (await json(`${g.url}/services`)).body;

    const sut = await applyYaml(g, `${spec('db', '  dependsOn: [{ service: web, condition: Started }]')}\n---\n${spec('web', '  dependsOn: [{ service: api }]')}`);

    expect(sut.status).toBe(400);
    expect(JSON.stringify(sut.body)).toContain('a cycle: db → web → api → db');
    expect((await json(`${g.url}/services`)).body).toEqual(before);
    expect((await json(`${g.url}/services/web`)).status).toBe(404);
  });
});
