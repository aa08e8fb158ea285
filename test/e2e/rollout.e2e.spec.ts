// Issue 4 end to end on the process runtime: rollouts under real traffic, and the autoscaler.
import { applyYaml, cleanupAll, expectEventually, json, podsOf, readyPods, startGrid, type GridHandle } from '../utils/grid.js';

function spec(name: string, version: string, rollout: string, opts: { env?: Record<string, string>; replicas?: number; extra?: string } = {}): string {
  const env = Object.entries({ VERSION: version, ...opts.env })
    .map(([k, v]) => `    - { name: ${k}, value: "${v}" }`)
    .join('\n');
  return `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  replicas: ${opts.replicas ?? 3}
  command: ["node", "demo-services/versioned/server.js"]
  env:
${env}
  readinessProbe: { httpGet: { path: /health/ready }, periodSeconds: 1, failureThreshold: 1 }
  terminationGracePeriodSeconds: 5
${opts.extra ?? ''}  rollout:
${rollout
  .trim()
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
`;
}

interface LoadResult {
  total: number;
  byVersion: Record<string, number>;
  codes: Record<string, number>;
}

/** A bounded background load (count and time) against the gateway that can be stopped. */
function startLoad(url: string, concurrency = 4, maxMs = 60000, maxRequests = 200000) {
  const r: LoadResult = { total: 0, byVersion: {}, codes: {} };
  let stop = false;
  const deadline = Date.now() + maxMs;
  const worker = async () => {
    while (!stop && Date.now() < deadline && r.total < maxRequests) {
      r.total++;
      try {
        const res = await fetch(url);
        await res.arrayBuffer();
        const v = res.headers.get('x-grid-version') ?? 'none';
        r.byVersion[v] = (r.byVersion[v] ?? 0) + 1;
        r.codes[res.status] = (r.codes[res.status] ?? 0) + 1;
      } catch (e) {
        const k = `error ${(e as Error).message}`;
        r.codes[k] = (r.codes[k] ?? 0) + 1;
      }
    }
  };
  const done = Promise.all(Array.from({ length: concurrency }, worker));
  return {
    result: r,
    async stop(): Promise<LoadResult> {
      stop = true;
      await done;
      return r;
    },
  };
}

async function rollout(g: GridHandle, name: string) {
  return (await json(`${g.url}/services/${name}/rollout`)).body;
}

describe('rollouts on the process runtime', () => {
  let g: GridHandle;
  beforeAll(async () => {
    g = await startGrid({ env: { TICK_MS: '200' } });
  });
  afterAll(cleanupAll);

  it('rolls v1 → v2 (Rolling) under load with zero failed requests', async () => {
    await applyYaml(g, spec('roll', 'v1', 'strategy: Rolling'));
    await expectEventually(() => readyPods(g, 'roll', 3), 10000);
    const load = startLoad(`${g.url}/gateway/roll/version`);
    await expectEventually(() => load.result.total > 100, 10000);
    await applyYaml(g, spec('roll', 'v2', 'strategy: Rolling'));
    await expectEventually(async () => (await readyPods(g, 'roll', 3)).every((p) => p.version === 'v2') && (await rollout(g, 'roll')).phase === 'Completed', 20000);
    const after = load.result.total;
    await expectEventually(() => load.result.total > after + 100, 10000);
    const r = await load.stop();
    expect(r.codes).toEqual({ 200: r.total });
    expect(r.byVersion.v1).toBeGreaterThan(0);
    expect(r.byVersion.v2).toBeGreaterThan(0);
    const ev = (await json(`${g.url}/events?service=roll&type=rollout.*`)).body.events.map((e: any) => e.type);
    expect(ev).toEqual(expect.arrayContaining(['rollout.started', 'rollout.completed']));
  });

  it('runs a blue/green rollout: preview reaches the new version, promote switches all traffic', async () => {
    const bg = 'strategy: BlueGreen\nautoPromotionEnabled: false\nscaleDownDelaySeconds: 1';
    await applyYaml(g, spec('bg', 'v1', bg, { replicas: 2 }));
    await expectEventually(() => readyPods(g, 'bg', 2), 10000);
    await applyYaml(g, spec('bg', 'v2', bg, { replicas: 2 }));
    await expectEventually(async () => (await rollout(g, 'bg')).pauseReason === 'AwaitingPromotion', 15000);
    expect((await podsOf(g, 'bg')).filter((p) => p.ready)).toHaveLength(4);
    for (let i = 0; i < 10; i++) expect((await fetch(`${g.url}/gateway/bg/version`)).headers.get('x-grid-version')).toBe('v1');
    expect((await fetch(`${g.url}/gateway/bg--preview/version`)).headers.get('x-grid-version')).toBe('v2');
    expect((await fetch(`${g.url}/gateway/bg/version`, { headers: { 'x-grid-preview': '1' } })).headers.get('x-grid-version')).toBe('v2');
    const p = await json(`${g.url}/services/bg/rollout/promote`, { method: 'POST' });
    expect(p.status).toBe(200);
    await expectEventually(async () => (await fetch(`${g.url}/gateway/bg/version`)).headers.get('x-grid-version') === 'v2', 5000);
    for (let i = 0; i < 10; i++) expect((await fetch(`${g.url}/gateway/bg/version`)).headers.get('x-grid-version')).toBe('v2');
    await expectEventually(async () => (await rollout(g, 'bg')).phase === 'Completed' && (await podsOf(g, 'bg')).length === 2, 15000);
    expect((await podsOf(g, 'bg')).every((x) => x.version === 'v2')).toBe(true);
    expect((await json(`${g.url}/services/bg/rollout/promote`, { method: 'POST' })).status).toBe(409);
  });

  it('takes a good canary through 25% → 50% → 100% with exact weights', async () => {
    const steps = 'strategy: Canary\nsteps:\n  - setWeight: 25\n  - pause: { duration: 1s }\n  - setWeight: 50\n  - pause: {}\n  - setWeight: 100';
    await applyYaml(g, spec('can', 'v1', steps, { replicas: 4 }));
    await expectEventually(() => readyPods(g, 'can', 4), 10000);
    await applyYaml(g, spec('can', 'v2', steps, { replicas: 4 }));
    await expectEventually(async () => (await rollout(g, 'can')).pauseReason === 'Step', 20000);
    const r = await rollout(g, 'can');
    expect(r.canaryWeight).toBe(50);
    expect(r.weights).toEqual({ v1: 50, v2: 50 });
    const counts: Record<string, number> = {};
    for (let i = 0; i < 40; i++) {
      const v = (await fetch(`${g.url}/gateway/can/version`)).headers.get('x-grid-version')!;
      counts[v] = (counts[v] ?? 0) + 1;
    }
    expect(counts).toEqual({ v1: 20, v2: 20 });
    expect((await podsOf(g, 'can')).filter((p) => p.version === 'v2')).toHaveLength(2);
    await json(`${g.url}/services/can/rollout/promote`, { method: 'POST' });
    await expectEventually(async () => (await rollout(g, 'can')).phase === 'Completed', 20000);
    await expectEventually(async () => (await readyPods(g, 'can', 4)).every((p) => p.version === 'v2'), 15000);
    const ev = (await json(`${g.url}/events?service=can&type=rollout.weightSet`)).body.events.map((e: any) => e.message);
    expect(ev.join('\n')).toMatch(/0% → 25%[\s\S]*25% → 50%[\s\S]*50% → 100%/);
  });

  it('aborts a bad canary automatically; clients see at most weight × failure rate of errors', async () => {
    const steps = `strategy: Canary
steps:
  - setWeight: 25
  - pause: { duration: 60s }
  - setWeight: 100
analysis: { interval: 1s, minRequests: 10, maxErrorRate: 0.05, failureLimit: 1 }`;
    await applyYaml(g, spec('bad', 'v1', steps, { replicas: 3 }));
    await expectEventually(() => readyPods(g, 'bad', 3), 10000);
    const load = startLoad(`${g.url}/gateway/bad/version`, 4);
    await expectEventually(() => load.result.total > 50, 10000);
    await applyYaml(g, spec('bad', 'v2', steps, { replicas: 3, env: { FAIL_RATE: '0.5' } }));
    await expectEventually(async () => (await rollout(g, 'bad')).phase === 'Aborted', 20000);
    // Traffic is back on v1 at once: once the requests in flight at the abort are done, v2 gets nothing more.
    const atAbort = load.result.total;
    await expectEventually(() => load.result.total > atAbort + 20, 10000);
    const mark = { ...load.result.byVersion };
    await expectEventually(() => load.result.total > 0 && Object.values(load.result.byVersion).reduce((a, b) => a + b, 0) > Object.values(mark).reduce((a, b) => a + b, 0) + 100, 10000);
    const r = await load.stop();
    expect(r.byVersion.v2 ?? 0).toBe(mark.v2 ?? 0);
    const errors = r.total - (r.codes['200'] ?? 0);
    expect(errors).toBeGreaterThan(0);
    expect(errors / r.total).toBeLessThanOrEqual(0.25 * 0.5);
    const ro = await rollout(g, 'bad');
    expect(ro.abort.reason).toBe('AnalysisFailed');
    expect(ro.abort.message).toMatch(/canary v2 5xx [\d.]+% > 5% over \d+ failed intervals .* \d+ requests/);
    const svc = (await json(`${g.url}/services/bad`)).body;
    expect(svc.status.conditions.find((c: any) => c.type === 'Degraded')).toMatchObject({ status: 'True', reason: 'RolloutAborted' });
    await expectEventually(async () => (await podsOf(g, 'bad')).every((p) => p.version === 'v1'), 10000);
  });

  it('keeps a canary apart from stable when only its env changed (same VERSION)', async () => {
    const steps = 'strategy: Canary\nsteps:\n  - setWeight: 50\n  - pause: {}';
    await applyYaml(g, spec('same', 'v1', steps, { replicas: 2 }));
    await expectEventually(() => readyPods(g, 'same', 2), 10000);
    await applyYaml(g, spec('same', 'v1', steps, { replicas: 2, env: { GREETING: 'hi' } }));
    await expectEventually(async () => (await rollout(g, 'same')).pauseReason === 'Step', 15000);
    expect((await rollout(g, 'same')).weights).toEqual({ v1: 50, 'v1-r2': 50 });
    const seen: Record<string, number> = {};
    for (let i = 0; i < 20; i++) {
      const v = (await fetch(`${g.url}/gateway/same/version`)).headers.get('x-grid-version')!;
      seen[v] = (seen[v] ?? 0) + 1;
    }
    expect(seen).toEqual({ v1: 10, 'v1-r2': 10 });
  });

  it('undoes to the previous revision', async () => {
    await applyYaml(g, spec('undo', 'v1', 'strategy: Rolling', { replicas: 2 }));
    await expectEventually(() => readyPods(g, 'undo', 2), 10000);
    await applyYaml(g, spec('undo', 'v2', 'strategy: Rolling', { replicas: 2 }));
    await expectEventually(async () => (await readyPods(g, 'undo', 2)).every((p) => p.version === 'v2'), 15000);
    const u = await json(`${g.url}/services/undo/rollout/undo`, { method: 'POST' });
    expect(u.status).toBe(200);
    expect(u.body.undone).toMatchObject({ result: 'configured', revision: 3, version: 'v1' });
    await expectEventually(async () => (await readyPods(g, 'undo', 2)).every((p) => p.version === 'v1'), 15000);
    expect((await json(`${g.url}/services/undo/rollout/undo?toRevision=99`, { method: 'POST' })).status).toBe(400);
  });
});

describe('autoscaler on the process runtime', () => {
  afterAll(cleanupAll);

  it('scales up under CPU load and back down after the stabilization window', async () => {
    const g = await startGrid({ env: { TICK_MS: '200', GRID_HPA_SYNC_MS: '500' } });
    const extra = '  autoscale: { targetCPU: 30, min: 1, max: 3, behavior: { scaleDown: { stabilizationWindowSeconds: 3 } } }\n';
    await applyYaml(g, spec('hot', 'v1', 'strategy: Rolling', { replicas: 1, extra }));
    const [pod] = await expectEventually(() => readyPods(g, 'hot', 1), 10000);
    await fetch(`http://127.0.0.1:${pod.port}/chaos/cpu?seconds=8`, { method: 'POST' });
    await expectEventually(async () => (await podsOf(g, 'hot')).length >= 2, 15000);
    const up = (await json(`${g.url}/events?service=hot&type=autoscale.scaled`)).body.events;
    expect(up[0].explain).toMatch(/Scaled 1 → [23] replicas because average CPU of 1 ready pods is [\d.]+% against a target of 30%/);
    await fetch(`http://127.0.0.1:${pod.port}/chaos/cpu?seconds=0`, { method: 'POST' });
    await expectEventually(async () => (await podsOf(g, 'hot')).length === 1, 20000);
    const down = (await json(`${g.url}/events?service=hot&type=autoscale.scaled`)).body.events.pop();
    expect(down.reason).toBe('ScaledDown');
    await g.stop();
  });
});
