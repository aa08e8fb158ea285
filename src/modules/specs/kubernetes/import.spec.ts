import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseManifests } from '../spec-validator.js';
import { importDocuments, isKubernetesService, WHOLE_OBJECT } from './import.js';

type Obj = Record<string, unknown>;

const FIXTURES = path.resolve('test/fixtures/kubernetes');
const fixture = (f: string): unknown[] => parseAllDocuments(fs.readFileSync(path.join(FIXTURES, f), 'utf8')).map((d) => d.toJS());

function deployment(container: Obj = {}, extra: { spec?: Obj; pod?: Obj; meta?: Obj; tmeta?: Obj } = {}): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', ...extra.meta },
    spec: {
      selector: { matchLabels: { app: 'api' } },
      ...extra.spec,
      template: { metadata: { labels: { app: 'api' }, ...extra.tmeta }, spec: { containers: [{ name: 'api', image: 'grid-demo:v1', ...container }], ...extra.pod } },
    },
  };
}

const gridService = (spec: Obj, metadata: Obj = {}) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', ...metadata }, spec });

describe(isKubernetesService.name, () => {
  const sut = isKubernetesService;
  it.each<[string, unknown, boolean]>([
    ['selector and ports', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' }, spec: { selector: { app: 'a' }, ports: [{ port: 80 }] } }, true],
    ['ports only', { apiVersion: 'v1', kind: 'Service', spec: { ports: [{ port: 80 }] } }, true],
    ["Grid's, with image", { apiVersion: 'v1', kind: 'Service', spec: { image: 'local://a@v1' } }, false],
    ["Grid's, with command and a stray ports", { apiVersion: 'v1', kind: 'Service', spec: { command: ['x'], ports: [] } }, false],
    ["Grid's, with neither (the validator says what is missing)", { apiVersion: 'v1', kind: 'Service', spec: { replicas: 1 } }, false],
    ['another apiVersion', { apiVersion: 'v2', kind: 'Service', spec: { selector: {} } }, false],
  ])('%s', (_, doc, want) => expect(sut(doc)).toBe(want));
});

describe(importDocuments.name, () => {
  const sut = importDocuments;

  it.each<[string, unknown[], Obj, string[]]>([
    ['a Deployment: image → docker, replicas, env', [deployment({ env: [{ name: 'VERSION', value: 'v1' }] }, { spec: { replicas: 3 } })], gridService({ replicas: 3, image: 'grid-demo:v1', env: [{ name: 'VERSION', value: 'v1' }] }), []],
    ['containerPort → bridge + port (the image listens on its own port)', [deployment({ ports: [{ containerPort: 8080 }] })], gridService({ image: 'grid-demo:v1', network: 'bridge', port: 8080 }), []],
    // Export writes PORT=<containerPort> for a container Grid tells its port: host network, Grid gives PORT again.
    ['containerPort with the same PORT → host network, PORT dropped', [deployment({ ports: [{ containerPort: 8080 }], env: [{ name: 'PORT', value: '8080' }] })], gridService({ image: 'grid-demo:v1' }), []],
    ['a PORT the user chose is kept', [deployment({ env: [{ name: 'PORT', value: '9000' }] })], gridService({ image: 'grid-demo:v1', env: [{ name: 'PORT', value: '9000' }] }), []],
    [
      'the grid.dev/command annotation → process, image kept as grid.dev/image, container command and ports are its Kubernetes form',
      [deployment({ image: 'reg/api:1', command: ['node', 'server.js'], ports: [{ containerPort: 8080 }], env: [{ name: 'PORT', value: '8080' }] }, { meta: { annotations: { 'grid.dev/command': '["node","server.js"]', team: 'a' } } })],
      gridService({ command: ['node', 'server.js'] }, { annotations: { team: 'a', 'grid.dev/image': 'reg/api:1' } }),
      ['spec.template.spec.containers[0].ports[0]', 'spec.template.spec.containers[0].command'],
    ],
    ['the annotation on the pod template works too', [deployment({}, { tmeta: { annotations: { 'grid.dev/command': '["node","x.js"]' } } })], gridService({ command: ['node', 'x.js'] }, { annotations: { 'grid.dev/image': 'grid-demo:v1' } }), []],
    ['a container command on an image → docker runtime with that command', [deployment({ command: ['/app'], args: ['--fast'] })], gridService({ image: 'grid-demo:v1', runtime: 'docker', command: ['/app', '--fast'] }), []],
    [
      'probes: httpGet path and every timing field',
      [deployment({ readinessProbe: { httpGet: { path: '/health/ready', port: 8080 }, initialDelaySeconds: 1, periodSeconds: 2, timeoutSeconds: 3, successThreshold: 1, failureThreshold: 4 }, livenessProbe: { httpGet: { path: '/health/live', httpHeaders: [] } }, startupProbe: { httpGet: {} } })],
      gridService({ image: 'grid-demo:v1', readinessProbe: { httpGet: { path: '/health/ready' }, initialDelaySeconds: 1, periodSeconds: 2, timeoutSeconds: 3, successThreshold: 1, failureThreshold: 4 }, livenessProbe: { httpGet: { path: '/health/live' } }, startupProbe: { httpGet: { path: '/' } } }),
      ['spec.template.spec.containers[0].livenessProbe.httpGet.httpHeaders'],
    ],
    [
      'rollout fields, resources limits (cpu in cores), imagePullPolicy, grace period',
      [deployment({ resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '1', memory: '128Mi' } }, imagePullPolicy: 'Never' }, { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: '10%' } }, minReadySeconds: 2, revisionHistoryLimit: 4, progressDeadlineSeconds: 60 }, pod: { terminationGracePeriodSeconds: 5 } })],
      gridService({ revisionHistoryLimit: 4, rollout: { minReadySeconds: 2, progressDeadlineSeconds: 60, strategy: 'Rolling', maxSurge: 1, maxUnavailable: '10%' }, terminationGracePeriodSeconds: 5, image: 'grid-demo:v1', imagePullPolicy: 'Never', resources: { cpus: 0.5, memory: '256Mi' } }),
      ['spec.template.spec.containers[0].resources.requests.memory'],
    ],
    ['Recreate → Rolling without surge, all unavailable', [deployment({}, { spec: { strategy: { type: 'Recreate' } } })], gridService({ rollout: { strategy: 'Rolling', maxSurge: 0, maxUnavailable: '100%' }, image: 'grid-demo:v1' }), []],
    [
      'what Grid does not use is listed, labels Grid sets on export dropped',
      [deployment({ volumeMounts: [] }, { meta: { namespace: 'prod', labels: { app: 'api', 'app.kubernetes.io/managed-by': 'grid', 'app.kubernetes.io/name': 'api' } }, spec: { paused: false }, pod: { nodeSelector: { a: 'b' }, volumes: [] } })],
      gridService({ image: 'grid-demo:v1' }, { labels: { app: 'api' } }),
      ['metadata.namespace', 'spec.paused', 'spec.template.spec.nodeSelector', 'spec.template.spec.volumes', 'spec.template.spec.containers[0].volumeMounts'],
    ],
  ])('%s', (_, docs, want, ignored) => {
    const r = sut(docs);
    expect(r.errors).toEqual([]);
    expect(r.documents).toEqual([want]);
    const command = (want.spec as { command?: string[] }).command;
    // A process on this host is said plainly (a container command alone runs in its container).
    const runs = (docs[0] as { metadata: { annotations?: Obj } }).metadata.annotations?.['grid.dev/command'] !== undefined || JSON.stringify(docs).includes('grid.dev/command');
    expect(r.notes).toEqual([{ object: 'Deployment/api', became: 'service/api', ignored, index: 0, ...(runs ? { runsOnHost: command } : {}) }]);
  });

  it('a Rollout: BlueGreen and Canary with its steps (other steps ignored)', () => {
    const rollout = (strategy: Obj) => ({ ...deployment(), apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', spec: { ...(deployment().spec as Obj), strategy } });
    const bg = sut([rollout({ blueGreen: { activeService: 'api', previewService: 'api-preview', autoPromotionEnabled: false, scaleDownDelaySeconds: 10 } })]);
    expect((bg.documents[0] as Obj).spec).toEqual({ image: 'grid-demo:v1', rollout: { strategy: 'BlueGreen', autoPromotionEnabled: false, scaleDownDelaySeconds: 10 } });
    const canary = sut([rollout({ canary: { maxSurge: '25%', steps: [{ setWeight: 20 }, { pause: { duration: '10s' } }, { analysis: {} }, { pause: {} }], trafficRouting: {} } })]);
    expect((canary.documents[0] as Obj).spec).toEqual({ image: 'grid-demo:v1', rollout: { strategy: 'Canary', maxSurge: '25%', steps: [{ setWeight: 20 }, { pause: { duration: '10s' } }, { pause: {} }] } });
    expect(canary.notes[0]).toEqual({ object: 'Rollout/api', became: 'service/api', ignored: ['spec.strategy.canary.trafficRouting', 'spec.strategy.canary.steps[2]'], index: 0 });
  });

  it('an HPA without scaleTargetRef says it is required', () => {
    const r = sut([deployment(), { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h' }, spec: { maxReplicas: 3 } }]);
    expect(r.errors).toEqual([{ path: '[1].spec.scaleTargetRef', message: 'is required: the kind and name of the Deployment, StatefulSet or Rollout it scales' }]);
  });

  it('refuses a document nested deeper than any manifest, before reading it (no stack overflow, no 500)', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    const compose = { services: { web: { image: 'a:1', command: deep } } };
    expect(sut([deployment(), compose])).toEqual({ documents: [], origins: [], notes: [], errors: [{ path: '[1]', message: 'is nested more than 64 levels deep' }] });
  });

  describe("a canary's analysis from its AnalysisTemplate", () => {
    const rollout = (analysis: unknown) => ({
      ...deployment(),
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      spec: { ...(deployment().spec as Obj), strategy: { canary: { steps: [{ setWeight: 50 }], analysis } } },
    });
    const template = (successRate: string, p99: string) => ({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AnalysisTemplate',
      metadata: { name: 'api-analysis' },
      spec: {
        metrics: [
          { name: 'success-rate', interval: '7s', failureLimit: 3, successCondition: successRate, provider: { prometheus: { query: 'x' } } },
          { name: 'p99-latency-ms', interval: '7s', failureLimit: 3, successCondition: p99, provider: { prometheus: { query: 'y' } } },
        ],
      },
    });
    const ref = { templates: [{ templateName: 'api-analysis' }] };

    it('reads the thresholds Grid exports back into spec.rollout.analysis, and says the template became part of it', () => {
      const r = sut([rollout(ref), template('result[0] >= 0.98', 'result[0] <= 250')]);
      expect(r.errors).toEqual([]);
      expect((r.documents[0] as { spec: { rollout: unknown } }).spec.rollout).toEqual({ strategy: 'Canary', steps: [{ setWeight: 50 }], analysis: { interval: '7s', failureLimit: 3, maxErrorRate: 0.02, maxP99LatencyMs: 250 } });
      expect(r.notes).toEqual([
        { object: 'Rollout/api', became: 'service/api', ignored: [], index: 0 },
        { object: 'AnalysisTemplate/api-analysis', became: 'service/api (spec.rollout.analysis)', ignored: [], index: 1 },
      ]);
    });

    it.each([
      ['a condition Grid does not write', rollout(ref), template('result[0] > 0.98 && result[0] < 2', 'result[0] <= 250')],
      ['a template not in the request', rollout({ templates: [{ templateName: 'elsewhere' }] }), template('result[0] >= 0.98', 'result[0] <= 250')],
      ['a template of one metric (Grid would add a latency check the user never had)', rollout(ref), { ...template('result[0] >= 0.98', 'x'), spec: { metrics: [template('result[0] >= 0.98', 'x').spec.metrics[0]] } }],
      ['a template of another provider', rollout(ref), { ...template('result[0] >= 0.98', 'result[0] <= 250'), spec: { metrics: template('result[0] >= 0.98', 'result[0] <= 250').spec.metrics.map((m) => ({ ...m, provider: { web: { url: 'http://x' } } })) } }],
    ])('ignores %s (the analysis and the template are noted ignored)', (_name, r0, t) => {
      const r = sut([r0, t]);
      expect(r.errors).toEqual([]);
      expect((r.documents[0] as { spec: { rollout: Obj } }).spec.rollout.analysis).toBeUndefined();
      expect(r.notes).toEqual([
        { object: 'Rollout/api', became: 'service/api', ignored: ['spec.strategy.canary.analysis'], index: 0 },
        { object: 'AnalysisTemplate/api-analysis', ignored: [WHOLE_OBJECT], index: 1 },
      ]);
    });
  });

  it('a v1 List (kubectl get -o yaml, gridctl export -o json) is its items; errors and notes name the list and the item', () => {
    const list = { apiVersion: 'v1', kind: 'List', items: [deployment(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' } }] };
    const ok = sut([gridService({ image: 'local://a@v1' }, { name: 'other' }), list]);
    expect(ok.errors).toEqual([]);
    expect(ok.documents).toEqual([gridService({ image: 'local://a@v1' }, { name: 'other' }), gridService({ image: 'grid-demo:v1' })]);
    expect(ok.origins).toEqual([0, 1]);
    expect(ok.notes).toEqual([
      { object: 'Deployment/api', became: 'service/api', ignored: [], index: 1 },
      { object: 'ConfigMap/cfg', ignored: [WHOLE_OBJECT], index: 1 },
    ]);
    const bad = sut([{ ...list, items: [deployment({ livenessProbe: { exec: { command: ['true'] } } })] }]);
    expect(bad.errors).toEqual([{ path: '[0].items[0].spec.template.spec.containers[0].livenessProbe.exec', message: expect.stringContaining('HTTP only') }]);
  });

  it.each<[string, Obj, string | undefined]>([
    ['on the container port by number', { containerPort: 8080, name: 'http' }, undefined],
    ['on the container port by name', { containerPort: 8080, name: 'http' }, undefined],
    ['on another port', { containerPort: 8080 }, "a probe on another port (9090)"],
    ['on a port name the container lacks', { containerPort: 8080, name: 'http' }, 'a probe on another port ("admin")'],
  ])('a probe %s', (name, port, problem) => {
    const probePort = name.includes('another') ? 9090 : name.includes('lacks') ? 'admin' : name.includes('by name') ? 'http' : 8080;
    const r = sut([deployment({ ports: [port], readinessProbe: { httpGet: { path: '/ready', port: probePort } } })]);
    if (problem === undefined) expect(r.errors).toEqual([]);
    else expect(r.errors).toEqual([{ path: '[0].spec.template.spec.containers[0].readinessProbe.httpGet.port', message: expect.stringContaining(problem) }]);
  });

  it('a v1 Service gives its targetPort to the workload it selects, wherever it is in the stream', () => {
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api-svc' }, spec: { type: 'LoadBalancer', selector: { app: 'api' }, ports: [{ port: 80, targetPort: 3000, nodePort: 30000 }, { port: 81 }] } };
    const r = sut([svc, deployment()]);
    expect(r.documents).toEqual([gridService({ image: 'grid-demo:v1', network: 'bridge', port: 3000 })]);
    expect(r.origins).toEqual([1]);
    expect(r.notes).toEqual([
      { object: 'Service/api-svc', became: 'service/api', ignored: ['spec.type', 'spec.ports[1]', 'spec.ports[0].nodePort'], index: 0 },
      { object: 'Deployment/api', became: 'service/api', ignored: [], index: 1 },
    ]);
  });

  it("a v1 Service does not override the container's own port, and one that selects nothing is ignored whole", () => {
    const svc = (name: string, app: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app }, ports: [{ port: 80, targetPort: 9 }] } });
    const r = sut([deployment({ ports: [{ containerPort: 8080 }] }), svc('api', 'api'), svc('other', 'other')]);
    expect((r.documents[0] as Obj).spec).toMatchObject({ port: 8080 });
    expect(r.notes.slice(1)).toEqual([
      { object: 'Service/api', became: 'service/api', ignored: [], index: 1 },
      { object: 'Service/other', ignored: [WHOLE_OBJECT], index: 2 },
    ]);
  });

  it.each<[string, Obj, Obj, string[]]>([
    ['v2 with a cpu Utilization metric and a scale-down window', { apiVersion: 'autoscaling/v2', spec: { minReplicas: 2, maxReplicas: 5, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }, { type: 'Pods' }], behavior: { scaleDown: { stabilizationWindowSeconds: 30, policies: [] }, scaleUp: {} } } }, { targetCPU: 60, min: 2, max: 5, behavior: { scaleDown: { stabilizationWindowSeconds: 30 } } }, ['spec.metrics[1]', 'spec.behavior.scaleUp', 'spec.behavior.scaleDown.policies']],
    ['v2 without metrics: Kubernetes’ 80% CPU, min 1', { apiVersion: 'autoscaling/v2', spec: { maxReplicas: 4 } }, { targetCPU: 80, min: 1, max: 4 }, []],
    ['v1 targetCPUUtilizationPercentage', { apiVersion: 'autoscaling/v1', spec: { minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 50 } }, { targetCPU: 50, min: 1, max: 3 }, []],
  ])('an HPA %s → spec.autoscale of its target', (_, hpa, autoscale, ignored) => {
    const doc = { kind: 'HorizontalPodAutoscaler', metadata: { name: 'api-hpa' }, ...hpa, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }, ...(hpa.spec as Obj) } };
    const r = sut([doc, deployment()]);
    expect(r.errors).toEqual([]);
    expect(r.documents).toEqual([gridService({ image: 'grid-demo:v1', autoscale })]);
    expect(r.notes[0]).toEqual({ object: 'HorizontalPodAutoscaler/api-hpa', became: 'service/api', ignored, index: 0 });
  });

  it('passes Grid documents through untouched and ignores other kinds whole', () => {
    const grid = gridService({ image: 'local://demo@v1' });
    const group = { apiVersion: 'v1', kind: 'FailoverGroup', metadata: { name: 'g' }, spec: { targets: [] } };
    const r = sut([grid, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' } }, group, { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'in' } }, 'not a mapping']);
    expect(r.documents).toEqual([grid, group, 'not a mapping']);
    expect(r.documents[0]).toBe(grid);
    expect(r.origins).toEqual([0, 2, 4]);
    expect(r.notes).toEqual([
      { object: 'ConfigMap/cfg', ignored: [WHOLE_OBJECT], index: 1 },
      { object: 'Ingress/in', ignored: [WHOLE_OBJECT], index: 3 },
    ]);
  });

  it('leaves an unknown kind of v1 to the validator (which names it), not ignored', () => {
    const foo = { apiVersion: 'v1', kind: 'Foo', metadata: { name: 'x' }, spec: { image: 'local://a@v1' } };
    expect(sut([foo])).toEqual({ documents: [foo], origins: [0], notes: [], errors: [] });
  });

  it.each<[string, unknown[], string, string]>([
    ['an exec probe', [deployment({ livenessProbe: { exec: { command: ['true'] } } })], '[0].spec.template.spec.containers[0].livenessProbe.exec', 'HTTP only'],
    ['a tcpSocket probe', [deployment({ readinessProbe: { tcpSocket: { port: 80 } } })], '[0].spec.template.spec.containers[0].readinessProbe.tcpSocket', 'HTTP only'],
    ['a grpc probe', [deployment({ startupProbe: { grpc: { port: 80 } } })], '[0].spec.template.spec.containers[0].startupProbe.grpc', 'HTTP only'],
    ['an HTTPS probe', [deployment({ readinessProbe: { httpGet: { path: '/', scheme: 'HTTPS' } } })], '[0].spec.template.spec.containers[0].readinessProbe.httpGet.scheme', 'plain HTTP'],
    ['env valueFrom', [deployment({ env: [{ name: 'A', valueFrom: { secretKeyRef: {} } }] })], '[0].spec.template.spec.containers[0].env[0].valueFrom', 'reads no field, ConfigMap or Secret'],
    ['envFrom', [deployment({ envFrom: [{ configMapRef: { name: 'x' } }] })], '[0].spec.template.spec.containers[0].envFrom', 'reads no ConfigMap or Secret'],
    ['two containers', [{ ...deployment(), spec: { template: { spec: { containers: [{ image: 'a' }, { image: 'b' }] } } } }], '[0].spec.template.spec.containers', 'one container per pod (got 2)'],
    ['an init container', [deployment({}, { pod: { initContainers: [{ image: 'busybox' }] } })], '[0].spec.template.spec.initContainers', 'nothing before it'],
    ['no image', [deployment({ image: undefined })], '[0].spec.template.spec.containers[0].image', 'is required'],
    ['args without command', [deployment({ args: ['-v'] })], '[0].spec.template.spec.containers[0].args', 'give command as well'],
    ['restartPolicy Never', [deployment({}, { pod: { restartPolicy: 'Never' } })], '[0].spec.template.spec.restartPolicy', 'restartPolicy Always'],
    ['a bad grid.dev/command', [deployment({}, { meta: { annotations: { 'grid.dev/command': 'node x.js' } } })], '[0].metadata.annotations.grid.dev/command', 'JSON array of strings'],
    ['a Deployment of another apiVersion', [{ ...deployment(), apiVersion: 'extensions/v1beta1' }], '[0].kind', "unknown kind 'Deployment' of apiVersion \"extensions/v1beta1\": Grid's own kinds are Service and FailoverGroup, and it imports a Deployment of apps/v1"],
    ['an HPA of another apiVersion', [{ apiVersion: 'autoscaling/v2beta1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h' } }], '[0].kind', 'autoscaling/v2 or autoscaling/v1'],
    ['a Rollout with workloadRef', [{ ...deployment(), apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', spec: { ...(deployment().spec as Obj), workloadRef: { name: 'x' } } }], '[0].spec.workloadRef', 'inline'],
    ['an HPA without its workload', [{ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'nope' }, maxReplicas: 2 } }], '[0].spec.scaleTargetRef', 'together with its workload'],
    ['an HPA on memory only', [deployment(), { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'api' }, maxReplicas: 2, metrics: [{ type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization' } } }] } }], '[1].spec.metrics', 'CPU utilization only'],
    ['two HPAs on one workload', [deployment(), ...['a', 'b'].map((n) => ({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: n }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'api' }, maxReplicas: 2 } }))], '[2].spec.scaleTargetRef', 'already scaled by HorizontalPodAutoscaler/a'],
  ])('refuses %s, naming the field', (_, docs, at, why) => {
    const r = sut(docs);
    expect(r.errors).toEqual([expect.objectContaining({ path: at, message: expect.stringContaining(why) })]);
  });

  it.each([
    ['seed-003-primary.yaml', 3, 3],
    ['seed-003-dr.yaml', 3, 1],
  ])('imports seed 003 (%s): three services with their ports, probes and replicas', (file, n, replicas) => {
    const r = sut(fixture(file));
    expect(r.errors).toEqual([]);
    expect(r.documents).toHaveLength(n);
    expect(r.documents[0]).toMatchObject({ metadata: { name: 'frontend-api', labels: { app: 'frontend-api', tier: 'backend' } }, spec: { replicas, image: 'myregistry.azurecr.io/frontend-api:latest', network: 'bridge', port: 8080, readinessProbe: { httpGet: { path: '/health/ready' } }, livenessProbe: { httpGet: { path: '/health/live' } }, resources: { cpus: 0.5, memory: '256Mi' } } });
    expect(r.notes.find((x) => x.object === 'Deployment/frontend-api')?.ignored).toEqual(expect.arrayContaining(['metadata.namespace', 'spec.template.spec.containers[0].resources.requests.memory']));
    if (file.includes('primary')) expect(r.notes.at(-1)).toMatchObject({ object: 'ConfigMap/microservices-config', ignored: [WHOLE_OBJECT] });
    else expect(r.notes[0].ignored).toContain('spec.template.spec.nodeSelector');
  });

  it('imports seed 004: 3 replicas, probes on /health/live and /health/ready, the Service a NodePort (ignored)', () => {
    const r = sut(fixture('seed-004-deployment.yaml'));
    expect(r.errors).toEqual([]);
    expect(r.documents).toEqual([
      gridService(
        {
          replicas: 3,
          image: 'book-search-api:latest',
          network: 'bridge',
          port: 8000,
          env: [{ name: 'OLLAMA_URL', value: 'http://localhost:11434' }],
          livenessProbe: { httpGet: { path: '/health/live' }, initialDelaySeconds: 30, periodSeconds: 10, failureThreshold: 3 },
          readinessProbe: { httpGet: { path: '/health/ready' }, initialDelaySeconds: 10, periodSeconds: 5 },
        },
        { name: 'book-search', labels: { app: 'book-search' } },
      ),
    ]);
    expect(r.notes[1]).toEqual({ object: 'Service/book-search', became: 'service/book-search', ignored: ['spec.type', 'spec.ports[0].nodePort'], index: 1 });
  });

  describe('a StatefulSet', () => {
    const statefulSet = (container: Obj = {}, spec: Obj = {}) => ({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db' },
      spec: {
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'reg/db:1', volumeMounts: [{ name: 'data', mountPath: '/data' }], ...container }] } },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } } } }],
        ...spec,
      },
    });
    const claimIgnored = ['spec.volumeClaimTemplates[0].spec.accessModes', 'spec.volumeClaimTemplates[0].spec.resources'];
    const persistent = /^volumeClaimTemplates\[0\] data, mounted at \/data → spec\.storage\.persistent: each pod of db gets a directory of its own, kept across restarts, in \$GRID_POD_DATA/;
    // A process (grid.dev/command) runs on the host: nothing is mounted at the claim's path, so the note says what the program must read.
    const asProcess = (s: Obj, argv: string[] = ['node', 'db.js']): Obj => ({ ...s, metadata: { name: 'db', annotations: { 'grid.dev/command': JSON.stringify(argv) } } });

    it.each<[string, Obj, Obj, Obj | undefined, string[], RegExp | undefined, string[]?]>([
      ['GRID_POD_DATA at the mount: persistent, the variable dropped (Grid sets it), nothing more to say', { env: [{ name: 'GRID_POD_DATA', value: '/data/' }, { name: 'A', value: 'b' }] }, {}, { env: [{ name: 'A', value: 'b' }] }, claimIgnored, new RegExp(`${persistent.source}[^;]*$`)],
      ['another variable naming the mount: the program must read $GRID_POD_DATA', { env: [{ name: 'GRID_POD_DATA', value: '/data' }, { name: 'DB_PATH', value: '/data/db' }, { name: 'DATABASE', value: '/database' }] }, {}, { env: [{ name: 'DB_PATH', value: '/data/db' }, { name: 'DATABASE', value: '/database' }] }, claimIgnored, /; env DB_PATH name \/data, where Grid mounts nothing: the program must read \$GRID_POD_DATA instead$/],
      ['the command naming it', {}, {}, {}, claimIgnored, /; the command name \/data, where Grid mounts nothing/, ['db', '--dir=/data']],
      ['nothing pointing at it: a path built into the image holds nothing on Grid', {}, {}, {}, claimIgnored, /; nothing tells the program \/data \(no GRID_POD_DATA=\/data\), so if it writes there by itself, it must read \$GRID_POD_DATA instead$/],
      [
        'a second mount, OnDelete and a partition, pod management and the claim class are listed ignored',
        { volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: false }, { name: 'cache', mountPath: '/cache' }], env: [{ name: 'GRID_POD_DATA', value: '/data' }] },
        { podManagementPolicy: 'Parallel', updateStrategy: { type: 'OnDelete', rollingUpdate: { partition: 1 } }, volumeClaimTemplates: [{ metadata: { name: 'data', labels: { a: 'b' } }, spec: { storageClassName: 'fast' } }, { metadata: { name: 'cache' } }] },
        {},
        ['spec.podManagementPolicy', 'spec.updateStrategy.type', 'spec.updateStrategy.rollingUpdate', 'spec.template.spec.containers[0].volumeMounts[0].readOnly', 'spec.template.spec.containers[0].volumeMounts[1]', 'spec.volumeClaimTemplates[0].metadata.labels', 'spec.volumeClaimTemplates[0].spec.storageClassName', 'spec.volumeClaimTemplates[1]'],
        persistent,
      ],
      ['without claim templates: a plain service (its mounts ignored as a Deployment’s)', {}, { volumeClaimTemplates: undefined }, undefined, ['spec.template.spec.containers[0].volumeMounts'], undefined],
      ['a claim template the container does not mount: a plain service, the template ignored', { volumeMounts: [{ name: 'other', mountPath: '/data' }] }, {}, undefined, ['spec.template.spec.containers[0].volumeMounts[0]', 'spec.volumeClaimTemplates[0]'], undefined],
    ])('a process: %s', (_, container, spec, extra, ignored, storage, argv = ['node', 'db.js']) => {
      const r = sut([asProcess(statefulSet(container, spec), argv)]);
      expect(r.errors).toEqual([]);
      expect(r.documents).toEqual([{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', annotations: { 'grid.dev/image': 'reg/db:1' } }, spec: { command: argv, ...extra, ...(extra ? { storage: { persistent: true } } : {}) } }]);
      expect(r.notes).toEqual([{ object: 'StatefulSet/db', became: 'service/db', ignored, index: 0, runsOnHost: argv, ...(storage ? { storage: expect.stringMatching(storage) } : {}) }]);
    });

    // An image is mounted its directory where it mounted the claim: postgres finds its data where it writes it, whatever tells it so.
    const mounted = (at: string) => new RegExp(`^volumeClaimTemplates\\[0\\] data, mounted at ${at} → spec\\.storage: \\{ persistent: true, mountPath: ${at} \\}: each pod of db gets a directory of its own, kept across restarts, bind-mounted at ${at} \\(and named in \\$GRID_POD_DATA\\)$`);
    it.each<[string, Obj, Obj, string, RegExp]>([
      ['GRID_POD_DATA at the mount is dropped (Grid sets it to the mountPath)', { env: [{ name: 'GRID_POD_DATA', value: '/data/' }, { name: 'A', value: 'b' }] }, { env: [{ name: 'A', value: 'b' }] }, '/data', mounted('/data')],
      ['another variable naming the mount: it holds there, nothing to say', { env: [{ name: 'DB_PATH', value: '/data/db' }] }, { env: [{ name: 'DB_PATH', value: '/data/db' }] }, '/data', mounted('/data')],
      ['the command naming it', { command: ['db', '--dir=/data'] }, { runtime: 'docker', command: ['db', '--dir=/data'] }, '/data', mounted('/data')],
      ['postgres: nothing names the path, the image writes there by itself', { image: 'postgres:16', volumeMounts: [{ name: 'data', mountPath: '/var/lib/postgresql/data/' }] }, { image: 'postgres:16' }, '/var/lib/postgresql/data', mounted('/var/lib/postgresql/data')],
    ])('an image: %s', (_, container, extra, mountPath, storage) => {
      const r = sut([statefulSet(container)]);
      expect(r.errors).toEqual([]);
      expect(r.documents).toEqual([{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { image: 'reg/db:1', ...extra, storage: { persistent: true, mountPath } } }]);
      expect(r.notes).toEqual([{ object: 'StatefulSet/db', became: 'service/db', ignored: claimIgnored, index: 0, storage: expect.stringMatching(storage) }]);
    });

    it('a simulated image (local://) is not mounted anything: persistent, and the note says to read $GRID_POD_DATA', () => {
      const r = sut([statefulSet({ image: 'local://db@v1' })]);
      expect(r.errors).toEqual([]);
      expect((r.documents[0] as { spec: Obj }).spec).toEqual({ image: 'local://db@v1', storage: { persistent: true } });
      expect(r.notes[0].storage).toMatch(/must read \$GRID_POD_DATA instead$/);
    });

    it('a Deployment keeps a GRID_POD_DATA of its own (it mounts no claim Grid stands in for)', () => {
      const r = sut([deployment({ env: [{ name: 'GRID_POD_DATA', value: '/data' }], volumeMounts: [{ name: 'data', mountPath: '/data' }] })]);
      expect((r.documents[0] as { spec: Obj }).spec).toEqual({ image: 'grid-demo:v1', env: [{ name: 'GRID_POD_DATA', value: '/data' }] });
    });

    it('imports the fixture: headless and ClusterIP Services and the HPA fold into one persistent service', () => {
      const r = sut(fixture('statefulset-store.yaml'));
      expect(r.errors).toEqual([]);
      expect(r.documents).toEqual([
        gridService(
          {
            replicas: 3,
            rollout: { minReadySeconds: 5 },
            terminationGracePeriodSeconds: 30,
            image: 'registry.example/store:2.1',
            resources: { cpus: 2, memory: '1Gi' },
            env: [{ name: 'REGION', value: 'eu-west-1' }],
            readinessProbe: { httpGet: { path: '/health/ready' }, periodSeconds: 2 },
            livenessProbe: { httpGet: { path: '/health/live' }, periodSeconds: 5 },
            storage: { persistent: true, mountPath: '/var/lib/store' },
            // 100% of a half-core request is 50% of one core.
            autoscale: { targetCPU: 50, min: 3, max: 6 },
          },
          { name: 'store', labels: { team: 'data' } },
        ),
      ]);
      expect(r.notes).toEqual([
        { object: 'Service/store-headless', became: 'service/store', ignored: [], index: 0 },
        {
          object: 'StatefulSet/store',
          became: 'service/store',
          ignored: ['spec.podManagementPolicy', 'spec.volumeClaimTemplates[0].spec.accessModes', 'spec.volumeClaimTemplates[0].spec.storageClassName', 'spec.volumeClaimTemplates[0].spec.resources'],
          index: 1,
          storage: expect.stringMatching(/^volumeClaimTemplates\[0\] data, mounted at \/var\/lib\/store → spec\.storage: \{ persistent: true, mountPath: \/var\/lib\/store \}: [^;]*$/),
        },
        { object: 'Service/store', became: 'service/store', ignored: [], index: 2 },
        { object: 'HorizontalPodAutoscaler/store', became: 'service/store', ignored: [], index: 3 },
      ]);
    });

    it('a headless Service that does not govern the StatefulSet has its clusterIP listed ignored', () => {
      const headless = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db-peers' }, spec: { clusterIP: 'None', selector: { app: 'db' } } };
      expect(sut([statefulSet(), headless]).notes[1]).toEqual({ object: 'Service/db-peers', became: 'service/db', ignored: ['spec.clusterIP'], index: 1 });
    });
  });

  it("parseManifests: a translated document's errors name the request's document and the object it came from; notes come back", () => {
    const bad = parseManifests([deployment({}, { spec: { replicas: -1 } }), gridService({ image: 'local://a@v1' }, { name: 'web' })], undefined, {});
    expect(bad).toEqual({ ok: false, errors: [{ path: '[0].spec.replicas', message: expect.stringMatching(/^must be an integer 0\.\.1000 .*\(in service\/api, imported from Deployment\/api\)$/) }] });
    const alone = parseManifests([deployment({ livenessProbe: { exec: {} } })], undefined, {});
    expect(alone).toEqual({ ok: false, errors: [{ path: 'spec.template.spec.containers[0].livenessProbe.exec', message: expect.stringContaining('HTTP only') }] });
    const dup = parseManifests([deployment(), gridService({ image: 'local://a@v1' })], undefined, {});
    expect(dup).toEqual({ ok: false, errors: [{ path: '[1].metadata.name', message: "duplicate name 'api' in this request" }] });
    const ok = parseManifests([deployment(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }], undefined, {});
    expect(ok).toMatchObject({ ok: true, manifests: [{ metadata: { name: 'api' }, spec: { runtime: 'docker', image: 'grid-demo:v1' } }], imported: [{ object: 'Deployment/api' }, { object: 'ConfigMap/c' }] });
  });

  it('every imported fixture validates as Grid specs', () => {
    for (const f of ['seed-003-primary.yaml', 'seed-003-dr.yaml', 'seed-004-deployment.yaml', 'compose-shop.yml', 'statefulset-store.yaml']) {
      const r = parseManifests(fixture(f), undefined, {});
      expect([f, r.ok ? 'ok' : r.errors]).toEqual([f, 'ok']);
    }
  });
});
