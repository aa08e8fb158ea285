// Issue 14's round trip: Grid → Kubernetes → Grid gives back every field Grid understands, and
// Kubernetes → Grid → Kubernetes → Grid is stable. Both directions are the pure functions /apply
// and /export run (parseManifests imports before it validates).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseManifests } from '../spec-validator.js';
import type { ServiceManifest } from '../spec.types.js';
import { exportManifests } from './export.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..', '..');
const PROM = 'http://prometheus.monitoring:9090';

function parse(body: unknown, contentType = 'application/json'): ServiceManifest[] {
  const r = parseManifests(body as string, contentType);
  if (!r.ok) throw new Error(`expected valid documents, got ${JSON.stringify(r.errors)}`);
  return r.manifests;
}

/** Export with an image for every service that has none of its own, then import the objects again. */
function roundTrip(services: ServiceManifest[]): ServiceManifest[] {
  const images = Object.fromEntries(services.filter((s) => s.spec.runtime !== 'docker').map((s) => [s.metadata.name, `registry.example/${s.metadata.name}:1`]));
  const out = exportManifests(services, [], { prometheusAddress: PROM, images });
  expect(out.errors).toEqual([]);
  return parse(out.objects);
}

const examples = fs
  .readdirSync(path.join(ROOT, 'examples'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => [f, parse(fs.readFileSync(path.join(ROOT, 'examples', f), 'utf8'), 'application/yaml').filter((m) => m.spec.runtime !== 'sim')] as const)
  .filter(([, services]) => services.length > 0);

describe('Grid → Kubernetes → Grid', () => {
  it.each(examples)('%s comes back with the same spec', (_file, services) => {
    const back = roundTrip(services);
    expect(back.map((m) => m.metadata.name)).toEqual(services.map((m) => m.metadata.name));
    back.forEach((m, i) => {
      // Start order and chaos steps have no Kubernetes/Argo equivalent: export leaves them out with a warning (export.spec.ts).
      const { dependsOn: _notExported, ...spec } = services[i].spec;
      const steps = spec.rollout.steps.filter((st) => !('chaos' in st));
      expect(m.spec).toEqual({ ...spec, rollout: { ...spec.rollout, steps } });
      expect(m.metadata.labels).toEqual(services[i].metadata.labels);
    });
  });
});

describe('Grid → Kubernetes → Grid, the fields examples leave at their defaults', () => {
  it.each([
    ['a half-core limit under an HPA (utilization is a share of the request)', 'resources: { cpus: 0.5, memory: 268435456 }\n  autoscale: { targetCPU: 70, min: 2, max: 6, behavior: { scaleDown: { stabilizationWindowSeconds: 45 } } }'],
    ['a canary with its own analysis thresholds', 'rollout: { strategy: Canary, steps: [{ setWeight: 20 }, { pause: { duration: 15s } }, { pause: {} }], analysis: { interval: 7s, maxErrorRate: 0.02, maxP99LatencyMs: 250, failureLimit: 3 } }'],
    ['blue/green with manual promotion', 'rollout: { strategy: BlueGreen, autoPromotionEnabled: false, scaleDownDelaySeconds: 12 }'],
    // A StatefulSet with its claim template and headless Service, the HPA scaling the StatefulSet.
    ['persistent storage at a mountPath under an HPA, reading $(GRID_POD_DATA)', 'storage: { persistent: true, mountPath: /var/lib/store }\n  runtime: docker\n  command: [/bin/store, --dir, $(GRID_POD_DATA)]\n  env: [{ name: DB, value: $(GRID_POD_DATA)/db }]\n  autoscale: { targetCPU: 60, min: 3, max: 5 }\n  rollout: { minReadySeconds: 4 }'],
    ['persistent storage at a mountPath the program finds by itself (postgres)', 'storage: { persistent: true, mountPath: /var/lib/postgresql/data }'],
    ['a bridge container on its own port, probes with every field', 'network: bridge\n  port: 3000\n  readinessProbe: { httpGet: { path: /ready }, initialDelaySeconds: 2, periodSeconds: 3, timeoutSeconds: 4, successThreshold: 2, failureThreshold: 5 }'],
  ])('%s', (_name, extra) => {
    const [original] = parse(`apiVersion: v1\nkind: Service\nmetadata: { name: api, labels: { team: a } }\nspec:\n  replicas: 3\n  image: reg.example/api:1\n  ${extra}\n`, 'application/yaml');
    const [back] = roundTrip([original]);
    expect(back.spec).toEqual(original.spec);
    expect(back.metadata).toEqual(original.metadata);
  });
});

describe('Grid → Kubernetes → Grid, a docker service without mountPath', () => {
  // Export mounts its claim at /data with GRID_POD_DATA=/data; import cannot tell whether the program reads the
  // variable or writes to /data by itself, so it mounts the directory there: both programs keep their data, and
  // the variable still names it. A second round trip changes nothing.
  it('comes back with mountPath /data, then stays', () => {
    const [original] = parse('apiVersion: v1\nkind: Service\nmetadata: { name: api }\nspec:\n  image: reg.example/api:1\n  runtime: docker\n  command: [/bin/store, --dir, $(GRID_POD_DATA)]\n  storage: { persistent: true }\n', 'application/yaml');
    const [back] = roundTrip([original]);
    expect(back.spec).toEqual({ ...original.spec, storage: { persistent: true, mountPath: '/data' } });
    expect(roundTrip([back])).toEqual([back]);
  });

  it('a process service comes back as it was (nothing is mounted into a process)', () => {
    const [original] = parse('apiVersion: v1\nkind: Service\nmetadata: { name: api }\nspec:\n  command: [node, store.js, $(GRID_POD_DATA)]\n  storage: { persistent: true }\n', 'application/yaml');
    const [back] = roundTrip([original]);
    expect(back.spec).toEqual(original.spec);
  });
});

describe('Kubernetes → Grid → Kubernetes → Grid', () => {
  const fixtures = ['seed-003-primary.yaml', 'seed-003-dr.yaml', 'seed-004-deployment.yaml', 'statefulset-store.yaml'];
  it.each(fixtures)('%s is stable', (file) => {
    const first = parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'kubernetes', file), 'utf8'), 'application/yaml');
    expect(first.length).toBeGreaterThan(0);
    const second = roundTrip(first);
    expect(second).toEqual(first);
    expect(roundTrip(second)).toEqual(second);
  });
});
