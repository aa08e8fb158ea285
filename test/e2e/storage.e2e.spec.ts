// Issue 15, state that survives pod restarts: spec.storage.persistent with real process pods.
import fs from 'node:fs';
import path from 'node:path';
import { applyYaml, cleanupAll, expectEventually, json, startGrid, type GridHandle } from '../utils/grid.js';

function spec(version: string, replicas = 2): string {
  return `apiVersion: v1
kind: Service
metadata: { name: store }
spec:
  replicas: ${replicas}
  command: ["node", "test/fixtures/storage-server.js", "$(GRID_POD_DATA)"]
  env: [{ name: VERSION, value: ${version} }]
  storage: { persistent: true }
  readinessProbe: { httpGet: { path: /health }, periodSeconds: 1, failureThreshold: 1 }
  terminationGracePeriodSeconds: 3
`;
}

interface Pod {
  id: string;
  service: string;
  state: string;
  ready: boolean;
  revision: number;
  ordinal: number | null;
  pid: number | null;
  port: number | null;
}

async function pods(g: GridHandle): Promise<Pod[]> {
  const { body } = await json<{ pods: Pod[] }>(`${g.url}/state`);
  return body.pods.filter((p) => p.service === 'store');
}

/** The ready pods by ordinal once exactly `n` run, all of `revision`. */
async function settled(g: GridHandle, n: number, revision: number): Promise<Map<number, Pod>> {
  return expectEventually(async () => {
    const ps = await pods(g);
    if (ps.length !== n || ps.some((p) => !p.ready || p.revision !== revision)) throw new Error(`not settled: ${JSON.stringify(ps.map((p) => [p.id, p.state, p.revision, p.ordinal]))}`);
    return new Map(ps.map((p) => [p.ordinal!, p]));
  }, 30000);
}

async function call(pod: Pod, method: string, route: string, body?: string): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${pod.port}${route}`, { method, body });
  return r.text();
}

/** Every live process (not a zombie) whose environment holds GRID_POD_DATA under this data dir, by directory. */
function processesByDataDir(volumes: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = fs.readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      const dir = env.find((e) => e.startsWith(`GRID_POD_DATA=${volumes}/`));
      if (!dir) continue;
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue;
      const d = dir.slice('GRID_POD_DATA='.length);
      out.set(d, [...(out.get(d) ?? []), Number(entry)]);
    } catch {
      // gone between readdir and read, or not ours
    }
  }
  return out;
}

describe('spec.storage.persistent', () => {
  let g: GridHandle;
  let volumes: string;
  afterAll(cleanupAll);

  beforeAll(async () => {
    g = await startGrid();
    volumes = path.join(g.dataDir, 'pods');
  });

  it('gives each pod its ordinal and a 0700 directory as GRID_POD_DATA (and $(GRID_POD_DATA) in the command)', async () => {
    expect((await applyYaml(g, spec('v1'))).status).toBe(200);

    const byOrdinal = await settled(g, 2, 1);

    expect([...byOrdinal.keys()].sort()).toEqual([0, 1]);
    for (const [ordinal, pod] of byOrdinal) {
      const dir = path.join(volumes, `store-${ordinal}`);
      expect(JSON.parse(await call(pod, 'GET', '/env'))).toEqual({ pid: pod.pid, arg: dir, env: dir });
      expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
      expect((await json(`${g.url}/pods/${pod.id}`)).body).toMatchObject({ ordinal });
    }
  });

  it('keeps the data of an ordinal when its pod is killed: the replacement sees it', async () => {
    const before = await settled(g, 2, 1);
    expect(await call(before.get(0)!, 'POST', '/data', 'first')).toBe('stored');

    expect((await json(`${g.url}/chaos/kill?pod=${before.get(0)!.id}`, { method: 'POST' })).status).toBe(200);

    const after = await expectEventually(async () => {
      const m = await settled(g, 2, 1);
      if (m.get(0)!.id === before.get(0)!.id) throw new Error('not replaced yet');
      return m;
    }, 30000);
    expect(await call(after.get(0)!, 'GET', '/data')).toBe('first\n');
    expect(await call(after.get(1)!, 'GET', '/data')).toBe('');
  });

  it('keeps pods, ordinals and data across a SIGKILL of Grid', async () => {
    const before = await settled(g, 2, 1);

    await g.kill();
    g = await startGrid({ dataDir: g.dataDir });

    const after = await settled(g, 2, 1);
    for (const o of [0, 1]) expect(after.get(o)).toMatchObject({ id: before.get(o)!.id, pid: before.get(o)!.pid, ordinal: o });
    expect(await call(after.get(0)!, 'GET', '/data')).toBe('first\n');
  });

  it('rolls one pod at a time: never two live processes on one GRID_POD_DATA', async () => {
    const before = await settled(g, 2, 1);
    const seen = new Map<string, Set<number>>();
    let samples = 0;
    let worst = 0;
    let done = false;
    const sampler = (async () => {
      while (!done) {
        for (const [dir, pids] of processesByDataDir(volumes)) {
          worst = Math.max(worst, pids.length);
          const s = seen.get(dir) ?? new Set<number>();
          for (const pid of pids) s.add(pid);
          seen.set(dir, s);
        }
        samples++;
        await new Promise((r) => setImmediate(r));
      }
    })();

    expect((await applyYaml(g, spec('v2'))).status).toBe(200);
    const after = await settled(g, 2, 2).finally(() => (done = true));
    await sampler;

    expect(worst).toBe(1);
    expect(samples).toBeGreaterThan(50);
    // The sampler did see both generations on each directory, so it could have caught an overlap.
    for (const o of [0, 1]) {
      const dir = path.join(volumes, `store-${o}`);
      expect(seen.get(dir)).toEqual(new Set([before.get(o)!.pid, after.get(o)!.pid]));
    }
    const started = (await json(`${g.url}/events?service=store&type=pod.created`)).body.events as { explain: string }[];
    expect(started.slice(-2).map((e) => e.explain)).toEqual([expect.stringContaining('on ordinal 1 '), expect.stringContaining('on ordinal 0 ')]);
    expect(await call(after.get(0)!, 'GET', '/data')).toBe('first\n');
  });

  it('lists the directories with GET /volumes: size and the pod holding each', async () => {
    const byOrdinal = await settled(g, 2, 2);

    const { body } = await json<{ volumes: Record<string, unknown>[] }>(`${g.url}/volumes`);

    expect(body.volumes).toEqual([0, 1].map((o) => ({ name: `store-${o}`, path: `pods/store-${o}`, service: 'store', ordinal: o, bytes: fs.statSync(path.join(volumes, `store-${o}`, 'data.txt'), { throwIfNoEntry: false })?.size ?? 0, status: 'Bound', pod: byOrdinal.get(o)!.id, serviceExists: true, createdAt: expect.any(String) })));
    expect(body.volumes[0].bytes).toBe('first\n'.length);
    expect((await json(`${g.url}/volumes?service=other`)).body).toEqual({ volumes: [] });
    expect((await json(`${g.url}/volumes?servic=store`)).status).toBe(400);
  });

  it('keeps the directories when the service is deleted, and says which; applying it again finds the data', async () => {
    expect((await json(`${g.url}/services/store`, { method: 'DELETE' })).body).toEqual({ deleted: 'store', purge: false, volumes: ['pods/store-0', 'pods/store-1'] });
    await expectEventually(async () => (await pods(g)).length === 0, 15000);
    expect(fs.readdirSync(volumes).sort()).toEqual(['store-0', 'store-1']);
    const released = (await json<{ volumes: Record<string, unknown>[] }>(`${g.url}/volumes`)).body.volumes;
    expect(released.map((v) => [v.name, v.status, v.pod, v.serviceExists])).toEqual([
      ['store-0', 'Released', null, false],
      ['store-1', 'Released', null, false],
    ]);

    expect((await applyYaml(g, spec('v2', 1))).status).toBe(200);

    const again = await settled(g, 1, (await json(`${g.url}/services/store`)).body.revision);
    expect(await call(again.get(0)!, 'GET', '/data')).toBe('first\n');
  });

  it('refuses a bad purge value and changes nothing', async () => {
    for (const [query, field] of [['purge=yes', 'purge'], ['purge=1', 'purge'], ['purge=TRUE', 'purge'], ['purge=true&purge=true', 'purge'], ['purg=true', 'purg']]) {
      const r = await json(`${g.url}/services/store?${query}`, { method: 'DELETE' });
      expect(r.status).toBe(400);
      expect(JSON.stringify(r.body)).toContain(field);
    }
    expect((await json(`${g.url}/services/store`)).status).toBe(200);
  });

  it('removes the directories with ?purge=true once the pods are gone', async () => {
    expect((await json(`${g.url}/services/store?purge=true`, { method: 'DELETE' })).body).toEqual({ deleted: 'store', purge: true, volumes: ['pods/store-0', 'pods/store-1'] });

    await expectEventually(() => fs.readdirSync(volumes).length === 0, 15000);
    expect(await pods(g)).toEqual([]);
    const purged = (await json(`${g.url}/events?service=store&type=volumes.purged`)).body.events as { message: string }[];
    expect(purged.map((e) => e.message)).toEqual(['removed the data directories store-0, store-1']);
  });

  it('gives the service applied again in the middle of a purge a new, empty directory that the purge leaves alone', async () => {
    expect((await applyYaml(g, spec('v3', 1))).status).toBe(200);
    await settled(g, 1, (await json(`${g.url}/services/store`)).body.revision);
    // Enough files that deleting them takes a while: the apply below lands while it runs.
    const bulk = path.join(volumes, 'store-0', 'bulk');
    fs.mkdirSync(bulk);
    const FILES = 20000;
    for (let i = 0; i < FILES; i++) fs.writeFileSync(path.join(bulk, `f${i}`), 'old');

    expect((await json(`${g.url}/services/store?purge=true`, { method: 'DELETE' })).status).toBe(200);
    await expectEventually(() => !fs.existsSync(bulk) || fs.readdirSync(bulk).length < FILES, 30000, 5);
    expect((await applyYaml(g, spec('v3', 1))).status).toBe(200);

    const pod = (await settled(g, 1, (await json(`${g.url}/services/store`)).body.revision)).get(0)!;
    expect(await call(pod, 'POST', '/data', 'new')).toBe('stored');
    const all = async () => (await json(`${g.url}/events?type=volumes.purged`)).body.events as { message: string }[];
    await expectEventually(async () => (await all()).length === 2 && fs.readdirSync(volumes).every((n) => !n.startsWith('.purge-')), 30000);
    expect(fs.readdirSync(volumes)).toEqual(['store-0']);
    expect(fs.readdirSync(path.join(volumes, 'store-0'))).toEqual(['data.txt']);
    expect(await call(pod, 'GET', '/data')).toBe('new\n');
    expect((await pods(g)).map((p) => [p.id, p.ready])).toEqual([[pod.id, true]]);
    // The purge was the deleted incarnation's: the new one's events do not claim it.
    expect((await json(`${g.url}/events?service=store&type=volumes.purged`)).body.events).toEqual([]);
    expect((await all()).map((e) => e.message)).toEqual(['removed the data directories store-0, store-1', 'removed the data directories store-0']);
  });

  it('removes the data a deleted service left behind with ?purge=true; 404 once there is none', async () => {
    expect((await applyYaml(g, spec('v3', 1))).status).toBe(200);
    await settled(g, 1, (await json(`${g.url}/services/store`)).body.revision);
    expect((await json(`${g.url}/services/store`, { method: 'DELETE' })).status).toBe(200);
    await expectEventually(async () => (await pods(g)).length === 0, 15000);

    const plain = await json(`${g.url}/services/store`, { method: 'DELETE' });
    expect(plain.status).toBe(404);
    expect(plain.body.message).toBe("service 'store' not found; its data directories pods/store-0 are kept (delete with purge=true removes them)");
    expect(fs.readdirSync(volumes)).toEqual(['store-0']);

    const purge = await json(`${g.url}/services/store?purge=true`, { method: 'DELETE' });
    expect(purge).toMatchObject({ status: 202, body: { deleted: null, purge: true, volumes: ['pods/store-0'] } });
    await expectEventually(() => fs.readdirSync(volumes).length === 0, 15000);
    expect((await json(`${g.url}/volumes`)).body).toEqual({ volumes: [] });
    const purged = (await json(`${g.url}/events?service=store&type=volumes.purged`)).body.events as { message: string }[];
    expect(purged.at(-1)!.message).toBe('removed the data directories store-0');

    const again = await json(`${g.url}/services/store?purge=true`, { method: 'DELETE' });
    expect(again.status).toBe(404);
    expect(again.body.message).toBe("service 'store' not found, and it left no data directories");
  });
});

describe("README's storage example (Trust under faults › State that survives)", () => {
  afterAll(cleanupAll);

  /** The first yaml block of the section, as a reader copies it. */
  function readmeExample(): string {
    const readme = fs.readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('### State that survives pod restarts'));
    const m = /```yaml\n([\s\S]*?)```/.exec(section);
    if (!m) throw new Error('no yaml block in the section');
    return m[1];
  }

  it('applies as written on a real Grid beside the demo shop, keeps a write across a kill, and names no demo service', async () => {
    const yaml = readmeExample();
    const name = /name: ([a-z0-9-]+)/.exec(yaml)![1];
    const demoNames = [...fs.readFileSync('examples/shop.yaml', 'utf8').matchAll(/^  name: ([a-z0-9-]+)$/gm), ...fs.readFileSync('examples/demo.yaml', 'utf8').matchAll(/^  name: ([a-z0-9-]+)$/gm)].map((x) => x[1]);
    expect(demoNames).toContain('store');
    expect(demoNames).not.toContain(name);

    const g = await startGrid();
    expect((await applyYaml(g, yaml)).status).toBe(200);
    const ready = async () => {
      const ps = ((await json<{ pods: Pod[] }>(`${g.url}/state`)).body.pods).filter((p) => p.service === name);
      if (ps.length !== 1 || !ps[0].ready) throw new Error(`not ready: ${JSON.stringify(ps.map((p) => p.state))}`);
      return ps[0];
    };
    const first = await expectEventually(ready, 20000);
    const written = await json(`${g.url}/gateway/${name}/v1/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'milk' }) });
    expect(written.status).toBe(201);
    expect(fs.readFileSync(path.join(g.dataDir, 'pods', `${name}-0`, 'store.jsonl'), 'utf8')).toContain('milk');

    expect((await json(`${g.url}/chaos/kill?pod=${first.id}`, { method: 'POST' })).status).toBe(200);
    await expectEventually(async () => {
      const p = await ready();
      if (p.id === first.id) throw new Error('not replaced yet');
      return p;
    }, 20000);
    expect((await json(`${g.url}/gateway/${name}/v1/notes`)).body).toMatchObject({ items: [{ text: 'milk' }], count: 1 });
  });
});
