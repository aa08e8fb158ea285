// GET/POST /export and gridctl export against one real Grid: stored specs and -f documents come
// back as Kubernetes objects (validated with kubernetes-models), warnings as headers and on stderr.
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Service } from 'kubernetes-models/v1/Service';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Rollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout';
import { AnalysisTemplate } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/AnalysisTemplate';
import { gridctl } from '../utils/cli.js';
import { applyYaml, cleanupAll, example, json, startGrid, type GridHandle } from '../utils/grid.js';
import { describeWithDocker } from '../utils/docker.js';

const MODELS: Record<string, new (o: any) => { validate(): void }> = {
  Deployment,
  StatefulSet,
  Service,
  HorizontalPodAutoscaler,
  Rollout,
  AnalysisTemplate,
};
const validateAll = (objects: any[]) => objects.forEach((o) => new MODELS[o.kind](o).validate());
const refs = (objects: any[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`);

// The stored canary is examples/docker-canary.yaml (an image that exports as it is), which Grid
// accepts only where a Docker Engine answers; its pods are never started (replicas 0).
describeWithDocker('export', () => {
  let g: GridHandle;

  beforeAll(async () => {
    g = await startGrid();
    // Stored nothing runs: replicas 0 keeps the e2e light; export reads specs, not pods.
    const docker = example('docker-canary.yaml').replace('replicas: 2', 'replicas: 0');
    const web = example('autoscale-demo.yaml').replace('replicas: 1', 'replicas: 0');
    expect((await applyYaml(g, `${docker}\n---\n${web}`)).status).toBe(200);
  }, 60_000);
  afterAll(cleanupAll);

  it('GET /export: YAML documents that validate, warnings as headers and comments', async () => {
    const res = await fetch(`${g.url}/export?format=kubernetes&service=hello&namespace=shop&prometheus=http://prom:9090`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/yaml');
    const text = await res.text();
    const objects = parseAllDocuments(text).map((d) => d.toJS());
    expect(refs(objects)).toEqual(['Rollout/hello', 'Service/hello', 'AnalysisTemplate/hello-analysis']);
    validateAll(objects);
    expect(objects.every((o) => o.metadata.namespace === 'shop')).toBe(true);
    expect(objects[0].metadata.labels['app.kubernetes.io/version']).toBe('v2');
    expect(objects[2].spec.metrics[0].provider.prometheus.address).toBe('http://prom:9090');
    expect(res.headers.get('warning')).toContain('299 - "hello: spec.rollout.analysis.minRequests');
    expect(text.split('\n')[0]).toMatch(/^# warning: hello: /);
  });

  it('a process service needs an image: 400 naming it, then ?image= exports it with the annotations', async () => {
    const bad = await json(`${g.url}/export?service=hot`);
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ path: 'service/hot.spec.command', message: expect.stringContaining('--image hot=IMAGE') }]);
    const ok = await json(`${g.url}/export?service=hot&image=hot=registry.example/hot:1&output=json`);
    expect(ok.status).toBe(200);
    expect(ok.body.kind).toBe('List');
    expect(refs(ok.body.items)).toEqual(['Deployment/hot', 'Service/hot', 'HorizontalPodAutoscaler/hot']);
    validateAll(ok.body.items);
    expect(ok.body.items[0].metadata.annotations['grid.dev/command']).toBe('["node","demo-services/versioned/server.js"]');
  });

  it.each([
    ['format=helm', 'format'],
    ['output=xml', 'output'],
    ['namspace=x', 'namspace'],
    ['namespace=Not_A_Label', 'namespace'],
    ['image=nope', 'image'],
  ])('GET /export?%s → 400 naming %s', async (q, field) => {
    const r = await json(`${g.url}/export?${q}`);
    expect(r.status).toBe(400);
    expect(r.body.errors[0].path).toBe(field);
  });

  it('refuses a prometheus address that is not all a printable URL (it is written into every AnalysisTemplate)', async () => {
    for (const bad of ['http://prom:9090/%E2%80%A9kind:%20Pod', 'http://prom:9090/a%20b', 'ftp://prom']) {
      const r = await json(`${g.url}/export?service=hello&prometheus=${bad}`);
      expect([r.status, r.body.errors?.[0]?.path]).toEqual([400, 'prometheus']);
    }
  });

  it('GET /export?service=missing → 404', async () => {
    expect((await json(`${g.url}/export?service=missing`)).status).toBe(404);
  });

  it('POST /export validates the body as /apply does and stores nothing', async () => {
    const body = example('api-v2.yaml');
    const r = await json(`${g.url}/export?image=api=registry.example/api:2&output=json`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body });
    expect(r.status).toBe(200);
    expect(refs(r.body.items)).toEqual(['Rollout/api', 'Service/api', 'Service/api-preview', 'HorizontalPodAutoscaler/api']);
    validateAll(r.body.items);
    expect((await json(`${g.url}/services/api`)).status).toBe(404);
    const bad = await json(`${g.url}/export`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: body.replace('replicas: 3', 'replicas: -1') });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toContain('spec.replicas');
    // A read, but one whose body costs Grid work: another site's page cannot send it through a browser.
    for (const headers of [{ origin: 'http://evil.example' }, { 'sec-fetch-site': 'cross-site' }] as Record<string, string>[]) {
      const foreign = await json(`${g.url}/export?image=api=registry.example/api:2`, { method: 'POST', headers: { 'content-type': 'application/yaml', ...headers }, body });
      expect([foreign.status, foreign.body.message]).toEqual([403, expect.stringContaining("another site's page")]);
    }
  });

  it('sends at most 20 Warning headers and says how many more there are; the YAML lists every one', async () => {
    const body = JSON.stringify(Array.from({ length: 30 }, (_, i) => ({ kind: 'Service', metadata: { name: `w${i}` }, spec: { image: 'registry.example/w:1' } })));
    const res = await fetch(`${g.url}/export`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(res.status).toBe(200);
    const warnings = res.headers.get('warning')!.split(/, (?=299 )/);
    expect(warnings).toHaveLength(21);
    expect(warnings[20]).toMatch(/and 10 more warnings/);
    expect((await res.text()).match(/^# warning: /gm)).toHaveLength(30);
  });

  it('gridctl export --all prints YAML for kubectl and the warnings on stderr', async () => {
    const r = await gridctl(['export', '--all', '--image', 'hot=registry.example/hot:1'], { url: g.url });
    expect(r.code).toBe(0);
    const objects = parseAllDocuments(r.stdout).map((d) => d.toJS()).filter(Boolean);
    expect(refs(objects)).toEqual(['Rollout/hello', 'Service/hello', 'AnalysisTemplate/hello-analysis', 'Deployment/hot', 'Service/hot', 'HorizontalPodAutoscaler/hot']);
    validateAll(objects);
    expect(r.stderr).toMatch(/^warning: hello: /m);
  });

  it('gridctl export -f FILE -o json, and its errors name the file', async () => {
    const ok = await gridctl(['export', '-f', 'examples/demo.yaml', '--image', 'web=registry.example/web:1', '-o', 'json', '-n', 'demo'], { url: g.url });
    expect(ok.code).toBe(0);
    const list = JSON.parse(ok.stdout);
    expect(refs(list.items)).toEqual(['Deployment/web', 'Service/web']);
    expect(list.items[0].metadata.namespace).toBe('demo');
    const bad = await gridctl(['export', '-f', 'examples/demo.yaml'], { url: g.url });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('examples/demo.yaml');
    expect(bad.stderr).toContain('--image web=IMAGE');
  });

  it("gridctl export -f examples/shop.yaml: the persistent store is a StatefulSet with a claim per pod and a headless Service; the claim's size is a warning", async () => {
    const images = ['store', 'data-ingest', 'business-logic', 'frontend-api'].flatMap((s) => ['--image', `${s}=registry.example/${s}:1`]);
    const r = await gridctl(['export', '-f', 'examples/shop.yaml', ...images], { url: g.url });
    expect(r.code).toBe(0);
    const objects = parseAllDocuments(r.stdout).map((d) => d.toJS()).filter(Boolean);
    expect(refs(objects).slice(0, 4)).toEqual(['StatefulSet/store', 'Service/store', 'Service/store-headless', 'Deployment/data-ingest']);
    validateAll(objects);
    expect(objects[0].spec).toMatchObject({ serviceName: 'store-headless', volumeClaimTemplates: [{ metadata: { name: 'data' } }] });
    expect(objects[0].spec.template.spec.containers[0].env[0]).toEqual({ name: 'GRID_POD_DATA', value: '/data' });
    expect(r.stderr).toMatch(/^warning: store: spec\.storage\.persistent becomes a StatefulSet whose pods each claim a 1Gi ReadWriteOnce volume/m);
  });

  it.each([[[]], [['web', '--all']], [['--image', 'x']]])('gridctl export %j is a usage error', async (args) => {
    const r = await gridctl(['export', ...args, ...(args.includes('--image') ? ['--all'] : [])], { url: g.url });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
