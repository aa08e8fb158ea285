import { dockerInstanceId } from '../../src/modules/runtime/drivers/docker-instance.js';
import { applyYaml, cleanupAll, expectEventually, type GridHandle, json, podsOf, procState, readyPods, startGrid, tempDataDir } from '../utils/grid.js';
import { gridctl } from '../utils/cli.js';
import { buildDemoImage, containersWith, describeWithDocker, docker, E2E_IMAGE, removeContainersWith } from '../utils/docker.js';

/** Process pods of the demo service; `live` adds a quick liveness probe (2 failures, 1 s apart, 1 s timeout). */
function spec(name: string, opts: { live: boolean; replicas?: number; version?: string; grace?: number }): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  replicas: ${opts.replicas ?? 1}
  command: ["node", "demo-services/versioned/server.js"]
  env:
    - { name: VERSION, value: ${opts.version ?? 'v1'} }
  readinessProbe: { httpGet: { path: /health/ready }, periodSeconds: 1, failureThreshold: 1 }
${opts.live ? '  livenessProbe: { httpGet: { path: /health/live }, periodSeconds: 1, failureThreshold: 2, timeoutSeconds: 1 }\n' : ''}  restartBackoff: { initialSeconds: 0.5, maxSeconds: 2 }
  terminationGracePeriodSeconds: ${opts.grace ?? 3}
`;
}

/** SIGSTOP returns before the kernel has stopped its target: on a busy machine /proc shows T a moment later. */
async function frozen(pid: number): Promise<void> {
  await expectEventually(() => procState(pid) === 'T', 3000, 10);
}

/** Whether the pod answers on its own port within 500 ms (a frozen one accepts the connection and says nothing). */
async function answers(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/version`, { signal: AbortSignal.timeout(500) })).status === 200;
  } catch {
    return false;
  }
}

async function pause(g: GridHandle, query: string) {
  return json(`${g.url}/chaos/pause?${query}`, { method: 'POST' });
}

async function pod(g: GridHandle, id: string) {
  return (await json(`${g.url}/pods/${id}`)).body;
}

describe('POST /chaos/pause on process pods', () => {
  let g: GridHandle;
  afterAll(cleanupAll);

  beforeAll(async () => {
    g = await startGrid();
  });

  it('freezes a pod with a liveness probe, which restarts it (LivenessProbeFailed) and leaves no stopped process behind', async () => {
    expect((await applyYaml(g, spec('hung', { live: true }))).status).toBe(200);
    const [before] = await expectEventually(() => readyPods(g, 'hung', 1), 15000);
    const res = await pause(g, 'service=hung&all=true&seconds=8');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ kind: 'pause', service: 'hung', pods: [before.id], origin: 'api', params: { count: 1, seconds: 8 }, requested: 1 });
    await frozen(before.pid!);
    expect((await pod(g, before.id)).paused).toBe(true);
    const audit = (await json(`${g.url}/audit?action=chaos.pause`)).body.entries;
    expect(audit[0]).toMatchObject({ action: 'chaos.pause', target: 'hung', summary: 'service=hung all=true seconds=8' });
    const paused = (await json(`${g.url}/events?service=hung&type=chaos.paused`)).body.events;
    expect(paused[0].explain).toContain('its liveness probe should fail after about 3 s');

    // 2 failures × 1 s + 1 s timeout, then the stop and a 0.5 s backoff: well within 10 s.
    const after = await expectEventually(async () => {
      const p = await pod(g, before.id);
      return p.restarts === 1 && p.ready && p.pid !== before.pid ? p : undefined;
    }, 10000);
    expect(after.lastExit).toMatchObject({ reason: 'LivenessProbeFailed' });
    expect(after.paused).toBe(false);
    expect(procState(before.pid!)).toBeUndefined();
    expect(procState(after.pid)).not.toBe('T');
    expect(await answers(after.port)).toBe(true);

    // The experiment still ends at 8 s, and says there was nothing left to resume.
    const ended = await expectEventually(async () => (await json(`${g.url}/events?service=hung&type=chaos.resumed`)).body.events[0], 10000);
    expect(ended).toMatchObject({ pod: before.id, reason: 'ChaosEnded' });
    expect((await pod(g, before.id)).restarts).toBe(1);
    expect((await json(`${g.url}/services/hung`, { method: 'DELETE' })).status).toBe(200);
  });

  it('without a liveness probe the pod stays frozen for `seconds`, then resumes the same process and answers again', async () => {
    expect((await applyYaml(g, spec('frozen', { live: false, replicas: 2 }))).status).toBe(200);
    const ready = await expectEventually(() => readyPods(g, 'frozen', 2), 15000);
    // More pods than run, or every pod of the service without all=true: a 400 naming the parameter, and nothing frozen.
    const tooMany = await pause(g, 'service=frozen&count=5');
    expect([tooMany.status, tooMany.body.message]).toEqual([400, expect.stringContaining('count: asks for 5, frozen has 2 running pods')]);
    const outage = await pause(g, 'service=frozen&count=2');
    expect([outage.status, outage.body.message]).toEqual([400, expect.stringMatching(/^all: .*would freeze every pod of frozen \(2 of 2\).*PodDisruptionBudget/)]);
    expect(((await podsOf(g, 'frozen')) as unknown as { paused: boolean }[]).some((p) => p.paused)).toBe(false);
    const t0 = Date.now();
    const res = await pause(g, 'service=frozen&count=1&seconds=4');
    expect(res.status).toBe(201);
    expect(res.body.requested).toBe(1);
    const [id] = res.body.pods as string[];
    const target = ready.find((p) => p.id === id)!;
    await frozen(target.pid!);
    expect(await answers(target.port!)).toBe(false);
    const viewed = (await podsOf(g, 'frozen')) as unknown as { id: string; paused: boolean }[];
    expect(viewed.map((p) => [p.id, p.paused]).sort()).toEqual(ready.map((p) => [p.id, p.id === id]).sort());
    const experiments = await json(`${g.url}/chaos/experiments`);
    // GET /chaos/experiments belongs to the faults branch; when it is here, the pause is listed with its time left.
    if (experiments.status !== 404) expect(experiments.body).toMatchObject({ experiments: [expect.objectContaining({ id: res.body.id, kind: 'pause', pods: [id] })] });
    const explain = (await json(`${g.url}/events?service=frozen&type=chaos.paused`)).body.events[0].explain;
    expect(explain).toContain('no liveness probe: Grid cannot tell it is hung');

    await expectEventually(async () => !(await pod(g, id)).paused && (await answers(target.port!)), 10000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3500);
    const p = await pod(g, id);
    expect([p.pid, p.restarts]).toEqual([target.pid, 0]);
    expect(procState(target.pid!)).not.toBe('T');
    const resumed = (await json(`${g.url}/events?service=frozen&type=chaos.resumed`)).body.events[0];
    expect(resumed).toMatchObject({ pod: id, reason: 'ChaosResumed' });
    await expectEventually(() => readyPods(g, 'frozen', 2), 10000);
    expect((await json(`${g.url}/services/frozen`, { method: 'DELETE' })).status).toBe(200);
  });

  it('a paused pod deleted with its service ends at once, not after its 30 s grace period (the stop continues it)', async () => {
    expect((await applyYaml(g, spec('held', { live: false, grace: 30 }))).status).toBe(200);
    const [p] = await expectEventually(() => readyPods(g, 'held', 1), 15000);
    expect((await pause(g, 'service=held&all=true&seconds=600')).status).toBe(201);
    await frozen(p.pid!);
    const t0 = Date.now();
    expect((await json(`${g.url}/services/held`, { method: 'DELETE' })).status).toBe(200);
    await expectEventually(() => procState(p.pid!) === undefined, 8000);
    expect(Date.now() - t0).toBeLessThan(8000);
  });

  it('picks pods by version, for kill as for pause', async () => {
    expect((await applyYaml(g, spec('mixed', { live: false, version: 'v1' }))).status).toBe(200);
    await expectEventually(() => readyPods(g, 'mixed', 1), 15000);
    expect((await pause(g, 'service=mixed&version=v9')).status).toBe(409);
    const none = await json(`${g.url}/chaos/kill?service=mixed&version=v9`, { method: 'POST' });
    expect(none.body).toEqual({ service: 'mixed', version: 'v9', killed: [], requested: 1 });
    const [v1] = await readyPods(g, 'mixed', 1);
    const killed = await json(`${g.url}/chaos/kill?service=mixed&version=v1`, { method: 'POST' });
    expect(killed.body).toEqual({ service: 'mixed', version: 'v1', killed: [v1.id], requested: 1 });
    expect((await json(`${g.url}/services/mixed`, { method: 'DELETE' })).status).toBe(200);
  });

  it('gridctl chaos pause SERVICE --version V --seconds S pauses that version\'s pod and names it', async () => {
    expect((await applyYaml(g, spec('cli', { live: false }))).status).toBe(200);
    const [p] = await expectEventually(() => readyPods(g, 'cli', 1), 15000);
    const r = await gridctl(['chaos', 'pause', 'cli', '--version', 'v1', '--all', '--seconds', '2'], { url: g.url });
    expect([r.code, r.stdout]).toEqual([0, expect.stringMatching(new RegExp(`^pod/${p.id} paused until \\S+Z\nexperiment pause-[0-9a-f]{8}: Pod ${p.id} is frozen for 2 s with no liveness probe: Grid cannot tell it is hung`))]);
    await frozen(p.pid!);
    const other = await gridctl(['chaos', 'pause', 'cli', '--version', 'v9'], { url: g.url });
    expect([other.code, other.stderr]).toEqual([1, expect.stringContaining('no running pod of version v9')]);
    expect((await gridctl(['chaos', 'pause', 'cli', '--seconds', '0'], { url: g.url })).code).toBe(2);
    await expectEventually(() => procState(p.pid!) !== undefined && procState(p.pid!) !== 'T', 10000);
    expect((await json(`${g.url}/services/cli`, { method: 'DELETE' })).status).toBe(200);
  });

  it('refuses bad input with a 4xx naming the field, and sim services naming their runtime', async () => {
    const sim = 'apiVersion: v1\nkind: Service\nmetadata: { name: simmed }\nspec:\n  replicas: 1\n  image: local://demo@v1\n';
    expect((await applyYaml(g, sim)).status).toBe(200);
    const cases: [string, number, string][] = [
      ['service=simmed', 400, 'runs on the sim runtime'],
      ['', 400, 'service: is required'],
      ['service=nope', 404, "service 'nope' not found"],
      ['service=simmed&seconds=0', 400, 'seconds: must be an integer 1..600'],
      ['service=simmed&seconds=601', 400, 'seconds: must be an integer 1..600'],
      ['service=simmed&count=0', 400, 'count: must be an integer 1..1000'],
      ['service=simmed&version=%20x', 400, 'version: must be a version label'],
      ['pod=simmed-x&service=simmed', 400, 'pod: give either pod'],
      ['pod=nope-12345', 404, "pod 'nope-12345' not found"],
      ['service=simmed&foo=1', 400, 'foo: is not a parameter of this route'],
      ['service=simmed&cout=2', 400, 'cout: is not a parameter of this route'],
    ];
    for (const [q, status, message] of cases) {
      const r = await pause(g, q);
      expect([q, r.status, r.body.message]).toEqual([q, status, expect.stringContaining(message)]);
    }
    expect((await json(`${g.url}/chaos/kill?pod=x-1&version=v1`, { method: 'POST' })).status).toBe(400);
    const killTypo = await json(`${g.url}/chaos/kill?service=simmed&foo=1`, { method: 'POST' });
    expect([killTypo.status, killTypo.body.message]).toEqual([400, expect.stringContaining('foo: is not a parameter of this route')]);
    expect((await podsOf(g, 'simmed')).length).toBe(1);
    expect((await json(`${g.url}/events?type=chaos.paused&service=simmed`)).body.events).toEqual([]);
    expect((await json(`${g.url}/services/simmed`, { method: 'DELETE' })).status).toBe(200);
  });
});

describe('a pod paused when Grid is SIGKILLed', () => {
  afterAll(cleanupAll);

  it('is resumed by the next Grid when it adopts it, with an event', async () => {
    const dataDir = tempDataDir();
    const g1 = await startGrid({ dataDir });
    expect((await applyYaml(g1, spec('orphan', { live: false }))).status).toBe(200);
    const [p] = await expectEventually(() => readyPods(g1, 'orphan', 1), 15000);
    expect((await pause(g1, 'service=orphan&all=true&seconds=600')).status).toBe(201);
    await frozen(p.pid!);
    await g1.kill();
    await frozen(p.pid!);

    const g2 = await startGrid({ dataDir });
    const [back] = await expectEventually(() => readyPods(g2, 'orphan', 1), 15000);
    expect([back.id, back.pid]).toEqual([p.id, p.pid]);
    expect(procState(p.pid!)).not.toBe('T');
    expect(await answers(p.port!)).toBe(true);
    expect((await pod(g2, p.id)).paused).toBe(false);
    const ev = (await json(`${g2.url}/events?service=orphan&type=pod.resumed`)).body.events;
    expect(ev).toEqual([expect.objectContaining({ pod: p.id, reason: 'ResumedAtAdoption' })]);
  });
});

describeWithDocker('POST /chaos/pause on docker pods (docker pause/unpause)', () => {
  // Made here, not when the file is read: an earlier block's cleanupAll removes every data dir made before it runs.
  let dataDir = '';
  let instance = '';
  const paused = () => containersWith(instance).filter((id) => docker('inspect', '-f', '{{.State.Paused}}', id) === 'true');

  beforeAll(() => {
    buildDemoImage();
    dataDir = tempDataDir();
    instance = `grid.instance=${dockerInstanceId(dataDir)}`;
  });
  afterAll(async () => {
    await cleanupAll();
    removeContainersWith(instance);
  });

  function dockerSpec(name: string, live: boolean): string {
    return `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  replicas: 1
  runtime: docker
  image: ${E2E_IMAGE}
  port: 8080
  imagePullPolicy: Never
  env: [{ name: VERSION, value: v1 }]
  readinessProbe: { httpGet: { path: /health/ready }, periodSeconds: 1, failureThreshold: 1 }
${live ? '  livenessProbe: { httpGet: { path: /health/live }, periodSeconds: 1, failureThreshold: 2, timeoutSeconds: 1 }\n' : ''}  restartBackoff: { initialSeconds: 0.5, maxSeconds: 2 }
  terminationGracePeriodSeconds: 2
`;
  }

  it('a paused container with a liveness probe is restarted by it; one paused when Grid is SIGKILLed is unpaused at adoption', async () => {
    const g1 = await startGrid({ dataDir });
    expect((await applyYaml(g1, dockerSpec('dhung', true))).status).toBe(200);
    expect((await applyYaml(g1, dockerSpec('dstill', false))).status).toBe(200);
    const [hung] = await expectEventually(() => readyPods(g1, 'dhung', 1), 30000);
    const [still] = await expectEventually(() => readyPods(g1, 'dstill', 1), 30000);
    expect((await pause(g1, 'service=dhung&all=true&seconds=60')).status).toBe(201);
    expect((await pause(g1, 'service=dstill&all=true&seconds=600')).status).toBe(201);
    expect(paused()).toHaveLength(2);

    const after = await expectEventually(async () => {
      const p = await pod(g1, hung.id);
      return p.restarts === 1 && p.ready ? p : undefined;
    }, 20000);
    expect(after).toMatchObject({ paused: false, lastExit: expect.objectContaining({ reason: 'LivenessProbeFailed' }) });
    expect(paused()).toHaveLength(1);

    await g1.kill();
    const g2 = await startGrid({ dataDir });
    const [back] = await expectEventually(() => readyPods(g2, 'dstill', 1), 20000);
    expect(back.id).toBe(still.id);
    expect(paused()).toEqual([]);
    expect((await json(`${g2.url}/events?service=dstill&type=pod.resumed`)).body.events).toEqual([expect.objectContaining({ pod: still.id, reason: 'ResumedAtAdoption' })]);
  });
});
