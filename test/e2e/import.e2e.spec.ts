// Importing Kubernetes and Compose files (issue 14) on one real Grid: a Deployment + Service + HPA
// stream runs Ready through the gateway as processes (the grid.dev/command annotation) always, and
// as containers when a Docker Engine answers; a Compose file goes through gridctl apply -f.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dockerInstanceId as instanceId } from '../../src/modules/runtime/drivers/docker-instance.js';
import { gridctl } from '../utils/cli.js';
import { dockerMissing, removeContainersWith } from '../utils/docker.js';
import { applyYaml, cleanupAll, expectEventually, json, readyPods, ROOT, startGrid, tempDataDir, type GridHandle } from '../utils/grid.js';
import { describeRequiring } from '../utils/requires.js';

const FIXTURES = path.join(ROOT, 'test/fixtures/kubernetes');

/** A Deployment + Service + HPA stream; `container` is the container's image and runtime-specific lines. */
function stream(name: string, container: string, annotations = ''): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: { app: ${name} }${annotations}
spec:
  replicas: 2
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      nodeSelector: { disktype: ssd }
      terminationGracePeriodSeconds: 2
      containers:
        - name: ${name}
${container}
          env:
            - { name: VERSION, value: v1 }
          readinessProbe: { httpGet: { path: /health/ready, port: 8080 }, periodSeconds: 1 }
          livenessProbe: { httpGet: { path: /health/live, port: 8080 }, periodSeconds: 5 }
---
apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  selector: { app: ${name} }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: ${name} }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: ${name} }
  minReplicas: 2
  maxReplicas: 4
  metrics:
    - type: Resource
      resource: { name: cpu, target: { type: Utilization, averageUtilization: 90 } }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: ${name}-config }
data: { a: b }
`;
}

describe('import of Kubernetes and Compose files', () => {
  let g: GridHandle;
  const dataDir = tempDataDir();

  beforeAll(async () => {
    // compose-shop.yml's store writes to $STORE_DIR, which its pod inherits from Grid's environment.
    g = await startGrid({ dataDir, env: { STORE_DIR: path.join(dataDir, 'compose-shop-store') } });
  });
  afterAll(async () => {
    // Read while the data dir exists: cleanupAll removes it.
    const label = dockerMissing() === undefined ? `grid.instance=${instanceId(dataDir)}` : undefined;
    await cleanupAll();
    if (label) removeContainersWith(label);
  });

  async function runsThroughTheGateway(name: string): Promise<void> {
    await expectEventually(() => readyPods(g, name, 2), 30_000);
    const r = await json<{ version: string }>(`${g.url}/gateway/${name}/version`);
    expect([r.status, r.body.version]).toEqual([200, 'v1']);
    // The HPA became the service's autoscale.
    const svc = await json<{ spec: { autoscale?: Record<string, unknown> } }>(`${g.url}/services/${name}`);
    expect(svc.body.spec.autoscale).toMatchObject({ targetCPU: 90, min: 2, max: 4 });
  }

  it('a Deployment + Service + HPA stream with grid.dev/command runs as processes, Ready through the gateway', async () => {
    const yaml = stream('imported-proc', '          image: registry.example/demo:v1\n          ports: [{ containerPort: 8080 }]', `\n  annotations:\n    grid.dev/command: '["node", "demo-services/versioned/server.js"]'`);
    const r = await applyYaml(g, yaml);
    expect(r.status).toBe(200);
    expect(r.body.applied).toEqual([expect.objectContaining({ service: 'imported-proc', result: 'created' })]);
    expect(r.body.imported).toEqual([
      { object: 'Deployment/imported-proc', became: 'service/imported-proc', ignored: ['spec.template.spec.nodeSelector', 'spec.template.spec.containers[0].ports[0]'], index: 0, runsOnHost: ['node', 'demo-services/versioned/server.js'] },
      { object: 'Service/imported-proc', became: 'service/imported-proc', ignored: [], index: 1 },
      { object: 'HorizontalPodAutoscaler/imported-proc', became: 'service/imported-proc', ignored: [], index: 2 },
      { object: 'ConfigMap/imported-proc-config', ignored: ['the whole object'], index: 3 },
    ]);
    await runsThroughTheGateway('imported-proc');

    // gridctl diff of the same stream: nothing would change; with another replica count, the
    // Grid service the Deployment became shows the change.
    const same = await gridctl(['diff', '-f', '-'], { url: g.url, input: yaml });
    expect([same.code, same.stdout, same.stderr]).toEqual([0, '', '']);
    const more = await gridctl(['diff', '-f', '-'], { url: g.url, input: yaml.replace('replicas: 2', 'replicas: 4') });
    expect(more.code).toBe(1);
    expect(more.stdout).toContain('--- live/service/imported-proc');
    expect(more.stdout).toMatch(/^-  replicas: 2$/m);
    expect(more.stdout).toMatch(/^\+  replicas: 4$/m);
  });

  it('a dry run answers the notes too and stores nothing; an exec probe is a 400 naming the field and stores nothing', async () => {
    const dry = await json(`${g.url}/apply?dryRun=All`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: stream('dry', '          image: grid-demo:v1') });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, applied: [{ service: 'dry', result: 'created' }], imported: expect.arrayContaining([expect.objectContaining({ object: 'Deployment/dry' })]) });
    const bad = await applyYaml(g, stream('bad', '          image: grid-demo:v1').replace('readinessProbe: { httpGet: { path: /health/ready, port: 8080 }, periodSeconds: 1 }', 'readinessProbe: { exec: { command: [true] } }'));
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ path: '[0].spec.template.spec.containers[0].readinessProbe.exec', message: 'Grid probes over HTTP only (httpGet)' }]);
    for (const name of ['dry', 'bad']) expect((await json(`${g.url}/services/${name}`)).status).toBe(404);
  });

  it('gridctl apply -f a Compose file of four services with depends_on: a line per service, all Ready', async () => {
    const r = await gridctl(['apply', '-f', path.join(FIXTURES, 'compose-shop.yml')], { url: g.url });
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toBe(
      [
        'compose/frontend-api → service/frontend-api created (runs on this host as a process: node demo-services/shop/frontend-api.js) (ignored: ports[0])',
        'compose/business-logic → service/business-logic created (runs on this host as a process: node demo-services/shop/business-logic.js)',
        'compose/data-ingest → service/data-ingest created (runs on this host as a process: node demo-services/shop/data-ingest.js)',
        'compose/store → service/store created (runs on this host as a process: node demo-services/shop/store.js)',
        '',
      ].join('\n'),
    );
    await expectEventually(async () => {
      await readyPods(g, 'store', 1);
      await readyPods(g, 'data-ingest', 2);
      await readyPods(g, 'business-logic', 1);
      await readyPods(g, 'frontend-api', 1);
      return true;
    }, 30_000);
    expect((await json(`${g.url}/gateway/frontend-api/health/ready`)).status).toBe(200);
  });

  it('gridctl apply -f a StatefulSet with a claim template runs it as a persistent service: its pod writes under GRID_POD_DATA', async () => {
    // As export writes it: the claim mounted at /data and GRID_POD_DATA pointing there, which Grid replaces with the pod's own directory.
    const sts = `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: kv
  annotations: { grid.dev/command: '["node", "test/fixtures/storage-server.js", "$(GRID_POD_DATA)"]' }
spec:
  serviceName: kv-headless
  replicas: 1
  selector: { matchLabels: { app: kv } }
  template:
    metadata: { labels: { app: kv } }
    spec:
      terminationGracePeriodSeconds: 2
      containers:
        - name: kv
          image: registry.example/kv:1
          env: [{ name: GRID_POD_DATA, value: /data }]
          volumeMounts: [{ name: data, mountPath: /data }]
          readinessProbe: { httpGet: { path: /health }, periodSeconds: 1 }
  volumeClaimTemplates:
    - metadata: { name: data }
      spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } }
`;
    const r = await gridctl(['apply', '-f', '-'], { url: g.url, input: sts });
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toBe(
      'statefulset.apps/kv → service/kv created (runs on this host as a process: node test/fixtures/storage-server.js $(GRID_POD_DATA)) ' +
        '(storage: volumeClaimTemplates[0] data, mounted at /data → spec.storage.persistent: each pod of kv gets a directory of its own, kept across restarts, in $GRID_POD_DATA (Grid sets it, and expands $(GRID_POD_DATA) in a command)) ' +
        '(ignored: spec.volumeClaimTemplates[0].spec.accessModes, spec.volumeClaimTemplates[0].spec.resources)\n',
    );
    expect((await json<{ spec: unknown }>(`${g.url}/services/kv`)).body.spec).toMatchObject({ storage: { persistent: true }, env: [] });
    const [pod] = await expectEventually(() => readyPods(g, 'kv', 1), 30_000);
    expect(pod).toMatchObject({ ordinal: 0 });
    const dir = path.join(g.dataDir, 'pods', 'kv-0');
    expect(JSON.parse((await (await fetch(`${g.url}/gateway/kv/env`)).text())).env).toBe(dir);
    expect((await fetch(`${g.url}/gateway/kv/data`, { method: 'POST', body: 'kept' })).status).toBe(201);
    expect(fs.readFileSync(path.join(dir, 'data.txt'), 'utf8')).toBe('kept\n');
  });

  it("gridctl apply -f tells an imported object's refusal against its file", async () => {
    const r = await gridctl(['apply', '-f', path.join(FIXTURES, 'seed-003-docker-compose.yml')], { url: g.url });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${path.join(FIXTURES, 'seed-003-docker-compose.yml')}: services.frontend-api.build: Grid runs images and does not build them`);
  });

  describeRequiring('with a Docker Engine', dockerMissing(), 'docker', 'runs the stream as containers', () => {
    // Host networking (the container listens on Grid's PORT): a named targetPort gives no number, so
    // the Service lends none. (A containerPort would make it a bridge with a published port, which
    // this machine's engine does not publish for plain Grid specs either.)
    it('the same stream with an image runs as containers, Ready through the gateway', async () => {
      const r = await applyYaml(g, stream('imported-docker', '          image: grid-demo:v1\n          imagePullPolicy: Never').replace('targetPort: 8080', 'targetPort: http'));
      expect(r.status).toBe(200);
      expect(r.body.imported.slice(0, 2)).toEqual([
        { object: 'Deployment/imported-docker', became: 'service/imported-docker', ignored: ['spec.template.spec.nodeSelector'], index: 0 },
        { object: 'Service/imported-docker', became: 'service/imported-docker', ignored: ['spec.ports[0].targetPort'], index: 1 },
      ]);
      await runsThroughTheGateway('imported-docker');
    });
  });
});
