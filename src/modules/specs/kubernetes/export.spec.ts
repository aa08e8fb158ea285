import * as fs from 'node:fs';
import * as path from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Service } from 'kubernetes-models/v1/Service';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Rollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout';
import { AnalysisTemplate } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/AnalysisTemplate';
import { parseManifests } from '../spec-validator.js';
import type { FailoverGroupManifest, RolloutSpec, ServiceManifest, ServiceSpec } from '../spec.types.js';
import { specFixture } from '../../../../test/utils/fixtures.js';
import { containerPortOf, cpuQuantity, exportManifests, labelValue, type K8sObject } from './export.js';

const PROM = 'http://prometheus.monitoring:9090';

function manifest(name: string, spec: Partial<ServiceSpec> = {}, rollout: Partial<RolloutSpec> = {}, annotations?: Record<string, string>): ServiceManifest {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, labels: {}, ...(annotations ? { annotations } : {}) }, spec: specFixture({ runtime: 'docker', image: 'registry.example/api:1.2', ...spec }, rollout) };
}

const sut = (services: ServiceManifest[], groups: FailoverGroupManifest[] = [], opts: Partial<Parameters<typeof exportManifests>[2]> = {}) =>
  exportManifests(services, groups, { prometheusAddress: PROM, images: {}, ...opts });

const find = (objects: K8sObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name) as any;

/** Throws naming the object when kubernetes-models' OpenAPI schema refuses it. */
function validate(o: K8sObject): void {
  const models: Record<string, new (o: any) => { validate(): void }> = {
    'apps/v1 Deployment': Deployment,
    'apps/v1 StatefulSet': StatefulSet,
    'v1 Service': Service,
    'autoscaling/v2 HorizontalPodAutoscaler': HorizontalPodAutoscaler,
    'argoproj.io/v1alpha1 Rollout': Rollout,
    'argoproj.io/v1alpha1 AnalysisTemplate': AnalysisTemplate,
  };
  const Model = models[`${o.apiVersion} ${o.kind}`];
  if (!Model) throw new Error(`no model for ${o.apiVersion} ${o.kind}`);
  try {
    new Model(o).validate();
  } catch (e) {
    throw new Error(`${o.kind}/${String(o.metadata.name)}: ${(e as Error).message}`);
  }
}

describe(exportManifests.name, () => {
  describe('workload kind per strategy', () => {
    it.each([
      ['Rolling', ['Deployment/api', 'Service/api']],
      ['BlueGreen', ['Rollout/api', 'Service/api', 'Service/api-preview']],
      ['Canary', ['Rollout/api', 'Service/api']],
    ] as const)('%s → %j', (strategy, kinds) => {
      const r = sut([manifest('api', {}, { strategy })]);
      expect(r.errors).toEqual([]);
      expect(r.objects.map((o) => `${o.kind}/${String(o.metadata.name)}`)).toEqual(kinds);
    });
  });

  it('Rolling: replicas, surge, minReadySeconds, history and deadline on the Deployment', () => {
    const r = sut([manifest('api', { replicas: 4, revisionHistoryLimit: 3 }, { maxSurge: 1, maxUnavailable: '0%', minReadySeconds: 5, progressDeadlineSeconds: 120 })]);
    expect(find(r.objects, 'Deployment', 'api').spec).toMatchObject({
      replicas: 4,
      revisionHistoryLimit: 3,
      minReadySeconds: 5,
      progressDeadlineSeconds: 120,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: '0%' } },
    });
  });

  it('selector, template labels and Service selector agree; the Service targets the container port', () => {
    const r = sut([manifest('api', { env: [{ name: 'VERSION', value: 'v2' }] })]);
    const d = find(r.objects, 'Deployment', 'api');
    const s = find(r.objects, 'Service', 'api');
    expect(d.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'api' });
    expect(d.spec.template.metadata.labels).toEqual({ 'app.kubernetes.io/name': 'api', 'app.kubernetes.io/version': 'v2', 'app.kubernetes.io/managed-by': 'grid' });
    expect(s.spec.selector).toEqual(d.spec.selector.matchLabels);
    expect(s.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }]);
    expect(d.spec.template.spec.containers[0].ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
  });

  describe('container port and PORT', () => {
    it.each([
      ['docker host network: 8080, PORT added', { network: 'host' as const }, 8080, [{ name: 'PORT', value: '8080' }]],
      // A bridge container listens on its own fixed port: no PORT is added (import reads PORT as "host network").
      ['docker bridge: spec.port', { network: 'bridge' as const, port: 3000 }, 3000, []],
      ['PORT set by the spec is kept and used', { env: [{ name: 'PORT', value: '9000' }] }, 9000, [{ name: 'PORT', value: '9000' }]],
    ])('%s', (_, spec, port, env) => {
      const m = manifest('api', spec);
      expect(containerPortOf(m.spec)).toBe(port);
      const c = find(sut([m]).objects, 'Deployment', 'api').spec.template.spec.containers[0];
      expect(c.env).toEqual(env);
      expect(find(sut([m]).objects, 'Service', 'api').spec.ports[0].targetPort).toBe(port);
    });
  });

  it('probes keep every field and probe the container port; grace period, pull policy and resources carry over', () => {
    const probe = { httpGet: { path: '/health/ready' }, initialDelaySeconds: 2, periodSeconds: 3, timeoutSeconds: 4, successThreshold: 2, failureThreshold: 5 };
    const r = sut([manifest('api', { readinessProbe: probe, livenessProbe: { ...probe, successThreshold: 1 }, terminationGracePeriodSeconds: 30, imagePullPolicy: 'Always', resources: { cpus: 0.5, memory: 268435456 } })]);
    const pod = find(r.objects, 'Deployment', 'api').spec.template.spec;
    expect(pod.terminationGracePeriodSeconds).toBe(30);
    expect(pod.containers[0]).toMatchObject({
      imagePullPolicy: 'Always',
      resources: { limits: { cpu: '500m', memory: '268435456' } },
      readinessProbe: { httpGet: { path: '/health/ready', port: 8080 }, initialDelaySeconds: 2, periodSeconds: 3, timeoutSeconds: 4, successThreshold: 2, failureThreshold: 5 },
      livenessProbe: { httpGet: { path: '/health/ready', port: 8080 }, successThreshold: 1 },
    });
    expect(pod.containers[0].startupProbe).toBeUndefined();
  });

  describe('process services', () => {
    const proc = (annotations?: Record<string, string>) => manifest('web', { runtime: 'process', image: undefined, command: ['node', 'server.js', '--port', '$(PORT)'], workingDir: '/srv/web' }, {}, annotations);

    it.each([
      ['--image', { images: { web: 'reg/web:1' } }, undefined],
      ['the grid.dev/image annotation', {}, { 'grid.dev/image': 'reg/web:1' }],
    ])('take their image from %s and keep the command, annotated for import', (_, opts, annotations) => {
      const r = sut([proc(annotations)], [], opts);
      expect(r.errors).toEqual([]);
      const d = find(r.objects, 'Deployment', 'web');
      expect(d.metadata.annotations).toEqual({ 'grid.dev/image': 'reg/web:1', 'grid.dev/command': '["node","server.js","--port","$(PORT)"]' });
      expect(d.spec.template.spec.containers[0]).toMatchObject({ image: 'reg/web:1', command: ['node', 'server.js', '--port', '$(PORT)'] });
      expect(r.warnings).toEqual(expect.arrayContaining([expect.stringContaining('spec.workingDir'), expect.stringContaining('0.0.0.0')]));
    });

    it('without an image are an error naming the service and the ways to give one', () => {
      const r = sut([manifest('ok'), proc()]);
      expect(r.errors).toEqual([{ path: '[1].spec.command', message: expect.stringMatching(/service web .*--image web=IMAGE.*grid\.dev\/image/) }]);
    });
  });

  it.each([
    ['a sim image refuses', 'local://demo@v1', {}, [{ path: '[0].spec.image', message: expect.stringContaining('simulated image local://demo@v1') }]],
    ['unless --image replaces it', 'local://demo@v1', { api: 'reg/api:v1' }, []],
  ])('%s', (_, image, images, errors) => {
    expect(sut([manifest('api', { runtime: 'sim', image })], [], { images }).errors).toEqual(errors);
  });

  it.each([
    ['a digit first', '1api', 'Rolling'],
    ['a preview name over 63', 'a'.repeat(57), 'BlueGreen'],
  ] as const)('a name Kubernetes refuses is an error: %s', (_, name, strategy) => {
    expect(sut([manifest(name, {}, { strategy })]).errors).toEqual([{ path: '[0].metadata.name', message: expect.stringContaining('must start with a letter') }]);
  });

  it('BlueGreen: active and preview Services, promotion settings', () => {
    const r = sut([manifest('api', {}, { strategy: 'BlueGreen', autoPromotionEnabled: false, autoPromotionSeconds: 30, scaleDownDelaySeconds: 45, progressDeadlineAbort: false })]);
    const ro = find(r.objects, 'Rollout', 'api');
    expect(ro.spec.progressDeadlineAbort).toBe(false);
    expect(ro.spec.strategy).toEqual({ blueGreen: { activeService: 'api', previewService: 'api-preview', autoPromotionEnabled: false, autoPromotionSeconds: 30, scaleDownDelaySeconds: 45 } });
  });

  it('Canary: steps, background analysis referencing the AnalysisTemplate with Grid thresholds', () => {
    const analysis = { intervalSeconds: 5, minRequests: 20, maxErrorRate: 0.05, maxP99LatencyMs: 500, failureLimit: 2 };
    const r = sut([manifest('api', {}, { strategy: 'Canary', steps: [{ setWeight: 25 }, { pause: { duration: 10 } }, { pause: {} }, { setWeight: 100 }], analysis })]);
    const canary = find(r.objects, 'Rollout', 'api').spec.strategy.canary;
    expect(canary.steps).toEqual([{ setWeight: 25 }, { pause: { duration: '10s' } }, { pause: {} }, { setWeight: 100 }]);
    expect(canary.analysis).toEqual({ templates: [{ templateName: 'api-analysis' }], args: [{ name: 'service', value: 'api' }] });
    const t = find(r.objects, 'AnalysisTemplate', 'api-analysis');
    expect(t).toBeDefined();
    expect(t.spec.args).toEqual([{ name: 'service', value: 'api' }]);
    expect(t.spec.metrics.map((m: any) => [m.name, m.interval, m.failureLimit, m.successCondition, m.provider.prometheus.address])).toEqual([
      ['success-rate', '5s', 2, 'result[0] >= 0.95', PROM],
      ['p99-latency-ms', '5s', 2, 'result[0] <= 500', PROM],
    ]);
    // The series Grid's /metrics has: the status code is a label of the request counter only.
    expect(t.spec.metrics[0].provider.prometheus.query).toContain('grid_gateway_requests_total{service="{{args.service}}",code!~"5.."}');
    expect(t.spec.metrics[1].provider.prometheus.query).toContain('grid_gateway_request_duration_seconds_bucket{service="{{args.service}}"}');
    expect(r.warnings).toEqual(expect.arrayContaining([expect.stringContaining('minRequests (20)'), expect.stringContaining('traffic router'), expect.stringContaining("point its queries at your ingress's or mesh's request metrics")]));
  });

  it('Canary: chaos steps are left out of the Argo steps, with a warning', () => {
    const r = sut([manifest('api', {}, { strategy: 'Canary', steps: [{ setWeight: 25 }, { chaos: { kill: 1, recoverWithin: 60 } }, { pause: {} }] })]);

    expect(find(r.objects, 'Rollout', 'api').spec.strategy.canary.steps).toEqual([{ setWeight: 25 }, { pause: {} }]);
    expect(r.warnings).toEqual(expect.arrayContaining([expect.stringContaining('api: 1 chaos step(s) of spec.rollout.steps are not exported')]));
  });

  it("warns when a spec uses what Grid gives its pods (GRID_URL's gateway) and a cluster does not", () => {
    const r = sut([manifest('front', { env: [{ name: 'API', value: '$(GRID_URL)/gateway/api' }] }), manifest('plain')]);
    expect(r.warnings.filter((w) => w.includes('GRID_URL'))).toEqual([expect.stringMatching(/^front: uses GRID_URL, which Grid gives its pods and a cluster does not/)]);
  });

  it("writes grid.dev/* itself: a container's spec never carries a grid.dev/command (or image) of its own into the export", () => {
    const r = sut([manifest('api', {}, {}, { 'grid.dev/command': '["sh","-c","id"]', 'grid.dev/image': 'x', team: 'a' })]);
    expect(find(r.objects, 'Deployment', 'api').metadata.annotations).toEqual({ team: 'a' });
  });

  it('warns about an image given for a service the export does not hold (a typo would pass unseen)', () => {
    const r = sut([manifest('api')], [], { images: { apii: 'reg/x:1' } });
    expect(r.warnings).toContain('image for apii: no service apii in this export, so it is not used');
  });

  describe('autoscale → HPA', () => {
    it.each([
      ['Rolling → Deployment, one core requested', 'Rolling', undefined, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }, '1', 70],
      ['Canary → Rollout', 'Canary', undefined, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'api' }, '1', 70],
      ['a half-core limit is the request, target scaled', 'Rolling', 0.5, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }, '500m', 140],
    ] as const)('%s', (_, strategy, cpus, ref, request, utilization) => {
      const r = sut([manifest('api', { autoscale: { targetCPU: 70, min: 2, max: 10, scaleDownStabilizationSeconds: 60 }, ...(cpus ? { resources: { cpus } } : {}) }, { strategy })]);
      const h = find(r.objects, 'HorizontalPodAutoscaler', 'api');
      expect(h.spec).toEqual({
        scaleTargetRef: ref,
        minReplicas: 2,
        maxReplicas: 10,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: utilization } } }],
        behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
      });
      const workload = find(r.objects, ref.kind, 'api');
      expect(workload.spec.template.spec.containers[0].resources.requests).toEqual({ cpu: request });
      expect(workload.spec.replicas).toBe(3);
    });
  });

  describe('spec.storage.persistent → StatefulSet', () => {
    const store = (spec: Partial<ServiceSpec> = {}, rollout: Partial<RolloutSpec> = {}) => manifest('store', { storage: { persistent: true }, replicas: 2, env: [{ name: 'DB', value: '$(GRID_POD_DATA)/db' }], ...spec }, rollout);

    it('a StatefulSet governed by a headless Service, beside the ClusterIP Service; every object validates', () => {
      const r = sut([store({ autoscale: { targetCPU: 60, min: 2, max: 5, scaleDownStabilizationSeconds: 300 } })]);
      expect(r.errors).toEqual([]);
      expect(r.objects.map((o) => `${o.kind}/${String(o.metadata.name)}`)).toEqual(['StatefulSet/store', 'Service/store', 'Service/store-headless', 'HorizontalPodAutoscaler/store']);
      for (const o of r.objects) validate(o);
      const sts = find(r.objects, 'StatefulSet', 'store');
      expect(sts.spec).toMatchObject({
        serviceName: 'store-headless',
        replicas: 2,
        selector: { matchLabels: { 'app.kubernetes.io/name': 'store' } },
        podManagementPolicy: 'Parallel',
        updateStrategy: { type: 'RollingUpdate' },
        minReadySeconds: 0,
        revisionHistoryLimit: 10,
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      });
      // A Deployment's fields a StatefulSet does not have would fail kubectl's strict validation.
      expect(sts.spec.strategy).toBeUndefined();
      expect(sts.spec.progressDeadlineSeconds).toBeUndefined();
      expect(find(r.objects, 'Service', 'store-headless').spec).toEqual({ clusterIP: 'None', selector: { 'app.kubernetes.io/name': 'store' }, ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }] });
      expect(find(r.objects, 'Service', 'store').spec.type).toBe('ClusterIP');
      expect(find(r.objects, 'HorizontalPodAutoscaler', 'store').spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'store' });
    });

    it('the container mounts the claim where GRID_POD_DATA says, set first so $(GRID_POD_DATA) expands in later values', () => {
      const c = find(sut([store()]).objects, 'StatefulSet', 'store').spec.template.spec.containers[0];
      expect(c.volumeMounts).toEqual([{ name: 'data', mountPath: '/data' }]);
      expect(c.env).toEqual([
        { name: 'GRID_POD_DATA', value: '/data' },
        { name: 'DB', value: '$(GRID_POD_DATA)/db' },
        { name: 'PORT', value: '8080' },
      ]);
    });

    it("a docker service's mountPath: the claim is mounted there and GRID_POD_DATA names it, as in the container Grid runs", () => {
      const r = sut([store({ storage: { persistent: true, mountPath: '/var/lib/postgresql/data' }, env: [] })]);
      const c = find(r.objects, 'StatefulSet', 'store').spec.template.spec.containers[0];
      expect(c.volumeMounts).toEqual([{ name: 'data', mountPath: '/var/lib/postgresql/data' }]);
      expect(c.env).toEqual([
        { name: 'GRID_POD_DATA', value: '/var/lib/postgresql/data' },
        { name: 'PORT', value: '8080' },
      ]);
      expect(r.warnings).toEqual(expect.arrayContaining([expect.stringContaining('mounted at /var/lib/postgresql/data, GRID_POD_DATA=/var/lib/postgresql/data')]));
    });

    it("a spec's own GRID_POD_DATA is replaced, as Grid replaces it", () => {
      const c = find(sut([store({ env: [{ name: 'GRID_POD_DATA', value: '/elsewhere' }] })]).objects, 'StatefulSet', 'store').spec.template.spec.containers[0];
      expect(c.env.filter((e: { name: string }) => e.name === 'GRID_POD_DATA')).toEqual([{ name: 'GRID_POD_DATA', value: '/data' }]);
    });

    it('warns about the size it chose, the progress deadline, and surge settings only when the spec has its own', () => {
      const plain = sut([store()]).warnings;
      expect(plain).toEqual(expect.arrayContaining([expect.stringMatching(/^store: spec\.storage\.persistent becomes a StatefulSet whose pods each claim a 1Gi ReadWriteOnce volume .*set the request \(and storageClassName\)/), expect.stringContaining('no progress deadline')]));
      expect(plain.filter((w) => w.includes('maxSurge'))).toEqual([]);
      expect(sut([store({}, { maxSurge: 1 })]).warnings).toEqual(expect.arrayContaining([expect.stringContaining('maxSurge/maxUnavailable are not exported')]));
    });

    it.each([
      ['52 characters fit', 'a'.repeat(52), []],
      ["53 do not: the controller-revision-hash label of its pods would pass 63", 'a'.repeat(53), [{ path: '[0].metadata.name', message: expect.stringContaining('fit in 52 characters') }]],
    ])('a name of %s', (_, name, errors) => {
      expect(sut([manifest(name, { storage: { persistent: true } })]).errors).toEqual(errors);
    });
  });

  it('namespace goes on every object', () => {
    const r = sut([manifest('api', { autoscale: { targetCPU: 50, min: 1, max: 2, scaleDownStabilizationSeconds: 300 } }, { strategy: 'BlueGreen' })], [], { namespace: 'shop' });
    expect(r.objects.map((o) => o.metadata.namespace)).toEqual(['shop', 'shop', 'shop', 'shop']);
  });

  it('warns about restartBackoff only when it differs from Grid defaults', () => {
    expect(sut([manifest('api')]).warnings.filter((w) => w.includes('restartBackoff'))).toEqual([]);
    expect(sut([manifest('api', { restartBackoff: { initialSeconds: 2, maxSeconds: 60, resetAfterSeconds: 600 } })]).warnings).toEqual(expect.arrayContaining([expect.stringContaining('spec.restartBackoff')]));
  });

  describe('failover groups', () => {
    const group = (targets: FailoverGroupManifest['spec']['targets']): FailoverGroupManifest => ({
      apiVersion: 'v1',
      kind: 'FailoverGroup',
      metadata: { name: 'web', labels: {} },
      spec: { targets, healthCheck: { path: '/health', intervalSeconds: 1, timeoutSeconds: 2, expectStatus: [{ min: 200, max: 399 }], failureThreshold: 3, successThreshold: 2 }, cooldownSeconds: 10, failback: 'auto' },
    });

    it('become a Service selecting the first service target on its port, with a warning', () => {
      const r = sut([manifest('v1', { network: 'bridge', port: 3000 })], [group([{ url: 'http://dr.example' }, { service: 'v1' }, { service: 'v2' }])]);
      const s = find(r.objects, 'Service', 'web');
      expect(s.spec.selector).toEqual({ 'app.kubernetes.io/name': 'v1' });
      expect(s.spec.ports[0].targetPort).toBe(3000);
      expect(r.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/failover group web \(targets in order: http:\/\/dr.example, v1, v2.*exported as Service web sending all traffic to v1/)]));
    });

    it('of URLs only export nothing but the warning', () => {
      const r = sut([], [group([{ url: 'http://dr.example' }])]);
      expect(r.objects).toEqual([]);
      expect(r.warnings).toEqual([expect.stringContaining('nothing is exported')]);
    });
  });
});

describe(labelValue.name, () => {
  it.each([
    ['v1', 'v1'],
    ['1.2.3+build', '1.2.3-build'],
    ['-x-', 'x'],
    ['a'.repeat(70), 'a'.repeat(63)],
  ])('%s → %s', (input, out) => expect(labelValue(input)).toBe(out));
});

describe(cpuQuantity.name, () => {
  it.each([
    [1, '1'],
    [0.5, '500m'],
    [2.25, '2250m'],
  ])('%s → %s', (cores, out) => expect(cpuQuantity(cores)).toBe(out));
});

describe('examples/ exported', () => {
  const dir = path.resolve('examples');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  // Process services need an image, sim images are replaced: one per service the examples name.
  const images = new Proxy({} as Record<string, string>, { get: (_, name) => `registry.example/${String(name)}:1` });

  it('the validation can fail: a Deployment without a selector is refused', () => {
    expect(() => validate({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { template: {} } })).toThrow(/Deployment\/x/);
  });

  it.each(files)('%s validates with kubernetes-models', (f) => {
    const parsed = parseManifests(fs.readFileSync(path.join(dir, f), 'utf8'), 'application/yaml');
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const r = exportManifests(parsed.manifests, parsed.groups, { prometheusAddress: PROM, images });
    expect(r.errors).toEqual([]);
    expect(r.objects.length).toBeGreaterThan(0);
    // Warnings travel as Warning headers, which carry ASCII only (a → arrives as ?).
    for (const w of r.warnings) expect(w).toMatch(/^[ -~]*$/);
    for (const o of r.objects) validate(o);
    // What `kubectl apply` needs beyond the schema: selectors match the template, Services find pods, analysis templates exist.
    for (const w of r.objects.filter((o) => ['Deployment', 'StatefulSet', 'Rollout'].includes(o.kind)) as any[]) {
      expect(w.spec.template.metadata.labels).toMatchObject(w.spec.selector.matchLabels);
      const port = w.spec.template.spec.containers[0].ports[0].containerPort;
      expect(find(r.objects, 'Service', w.metadata.name).spec.ports[0].targetPort).toBe(port);
      for (const t of w.spec.strategy?.canary?.analysis?.templates ?? []) expect(find(r.objects, 'AnalysisTemplate', t.templateName)).toBeDefined();
      // A StatefulSet's governing Service exists and selects its pods; every mount is one of its claim templates.
      if (w.kind !== 'StatefulSet') continue;
      expect(find(r.objects, 'Service', w.spec.serviceName).spec.selector).toEqual(w.spec.selector.matchLabels);
      const claims = w.spec.volumeClaimTemplates.map((t: any) => t.metadata.name);
      for (const m of w.spec.template.spec.containers[0].volumeMounts) expect(claims).toContain(m.name);
    }
    for (const h of r.objects.filter((o) => o.kind === 'HorizontalPodAutoscaler') as any[]) expect(find(r.objects, h.spec.scaleTargetRef.kind, h.spec.scaleTargetRef.name)).toBeDefined();
  });
});
