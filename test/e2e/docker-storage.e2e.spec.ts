// spec.storage on the docker runtime, against the real engine and the shop's own store image
// (demo-services/build-images.sh: it runs as uid 10001, as most production images run as a non-root user).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dockerInstanceId as instanceId } from '../../src/modules/runtime/drivers/docker-instance.js';
import { applyYaml, cleanupAll, expectEventually, json, podsOf, readyPods, ROOT, startGrid, tempDataDir, type GridHandle } from '../utils/grid.js';
import { describeWithDocker, docker, removeContainersWith } from '../utils/docker.js';

const IMAGE = 'grid-shop-store:v1';
const IMAGE_UID = 10001;
/** The store image with its user given by name, as many images do (USER postgres). */
const NAMED_IMAGE = 'grid-e2e-store-named:test';

function store(name: string, storage: string, image = IMAGE): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  image: ${image}
  imagePullPolicy: Never
  storage: ${storage}
  readinessProbe: { httpGet: { path: /health/ready }, periodSeconds: 1 }
  restartBackoff: { initialSeconds: 1, maxSeconds: 2 }
  terminationGracePeriodSeconds: 2
`;
}

describeWithDocker('docker runtime: persistent storage (real engine)', () => {
  let dataDir: string;
  let g: GridHandle;

  function containerOf(service: string): string {
    const ids = docker('ps', '-q', '--no-trunc', '--filter', `label=grid.instance=${instanceId(dataDir)}`, '--filter', `label=grid.service=${service}`).split('\n').filter(Boolean);
    if (ids.length !== 1) throw new Error(`${service}: ${ids.length} running containers, want 1`);
    return ids[0];
  }

  async function post(service: string, record: Record<string, unknown>): Promise<{ id: number }> {
    const r = await json<{ id: number }>(`${g.url}/gateway/${service}/v1/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(record) });
    if (r.status !== 201) throw new Error(`POST ${service}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  beforeAll(async () => {
    // Skips what is up to date (well under a second then).
    execFileSync(path.join(ROOT, 'demo-services', 'build-images.sh'), { stdio: 'ignore', timeout: 300_000 });
    execFileSync('docker', ['build', '-q', '-t', NAMED_IMAGE, '-'], { input: `FROM ${IMAGE}\nUSER grid\n`, stdio: ['pipe', 'ignore', 'inherit'], timeout: 60_000 });
    dataDir = tempDataDir();
    g = await startGrid({ dataDir });
  }, 320_000);

  afterAll(async () => {
    const label = `grid.instance=${instanceId(dataDir)}`;
    await cleanupAll();
    removeContainersWith(label);
    docker('image', 'rm', '-f', NAMED_IMAGE);
  });

  it('a non-root image gets its directory: Ready, a POST lands in the host directory, and survives a container kill', async () => {
    expect((await applyYaml(g, store('dstore', '{ persistent: true }'))).status).toBe(200);
    const [pod] = await expectEventually(() => readyPods(g, 'dstore', 1), 30_000);
    const dir = path.join(dataDir, 'pods', 'dstore-0');
    const st = fs.statSync(dir);
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([IMAGE_UID, IMAGE_UID, 0o700]);
    const events = (await json<{ events: { reason: string; message: string }[] }>(`${g.url}/events?service=dstore&type=pod.volumeOwned`)).body.events;
    expect(events).toEqual([expect.objectContaining({ reason: 'VolumeOwned', message: expect.stringContaining(`${dir} given to uid ${IMAGE_UID}, gid ${IMAGE_UID}`) })]);

    const written = await post('dstore', { item: 'lamp', qty: 2 });
    expect(fs.readFileSync(path.join(dir, 'store.jsonl'), 'utf8')).toContain('"item":"lamp"');

    const before = containerOf('dstore');
    docker('kill', before);
    await expectEventually(async () => {
      const [p] = await readyPods(g, 'dstore', 1);
      return p.id === pod.id && p.restarts >= 1 && containerOf('dstore') !== before;
    }, 30_000);
    const back = await json(`${g.url}/gateway/dstore/v1/orders/${written.id}`);
    expect(back).toMatchObject({ status: 200, body: { id: written.id, item: 'lamp', qty: 2 } });
  }, 90_000);

  it('mountPath: the directory is bind-mounted where the image looks, and GRID_POD_DATA names that path inside', async () => {
    expect((await applyYaml(g, store('mstore', '{ persistent: true, mountPath: /var/lib/store }'))).status).toBe(200);
    await expectEventually(() => readyPods(g, 'mstore', 1), 30_000);
    const id = containerOf('mstore');
    const dir = path.join(dataDir, 'pods', 'mstore-0');
    const mounts = JSON.parse(docker('inspect', '-f', '{{json .Mounts}}', id)) as { Source: string; Destination: string }[];
    expect(mounts.map((m) => [m.Source, m.Destination])).toEqual([[dir, '/var/lib/store']]);
    const env = JSON.parse(docker('inspect', '-f', '{{json .Config.Env}}', id)) as string[];
    expect(env).toContain('GRID_POD_DATA=/var/lib/store');

    await post('mstore', { item: 'desk' });
    expect(fs.readFileSync(path.join(dir, 'store.jsonl'), 'utf8')).toContain('"item":"desk"');
  }, 60_000);

  it('a USER given by name cannot be resolved without the image\'s /etc/passwd: an event says so, the directory is left', async () => {
    expect((await applyYaml(g, store('nstore', '{ persistent: true }', NAMED_IMAGE))).status).toBe(200);
    const events = await expectEventually(async () => {
      const list = (await json<{ events: { reason: string; message: string }[] }>(`${g.url}/events?service=nstore&type=pod.volumeNotOwned`)).body.events;
      return list.length > 0 ? list : undefined;
    }, 30_000);
    expect(events![0]).toMatchObject({ reason: 'VolumeOwnerUnknown', message: expect.stringContaining("image grid-e2e-store-named:test runs as user 'grid', a name") });
    expect(fs.statSync(path.join(dataDir, 'pods', 'nstore-0')).uid).toBe(0);
    // The container cannot write it and crash-loops; the note is made once per pod, not once per restart.
    await expectEventually(async () => (await podsOf(g, 'nstore'))[0]?.restarts >= 2, 30_000);
    expect((await json<{ events: unknown[] }>(`${g.url}/events?service=nstore&type=pod.volumeNotOwned`)).body.events).toHaveLength(1);
  }, 60_000);
});
