// Fault injection at the gateway (POST /chaos/faults) on real process pods: aborts and delays
// seen by clients at their exact shares on both gateway ports and on the node path, only the
// chosen version faulted, counted apart in /traffic and /metrics, and every fault ending on time.
import * as http from 'node:http';
import { applyYaml, cleanupAll, expectEventually, json, readyPods, startGrid, type GridHandle } from '../utils/grid.js';

function spec(name: string, version: string, rollout = ''): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  replicas: 2
  command: ["node", "demo-services/versioned/server.js"]
  env:
    - { name: VERSION, value: ${version} }
  readinessProbe: { httpGet: { path: /health/ready }, periodSeconds: 1, failureThreshold: 1 }
  terminationGracePeriodSeconds: 2
${rollout}`;
}

interface Answer {
  status: number;
  fault: string | null;
  version: string | null;
  ms: number;
  body: string;
}

async function get(url: string): Promise<Answer> {
  const t0 = performance.now();
  const res = await fetch(url);
  const body = await res.text();
  return { status: res.status, fault: res.headers.get('x-grid-fault'), version: res.headers.get('x-grid-version'), ms: performance.now() - t0, body };
}

/** `n` GETs, `concurrency` at a time. */
async function many(url: string, n: number, concurrency = 4): Promise<Answer[]> {
  const out: Answer[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        out.push(await get(url));
      }
    }),
  );
  return out;
}

/** A chunked POST: outside the fast path's subset, so Node's http server and the node path (undici) serve it. */
function chunkedPost(url: string): Promise<{ status: number; fault: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'transfer-encoding': 'chunked', 'content-type': 'text/plain' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, fault: res.headers['x-grid-fault'] as string | undefined }));
    });
    req.on('error', reject);
    req.write('hello ');
    req.end('faults');
  });
}

async function startFaults(g: GridHandle, body: Record<string, unknown>): Promise<string> {
  const r = await json(`${g.url}/chaos/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(r.status).toBe(201);
  return r.body.id as string;
}

async function stop(g: GridHandle, id: string): Promise<void> {
  expect((await json(`${g.url}/chaos/faults/${id}`, { method: 'DELETE' })).status).toBe(200);
}

describe('fault injection at the gateway (POST /chaos/faults, real process pods)', () => {
  let g: GridHandle;
  afterAll(cleanupAll);

  beforeAll(async () => {
    g = await startGrid({ env: { GRID_GATEWAY_PORT: '0' } });
    expect((await applyYaml(g, spec('shop', 'v1'))).status).toBe(200);
    await expectEventually(() => readyPods(g, 'shop', 2), 15000);
  }, 30000);

  it('aborts exactly 25 % of 200 requests with the status and header on each port, counts them apart and never ejects a pod for them', async () => {
    const id = await startFaults(g, { service: 'shop', abortPercent: 25, abortStatus: 503, durationSeconds: 120 });
    expect(id).toMatch(/^faults-[0-9a-f]{8}$/);
    for (const url of [`${g.url}/gateway/shop/version`, `${g.gatewayUrl}/shop/version`]) {
      const answers = await many(url, 200);
      const aborted = answers.filter((a) => a.status === 503);
      expect(aborted).toHaveLength(50);
      for (const a of aborted) {
        expect(a.fault).toBe('abort');
        expect(JSON.parse(a.body)).toEqual({ statusCode: 503, error: 'Service Unavailable', message: `fault injected by Grid (experiment ${id})` });
      }
      expect(answers.filter((a) => a.status === 200 && a.fault === null)).toHaveLength(150);
    }
    const listed = await json(`${g.url}/chaos/faults`);
    expect(listed.body.faults).toEqual([expect.objectContaining({ id, service: 'shop', counts: { seen: 400, aborted: 100, delayed: 0 }, secondsLeft: expect.any(Number) })]);

    const traffic = await json(`${g.url}/traffic?service=shop`);
    const v1 = traffic.body.totals.find((t: { version: string }) => t.version === 'v1');
    expect(v1).toMatchObject({ requests: 300, errors5xx: 0, faults: { aborted: 100, delayed: 0 } });
    expect(traffic.body.window.byVersion[0]).toMatchObject({ requests: 300, errors5xx: 0 });
    expect(traffic.body.ejected).toEqual([]);
    const metrics = await (await fetch(`${g.url}/metrics`)).text();
    expect(metrics).toContain('grid_gateway_faults_total{service="shop",version="v1",kind="abort"} 100');
    expect(metrics).not.toMatch(/grid_gateway_requests_total\{service="shop",version="v1",code="503"\}/);

    await stop(g, id);
    expect((await many(`${g.url}/gateway/shop/version`, 20)).every((a) => a.status === 200 && a.fault === null)).toBe(true);
    expect((await json(`${g.url}/chaos/experiments`)).body.experiments).toEqual([]);
  }, 60000);

  it('delays exactly half of the requests by at least 200 ms, on each port', async () => {
    const id = await startFaults(g, { service: 'shop', delayMs: 200, delayPercent: 50 });
    for (const url of [`${g.url}/gateway/shop/version`, `${g.gatewayUrl}/shop/version`]) {
      const answers = await many(url, 40);
      expect(answers.every((a) => a.status === 200)).toBe(true);
      const delayed = answers.filter((a) => a.fault === 'delay');
      expect(delayed).toHaveLength(20);
      for (const a of delayed) expect(a.ms).toBeGreaterThanOrEqual(200);
      const fast = answers.filter((a) => a.fault === null).map((a) => a.ms).sort((x, y) => x - y);
      expect(fast[fast.length >> 1]).toBeLessThan(200);
    }
    const traffic = await json(`${g.url}/traffic?service=shop`);
    expect(traffic.body.totals[0].faults).toEqual({ aborted: 100, delayed: 40 });
    await stop(g, id);
  }, 60000);

  it('faults the node path the same way (chunked requests, served by node:http and undici)', async () => {
    const id = await startFaults(g, { service: 'shop', abortPercent: 25, abortStatus: 502 });
    const answers: Array<{ status: number; fault: string | undefined }> = [];
    for (let i = 0; i < 20; i++) answers.push(await chunkedPost(`${g.url}/gateway/shop/echo`));
    expect(answers.filter((a) => a.status === 502 && a.fault === 'abort')).toHaveLength(5);
    expect(answers.filter((a) => a.status === 200 && a.fault === undefined)).toHaveLength(15);
    await stop(g, id);

    const delay = await startFaults(g, { service: 'shop', delayMs: 150, delayPercent: 100 });
    const t0 = performance.now();
    const r = await chunkedPost(`${g.gatewayUrl}/shop/echo`);
    expect(r).toEqual({ status: 200, fault: 'delay' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(150);
    await stop(g, delay);
  }, 30000);

  it('ends a fault on its own after durationSeconds', async () => {
    const id = await startFaults(g, { service: 'shop', abortPercent: 100, abortStatus: 500, durationSeconds: 2 });
    const t0 = Date.now();
    expect(await get(`${g.url}/gateway/shop/version`)).toMatchObject({ status: 500, fault: 'abort' });
    expect((await json(`${g.url}/chaos/experiments`)).body.experiments).toEqual([expect.objectContaining({ id, kind: 'faults', service: 'shop', origin: 'api' })]);
    await expectEventually(async () => (await get(`${g.url}/gateway/shop/version`)).status === 200, 6000, 100);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1500);
    expect((await many(`${g.url}/gateway/shop/version`, 20)).every((a) => a.status === 200 && a.fault === null)).toBe(true);
    expect((await json(`${g.url}/chaos/experiments`)).body.experiments).toEqual([]);
    const events = await json(`${g.url}/events?service=shop&type=chaos.faultsEnded`);
    expect(JSON.stringify(events.body)).toContain(`fault experiment ${id} on service shop ended`);
  }, 30000);

  it('refuses bad input with a 400 naming the field, and an unknown service with a 404, starting nothing', async () => {
    const post = (body: unknown, query = '') => json(`${g.url}/chaos/faults${query}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    for (const [body, field] of [
      [{ service: 'shop', abortPercent: 150 }, 'abortPercent'],
      [{ service: 'shop' }, 'abortPercent'],
      [{ service: 'shop', delayPercent: 50 }, 'delayMs'],
      [{ service: 'shop', delayPercent: 50, delayMs: 60001 }, 'delayMs'],
      [{ service: 'shop', abortPercent: 10, abortStatus: 200 }, 'abortStatus'],
      [{ service: 'shop', abortPercent: 10, durationSeconds: 3601 }, 'durationSeconds'],
      [{ service: 'shop', abortPercent: 'lots' }, 'abortPercent'],
      [{ service: 'shop', abortPercent: 10, version: 'v 2' }, 'version'],
      [{ service: 'shop', abortPercent: 10, color: 'red' }, 'color'],
      [{ abortPercent: 10 }, 'service'],
      [{ service: ['shop'], abortPercent: 10 }, 'service'],
      [{ service: { a: 1 }, abortPercent: 10 }, 'service'],
    ] as const) {
      const r = await post(body);
      expect([r.status, r.body.message]).toEqual([400, expect.stringMatching(new RegExp(`^${field}: `))]);
      if (typeof body.service !== 'string' && body.service !== undefined) expect(r.body.message).toBe('service: must be a string such as "api"');
    }
    expect((await post({ service: 'nope', abortPercent: 10 })).status).toBe(404);
    const typo = await post({ service: 'shop', version: 'v9', abortPercent: 10 });
    expect([typo.status, typo.body.message]).toEqual([404, expect.stringMatching(/version 'v9' of service 'shop' not found: it has v1\b/)]);
    expect((await json(`${g.url}/chaos/experiments`)).body.experiments).toEqual([]);
    expect((await json(`${g.url}/chaos/faults/faults-00000000`, { method: 'DELETE' })).status).toBe(404);

    // The same fields as query parameters.
    const q = await post(undefined, '?service=shop&abortPercent=10&abortStatus=429&durationSeconds=30');
    expect(q.status).toBe(201);
    expect(q.body).toMatchObject({ kind: 'faults', service: 'shop', version: null, params: { abortPercent: 10, abortStatus: 429, delayMs: 0, delayPercent: 0, durationSeconds: 30 } });
    expect((await json(`${g.url}/chaos/experiments/${q.body.id}`, { method: 'DELETE' })).status).toBe(200);
  });

  it('refuses a second fault rule on requests a running one covers (409 naming it), starting nothing', async () => {
    const post = (body: unknown) => json(`${g.url}/chaos/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const id = await startFaults(g, { service: 'shop', version: 'v1', abortPercent: 10 });
    for (const body of [
      { service: 'shop', version: 'v1', delayMs: 100, delayPercent: 50 },
      { service: 'shop', abortPercent: 50 },
    ]) {
      const r = await post(body);
      expect([r.status, r.body.message]).toEqual([409, `${id} already injects faults into shop v1; stop it first (DELETE /chaos/experiments/${id})`]);
    }
    expect((await json(`${g.url}/chaos/experiments`)).body.experiments.map((e: { id: string }) => e.id)).toEqual([id]);
    await stop(g, id);
    const wide = await startFaults(g, { service: 'shop', abortPercent: 10 });
    expect((await post({ service: 'shop', version: 'v1', abortPercent: 10 })).body.message).toMatch(new RegExp(`^${wide} already injects faults into shop \\(every version\\)`));
    await stop(g, wide);
  });

  it('faults only the version it names (a canary at 50 %)', async () => {
    const rollout = '  rollout:\n    strategy: Canary\n    steps: [ { setWeight: 50 }, { pause: {} } ]\n';
    expect((await applyYaml(g, spec('shop', 'v2', rollout))).status).toBe(200);
    await expectEventually(async () => {
      const t = await json(`${g.url}/traffic?service=shop`);
      const v = t.body.versions as Array<{ version: string; weight: number; pods: string[] }>;
      return v.find((x) => x.version === 'v2' && x.weight === 50 && x.pods.length > 0) && v.find((x) => x.version === 'v1' && x.weight === 50);
    }, 20000);
    const id = await startFaults(g, { service: 'shop', version: 'v2', abortPercent: 100, abortStatus: 503 });
    const answers = await many(`${g.url}/gateway/shop/version`, 40);
    const v2 = answers.filter((a) => a.version === 'v2');
    const v1 = answers.filter((a) => a.version === 'v1');
    expect(v2.length).toBeGreaterThan(5);
    expect(v1.length).toBeGreaterThan(5);
    expect(v2.every((a) => a.status === 503 && a.fault === 'abort')).toBe(true);
    expect(v1.every((a) => a.status === 200 && a.fault === null)).toBe(true);
    const listed = (await json(`${g.url}/chaos/faults`)).body.faults;
    expect(listed[0]).toMatchObject({ id, version: 'v2', counts: { seen: v2.length, aborted: v2.length } });
    await stop(g, id);
  }, 40000);

  it('faults simulated pods too, and deleting the service ends its fault experiments', async () => {
    expect((await applyYaml(g, 'apiVersion: v1\nkind: Service\nmetadata: { name: sims }\nspec: { replicas: 2, image: "local://demo@v1" }\n')).status).toBe(200);
    await expectEventually(() => readyPods(g, 'sims', 2), 10000);
    const id = await startFaults(g, { service: 'sims', abortPercent: 50, abortStatus: 503 });
    const answers = await many(`${g.url}/gateway/sims/`, 10, 1);
    expect(answers.filter((a) => a.status === 503 && a.fault === 'abort')).toHaveLength(5);
    expect((await json(`${g.url}/services/sims`, { method: 'DELETE' })).status).toBe(200);
    await expectEventually(async () => (await json(`${g.url}/chaos/experiments`)).body.experiments.every((e: { id: string }) => e.id !== id), 5000);
  }, 30000);
});
