import { dockerInstanceId as instanceId } from '../../src/modules/runtime/drivers/docker-instance.js';
import { applyYaml, cleanupAll, expectEventually, json, podsOf, readyPods, startGrid, tempDataDir, type GridHandle } from '../utils/grid.js';
import { buildDemoImage, containersWith, describeWithDocker, docker, E2E_IMAGE, removeContainersWith } from '../utils/docker.js';



const FOREIGN = 'grid.test-foreign=true';

function spec(name: string, replicas: number, extra = ''): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  image: ${E2E_IMAGE}
  port: 8080
  imagePullPolicy: Never
  env: [{ name: VERSION, value: v1 }]
  readinessProbe: { httpGet: { path: /health/ready }, periodSeconds: 1 }
  restartBackoff: { initialSeconds: 1, maxSeconds: 2 }
  terminationGracePeriodSeconds: 2
${extra}`;
}

describeWithDocker('docker runtime (real engine)', () => {
  const dataDirs: string[] = [];
  const instances = () => dataDirs.map((d) => `grid.instance=${instanceId(d)}`);
  let foreign = '';

  function ours(dataDir: string, extra = ''): string[] {
    return containersWith(`grid.instance=${instanceId(dataDir)}`).filter((id) => !extra || docker('inspect', '-f', `{{index .Config.Labels "${extra.split('=')[0]}"}}`, id) === extra.split('=')[1]);
  }

  function running(dataDir: string, service: string): string[] {
    return docker('ps', '-q', '--no-trunc', '--filter', `label=grid.instance=${instanceId(dataDir)}`, '--filter', `label=grid.service=${service}`).split('\n').filter(Boolean);
  }

  beforeAll(() => {
    buildDemoImage();
    // A container Grid did not create, labelled like Grid's but for the managed flag: it must survive everything below.
    foreign = docker('run', '-d', '--network', 'host', '--label', FOREIGN, '--label', 'grid.service=web', '-e', 'PORT=0', E2E_IMAGE);
  });

  afterAll(async () => {
    // Read while the data dirs still exist: cleanupAll removes them.
    const labels = instances();
    await cleanupAll();
    for (const label of labels) removeContainersWith(label);
    removeContainersWith(FOREIGN);
  });

  async function grid(dataDir: string): Promise<GridHandle> {
    return startGrid({ dataDir });
  }

  it('lists the docker runtime as available', async () => {
    const dataDir = tempDataDir();
    dataDirs.push(dataDir);
    const g = await grid(dataDir);
    const r = await json(`${g.url}/runtimes`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'docker', available: true, detail: expect.stringContaining('/var/run/docker.sock') })]));
    await g.stop();
  });

  it('runs containers Ready through the gateway, replaces a docker-killed one, adopts them after SIGKILL, and removes them on delete', async () => {
    const dataDir = tempDataDir();
    dataDirs.push(dataDir);
    let g = await grid(dataDir);
    expect((await applyYaml(g, spec('web', 2))).status).toBe(200);
    const pods = await expectEventually(() => readyPods(g, 'web', 2), 30_000);
    expect(running(dataDir, 'web')).toHaveLength(2);

    const r = await json<{ version: string; pod: string }>(`${g.url}/gateway/web/version`);
    expect(r.status).toBe(200);
    expect(r.body.version).toBe('v1');
    expect(pods.map((p) => p.id)).toContain(r.body.pod);

    const labels = JSON.parse(docker('inspect', '-f', '{{json .Config.Labels}}', running(dataDir, 'web')[0])) as Record<string, string>;
    expect(labels).toMatchObject({ 'grid.managed': 'true', 'grid.service': 'web', 'grid.revision': '1', 'grid.spec-hash': expect.any(String), 'grid.pod': expect.stringMatching(/^web-/) });

    const logs = await json(`${g.url}/pods/${pods[0].id}/logs?tail=5`);
    expect(logs.status).toBe(200);
    expect(logs.body).toMatch(/listening|v1/i);

    const victim = running(dataDir, 'web')[0];
    docker('kill', victim);
    await expectEventually(async () => {
      const now = running(dataDir, 'web');
      const ready = (await podsOf(g, 'web')).filter((p) => p.ready);
      return !now.includes(victim) && now.length === 2 && ready.length === 2;
    }, 30_000);
    expect((await podsOf(g, 'web')).reduce((n, p) => n + (p.restarts ?? 0), 0)).toBeGreaterThanOrEqual(1);

    const before = running(dataDir, 'web').sort();
    await g.kill();
    g = await grid(dataDir);
    await expectEventually(() => readyPods(g, 'web', 2), 30_000);
    expect(running(dataDir, 'web').sort()).toEqual(before);
    expect(ours(dataDir)).toHaveLength(2);

    expect((await json(`${g.url}/services/web`, { method: 'DELETE' })).status).toBeLessThan(300);
    await expectEventually(() => ours(dataDir).length === 0, 30_000);
    expect(docker('inspect', '-f', '{{.State.Running}}', foreign)).toBe('true');
    await g.stop();
  });

  it('fails a pod whose image is missing under imagePullPolicy Never, saying so, without a hang', async () => {
    const dataDir = tempDataDir();
    dataDirs.push(dataDir);
    const g = await grid(dataDir);
    const yaml = spec('ghost', 1).replace(E2E_IMAGE, 'grid-demo:v9');
    expect((await applyYaml(g, yaml)).status).toBe(200);
    const event = await expectEventually(async () => {
      const ev = await json<{ events: { type: string; message: string }[] }>(`${g.url}/events?service=ghost&type=pod.failed`);
      return ev.body.events[0];
    }, 15_000);
    expect(event.message).toContain('image grid-demo:v9 not present and imagePullPolicy Never');
    expect((await podsOf(g, 'ghost'))[0].ready).toBe(false);
    expect(ours(dataDir)).toHaveLength(0);
    expect(docker('inspect', '-f', '{{.State.Running}}', foreign)).toBe('true');
    await g.stop();
  });

  it('rolls v1 → v2 over containers with the default rolling update: every container ends on v2, never fewer than the replicas Ready', async () => {
    const dataDir = tempDataDir();
    dataDirs.push(dataDir);
    const g = await grid(dataDir);
    expect((await applyYaml(g, spec('roll', 2))).status).toBe(200);
    await expectEventually(() => readyPods(g, 'roll', 2), 30_000);
    expect((await applyYaml(g, spec('roll', 2).replace('value: v1 }]', 'value: v2 }]'))).status).toBe(200);
    let minReady = 2;
    await expectEventually(async () => {
      const pods = await podsOf(g, 'roll');
      minReady = Math.min(minReady, pods.filter((p) => p.ready).length);
      const versions = running(dataDir, 'roll').map((id) => docker('inspect', '-f', '{{index .Config.Labels "grid.version"}}', id));
      expect(versions).toEqual(['v2', 'v2']);
      expect(pods.filter((p) => p.ready && p.version === 'v2')).toHaveLength(2);
      return true;
    }, 40_000, 100);
    expect(minReady).toBeGreaterThanOrEqual(2);
    expect((await json(`${g.url}/gateway/roll/version`)).body.version).toBe('v2');
    await g.stop();
  }, 90_000);

  it('rolls out v1 → v2 as a canary with analysis on containers, and aborts a bad v3-bad (half its answers 500) back to v2', async () => {
    const dataDir = tempDataDir();
    dataDirs.push(dataDir);
    const g = await grid(dataDir);
    const canary = (version: string, failRate = '0') =>
      spec('canary', 2, `  rollout:
    strategy: Canary
    steps: [{ setWeight: 50 }, { pause: { duration: 8s } }, { setWeight: 100 }]
    analysis: { interval: 2s, minRequests: 5, maxErrorRate: 0.05, failureLimit: 1 }
`)
        .replace('value: v1 }]', `value: ${version} }, { name: FAIL_RATE, value: "${failRate}" }]`);
    expect((await applyYaml(g, canary('v1'))).status).toBe(200);
    await expectEventually(() => readyPods(g, 'canary', 2), 30_000);
    // Steady traffic through the gateway, sent by Grid: the analysis has numbers to judge.
    expect((await json(`${g.url}/chaos/traffic?service=canary&rps=60&seconds=120&path=/version`, { method: 'POST' })).status).toBe(200);

    expect((await applyYaml(g, canary('v2'))).status).toBe(200);
    const done = await expectEventually(async () => {
      const r = (await json(`${g.url}/services/canary/rollout`)).body;
      if (r.phase !== 'Completed' && r.phase !== 'Aborted') throw new Error(`rollout: ${JSON.stringify(r).slice(0, 600)}`);
      return r;
    }, 60_000, 250);
    expect(done.phase).toBe('Completed');
    expect((await json(`${g.url}/gateway/canary/version`)).body.version).toBe('v2');
    // The v1 containers go once drained (one may still be on its way out when the rollout completes).
    await expectEventually(() => {
      expect(running(dataDir, 'canary').map((id) => docker('inspect', '-f', '{{index .Config.Labels "grid.version"}}', id))).toEqual(['v2', 'v2']);
      return true;
    }, 20_000);

    expect((await applyYaml(g, canary('v3-bad', '0.5'))).status).toBe(200);
    const aborted = await expectEventually(async () => {
      const ev = (await json(`${g.url}/events?service=canary&type=rollout.aborted`)).body.events;
      if (!ev[0]) throw new Error(`no abort yet: ${JSON.stringify((await json(`${g.url}/services/canary/rollout`)).body).slice(0, 700)} traffic ${JSON.stringify((await json(`${g.url}/chaos/traffic`)).body)}`);
      return ev[0];
    }, 60_000, 250);
    expect(aborted.message).toMatch(/5xx|error rate/i);
    await expectEventually(async () => (await json(`${g.url}/gateway/canary/version`)).body.version === 'v2', 30_000);
    await g.stop();
    expect(ours(dataDir)).toHaveLength(0);
  }, 150_000);

  it('reports the docker runtime unavailable when its socket does not answer, refuses docker specs naming the image and socket, and runs the rest', async () => {
    const g = await startGrid({ env: { GRID_DOCKER_SOCKET: '/tmp/grid-no-such-docker.sock' } });
    const runtimes = await json<{ name: string; available: boolean; detail: string }[]>(`${g.url}/runtimes`);
    expect(runtimes.body.find((r) => r.name === 'docker')).toEqual({ name: 'docker', available: false, detail: expect.stringContaining('/tmp/grid-no-such-docker.sock') });
    expect((await json(`${g.url}/state`)).body.runtimes).toEqual(runtimes.body);

    const refused = await applyYaml(g, spec('web', 1));
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('spec.image');
    expect(JSON.stringify(refused.body)).toContain(E2E_IMAGE);
    expect(JSON.stringify(refused.body)).toContain('/tmp/grid-no-such-docker.sock');

    const sim = `apiVersion: v1\nkind: Service\nmetadata: { name: sim }\nspec: { replicas: 1, image: local://demo@v1 }\n`;
    expect((await applyYaml(g, sim)).status).toBe(200);
    await expectEventually(() => readyPods(g, 'sim', 1), 10_000);
    await g.stop();
  });
});
