// Issue 16 end to end on real processes: a Canary's chaos step kills, pauses or injects faults into
// the canary only, and promotes only once it recovered; one that does not is aborted with the numbers,
// and the experiments it started end with the rollout.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyYaml, cleanupAll, expectEventually, type GridHandle, json, podsOf, procState, readyPods, startGrid } from '../utils/grid.js';

// Runs the demo service unless the file MARK names exists: then the process lives but never listens,
// so a pod started after the test creates the file can never get Ready (a canary that cannot recover).
const GATED = `if (require('fs').existsSync(process.env.MARK)) setInterval(() => {}, 1 << 30); else import(require('path').resolve('demo-services/versioned/server.js'))`;

interface SpecOpts {
  mark?: string;
  /** Without a liveness probe nothing can tell a paused pod is hung. */
  liveness?: boolean;
  env?: Record<string, string>;
  analysis?: string;
}

function spec(name: string, version: string, steps: string, opts: SpecOpts = {}): string {
  const command = opts.mark ? JSON.stringify(['node', '-e', GATED]) : '["node", "demo-services/versioned/server.js"]';
  const env = { ...(opts.mark ? { MARK: opts.mark } : {}), ...opts.env };
  const extra = Object.entries(env)
    .map(([k, v]) => `\n    - { name: ${k}, value: "${v}" }`)
    .join('');
  const liveness = opts.liveness === false ? '' : '  livenessProbe: { httpGet: { path: /health/live }, periodSeconds: 1, failureThreshold: 3, timeoutSeconds: 1 }\n';
  return `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  replicas: 2
  command: ${command}
  env:
    - { name: VERSION, value: ${version} }${extra}
  readinessProbe: { httpGet: { path: /health/ready }, periodSeconds: 1, failureThreshold: 1 }
${liveness}  terminationGracePeriodSeconds: 2
  rollout:
    strategy: Canary${opts.analysis ? `\n    analysis: ${opts.analysis}` : ''}
    steps:
${steps
  .trim()
  .split('\n')
  .map((l) => `      ${l}`)
  .join('\n')}
`;
}

/** Grid's child processes (its pods) that are stopped by a signal. */
function stoppedChildren(gridPid: number): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const [state, ppid] = s.slice(s.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === gridPid && state === 'T') out.push(Number(d));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

async function experiments(g: GridHandle, service: string): Promise<{ id: string; kind: string; origin: string }[]> {
  const { body } = await json<{ experiments: { id: string; kind: string; origin: string; service: string }[] }>(`${g.url}/chaos/experiments`);
  return body.experiments.filter((e) => e.service === service);
}

async function traffic(g: GridHandle, service: string, rps: number, seconds: number): Promise<void> {
  expect((await json(`${g.url}/chaos/traffic?service=${service}&rps=${rps}&seconds=${seconds}`, { method: 'POST' })).status).toBe(200);
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
    const steps = '- setWeight: 50\n- pause: {}\n- chaos: { kill: 1, recoverWithin: 30s }';
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
    // The same deadline: what was left before the crash, less the time the restart took (never a fresh 30 s).
    expect(resumed.secondsLeft).toBeLessThanOrEqual(before.secondsLeft);
    const aborted = await expectEventually(async () => {
      const r = await rollout(second, 'crashy');
      return r.phase === 'Aborted' ? r : undefined;
    }, 40000);
    expect(aborted.abort.message).toBe(`canary pod ${before.pods[0]} killed at step 3 was not replaced by a Ready pod within 30 s (0/1 Ready)`);
    const started = (await chaosEvents(second, 'crashy')).filter((e) => e.reason === 'ChaosStepStarted');
    expect(started).toHaveLength(1);
  }, 90000);

  /** Applies v1, waits for it, applies v2 with the same steps: the rollout starts. */
  async function rollOut(name: string, steps: string, v2: SpecOpts = {}, v1: SpecOpts = v2): Promise<void> {
    await applyYaml(g, spec(name, 'v1', steps, { ...v1, env: undefined }));
    await expectEventually(() => readyPods(g, name, 2), 15000);
    await applyYaml(g, spec(name, 'v2', steps, v2));
  }

  async function phase(name: string, want: string) {
    return expectEventually(async () => {
      const r = await rollout(g, name);
      if (r.phase !== want) throw new Error(`phase ${r.phase}, chaos ${JSON.stringify(r.chaos)}, abort ${JSON.stringify(r.abort)}`);
      return r;
    }, 40000);
  }

  it('pauses a canary pod, which its liveness probe restarts; the step passes, the pause ends with it, and the rollout completes', async () => {
    // A second chaos step on the same version follows at once: the pause must still end with its own step.
    await rollOut('hung', '- setWeight: 50\n- chaos: { pause: 1, seconds: 10 }\n- chaos: { faults: { delayMs: 50, delayPercent: 10 }, duration: 2s }');
    const done = await phase('hung', 'Completed');
    expect(done.abort).toBeNull();

    const events = await chaosEvents(g, 'hung');
    const started = events.find((e) => e.reason === 'ChaosStepStarted')?.message;
    const paused = /paused canary pod (\S+) for 10 s/.exec(started ?? '')?.[1];
    expect(paused).toMatch(/^hung-/);
    expect(events.find((e) => e.reason === 'ChaosStepPassed' && e.message.startsWith('canary pod'))?.message).toMatch(new RegExp(`^canary pod ${paused} paused 10 s at step 2 was restarted by its liveness probe and Ready again in [\\d.]+ s \\(1/1 Ready\\)$`));
    const restarted = (await json(`${g.url}/events?service=hung&type=pod.restarted&limit=10`)).body.events.map((e: ChaosEvent) => e.message).join('\n');
    expect(restarted).toContain(paused);
    // The step is over well before the 10 s the pause asked for: the experiment ended with it.
    expect(await experiments(g, 'hung')).toEqual([]);
    expect(events.find((e) => e.reason === 'ChaosEnded')?.message).toMatch(new RegExp(`^ended pause experiment pause-\\w+ on pod ${paused} with \\d+ s left: the rollout of v2 is past the chaos step that started it$`));
  }, 90000);

  it('aborts a canary with no liveness probe at its pause step, and its paused pod does not stay stopped', async () => {
    await rollOut('unwatched', '- setWeight: 50\n- chaos: { pause: 1, seconds: 10 }', { liveness: false });
    const [canaryPod] = await expectEventually(async () => {
      const v2 = (await podsOf(g, 'unwatched')).filter((p) => p.version === 'v2' && p.pid !== null);
      if (v2.length !== 1) throw new Error(`${v2.length} v2 pods with a process`);
      return v2;
    }, 15000);

    const aborted = await phase('unwatched', 'Aborted');

    // At once: the abort ends the pause the step started (10 s would be left otherwise).
    expect(await experiments(g, 'unwatched')).toEqual([]);
    expect(aborted.abort.reason).toBe('ChaosNotRecovered');
    expect(aborted.abort.message).toBe(`canary pod ${canaryPod.id} paused 10 s was not restarted: no liveness probe`);
    expect(aborted.weights).toEqual({ v1: 100 });
    const ended = (await chaosEvents(g, 'unwatched')).find((e) => e.reason === 'ChaosEnded');
    expect(ended?.message).toMatch(new RegExp(`^ended pause experiment pause-\\w+ on pod ${canaryPod.id} with \\d+ s left: the rollout of v2 was aborted$`));
    await expectEventually(() => procState(canaryPod.pid!) === undefined, 10000);
    expect(stoppedChildren(g.proc.pid!)).toEqual([]);
    await expectEventually(async () => (await podsOf(g, 'unwatched')).every((p) => p.version === 'v1'), 10000);
  }, 90000);

  const ANALYSIS = '{ interval: 2s, minRequests: 5, maxErrorRate: 0.05, maxP99LatencyMs: 2000, failureLimit: 0 }';
  const FAULTS = '- setWeight: 50\n- chaos: { faults: { abortPercent: 50 }, duration: 8s }';

  it('a faults step: the injected aborts do not fail analysis, which judges the other requests, and the canary completes', async () => {
    await rollOut('shaken', FAULTS, { analysis: ANALYSIS });
    await expectEventually(async () => (await rollout(g, 'shaken')).chaos?.phase === 'Running', 15000);
    await traffic(g, 'shaken', 40, 30);

    const done = await phase('shaken', 'Completed');

    expect(done.abort).toBeNull();
    const runs: { result: string; requests: number; errorRate: number }[] = done.analysis.runs;
    expect(runs.filter((r) => r.result === 'Failed')).toEqual([]);
    expect(runs.map((r) => `${r.result} ${r.requests}`)).toContainEqual(expect.stringMatching(/^Successful [1-9]/));
    const ended = (await json(`${g.url}/events?service=shaken&type=chaos.faultsEnded&limit=5`)).body.events[0].message as string;
    const [, seen, abortedN] = /of (\d+) requests, (\d+) aborted/.exec(ended)!.map(Number);
    // Half of what the canary was sent failed with 503 and analysis never saw one of them.
    expect(abortedN).toBeGreaterThanOrEqual(20);
    expect(Math.abs(abortedN - seen / 2)).toBeLessThanOrEqual(1);
    expect((await chaosEvents(g, 'shaken')).map((e) => e.reason)).toContain('ChaosStepPassed');
    await json(`${g.url}/chaos/traffic?service=shaken`, { method: 'DELETE' });
  }, 90000);

  it('a canary that really fails (FAIL_RATE) is still aborted by analysis during its faults step, and the faults end with it', async () => {
    await rollOut('broken', FAULTS.replace('8s', '30s'), { analysis: ANALYSIS, env: { FAIL_RATE: '0.5' } });
    await expectEventually(async () => (await rollout(g, 'broken')).chaos?.phase === 'Running', 15000);
    await traffic(g, 'broken', 40, 30);

    const aborted = await phase('broken', 'Aborted');

    expect(await experiments(g, 'broken')).toEqual([]);
    expect(aborted.abort.reason).toBe('AnalysisFailed');
    expect(aborted.abort.message).toMatch(/^canary v2 (5xx \d+(\.\d)?% > 5%|failed analysis)/);
    const reasons = (await chaosEvents(g, 'broken')).map((e) => e.reason);
    expect(reasons).toContain('ChaosStepStarted');
    expect(reasons).not.toContain('ChaosStepPassed');
    expect(reasons).toContain('ChaosEnded');
  }, 90000);
});
