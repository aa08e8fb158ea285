// /broadcast/<service>/<path>: one request to every Ready pod, as the autoscaling walkthrough uses it.
import { applyYaml, cleanupAll, expectEventually, json, readyPods, startGrid, type GridHandle } from '../utils/grid.js';

const processService = (name: string, replicas: number) => `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  command: ["node", "demo-services/versioned/server.js"]
  env: [{ name: VERSION, value: v1 }]
  readinessProbe: { httpGet: { path: /health/ready }, periodSeconds: 1, failureThreshold: 1 }
`;

interface Broadcast {
  service: string;
  results: { pod: string; version: string; status?: number; body?: any; error?: string }[];
}

describe('broadcast to every Ready pod', () => {
  let g: GridHandle;
  beforeAll(async () => {
    g = await startGrid();
  });
  afterAll(cleanupAll);

  it('sends method, path, query and body to each of 2 process pods and answers one result per pod', async () => {
    expect((await applyYaml(g, processService('pair', 2))).status).toBe(200);
    const pods = await expectEventually(() => readyPods(g, 'pair', 2), 10000);

    const version = await json<Broadcast>(`${g.url}/broadcast/pair/version`);
    expect(version.status).toBe(200);
    expect(version.body.service).toBe('pair');
    expect(version.body.results.map((r) => r.pod).sort()).toEqual(pods.map((p) => p.id).sort());
    // Each answer came from the pod it is filed under, not from whichever pod a balancer picked.
    for (const r of version.body.results) expect(r).toMatchObject({ version: 'v1', status: 200, body: { pod: r.pod, version: 'v1' } });
    // A percent-encoded service name ('pai%72' is 'pair') still reaches the pods' /version (it once built an invalid pod URL).
    const encoded = await json<Broadcast>(`${g.url}/broadcast/pai%72/version`);
    expect(encoded.body.results.map((r) => [r.status, (r.body as { pod?: string } | undefined)?.pod]).sort()).toEqual(pods.map((p) => [200, p.id]).sort());

    const fail = await json<Broadcast>(`${g.url}/broadcast/pair/chaos/fail?rate=0.25`, { method: 'POST' });
    expect(fail.body.results.map((r) => [r.status, r.body.failRate])).toEqual([
      [200, 0.25],
      [200, 0.25],
    ]);
    const echo = await json<Broadcast>(`${g.url}/broadcast/pair/echo`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"hello":"pods"}' });
    expect(echo.body.results.map((r) => r.body)).toEqual([{ hello: 'pods' }, { hello: 'pods' }]);
  });

  it('refuses a service of simulated pods with 400 and an unknown service with 404', async () => {
    expect((await applyYaml(g, 'apiVersion: v1\nkind: Service\nmetadata: {name: simmed}\nspec: {replicas: 2, image: "local://simmed@v1"}\n')).status).toBe(200);
    await expectEventually(() => readyPods(g, 'simmed', 2));
    const sim = await json(`${g.url}/broadcast/simmed/version`);
    expect(sim.status).toBe(400);
    expect(sim.body.message).toContain('broadcast needs real pods');
    const missing = await json(`${g.url}/broadcast/nope/version`, { method: 'POST' });
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe("service 'nope' not found");
  });
});
