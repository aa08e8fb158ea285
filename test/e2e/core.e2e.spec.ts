// Issue 2 end to end: the real Grid process over HTTP with the simulated runtime.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyYaml, cleanupAll, example, expectEventually, json, podsOf, readyPods, ROOT, startGrid, tempDataDir, type GridHandle } from '../utils/grid.js';

const simService = (name: string, replicas: number) => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}}\nspec: {replicas: ${replicas}, image: "local://${name}@v1"}\n`;

const crashing = `apiVersion: v1
kind: Service
metadata: { name: crashy }
spec:
  replicas: 1
  image: local://crashy@v1
  env: [{ name: SIM_CRASH_AFTER_MS, value: "50" }]
  restartBackoff: { initialSeconds: 0.2, maxSeconds: 1 }
`;

describe('Grid core (sim runtime)', () => {
  let g: GridHandle;

  beforeAll(async () => {
    // The seed's api is autoscaled; a long HPA period keeps the autoscaler from moving replicas under these tests (autoscaler tests set their own).
    // No Docker Engine for this Grid: the refusals of docker specs below hold whether or not one runs on the machine.
    g = await startGrid({ env: { GRID_SIM_START_DELAY_MS: '100', GRID_HPA_SYNC_MS: '600000', GRID_DOCKER_SOCKET: '/nonexistent/grid-core-test-docker.sock' } });
  });
  afterAll(cleanupAll);

  it('applies the seed example and converges to 3 Ready pods; a second identical apply is unchanged', async () => {
    const r = await applyYaml(g, example('api-v1.yaml'));
    expect(r.status).toBe(200);
    expect(r.body.applied).toEqual([{ service: 'api', result: 'created', generation: 1, revision: 1, version: 'v1' }]);
    await expectEventually(() => readyPods(g, 'api', 3));
    const again = await applyYaml(g, example('api-v1.yaml'));
    expect(again.body.applied[0].result).toBe('unchanged');
    expect(again.body.applied[0].generation).toBe(1);
    const svc = await json(`${g.url}/services/api`);
    expect(svc.status).toBe(200);
    await expectEventually(async () => (await json(`${g.url}/services/api`)).body.inSync === true);
    expect(svc.body.history).toHaveLength(1);
    expect(svc.body.spec.readinessProbe).toMatchObject({ httpGet: { path: '/health/ready' }, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3 });
    const conds = (await json(`${g.url}/services/api`)).body.status.conditions;
    expect(conds.find((c: any) => c.type === 'Available').status).toBe('True');
    expect((await json(`${g.url}/services/api`)).body.status.observedGeneration).toBe(1);
  });

  it('applies all three seed examples unchanged (v2 and the canary are new revisions)', async () => {
    // v1 first, so this test stands alone: created here, or unchanged after the test above.
    expect((await applyYaml(g, example('api-v1.yaml'))).status).toBe(200);
    const base = (await json(`${g.url}/services/api`)).body;
    for (const f of ['api-v2.yaml', 'api-canary.yaml']) {
      const r = await applyYaml(g, example(f));
      expect(r.status).toBe(200);
      expect(r.body.applied[0].result).toBe('configured');
    }
    const svc = (await json(`${g.url}/services/api`)).body;
    expect(svc.revision).toBe(base.revision + 1);
    expect(svc.generation).toBe(base.generation + 2);
    await applyYaml(g, example('api-v1.yaml'));
    await expectEventually(async () => {
      const pods = await readyPods(g, 'api', 3);
      return pods.every((p) => p.version === 'v1');
    });
  });

  it.each([
    ['malformed YAML', 'kind: Service\nmetadata: [oops', '(yaml)'],
    ['unknown kind', 'apiVersion: v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: 1, image: "local://a@v1"}', 'kind'],
    ['missing name', 'apiVersion: v1\nkind: Service\nmetadata: {}\nspec: {replicas: 1, image: "local://a@v1"}', 'metadata.name'],
    ['name not a DNS label', 'apiVersion: v1\nkind: Service\nmetadata: {name: Bad_Name}\nspec: {replicas: 1, image: "local://a@v1"}', 'metadata.name'],
    ['replicas out of range', 'apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {replicas: 1001, image: "local://a@v1"}', 'spec.replicas'],
    ['replicas not an integer', 'apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {replicas: "3", image: "local://a@v1"}', 'spec.replicas'],
    ['unknown field', 'apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {replicas: 1, image: "local://a@v1", replicaz: 2}', 'spec.replicaz'],
    ['wrong type', 'apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {replicas: 1, image: "local://a@v1", env: {A: b}}', 'spec.env'],
  ])('rejects %s with 400 naming the field, storing nothing', async (_what, body, field) => {
    const before = (await json(`${g.url}/services`)).body.services.length;
    const r = await applyYaml(g, body);
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: any) => e.path)).toContain(field);
    expect(r.body.message).toContain(field);
    expect((await json(`${g.url}/services`)).body.services.length).toBe(before);
  });

  it('rejects a YAML alias bomb with 400 and a body over 1 MiB with 413; a bad second document applies nothing', async () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const r1 = await applyYaml(g, bomb.join('\n'));
    expect(r1.status).toBe(400);
    const big = `# ${'x'.repeat(1024 * 1024 + 10)}\n${example('api-v1.yaml')}`;
    const r2 = await applyYaml(g, big);
    expect(r2.status).toBe(413);
    const two = `apiVersion: v1\nkind: Service\nmetadata: {name: fine}\nspec: {replicas: 1, image: "local://a@v1"}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: broken}\nspec: {replicas: -1, image: "local://a@v1"}\n`;
    const r3 = await applyYaml(g, two);
    expect(r3.status).toBe(400);
    expect(r3.body.errors[0].path).toBe('[1].spec.replicas');
    expect((await json(`${g.url}/services/fine`)).status).toBe(404);
  });

  it('refuses a spec for a runtime this Grid does not have, naming spec.image', async () => {
    const r = await applyYaml(g, 'apiVersion: v1\nkind: Service\nmetadata: {name: web2}\nspec: {replicas: 1, image: "nginx:1.25", port: 80}\n');
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([{ path: 'spec.image', message: expect.stringContaining('docker runtime') }]);
    expect((await json(`${g.url}/services/web2`)).status).toBe(404);
  });

  describe('refuses at apply what would fail later (issue 9), with one 400 naming the field and storing nothing', () => {
    const service = (name: string, spec: object) => JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec });
    it.each([
      ['duplicate JSON keys', 'application/json', '{"apiVersion":"v1","kind":"Service","metadata":{"name":"dup"},"spec":{"replicas":1,"replicas":2,"image":"local://a@v1"}}', 'spec.replicas'],
      ['a 300 KB env value (E2BIG at spawn)', 'application/json', service('big', { image: 'local://a@v1', env: [{ name: 'BIG', value: 'x'.repeat(300_000) }] }), 'spec.env[0].value'],
      ['a NUL byte in a command argument', 'application/json', service('nul', { command: ['node', 'a\0b'] }), 'spec.command[1]'],
      ['a label key that is a path', 'application/json', service('lbl', { image: 'local://a@v1' }).replace('"name":"lbl"', '"name":"lbl","labels":{"../../etc":"x"}'), 'metadata.labels'],
      ['a VERSION that would split the X-Grid-Version header', 'application/yaml', 'apiVersion: v1\nkind: Service\nmetadata: {name: hdr}\nspec: {command: [node, x.js], env: [{name: VERSION, value: "v1\\r\\nSet-Cookie: pwn=1"}]}\n', 'spec.env[0].value'],
      ['a workingDir that does not exist', 'application/yaml', 'apiVersion: v1\nkind: Service\nmetadata: {name: wd}\nspec: {command: [node, x.js], workingDir: no/such/dir}\n', 'spec.workingDir'],
      ['a docker image, for the runtime before its port', 'application/yaml', 'apiVersion: v1\nkind: Service\nmetadata: {name: web3}\nspec: {image: "nginx:1.25"}\n', 'spec.image'],
    ])('%s', async (_what, contentType, body, field) => {
      const before = (await json(`${g.url}/services`)).body.services.length;
      const r = await json(`${g.url}/apply`, { method: 'POST', headers: { 'content-type': contentType }, body });
      expect(r.status).toBe(400);
      expect(r.body.errors).toEqual([{ path: field, message: expect.any(String) }]);
      expect(r.body.message).toContain(field);
      expect((await json(`${g.url}/services`)).body.services.length).toBe(before);
    });
  });

  it('keeps one error shape for router and parser errors, and rejects repeated parameters', async () => {
    const unknown = await json(`${g.url}/no/such/route?x=1`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'no route GET /no/such/route; see /docs for the API' });
    const wrongMethod = await json(`${g.url}/services?x=1`, { method: 'POST' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, HEAD');
    expect(wrongMethod.body).toEqual({ statusCode: 405, error: 'Method Not Allowed', message: 'POST is not allowed on /services; allowed: GET, HEAD' });
    expect((await json(`${g.url}/services/some-name`, { method: 'PUT' })).headers.get('allow')).toBe('GET, HEAD, DELETE');
    // A path the router matches with an empty parameter is not a method problem.
    const trailing = await json(`${g.url}/services/`);
    expect(trailing.status).toBe(404);
    expect(trailing.headers.get('allow')).toBeNull();
    const badJson = await json(`${g.url}/apply`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"kind": ' });
    expect(badJson.status).toBe(400);
    expect(badJson.body.error).toBe('Bad Request');
    const twice = await json(`${g.url}/lb/select?service=api&service=api`);
    expect(twice.status).toBe(400);
    expect(twice.body.message).toBe('service: must be given once (got 2 values)');
    const since = await json(`${g.url}/events?since=-5`);
    expect(since.status).toBe(400);
    expect(since.body.message).toContain('since');
  });

  it('answers 404 naming an unknown service on every route', async () => {
    const calls: [string, string][] = [
      ['GET', '/services/nope'],
      ['DELETE', '/services/nope'],
      ['POST', '/scale?service=nope&delta=1'],
      ['POST', '/chaos/kill?service=nope&count=1'],
      ['POST', '/load?service=nope&cpu=50'],
      ['GET', '/lb/select?service=nope'],
      ['GET', '/gateway/nope/'],
    ];
    for (const [method, p] of calls) {
      const r = await json(`${g.url}${p}`, { method });
      expect([p, r.status]).toEqual([p, 404]);
      expect(r.body.message).toContain("'nope'");
    }
  });

  it('replaces killed pods, scales, simulates load and balances over Ready pods', async () => {
    // The seed's api under its own name: autoscaled (min 2), and untouched by the other tests.
    expect((await applyYaml(g, example('api-v1.yaml').replace('name: api', 'name: fleet'))).status).toBe(200);
    const before = await expectEventually(() => readyPods(g, 'fleet', 3));
    const killed = await json(`${g.url}/chaos/kill?service=fleet&count=2`, { method: 'POST' });
    expect(killed.status).toBe(200);
    expect(killed.body.killed).toHaveLength(2);
    expect(before.map((p) => p.id)).toEqual(expect.arrayContaining(killed.body.killed));
    await expectEventually(async () => {
      const pods = await readyPods(g, 'fleet', 3);
      return killed.body.killed.every((id: string) => !pods.some((p) => p.id === id));
    });

    const up = await json(`${g.url}/scale?service=fleet&delta=1`, { method: 'POST' });
    expect(up.body.replicas).toBe(4);
    await expectEventually(() => readyPods(g, 'fleet', 4));
    // fleet is autoscaled (min 2): /scale moves the current value within the bounds and says the autoscaler keeps ruling.
    const clamped = await json(`${g.url}/scale?service=fleet&delta=-5`, { method: 'POST' });
    expect(clamped.status).toBe(200);
    expect(clamped.body).toMatchObject({ autoscaled: true, replicas: 2 });
    expect(clamped.body.note).toContain('autoscaler keeps ruling');
    await expectEventually(() => readyPods(g, 'fleet', 2));
    const down = await json(`${g.url}/scale?service=fleet&delta=1`, { method: 'POST' });
    expect(down.body.replicas).toBe(3);
    const pods = await expectEventually(() => readyPods(g, 'fleet', 3));
    await applyYaml(g, simService('plain', 2));
    const bad = await json(`${g.url}/scale?service=plain&delta=-5`, { method: 'POST' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('delta');
    expect((await json(`${g.url}/services/plain`)).body.spec.replicas).toBe(2);

    const load = await json(`${g.url}/load?service=fleet&cpu=80`, { method: 'POST' });
    expect(load.status).toBe(200);
    await expectEventually(async () => (await podsOf(g, 'fleet')).every((p) => p.cpu === 80));

    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const r = await json(`${g.url}/lb/select?service=fleet`);
      expect(r.status).toBe(200);
      seen.add(r.body.pod);
    }
    expect([...seen].sort()).toEqual(pods.map((p) => p.id).sort());
  });

  it('restarts a crashing pod with growing backoff and shows CrashLoopBackOff and Degraded', async () => {
    await applyYaml(g, crashing);
    await expectEventually(async () => (await podsOf(g, 'crashy')).some((p) => p.state === 'CrashLoopBackOff'), 10000);
    await expectEventually(async () => (await podsOf(g, 'crashy'))[0].restarts >= 3, 15000);
    const svc = (await json(`${g.url}/services/crashy`)).body;
    expect(svc.status.conditions.find((c: any) => c.type === 'Degraded')).toMatchObject({ status: 'True', reason: 'CrashLoopBackOff' });
    const ev = (await json(`${g.url}/events?service=crashy&type=pod.backoff`)).body.events;
    expect(ev.length).toBeGreaterThan(0);
    expect(ev[0].explain).toMatch(/Waiting [\d.]+s before restarting pod crashy-/);
    const del = await json(`${g.url}/services/crashy`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    await expectEventually(async () => (await podsOf(g, 'crashy')).length === 0);
  });

  it('keeps an explained event log, filterable, and streams it over SSE with replay', async () => {
    expect((await applyYaml(g, simService('stream', 2))).status).toBe(200);
    await expectEventually(() => readyPods(g, 'stream', 2));
    const all = (await json(`${g.url}/events?service=stream&type=pod.created&limit=5`)).body.events;
    expect(all.length).toBeGreaterThan(0);
    expect(all.every((e: any) => e.type === 'pod.created' && e.service === 'stream')).toBe(true);
    expect(all[0].explain).toMatch(/^Starting \d+ pods?( of revision \d+ \([^)]*\))? because \d+ of \d+ desired replicas were running/);
    expect((await json(`${g.url}/events?limit=0`)).status).toBe(400);

    const ctrl = new AbortController();
    const res = await fetch(`${g.url}/events/stream?replay=3`, { signal: ctrl.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const read = async (pred: (t: string) => boolean) =>
      expectEventually(async () => {
        const { value } = await reader.read();
        text += new TextDecoder().decode(value);
        return pred(text);
      }, 10000, 0);
    await read((t) => (t.match(/event: grid/g) ?? []).length >= 3);
    await json(`${g.url}/scale?service=stream&delta=1`, { method: 'POST' });
    await read((t) => t.includes('scale +1'));
    ctrl.abort();

    // Replay is per service when filtered, and a reconnect with Last-Event-ID gets exactly what it missed.
    const mine = async (qs: string, headers: Record<string, string> = {}) => {
      const c = new AbortController();
      const r = await fetch(`${g.url}/events/stream?${qs}`, { signal: c.signal, headers });
      const rd = r.body!.getReader();
      let t = '';
      await expectEventually(async () => {
        const { value } = await rd.read();
        t += new TextDecoder().decode(value);
        return /event: grid/.test(t);
      }, 10000, 0);
      c.abort();
      return [...t.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]) as { id: number; service: string | null });
    };
    const streamOnly = await mine('replay=2&service=stream');
    expect(streamOnly.length).toBeGreaterThan(0);
    expect(streamOnly.every((e) => e.service === 'stream')).toBe(true);
    const latest = (await json(`${g.url}/events?limit=5`)).body.events as { id: number }[];
    const resumed = await mine('replay=0', { 'last-event-id': String(latest[0].id) });
    expect(resumed[0].id).toBe(latest[1].id);
    expect((await json(`${g.url}/events?type=pod&limit=50`)).body.events.every((e: any) => e.type.startsWith('pod.'))).toBe(true);
  });

  it('exposes Prometheus metrics that promtool accepts', async () => {
    expect((await applyYaml(g, simService('metered', 1))).status).toBe(200);
    await expectEventually(() => readyPods(g, 'metered', 1));
    const res = await fetch(`${g.url}/metrics`);
    const text = await res.text();
    for (const name of ['grid_service_desired_replicas{service="metered"}', 'grid_service_ready_replicas', 'grid_pods{', 'grid_pod_restarts_total', 'grid_reconcile_duration_seconds_bucket', 'grid_events_total{type="pod.created"}', 'process_cpu_seconds_total']) {
      expect(text).toContain(name);
    }
    const promtool = spawnSync('sh', ['-c', 'command -v promtool']).stdout.toString().trim();
    if (!promtool) {
      // CI must run this check: a skip there would pass silently forever.
      if (/^(true|1)$/i.test(process.env.CI ?? '')) throw new Error('promtool not found on PATH and CI is set: CI must check /metrics with promtool (Debian package prometheus; .ci/run installs it)');
      console.warn('promtool not installed (Debian package prometheus): skipping the promtool check outside CI; .ci/run installs it');
      return;
    }
    const r = spawnSync(promtool, ['check', 'metrics'], { input: text });
    expect({ status: r.status, out: r.stdout.toString() + r.stderr.toString() }).toEqual({ status: 0, out: '' });
  });

  it('serves Swagger UI and an OpenAPI document covering every route with its errors', async () => {
    const ui = await fetch(`${g.url}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger-ui');
    const doc = (await json(`${g.url}/docs-json`)).body;
    for (const p of ['/apply', '/services', '/services/{name}', '/state', '/scale', '/chaos/kill', '/load', '/lb/select', '/events', '/events/stream', '/metrics', '/gateway/{service}/{path}', '/broadcast/{service}/{path}']) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
    expect(Object.keys(doc.paths['/apply'].post.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '413']));
  });
});

describe('Grid core: API key, restart, config', () => {
  afterAll(cleanupAll);

  it('requires X-API-Key on mutating routes when one is configured (and only there)', async () => {
    const g = await startGrid({ env: { GRID_API_KEY: 'test-key-123456' } });
    const y = example('api-v1.yaml');
    expect((await applyYaml(g, y)).status).toBe(401);
    expect((await applyYaml(g, y, { 'x-api-key': 'wrong-key-000000' })).status).toBe(401);
    for (const p of ['/scale?service=api&delta=1', '/chaos/kill?service=api', '/load?service=api&cpu=1', '/broadcast/api/chaos/cpu?seconds=1']) {
      expect((await json(`${g.url}${p}`, { method: 'POST' })).status).toBe(401);
    }
    expect((await json(`${g.url}/services/api`, { method: 'DELETE' })).status).toBe(401);
    expect((await applyYaml(g, y, { 'x-api-key': 'test-key-123456' })).status).toBe(200);
    expect((await json(`${g.url}/state`)).status).toBe(200);
    await g.stop();
  });

  it('keeps specs and events across a restart and rebuilds the simulated pods', async () => {
    const dataDir = tempDataDir();
    const g1 = await startGrid({ dataDir });
    await applyYaml(g1, example('api-v1.yaml'));
    await expectEventually(() => readyPods(g1, 'api', 3));
    const events1 = (await json(`${g1.url}/events?limit=1000`)).body.events;
    expect(await g1.stop()).toBe(0);
    const g2 = await startGrid({ dataDir });
    const svc = (await json(`${g2.url}/services/api`)).body;
    expect(svc.generation).toBe(1);
    await expectEventually(() => readyPods(g2, 'api', 3));
    const events2 = (await json(`${g2.url}/events?limit=1000`)).body.events;
    expect(events2.slice(0, events1.length).map((e: any) => e.id)).toEqual(events1.map((e: any) => e.id));
    expect(events2.length).toBeGreaterThan(events1.length);
    await g2.stop();
  });

  it('refuses a second Grid on the same data dir and a port in use, before starting any pod', async () => {
    const dataDir = tempDataDir();
    const g = await startGrid({ dataDir });
    const run = (env: Record<string, string>) => spawnSync(process.execPath, [path.join(ROOT, 'dist', 'main.js')], { env: { ...process.env, NODE_OPTIONS: '', ...env }, encoding: 'utf8', timeout: 20000 });
    const same = run({ GRID_PORT: '0', GRID_DATA_DIR: dataDir });
    expect(same.status).toBe(2);
    expect(same.stderr).toContain(`GRID_DATA_DIR: ${dataDir} is in use by another Grid (pid ${g.proc.pid})`);
    const port = run({ GRID_PORT: String(g.port), GRID_DATA_DIR: tempDataDir() });
    expect(port.status).toBe(2);
    expect(port.stderr).toContain(`GRID_PORT: 127.0.0.1:${g.port} is already in use`);
    const notDir = run({ GRID_DATA_DIR: '/etc/passwd' });
    expect(notDir.status).toBe(2);
    expect(notDir.stderr).toContain('GRID_DATA_DIR: /etc/passwd is not a writable directory');
    await g.stop();
  });

  it('refuses to boot on a bad setting, naming the variable', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'main.js')], { env: { ...process.env, NODE_OPTIONS: '', GRID_PORT: 'eighty', GRID_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'grid-bad-')) }, encoding: 'utf8', timeout: 20000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('GRID_PORT');
  });
});
