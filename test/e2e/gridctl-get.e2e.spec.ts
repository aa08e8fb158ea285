// gridctl get, describe, top, logs and events: the real CLI against one real Grid, its tables
// compared field by field with the API's JSON, and its watches ended by SIGINT as Ctrl-C would.
import { applyYaml, cleanupAll, expectEventually, json, readyPods, startGrid, type GridHandle, type StatePod } from '../utils/grid.js';
import { gridctl, parseTable, type CliResult } from '../utils/cli.js';

const SPECS = `
apiVersion: v1
kind: Service
metadata: { name: web, labels: { team: shop } }
spec:
  replicas: 2
  command: [node, demo-services/versioned/server.js]
  env: [{ name: VERSION, value: v1 }]
  readinessProbe: { httpGet: { path: /health/ready }, periodSeconds: 2 }
---
apiVersion: v1
kind: Service
metadata: { name: sim }
spec:
  replicas: 2
  image: local://demo@v1
  env: [{ name: VERSION, value: v1 }]
---
kind: FailoverGroup
metadata: { name: shop }
spec:
  targets: [{ service: web }]
  healthCheck: { path: /health/ready, intervalSeconds: 1 }
`;

let g: GridHandle;
const run = (args: string[], opts: Parameters<typeof gridctl>[1] = {}) => gridctl(args, { url: g.url, ...opts });

/**
 * Runs a watch, does `act` once `started` shows in its output, and ends it with SIGINT (Ctrl-C)
 * as soon as its output satisfies `done`; a 30 s deadline (timedOut) fails the test instead.
 */
function watchFor(args: string[], started: RegExp, act: () => Promise<unknown>, done: (all: string) => boolean): Promise<CliResult> {
  let acted = false;
  return run(args, {
    timeoutMs: 30_000,
    onStdout: (_, all) => {
      if (acted || !started.test(all)) return;
      acted = true;
      void act();
    },
    stopWhen: (all) => acted && done(all),
  });
}

beforeAll(async () => {
  g = await startGrid();
  expect((await applyYaml(g, SPECS)).status).toBe(200);
  await expectEventually(() => readyPods(g, 'web', 2), 20_000);
  await expectEventually(() => readyPods(g, 'sim', 2), 10_000);
}, 60_000);

afterAll(cleanupAll);

describe('gridctl get', () => {
  it('prints services whose every field matches the API', async () => {
    const r = await run(['get', 'services', '-o', 'wide']);
    expect(r.code).toBe(0);
    const rows = parseTable(r.stdout);
    expect(rows.map((x) => x.NAME).sort()).toEqual(['sim', 'web']);
    for (const row of rows) {
      const { body: s } = await json(`${g.url}/services/${row.NAME}`);
      expect(row).toMatchObject({
        READY: `${s.ready}/${s.desired}`,
        'UP-TO-DATE': String(s.status.updatedReplicas),
        AVAILABLE: String(s.status.availableReplicas),
        VERSION: s.version,
        STRATEGY: s.spec.rollout.strategy,
        RUNTIME: s.runtime,
      });
      expect(row.AGE).toMatch(/^\d+s$/);
    }
    expect(rows.find((x) => x.NAME === 'sim')!['IMAGE/COMMAND']).toBe('local://demo@v1');
  });

  it('prints pods whose every field matches /state', async () => {
    const r = await run(['get', 'pods', '-o', 'wide']);
    expect(r.code).toBe(0);
    const { body } = await json<{ pods: StatePod[] }>(`${g.url}/state`);
    const rows = parseTable(r.stdout);
    expect(rows.map((x) => x.NAME).sort()).toEqual(body.pods.map((p) => p.id).sort());
    for (const p of body.pods) {
      const row = rows.find((x) => x.NAME === p.id)!;
      expect(row).toMatchObject({ READY: p.ready ? '1/1' : '0/1', STATUS: p.state, RESTARTS: String(p.restarts), VERSION: p.version, SERVICE: p.service, PID: p.pid === null ? '<none>' : String(p.pid), PORT: p.port === null ? '<none>' : String(p.port), RUNTIME: p.runtime });
    }
  });

  it('-o json prints the server JSON: the list, or the one object', async () => {
    const list = await run(['get', 'svc', '-o', 'json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual((await json(`${g.url}/services`)).body);
    const one = await run(['get', 'service', 'web', '-o', 'json']);
    const api = (await json(`${g.url}/services/web`)).body;
    const got = JSON.parse(one.stdout);
    for (const k of ['name', 'spec', 'metadata', 'status', 'history', 'createdAt']) expect(got[k]).toEqual(api[k]);
  });

  it('-o name prints kind/name lines', async () => {
    const r = await run(['get', 'po', '--service', 'web', '-o', 'name']);
    const ids = (await readyPods(g, 'web', 2)).map((p) => `pod/${p.id}`);
    expect(r.stdout.trim().split('\n').sort()).toEqual(ids.sort());
    expect((await run(['get', 'services', '-o', 'name'])).stdout).toBe('service/sim\nservice/web\n');
  });

  it('a NAME that does not exist is exit 1 with one line; a bad kind or -o is exit 2', async () => {
    const r = await run(['get', 'service', 'nope']);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe('error: service "nope" not found\n');
    expect((await run(['get', 'pod', 'web-zzzzz'])).stderr).toBe('error: pod "web-zzzzz" not found\n');
    expect((await run(['get', 'widgets'])).code).toBe(2);
    expect((await run(['get', 'pods', '-o', 'xml'])).code).toBe(2);
  });

  it('takes TYPE/NAME as -o name prints it, and several names; a missing one is an error line and exit 1', async () => {
    const [p] = await readyPods(g, 'web', 2);
    const two = await run(['get', 'service/web', `pod/${p.id}`]);
    expect(two.code).toBe(0);
    const [services, pods] = two.stdout.split('\n\n');
    expect(parseTable(services).map((r) => r.NAME)).toEqual(['web']);
    expect(parseTable(pods).map((r) => r.NAME)).toEqual([p.id]);
    const several = await run(['get', 'svc', 'web', 'nope', 'sim']);
    expect([several.code, several.stderr]).toEqual([1, 'error: service "nope" not found\n']);
    expect(parseTable(several.stdout).map((r) => r.NAME)).toEqual(['web', 'sim']);
    const names = await run(['get', 'svc/web', 'svc/sim', '-o', 'name']);
    expect(names.stdout).toBe('service/web\nservice/sim\n');
    const list = JSON.parse((await run(['get', 'svc', 'web', 'sim', '-o', 'json'])).stdout);
    expect(list.kind).toBe('List');
    expect(list.items.map((i: { name: string }) => i.name)).toEqual(['web', 'sim']);
    expect((await run(['get', 'svc', 'pod/x'])).code).toBe(2);
  });

  it('get fg -o wide adds each target\'s health and the check path, as the API says them', async () => {
    const r = await run(['get', 'fg', '-o', 'wide']);
    expect(r.code).toBe(0);
    const [row] = parseTable(r.stdout);
    const { body } = await json<{ targets: Array<{ name: string; health: string }> }>(`${g.url}/failover/shop`);
    expect(row).toMatchObject({ NAME: 'shop', TARGETS: 'web', 'TARGET-HEALTH': body.targets.map((t) => `${t.name}:${t.health}`).join(','), CHECK: '/health/ready' });
  });

  it('get events shows the object and reason of each event', async () => {
    const r = await run(['get', 'events', '--service', 'web']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/);
    expect(r.stdout).toMatch(/Normal\s+Created\s+service\/web\s+created service web/);
    expect(r.stdout).toMatch(/Normal\s+Ready\s+pod\/web-\w+\s+pod web-\w+ is ready/);
  });
});

describe('gridctl describe', () => {
  it('describes a service with its sections and values', async () => {
    const r = await run(['describe', 'service', 'web']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    for (const [field, value] of [
      ['Name', 'web'],
      ['Labels', 'team=shop'],
      ['Command', 'node demo-services/versioned/server.js'],
      ['Replicas', '2 desired | 2 updated | 2 total | 2 available | 0 unavailable'],
      ['Readiness', 'http-get /health/ready delay=0s timeout=1s period=2s #success=1 #failure=3'],
      ['Strategy', 'Rolling (maxSurge 25%, maxUnavailable 25%, minReadySeconds 0)'],
    ]) {
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${field}:\\s+${value.replace(/[|()]/g, '\\$&')}$`)));
    }
    for (const section of ['Env:', 'Conditions:', 'Rollout:', 'Revisions:', 'Pods:', 'Events:']) expect(lines).toContain(section);
    expect(r.stdout).toMatch(/Available\s+True\s+MinimumReplicasAvailable/);
    expect(r.stdout).toMatch(/why: Service web was created/);
  });

  it('describes a pod: service, version, state, probes', async () => {
    const [p] = await readyPods(g, 'web', 2);
    const r = await run(['describe', 'pod', p.id]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Service:\\s+web$`, 'm'));
    expect(r.stdout).toMatch(/^Version:\s+v1$/m);
    expect(r.stdout).toMatch(/^State:\s+Ready$/m);
    expect(r.stdout).toMatch(new RegExp(`^PID:\\s+${p.pid}$`, 'm'));
    expect(r.stdout).toMatch(/^ {2}readiness:\s+\d+\/\d+ passed; last passed/m);
    expect(r.stdout).toMatch(new RegExp(`pod/${p.id}\\s+pod ${p.id} is ready`));
    expect((await run(['describe', 'pod', 'nope-00000'])).code).toBe(1);
  });

  it('takes TYPE/NAME; refuses events saying where to see one', async () => {
    const r = await run(['describe', 'service/web']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Name:\s+web$/m);
    const ev = await run(['describe', 'events']);
    expect([ev.code, ev.stderr]).toEqual([2, 'error: describe: events have no detail view (their whole record: gridctl get events ID -o yaml); one of service (svc), pod (po), failovergroup (fg)\n']);
    const bad = await run(['describe', 'x', 'y']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).not.toMatch(/events/);
  });

  it('says a group\'s health check in words', async () => {
    const r = await run(['describe', 'fg/shop']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Health check:\s+GET \/health\/ready every 1s, timeout 2s, expect 200-399, 3 failures down, 2 successes up$/m);
  });

  it('a pod\'s Last exit lines up with its other fields', async () => {
    const [p] = await readyPods(g, 'sim', 2);
    const lines = (await run(['describe', `pod/${p.id}`])).stdout.split('\n');
    const col = (prefix: string) => lines.find((l) => l.startsWith(prefix))!.search(/(?<=:\s+)\S/);
    expect(col('Last exit:')).toBe(col('Name:'));
  });
});

describe('gridctl scale', () => {
  it('takes service/NAME as well as service NAME', async () => {
    const up = await run(['scale', 'service/sim', '--replicas', '3']);
    expect([up.code, up.stdout]).toEqual([0, 'service/sim scaled\n']);
    expect((await json(`${g.url}/services/sim`)).body.desired).toBe(3);
    expect((await run(['scale', 'svc', 'sim', '--replicas', '2'])).code).toBe(0);
    expect((await json(`${g.url}/services/sim`)).body.desired).toBe(2);
    await expectEventually(() => readyPods(g, 'sim', 2), 10_000);
    expect((await run(['scale', 'pod/sim-x', '--replicas', '1'])).code).toBe(2);
  });
});

describe('gridctl top', () => {
  it('prints the rate and latency the gateway measured', async () => {
    for (let i = 0; i < 30; i++) expect((await fetch(`${g.url}/gateway/web/`)).status).toBe(200);
    const r = await run(['top', 'services', '--service', 'web']);
    expect(r.code).toBe(0);
    const [row] = parseTable(r.stdout);
    const { body } = await json(`${g.url}/traffic?service=web&window=60`);
    const v1 = body.window.byVersion.find((v: { version: string }) => v.version === 'v1');
    expect(v1.requests).toBeGreaterThanOrEqual(30);
    expect(row).toMatchObject({ NAME: 'web', VERSION: 'v1', PODS: '2', WEIGHT: '100%' });
    expect(Number(row.RPS)).toBeGreaterThanOrEqual(0.5);
    expect(Number(row['P99(MS)'])).toBeGreaterThan(0);
    // sim gets no request (the group checks web only): no latency or 5xx rate, rather than zeros.
    const [idle] = parseTable((await run(['top', 'services', '--service', 'sim'])).stdout);
    expect(idle).toMatchObject({ NAME: 'sim', RPS: '0', '5XX(%)': '<none>', 'P50(MS)': '<none>', 'P99(MS)': '<none>' });
    const pods = parseTable((await run(['top', 'pods', '--service', 'web'])).stdout);
    expect(pods).toHaveLength(2);
    for (const p of pods) expect(p['CPU(%)']).toMatch(/^\d+(\.\d+)?$/);
  });
});

describe('gridctl logs', () => {
  it('--tail prints the last lines of a process pod', async () => {
    const [p] = await readyPods(g, 'web', 2);
    const r = await run(['logs', p.id, '--tail', '1']);
    expect(r).toMatchObject({ code: 0, stdout: `listening on 127.0.0.1:${p.port}\n` });
  });

  it('-f prints a new line as the pod writes it and ends (exit 0) when the pod is gone', async () => {
    const [p] = await expectEventually(() => readyPods(g, 'web', 2), 15_000);
    let step = 0;
    const r = await run(['logs', p.id, '-f', '--tail', '1'], {
      timeoutMs: 20_000,
      onStdout: (_, all) => {
        if (step === 0 && /listening on/.test(all)) {
          step = 1;
          void fetch(`${g.url}/pods/${p.id}/chaos/crash`, { method: 'POST' });
        } else if (step === 1 && /POST \/chaos\/crash: exiting with code 1\n/.test(all)) {
          // The crash line came through the follow; removing the pod must now end it.
          step = 2;
          void fetch(`${g.url}/chaos/kill?pod=${p.id}`, { method: 'POST' });
        }
      },
    });
    expect(step).toBe(2);
    expect(r).toMatchObject({ code: 0, timedOut: false });
  });
});

describe('watches', () => {
  it('events -w prints an event caused during the watch and exits 0 on SIGINT', async () => {
    const r = await watchFor(['events', '-w', '--service', 'sim'], /^LAST SEEN/m, () => fetch(`${g.url}/scale?service=sim&delta=1`, { method: 'POST' }), (all) => /via scale \+1$/m.test(all));
    expect(r).toMatchObject({ code: 0, timedOut: false });
    const after = r.stdout.slice(r.stdout.indexOf('\n') + 1);
    expect(after).toMatch(/^\d+s\s+Normal\s+Configured\s+service\/sim\s+configured service sim: .*3 replicas via scale \+1$/m);
    await expectEventually(() => readyPods(g, 'sim', 3), 10_000);
  });

  it('get pods -w -o json prints each pod as one JSON line, then each pod that changed', async () => {
    const before = await expectEventually(() => readyPods(g, 'sim', 3), 10_000);
    const victim = before[0].id;
    const fresh = (all: string) => [...all.matchAll(/"id":"(sim-\w+)"/g)].some((m) => !before.some((b) => b.id === m[1]));
    const r = await watchFor(['get', 'pods', '--service', 'sim', '-w', '-o', 'json'], new RegExp(before.map((p) => p.id).join('|')), () => fetch(`${g.url}/chaos/kill?pod=${victim}`, { method: 'POST' }), (all) => all.endsWith('\n') && fresh(all));
    expect(r).toMatchObject({ code: 0, timedOut: false });
    const objects = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as StatePod);
    expect(objects.slice(0, 3).map((p) => p.id).sort()).toEqual(before.map((p) => p.id).sort());
    const later = objects.slice(3);
    expect(later.length).toBeGreaterThan(0);
    expect(later.every((p) => p.service === 'sim')).toBe(true);
    expect(later.some((p) => !before.some((b) => b.id === p.id))).toBe(true);
    await expectEventually(() => readyPods(g, 'sim', 3), 10_000);
  });

  it('get pods -w prints the replacement of a killed pod as a changed row, without a header', async () => {
    const before = await expectEventually(() => readyPods(g, 'web', 2), 15_000);
    const victim = before[0].id;
    const replacedReady = (all: string) => all.split('\n').some((l) => /^web-\w+\s+1\/1\s+Ready\s/.test(l) && !before.some((p) => l.startsWith(`${p.id} `)));
    const r = await watchFor(['get', 'pods', '--service', 'web', '-w'], /^NAME/m, () => fetch(`${g.url}/chaos/kill?pod=${victim}`, { method: 'POST' }), replacedReady);
    expect(r).toMatchObject({ code: 0, timedOut: false });
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('NAME'))).toHaveLength(1);
    // A watch's later rows may be wider than the first table's columns, so they are matched by pattern.
    const fresh = lines.slice(1).filter((l) => !before.some((p) => l.startsWith(`${p.id} `)));
    expect(fresh.length).toBeGreaterThan(0);
    expect(fresh[fresh.length - 1]).toMatch(/^web-\w+\s+1\/1\s+Ready\s+0\s+\d+s\s+v1$/);
  });
});
