// gridctl scale, register/rollout (the DSR seed's CLI), chaos, failover, audit and alerts against a real Grid.
import { applyYaml, cleanupAll, expectEventually, json, podsOf, readyPods, startGrid, type GridHandle } from '../utils/grid.js';
import { gridctl, parseTable } from '../utils/cli.js';

const SERVER = 'node demo-services/versioned/server.js';

describe('gridctl ops', () => {
  let g: GridHandle;
  const run = (args: string[], o: Parameters<typeof gridctl>[1] = {}) => gridctl(args, { url: g.url, ...o });
  const service = async (name: string) => (await json(`${g.url}/services/${name}`)).body;

  beforeAll(async () => {
    g = await startGrid({ env: { TICK_MS: '100', GRID_SIM_START_DELAY_MS: '100' } });
  });
  afterAll(cleanupAll);

  it('register (DSR) then rollout --auto: a canary in timed steps, followed to success', async () => {
    const reg = await run(['register', '--service', 'example', '--version', 'v1', '--command', SERVER, '--replicas', '2', '--weight', '100']);
    expect([reg.code, reg.stderr, reg.stdout]).toEqual([0, '', 'service/example created (generation 1, revision 1, v1)\n']);
    expect((await service('example')).spec.command).toEqual(['node', 'demo-services/versioned/server.js']);
    await expectEventually(() => readyPods(g, 'example', 2), 15000);

    const dry = await run(['rollout', '--service', 'example', '--to-version', 'v2', '--command', SERVER, '--canary-weight', '50', '--step-percent', '50', '--step-interval-s', '1', '--auto', '--dry-run', '-o', 'yaml']);
    expect([dry.code, dry.stderr]).toEqual([0, '']);
    expect(dry.stdout).toMatch(/strategy: Canary\n\s+steps:\n\s+- setWeight: 50\n\s+- pause:\n\s+duration: 1s\n/);
    expect((await service('example')).version).toBe('v1');

    const r = await run(['rollout', '--service', 'example', '--to-version', 'v2', '--command', SERVER, '--canary-weight', '50', '--step-percent', '50', '--step-interval-s', '1', '--auto'], { timeoutMs: 40000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^service\/example configured \(generation 2, revision 2, v2\)\n/);
    expect(r.stdout).toMatch(/step \d\/2, weight 50%/);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('rollout "example" successfully rolled out (revision 2, v2)');
  }, 60000);

  it('register --weight below 100 holds a canary of the new version at that weight; refuses it for a new service', async () => {
    await applyYaml(g, 'apiVersion: v1\nkind: Service\nmetadata: { name: held }\nspec: { replicas: 2, image: "local://demo@v1" }\n');
    await expectEventually(() => readyPods(g, 'held', 2), 10000);
    const r = await run(['register', '--service', 'held', '--version', 'v2', '--command', SERVER, '--replicas', '2', '--weight', '10']);
    expect(r.code).toBe(0);
    await expectEventually(async () => {
      const ro = (await json(`${g.url}/services/held/rollout`)).body;
      return ro.phase === 'Paused' && ro.canaryWeight === 10 && ro.canary.version === 'v2';
    }, 15000);
    const fresh = await run(['register', '--service', 'newcomer', '--version', 'v1', '--command', SERVER, '--weight', '10']);
    expect(fresh.code).toBe(2);
    expect(fresh.stderr).toMatch(/^error: --weight 10: service "newcomer" does not exist yet/);
    const bad = await run(['register', '--service', 'x', '--version', 'v1', '--command', 'a | b']);
    expect(bad.code).toBe(2);
    // The server's field errors, one per line, exit 1.
    const invalid = await run(['register', '--service', 'Bad_Name', '--version', 'v1', '--command', SERVER]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^error: metadata\.name: /);
  }, 40000);

  it('scale service --replicas sets an absolute count', async () => {
    await applyYaml(g, 'apiVersion: v1\nkind: Service\nmetadata: { name: sc }\nspec: { replicas: 1, image: "local://demo@v1" }\n');
    const r = await run(['scale', 'service', 'sc', '--replicas', '4']);
    expect([r.code, r.stdout]).toEqual([0, 'service/sc scaled\n']);
    expect((await service('sc')).spec.replicas).toBe(4);
    await expectEventually(() => readyPods(g, 'sc', 4), 10000);
    const neg = await run(['scale', 'service', 'sc', '--replicas', '-1']);
    expect(neg.code).toBe(2);
    const missing = await run(['scale', 'service', 'nope', '--replicas', '1']);
    expect([missing.code, missing.stderr]).toEqual([1, 'error: service "nope" not found\n']);
    // The route refuses both forms at once, naming the field.
    const both = await json(`${g.url}/scale?service=sc&delta=1&replicas=2`, { method: 'POST' });
    expect(both.status).toBe(400);
    expect(both.body.errors).toEqual([{ path: 'replicas', message: 'give either delta or replicas, not both' }]);
    expect((await service('sc')).spec.replicas).toBe(4);
  });

  it('chaos kill: count pods of a service, or one pod', async () => {
    await applyYaml(g, 'apiVersion: v1\nkind: Service\nmetadata: { name: victim }\nspec: { replicas: 3, image: "local://demo@v1" }\n');
    const pods = await expectEventually(() => readyPods(g, 'victim', 3), 10000);
    const r = await run(['chaos', 'kill', 'victim', '--count', '2']);
    expect(r.code).toBe(0);
    const killed = r.stdout.trim().split('\n');
    expect(killed).toHaveLength(2);
    for (const line of killed) expect(line).toMatch(/^pod\/victim-\S+ killed$/);
    // The one pod the count left alone (which two go is the chaos module's pick, not the test's).
    const spared = pods.find((p) => !killed.includes(`pod/${p.id} killed`))!;
    const one = await run(['chaos', 'kill', '--pod', spared.id]);
    expect([one.code, one.stdout]).toEqual([0, `pod/${spared.id} killed\n`]);
    const none = await run(['chaos', 'kill']);
    expect([none.code, none.stderr]).toEqual([2, 'error: chaos kill: give a SERVICE (with --count N) or --pod ID\n']);
    expect((await run(['chaos', 'kill', 'victim', '--pod', pods[0].id])).code).toBe(2);
    await expectEventually(async () => (await podsOf(g, 'victim')).filter((p) => p.ready).length === 3, 10000);
  });

  it('chaos toggles reach a demo-service pod', async () => {
    const pods = await readyPods(g, 'example', 2);
    const r = await run(['chaos', 'fail', '--rate', '0.5', pods[0].id]);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, `pod/${pods[0].id}: fail on (rate 0.5)\n`, '']);
    const reset = await run(['chaos', 'reset', pods[0].id]);
    expect([reset.code, reset.stdout]).toEqual([0, `pod/${pods[0].id}: every chaos toggle off\n`]);
    expect((await run(['chaos', 'cpu', pods[0].id, '--rate', '1'])).code).toBe(2);
    // Checked before any request, naming the flag.
    for (const [args, flag] of [[['chaos', 'fail', '--rate', '1.5', pods[0].id], '--rate'], [['chaos', 'slow', '--ms', 'lots', pods[0].id], '--ms'], [['chaos', 'cpu', '--seconds', '-1', pods[0].id], '--seconds']] as const) {
      const bad = await run([...args]);
      expect([bad.code, bad.stdout]).toEqual([2, '']);
      expect(bad.stderr).toMatch(new RegExp(`^error: ${flag}: must be `));
    }

    // v3 is the demo's stable version: it ignores failure toggles, and gridctl says so with exit 1.
    await run(['register', '--service', 'steady', '--version', 'v3', '--command', SERVER]);
    const [steady] = await expectEventually(() => readyPods(g, 'steady', 1), 15000);
    const ignored = await run(['chaos', 'fail', '--rate', '0.5', steady.id]);
    expect([ignored.code, ignored.stdout]).toEqual([1, '']);
    expect(ignored.stderr).toBe(`pod/${steady.id}: fail ignored (v3 is the stable version)\n`);

    // README's form: --fail takes no value, so the pod id stays the pod id.
    const live = await run(['chaos', 'liveness', '--fail', steady.id]);
    expect([live.code, live.stdout]).toEqual([0, `pod/${steady.id}: liveness on (the liveness probe fails)\n`]);
    const back = await run(['chaos', 'liveness', '--no-fail', steady.id]);
    expect([back.code, back.stdout]).toEqual([0, `pod/${steady.id}: liveness off\n`]);
  });

  it('failover status (table and detail) and switch', async () => {
    await applyYaml(
      g,
      `apiVersion: v1
kind: FailoverGroup
metadata: { name: fo }
spec:
  targets: [ { service: example }, { service: held } ]
  healthCheck: { path: /health, intervalSeconds: 1, failureThreshold: 3, successThreshold: 1 }
  cooldownSeconds: 1
  failback: manual
`,
    );
    const rows = parseTable((await run(['failover', 'status'])).stdout);
    expect(rows.map((r) => [r.NAME, r.ACTIVE, r['LAST-SWITCH']])).toEqual([['fo', 'example', '<none>']]);
    await expectEventually(async () => (await json(`${g.url}/failover/fo`)).body.healthy >= 1, 15000);
    const d = await run(['failover', 'status', 'fo']);
    expect(d.code).toBe(0);
    expect(d.stdout).toMatch(/^Group: {5}fo\nActive: {4}example/);
    expect(d.stdout).toMatch(/PRIORITY\s+TARGET\s+KIND/);
    const y = await run(['failover', 'status', 'fo', '-o', 'json']);
    expect(JSON.parse(y.stdout).name).toBe('fo');
    const bad = await run(['failover', 'switch', 'fo', '--to', 'nowhere']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: to: /);
    expect((await run(['failover', 'status', 'nogroup'])).code).toBe(1);
    // One line: the server's "switched by request from example to held" would only repeat it.
    const sw = await run(['failover', 'switch', 'fo', '--to', 'held']);
    expect(sw.code).toBe(0);
    expect(sw.stdout).toMatch(/^failovergroup\/fo switched from example to held( \(held is [^)]*\).*)?\n$/);
    expect(sw.stdout).not.toMatch(/by request/);
  }, 30000);

  it('audit lists entries with filters, and --verify checks the chain', async () => {
    const r = await run(['audit', '--since', '1h', '--action', 'apply', '--limit', '5']);
    expect(r.code).toBe(0);
    const rows = parseTable(r.stdout);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThanOrEqual(5);
    for (const row of rows) expect(row.ACTION).toBe('apply');
    const j = JSON.parse((await run(['audit', '--target', 'sc', '-o', 'json'])).stdout);
    expect(j.entries.some((e: { action: string }) => e.action === 'scale')).toBe(true);
    const v = await run(['audit', '--verify']);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^audit chain intact: \d+ entries checked\n$/);
    expect((await run(['audit', '--since', 'yesterday'])).code).toBe(2);
  });

  it('alerts shows subjects; alerts test without a channel is the server\'s one-line 409', async () => {
    const r = await run(['alerts']);
    expect(r.code).toBe(0);
    expect(parseTable(r.stdout).some((x) => x.SUBJECT === 'example')).toBe(true);
    const t = await run(['alerts', 'test']);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/^error: no alert channel is configured/);
    const foo = await run(['alerts', 'foo']);
    expect([foo.code, foo.stderr]).toEqual([2, "error: alerts has no subcommand 'foo': `gridctl alerts` lists the alert state, `gridctl alerts test` sends a test alert\n"]);
  });

  it('usage errors exit 2 and every command has an example', async () => {
    for (const args of [['scale', 'pod', 'x', '--replicas', '1'], ['scale', 'service', 'x'], ['register', '--service', 'x'], ['audit', '--limit', 'lots'], ['failover', 'status', '-o', 'xml'], ['chaos', 'slow']]) {
      expect([args, (await run(args)).code]).toEqual([args, 2]);
    }
    for (const cmd of [['scale'], ['register'], ['chaos', 'kill'], ['chaos', 'cpu'], ['failover', 'status'], ['failover', 'switch'], ['audit'], ['alerts'], ['alerts', 'test']]) {
      expect((await run([...cmd, '--help'])).stdout).toMatch(/Examples:\n {2}gridctl /);
    }
    // Single quotes: in double quotes bash would run $(PORT) as a command before gridctl saw it.
    expect((await run(['register', '--help'])).stdout).toContain("--command 'python3 -m http.server $(PORT)'");
  });
});
