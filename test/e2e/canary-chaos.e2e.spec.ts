// Issue 16 end to end on real processes: a Canary's chaos step kills a canary pod and promotes only
// once a replacement is Ready; one whose replacement never gets Ready is aborted with the numbers.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyYaml, cleanupAll, expectEventually, json, podsOf, readyPods, startGrid, type GridHandle } from '../utils/grid.js';

// Runs the demo service unless the file MARK names exists: then the process lives but never listens,
// so a pod started after the test creates the file can never get Ready (a canary that cannot recover).
const GATED = `if (require('fs').existsSync(process.env.MARK)) setInterval(() => {}, 1 << 30); else import(require('path').resolve('demo-services/versioned/server.js'))`;

function spec(name: string, version: string, steps: string, opts: { mark?: string } = {}): string {
  const command = opts.mark ? JSON.stringify(['node', '-e', GATED]) : '["node", "demo-services/versioned/server.js"]';
  const mark = opts.mark ? `\n    - { name: MARK, value: "${opts.mark}" }` : '';
  return `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  replicas: 2
  command: ${command}
  env:
    - { name: VERSION, value: ${version} }${mark}
  readinessProbe: { httpGet: { path: /health/ready }, periodSeconds: 1, failureThreshold: 1 }
  livenessProbe: { httpGet: { path: /health/live }, periodSeconds: 1, failureThreshold: 3 }
  terminationGracePeriodSeconds: 2
  rollout:
    strategy: Canary
    steps:
${steps
  .trim()
  .split('\n')
  .map((l) => `      ${l}`)
  .join('\n')}
`;
}

interface ChaosEvent {
  reason: string;
  message: string;
  explain: string;
}

async function chaosEvents(g: GridHandle, service: string): Promise<ChaosEvent[]> {
  return (await json<{ events: ChaosEvent[] }>(`${g.url}/events?service=${service}&type=rollout.chaos&limit=50`)).body.events;
}

async function rollout(g: GridHandle, name: string) {
  return (await json(`${g.url}/services/${name}/rollout`)).body;
}

describe('Canary chaos step on the process runtime', () => {
  let g: GridHandle;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'grid-chaos-step-'));
  beforeAll(async () => {
    g = await startGrid({ env: { TICK_MS: '200' } });
  });
  afterAll(async () => {
    await cleanupAll();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('kills a canary pod, waits for a Ready replacement, then completes', async () => {
    await applyYaml(g, spec('rehearsed', 'v1', '- setWeight: 50\n- chaos: { kill: 1, recoverWithin: 30s }'));
    await expectEventually(() => readyPods(g, 'rehearsed', 2), 15000);
    await applyYaml(g, spec('rehearsed', 'v2', '- setWeight: 50\n- chaos: { kill: 1, recoverWithin: 30s }'));

    const started = await expectEventually(async () => {
      const e = (await chaosEvents(g, 'rehearsed')).find((x) => x.reason === 'ChaosStepStarted');
      if (!e) throw new Error('no ChaosStepStarted event yet');
      return e;
    }, 20000);
    const killed = /killed canary pod (\S+)/.exec(started.message)?.[1];
    expect(killed).toMatch(/^rehearsed-/);

    const done = await expectEventually(async () => {
      const r = await rollout(g, 'rehearsed');
      if (r.phase !== 'Completed') throw new Error(`phase ${r.phase}: ${JSON.stringify(r.chaos)}`);
      return r;
    }, 30000);
    expect(done.abort).toBeNull();
    const events = await chaosEvents(g, 'rehearsed');
    expect(events.map((e) => e.reason).sort()).toEqual(['ChaosStepPassed', 'ChaosStepStarted']);
    expect(events.find((e) => e.reason === 'ChaosStepPassed')?.message).toMatch(new RegExp(`^canary pod ${killed} killed at step 2 was replaced by a Ready pod in [\\d.]+ s \\(1/1 Ready\\)$`));
    const pods = await podsOf(g, 'rehearsed');
    expect(pods.map((p) => p.id)).not.toContain(killed);
    await expectEventually(() => readyPods(g, 'rehearsed', 2), 15000);
  }, 90000);

  it('aborts a canary whose killed pod is not replaced by a Ready pod within recoverWithin, with the numbers', async () => {
    const mark = path.join(tmp, 'no-more-ready');
    const steps = '- setWeight: 50\n- pause: {}\n- chaos: { kill: 1, recoverWithin: 6s }';
    await applyYaml(g, spec('fragile', 'v1', steps));
    await expectEventually(() => readyPods(g, 'fragile', 2), 15000);
    await applyYaml(g, spec('fragile', 'v2', steps, { mark }));
    await expectEventually(async () => {
      const r = await rollout(g, 'fragile');
      if (r.phase !== 'Paused') throw new Error(`phase ${r.phase}`);
      return true;
    }, 20000);
    // From here on a new v2 process never listens; the one already Ready keeps serving until it is killed.
    fs.writeFileSync(mark, '');
    expect((await json(`${g.url}/services/fragile/rollout/promote`, { method: 'POST' })).status).toBe(200);

    const waiting = await expectEventually(async () => {
      const r = await rollout(g, 'fragile');
      if (r.chaos?.phase !== 'Running') throw new Error(`chaos ${JSON.stringify(r.chaos)}, phase ${r.phase}`);
      return r.chaos;
    }, 15000);
    expect(waiting).toMatchObject({ step: 3, kind: 'kill', waitingFor: expect.stringMatching(/^a Ready replacement for killed pod fragile-\S+ \(0\/1 Ready\)$/) });

    const aborted = await expectEventually(async () => {
      const r = await rollout(g, 'fragile');
      if (r.phase !== 'Aborted') throw new Error(`phase ${r.phase}`);
      return r;
    }, 20000);
    expect(aborted.abort.reason).toBe('ChaosNotRecovered');
    expect(aborted.abort.message).toBe(`canary pod ${waiting.pods[0]} killed at step 3 was not replaced by a Ready pod within 6 s (0/1 Ready)`);
    expect(aborted.weights).toEqual({ v1: 100 });
    const explain = (await chaosEvents(g, 'fragile')).find((e) => e.reason === 'ChaosNotRecovered')?.explain;
    expect(explain).toContain('v1 takes all traffic');
    await expectEventually(async () => {
      const pods = await podsOf(g, 'fragile');
      if (pods.some((p) => p.version === 'v2')) throw new Error(`v2 pods left: ${pods.map((p) => p.id).join(', ')}`);
      return true;
    }, 15000);
  }, 90000);

  it('a Grid SIGKILLed while the step waits resumes it after the restart with the same pods and deadline', async () => {
    const mark = path.join(tmp, 'no-more-ready-after-crash');
    const steps = '- setWeight: 50\n- pause: {}\n- chaos: { kill: 1, recoverWithin: 10s }';
    const first = await startGrid({ env: { TICK_MS: '200' } });
    await applyYaml(first, spec('crashy', 'v1', steps));
    await expectEventually(() => readyPods(first, 'crashy', 2), 15000);
    await applyYaml(first, spec('crashy', 'v2', steps, { mark }));
    await expectEventually(async () => (await rollout(first, 'crashy')).phase === 'Paused', 20000);
    fs.writeFileSync(mark, '');
    expect((await json(`${first.url}/services/crashy/rollout/promote`, { method: 'POST' })).status).toBe(200);
    const before = await expectEventually(async () => {
      const c = (await rollout(first, 'crashy')).chaos;
      return c?.phase === 'Running' ? c : undefined;
    }, 15000);

    await first.kill();
    const second = await startGrid({ dataDir: first.dataDir, env: { TICK_MS: '200' } });

    const resumed = (await rollout(second, 'crashy')).chaos;
    expect(resumed).toMatchObject({ step: 3, kind: 'kill', phase: 'Running', pods: before.pods });
    // The same deadline: what was left before the crash, less the time the restart took (never a fresh 10 s).
    expect(resumed.secondsLeft).toBeLessThanOrEqual(before.secondsLeft);
    const aborted = await expectEventually(async () => {
      const r = await rollout(second, 'crashy');
      return r.phase === 'Aborted' ? r : undefined;
    }, 20000);
    expect(aborted.abort.message).toBe(`canary pod ${before.pods[0]} killed at step 3 was not replaced by a Ready pod within 10 s (0/1 Ready)`);
    const started = (await chaosEvents(second, 'crashy')).filter((e) => e.reason === 'ChaosStepStarted');
    expect(started).toHaveLength(1);
  }, 90000);
});
