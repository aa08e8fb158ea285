// fast-check arbitraries for what /apply reads: valid Grid specs (every field of README *The spec*
// within its limits), FailoverGroups, the Kubernetes and Compose forms the importer accepts, then
// mutations of them and raw bodies (YAML, JSON) built to break a parser. Shared by the pure
// properties (spec-validator.fuzz.spec.ts) and the HTTP ones (test/e2e/apply-fuzz.e2e.spec.ts).
import fc from 'fast-check';
import { stringify } from 'yaml';

type Obj = Record<string, unknown>;

/** GRID_FUZZ_SEED reruns a failure; GRID_FUZZ_RUNS runs each property that many times instead of its default. */
export function fuzzSettings(label: string): { seed: number; runs: (n: number) => number } {
  const seed = process.env.GRID_FUZZ_SEED ? Number(process.env.GRID_FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
  const override = Number(process.env.GRID_FUZZ_RUNS ?? '');
  // Printed up front, so a run that times out can still be reproduced.
  console.log(`${label}: GRID_FUZZ_SEED=${seed}${override > 0 ? ` GRID_FUZZ_RUNS=${override}` : ''}`);
  return { seed, runs: (n) => (override > 0 ? override : n) };
}

/** Name spaces that cannot collide: services, groups, dependencies (never in the body, so no cycle). */
export const serviceName = (prefix = 's') => fc.stringMatching(/^[a-z0-9]{0,8}$/).map((s) => `${prefix}${s}`);
const depName = serviceName('d');

const version = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,10}$/);
const simImage = fc.tuple(fc.stringMatching(/^[A-Za-z0-9._-]{1,10}$/), fc.stringMatching(/^[A-Za-z0-9._-]{1,10}$/)).map(([n, v]) => `local://${n}@${v}`);
const dockerImage = fc.tuple(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,12}$/), fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}$/)).map(([n, t]) => `${n}:${t}`);
const labelName = fc.stringMatching(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,8}[A-Za-z0-9])?$/);
const labelKey = fc.tuple(fc.option(fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,5}[a-z0-9])?(\.[a-z0-9]{1,5})?$/), { nil: undefined }), labelName).map(([p, n]) => (p ? `${p}/${n}` : n));
const labels = fc.dictionary(labelKey, fc.oneof(fc.constant(''), labelName), { maxKeys: 4 });
const annotations = fc.dictionary(labelKey.filter((k) => k !== 'grid.dev/command'), fc.string({ maxLength: 40, unit: 'grapheme' }).filter((s) => !s.includes('\0')), { maxKeys: 3 });
const envName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/).filter((n) => n !== 'VERSION');
const env = fc.uniqueArray(fc.record({ name: envName, value: fc.string({ maxLength: 30, unit: 'grapheme' }).filter((s) => !s.includes('\0')) }, { requiredKeys: ['name'] }), { maxLength: 5, selector: (e) => e.name });
const probePath = fc.stringMatching(/^\/([A-Za-z0-9_~-]{1,10}(\/[A-Za-z0-9_~-]{1,10}){0,3})?(\?[a-z]=[0-9]{1,3})?$/);
const duration = fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 300 }).map((n) => `${n}s`), fc.integer({ min: 1, max: 5 }).map((n) => `${n}m`), fc.integer({ min: 1, max: 9999 }).map((n) => `${n}ms`));

const probe = (liveness: boolean) =>
  fc.record(
    {
      httpGet: fc.record({ path: probePath }),
      initialDelaySeconds: fc.integer({ min: 0, max: 3600 }),
      periodSeconds: fc.integer({ min: 1, max: 3600 }),
      timeoutSeconds: fc.integer({ min: 1, max: 3600 }),
      successThreshold: liveness ? fc.constant(1) : fc.integer({ min: 1, max: 100 }),
      failureThreshold: fc.integer({ min: 1, max: 100 }),
    },
    { requiredKeys: ['httpGet'] },
  );

const restartBackoff = fc
  .tuple(fc.double({ min: 0.001, max: 3600, noNaN: true }), fc.double({ min: 0.001, max: 3600, noNaN: true }), fc.double({ min: 0.001, max: 86_400, noNaN: true }))
  .map(([a, b, resetAfterSeconds]) => ({ initialSeconds: Math.min(a, b), maxSeconds: Math.max(a, b), resetAfterSeconds }));

const autoscale = fc
  .tuple(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 1000 }), fc.option(fc.integer({ min: 0, max: 3600 }), { nil: undefined }))
  .map(([targetCPU, a, b, window]) => ({ targetCPU, min: Math.min(a, b), max: Math.max(a, b), ...(window === undefined ? {} : { behavior: { scaleDown: { stabilizationWindowSeconds: window } } }) }));

const intOrPercent = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 100 }).map((n) => `${n}%`));
const step = fc.oneof(fc.record({ setWeight: fc.integer({ min: 0, max: 100 }) }), fc.constant({ pause: {} }), fc.constant({ pause: null }), duration.map((d) => ({ pause: { duration: d } })));
const analysis = fc.record(
  {
    interval: duration,
    minRequests: fc.integer({ min: 0, max: 1_000_000 }),
    maxErrorRate: fc.double({ min: 0, max: 1, noNaN: true }),
    maxP99LatencyMs: fc.double({ min: 0.001, max: 600_000, noNaN: true }),
    failureLimit: fc.integer({ min: 0, max: 100 }),
  },
  { requiredKeys: [] },
);
const rollout = fc
  .record(
    {
      strategy: fc.constantFrom('Rolling', 'RollingUpdate', 'BlueGreen', 'Canary'),
      maxSurge: intOrPercent,
      maxUnavailable: intOrPercent,
      minReadySeconds: fc.integer({ min: 0, max: 3600 }),
      steps: fc.array(step, { maxLength: 4 }),
      autoPromotionEnabled: fc.boolean(),
      autoPromotionSeconds: fc.integer({ min: 0, max: 86_400 }),
      scaleDownDelaySeconds: fc.integer({ min: 0, max: 86_400 }),
      progressDeadlineSeconds: fc.integer({ min: 1, max: 86_400 }),
      progressDeadlineAbort: fc.boolean(),
      analysis,
    },
    { requiredKeys: [] },
  )
  .map((r) => {
    const out: Obj = { ...r };
    if (r.strategy !== 'Canary') delete out.steps;
    const zero = (v: unknown) => v === undefined || v === 0 || v === '0%';
    // Both default to 25%; both 0 could never progress, which the validator refuses.
    if (zero(r.maxSurge) && zero(r.maxUnavailable) && r.maxSurge !== undefined && r.maxUnavailable !== undefined) out.maxSurge = 1;
    return out;
  });

export interface SpecOptions {
  /** Most pods a generated spec asks for (e2e keeps this small). */
  maxReplicas?: number;
  /** Which workloads: sim only where a real Grid would otherwise spawn processes or need Docker. */
  workloads?: Array<'sim' | 'process' | 'docker'>;
}

const workload = (kinds: Array<'sim' | 'process' | 'docker'>) =>
  fc.oneof(
    ...kinds.map((k) =>
      k === 'sim'
        ? simImage.map((image) => ({ image }) as Obj)
        : k === 'process'
          ? fc.array(fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }).filter((s) => !s.includes('\0')), { minLength: 1, maxLength: 4 }).map((command) => ({ command }) as Obj)
          : fc
              .record(
                {
                  image: dockerImage,
                  network: fc.constantFrom('host', 'bridge'),
                  port: fc.integer({ min: 1, max: 65535 }),
                  imagePullPolicy: fc.constantFrom('IfNotPresent', 'Never', 'Always'),
                  resources: fc.record({ cpus: fc.double({ min: 0.01, max: 1024, noNaN: true }), memory: fc.constantFrom('6Mi', '256Mi', '1Gi', 10_000_000, '512M') }, { requiredKeys: [] }),
                },
                { requiredKeys: ['image', 'port'] },
              )
              .map((w) => w as Obj),
    ),
  );

/** A valid `kind: Service` document; optional fields come and go. */
export function validService(opts: SpecOptions = {}, name: fc.Arbitrary<string> = serviceName()): fc.Arbitrary<Obj> {
  const spec = fc.record(
    {
      replicas: fc.integer({ min: 0, max: opts.maxReplicas ?? 1000 }),
      env,
      version: version,
      readinessProbe: probe(false),
      livenessProbe: probe(true),
      startupProbe: probe(true),
      terminationGracePeriodSeconds: fc.integer({ min: 0, max: 3600 }),
      restartBackoff,
      autoscale: autoscale.map((a) => (opts.maxReplicas === undefined ? a : { ...a, min: Math.min(a.min, opts.maxReplicas), max: Math.min(a.max, Math.max(1, opts.maxReplicas)) })),
      rollout,
      revisionHistoryLimit: fc.integer({ min: 0, max: 100 }),
      dependsOn: fc.uniqueArray(fc.record({ service: depName, condition: fc.constantFrom('Available', 'Started') }, { requiredKeys: ['service'] }), { maxLength: 16, selector: (d) => d.service }),
    },
    { requiredKeys: [] },
  );
  return fc
    .record({ name, labels, annotations, spec, workload: workload(opts.workloads ?? ['sim', 'process', 'docker']), apiVersion: fc.constantFrom('v1', 'grid/v1', undefined) })
    .map(({ name, labels, annotations, spec, workload, apiVersion }) => {
      const { version: v, env: e, ...rest } = spec;
      const envList = [...(e ?? []), ...(v === undefined ? [] : [{ name: 'VERSION', value: v }])];
      const metadata: Obj = { name };
      if (Object.keys(labels).length > 0) metadata.labels = labels;
      if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
      const doc: Obj = { kind: 'Service', metadata, spec: { ...rest, ...workload, ...(envList.length > 0 ? { env: envList } : {}) } };
      if (apiVersion !== undefined) doc.apiVersion = apiVersion;
      return doc;
    });
}

/** A valid FailoverGroup over services of the s… namespace (and an allowed url). */
export function validGroup(allowedUrl?: string): fc.Arbitrary<Obj> {
  const target = allowedUrl === undefined ? serviceName().map((service) => ({ service }) as Obj) : fc.oneof(serviceName().map((service) => ({ service }) as Obj), fc.constant({ url: allowedUrl } as Obj));
  const healthCheck = fc
    .record(
      {
        path: probePath,
        intervalSeconds: fc.double({ min: 0.1, max: 3600, noNaN: true }),
        timeoutSeconds: fc.double({ min: 0.05, max: 60, noNaN: true }),
        maxLatencyMs: fc.double({ min: 0.001, max: 1, noNaN: true }),
        expectStatus: fc.oneof(fc.integer({ min: 100, max: 599 }), fc.constantFrom('200-399', '200', ['200', 204], [301, '500-599'])),
        expectJson: fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.boolean()), { minKeys: 1, maxKeys: 3 }),
        failureThreshold: fc.integer({ min: 1, max: 100 }),
        successThreshold: fc.integer({ min: 1, max: 100 }),
      },
      { requiredKeys: [] },
    )
    // maxLatencyMs is generated as a share of the timeout: it must be below it.
    .map((h) => (h.maxLatencyMs === undefined ? h : { ...h, maxLatencyMs: Math.max(0.001, h.maxLatencyMs * (h.timeoutSeconds ?? 2) * 999) }));
  return fc
    .record({
      name: serviceName('g'),
      targets: fc.uniqueArray(target, { minLength: 1, maxLength: 10, selector: (t) => JSON.stringify(t) }),
      rest: fc.record({ healthCheck, cooldownSeconds: fc.double({ min: 0, max: 86_400, noNaN: true }), failback: fc.constantFrom('auto', 'manual') }, { requiredKeys: [] }),
    })
    .map(({ name, targets, rest }) => ({ apiVersion: 'v1', kind: 'FailoverGroup', metadata: { name }, spec: { targets, ...rest } }));
}

/** An apps/v1 Deployment or an Argo Rollout (with optional Service and HPA) that imports as a Grid service. */
export function validKubernetes(opts: SpecOptions = {}): fc.Arbitrary<Obj[]> {
  const max = opts.maxReplicas ?? 1000;
  return fc
    .record({
      name: serviceName('k'),
      kind: fc.constantFrom('Deployment', 'Rollout'),
      replicas: fc.integer({ min: 0, max }),
      process: fc.boolean(),
      env: fc.uniqueArray(fc.record({ name: envName, value: fc.string({ maxLength: 10 }) }), { maxLength: 3, selector: (e) => e.name }),
      readiness: fc.option(probePath, { nil: undefined }),
      steps: fc.array(step.filter((s) => !('pause' in s && s.pause === null)), { maxLength: 3 }),
      service: fc.boolean(),
      hpa: fc.option(fc.tuple(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: Math.max(1, max) })), { nil: undefined }),
    })
    .map((k) => {
      const container: Obj = { name: 'c', image: 'local://demo@v1', ...(k.env.length > 0 ? { env: k.env } : {}) };
      if (k.readiness) container.readinessProbe = { httpGet: { path: k.readiness } };
      const annotations = k.process && opts.workloads?.includes('process') !== false ? { 'grid.dev/command': JSON.stringify(['node', '-e', '0']) } : undefined;
      const strategy = k.kind === 'Deployment' ? { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } : { canary: { steps: k.steps } };
      const docs: Obj[] = [
        {
          apiVersion: k.kind === 'Deployment' ? 'apps/v1' : 'argoproj.io/v1alpha1',
          kind: k.kind,
          metadata: { name: k.name, labels: { app: k.name }, ...(annotations ? { annotations } : {}) },
          spec: { replicas: k.replicas, selector: { matchLabels: { app: k.name } }, strategy, template: { metadata: { labels: { app: k.name } }, spec: { containers: [container] } } },
        },
      ];
      if (k.service) docs.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: k.name }, spec: { selector: { app: k.name }, ports: [{ port: 80 }] } });
      if (k.hpa) docs.push({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: k.name }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: k.kind, name: k.name }, minReplicas: 1, maxReplicas: k.hpa[1], metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: k.hpa[0] } } }] } });
      return docs;
    });
}

/** A Compose file of 1..3 services that imports as Grid services. */
export function validCompose(opts: SpecOptions = {}): fc.Arbitrary<Obj> {
  const svc = fc.record(
    {
      environment: fc.oneof(
        fc.dictionary(envName, fc.oneof(fc.stringMatching(/^[a-z0-9 ]{0,10}$/), fc.integer({ min: 0, max: 99 }), fc.boolean())),
        fc.uniqueArray(fc.tuple(envName, fc.stringMatching(/^[a-z0-9]{0,8}$/)), { maxLength: 3, selector: ([n]) => n }).map((l) => l.map(([n, v]) => `${n}=${v}`)),
      ),
      deploy: fc.record({ replicas: fc.integer({ min: 0, max: opts.maxReplicas ?? 1000 }) }),
      stop_grace_period: fc.constantFrom('10s', '1m30s', 5, '500ms'),
      depends_on: fc.uniqueArray(depName, { maxLength: 3 }),
      healthcheck: fc.constantFrom({ test: ['CMD', 'curl', '-f', 'http://localhost/health'], interval: '5s', retries: 3 }, { test: 'wget -q -O- http://127.0.0.1:8080/ready' }, { disable: true }),
    },
    { requiredKeys: [] },
  );
  return fc
    .dictionary(serviceName('c'), svc, { minKeys: 1, maxKeys: 3 })
    .map((services) => ({ services: Object.fromEntries(Object.entries(services).map(([n, s]) => [n, { image: 'local://demo@v1', ...s }])) }));
}

/** A valid body as documents: Grid services and groups, a Kubernetes stream or a Compose file, names unique. */
export function validDocuments(opts: SpecOptions = {}, allowedUrl?: string): fc.Arbitrary<Obj[]> {
  return fc
    .tuple(fc.array(validService(opts), { maxLength: 3 }), fc.array(validGroup(allowedUrl), { maxLength: 2 }), fc.option(validKubernetes(opts), { nil: undefined }), fc.option(validCompose(opts), { nil: undefined }))
    .map(([services, groups, k8s, compose]) => [...services, ...groups, ...(k8s ?? []), ...(compose ? [compose] : [])])
    .filter((docs) => docs.length > 0)
    .map(uniqueNames);
}

/** Every name once (Compose service names too), so a valid body stays valid. */
function uniqueNames(docs: Obj[]): Obj[] {
  const seen = new Set<string>();
  const out: Obj[] = [];
  for (const d of docs) {
    if (d.services) {
      const services = Object.fromEntries(Object.entries(d.services as Obj).filter(([n]) => !seen.has(n) && seen.add(n)));
      if (Object.keys(services).length > 0) out.push({ ...d, services });
      continue;
    }
    const name = (d.metadata as Obj).name as string;
    // A Kubernetes Service or HPA shares its Deployment's name.
    const companion = d.kind === 'HorizontalPodAutoscaler' || (d.kind === 'Service' && !(d.spec as Obj).image && !(d.spec as Obj).command);
    if (!companion && seen.has(name)) continue;
    seen.add(name);
    out.push(d);
  }
  return out;
}

// --- mutations ----------------------------------------------------------------

/** Values that are wrong somewhere, or everywhere. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(NaN, Infinity, -Infinity, -0, 1e309, 2 ** 53 + 1, -1, 1.5, 0, 1e21, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE),
  fc.constantFrom('', ' ', '\0', 'a\0b', '\u2028', '\u2029', '\u0085', '\r\n', '\t', '\u202e', '\ud800', '💥', 'NaN', '1e309', '0x10', '-0', 'true', 'null', '~', '25%', '101%', '-1%', '30s', '1h', '0s', '..', '/..', '%2e%2e'),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'),
  fc.constantFrom({ toString: 1 }, { valueOf: 'x', toString: null }, { __proto__: { a: 1 } }, JSON.parse('{"__proto__": {"polluted": 1}}'), { constructor: { prototype: { x: 1 } } }),
  fc.constantFrom(true, false, null, [], {}, [[[]]], [null], [{}]),
  fc.string({ maxLength: 30, unit: 'binary' }),
  // Huge: past every length limit (4096, 131072 bytes, 256 KiB of annotations), built rather than drawn char by char.
  fc.tuple(fc.constantFrom('x', 'é', '\u2028', '💥', 'a\0'), fc.integer({ min: 4_000, max: 300_000 })).map(([c, n]) => c.repeat(Math.ceil(n / c.length))),
  fc.integer({ min: 0, max: 50 }).map((d) => nest(d)),
  fc.jsonValue({ maxDepth: 3 }),
);

function nest(depth: number): unknown {
  let v: unknown = 'x';
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty'];

/** Every path (as a list of keys) of a document, containers included. */
function pathsOf(v: unknown, at: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...at, i], out));
  else if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) pathsOf((v as Obj)[k], [...at, k], out);
  return out;
}

function setAt(root: unknown, path: Array<string | number>, f: (old: unknown, parent: Obj | unknown[] | undefined, key: string | number | undefined) => unknown): unknown {
  if (path.length === 0) return f(root, undefined, undefined);
  const copy: any = Array.isArray(root) ? [...root] : { ...(root as Obj) };
  const [k, ...rest] = path;
  if (rest.length === 0) {
    const next = f(copy[k], copy, k);
    if (next === DELETE) {
      if (Array.isArray(copy)) copy.splice(k as number, 1);
      else delete copy[k];
    } else Object.defineProperty(copy, k, { value: next, enumerable: true, writable: true, configurable: true });
  } else copy[k] = setAt(copy[k], rest, f);
  return copy;
}

const DELETE = Symbol('delete');

/** One mutation of a document at one of its paths. */
export type Mutation = { path: Array<string | number>; op: string; value?: unknown };

export function mutate(doc: unknown, pick: number, op: number, value: unknown, key: string): { doc: unknown; mutation: Mutation } {
  const paths = pathsOf(doc);
  const path = paths[pick % paths.length];
  const ops = ['replace', 'delete', 'unknownKey', 'protoKey', 'wrap', 'duplicateArrayItem'] as const;
  const name = ops[op % ops.length];
  const mutated = setAt(doc, path, (old, _parent, _k) => {
    switch (name) {
      case 'replace':
        return value;
      case 'delete':
        return path.length === 0 ? value : DELETE;
      case 'unknownKey':
        return old !== null && typeof old === 'object' && !Array.isArray(old) ? { ...(old as Obj), [key]: value } : value;
      case 'protoKey': {
        if (old === null || typeof old !== 'object' || Array.isArray(old)) return value;
        const copy = { ...(old as Obj) };
        // An own property named __proto__, as JSON.parse makes one.
        Object.defineProperty(copy, PROTO_KEYS[Math.abs(key.length) % PROTO_KEYS.length], { value, enumerable: true, writable: true, configurable: true });
        return copy;
      }
      case 'wrap':
        return [old];
      case 'duplicateArrayItem':
        return Array.isArray(old) && old.length > 0 ? [...old, old[0]] : [old, old];
    }
  });
  return { doc: mutated, mutation: { path, op: name, value } };
}

/** A valid body with 1..3 mutations somewhere in its documents. */
export function mutatedDocuments(opts: SpecOptions = {}, allowedUrl?: string): fc.Arbitrary<{ docs: unknown[]; mutations: Mutation[] }> {
  return fc
    .tuple(validDocuments(opts, allowedUrl), fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(), hostileValue, fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 12 }))), { minLength: 1, maxLength: 3 }))
    .map(([docs, muts]) => {
      let current: unknown = docs;
      const mutations: Mutation[] = [];
      for (const [pick, op, _i, value, key] of muts) {
        const r = mutate(current, pick, op, value, key);
        current = r.doc;
        mutations.push(r.mutation);
      }
      return { docs: Array.isArray(current) ? current : [current], mutations };
    });
}

// --- raw bodies ---------------------------------------------------------------

const YAML_JUNK = [
  'a: &a [1, 2]\nb: *a\n',
  'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n',
  'kind: Service\nmetadata: &m { name: x }\nspec: { image: !!binary aGVsbG8=, replicas: 1 }\n',
  'kind: !!js/function "function(){}"\n',
  'kind: !!python/object:os.system x\n',
  '!!set { a, b }\n',
  'kind: Service\n<<: { metadata: { name: merged } }\nspec: { image: local://demo@v1 }\n',
  'base: &b { image: local://demo@v1 }\nkind: Service\nmetadata: { name: m2 }\nspec: { <<: *b, replicas: 1 }\n',
  '---\n---\n---\n',
  '--- !!str\n...\n',
  '%YAML 1.1\n---\nkind: Service\n',
  '%TAG ! tag:evil.com,2000:\n---\n!foo {}\n',
  '\ufeffkind: Service\nmetadata: { name: bom }\nspec: { image: local://demo@v1 }\n',
  'kind: Service\r\nmetadata:\r\n  name: crlf\r\nspec:\r\n  image: local://demo@v1\r\n',
  'kind: Service\nmetadata:\n\tname: tab\n',
  'kind: Service\nmetadata: { name: a }\nmetadata: { name: b }\n',
  '? [a, b]\n: c\n',
  '? { a: 1 }\n: 2\n',
  'a: !!int 99999999999999999999999999999\n',
  'a: .nan\nb: .inf\nc: -.inf\nd: 0o17\ne: 0x1F\nf: 1_000\n',
  '[' .repeat(5000),
  '{a: '.repeat(3000),
  '- '.repeat(3000) + 'x\n',
  'a:\n' + '  '.repeat(2000) + 'b: 1\n',
  '"\\ud800"\n',
  'kind: "\\0\\x01\\u2028"\n',
  '&a [*a]\n',
  '*unknown\n',
  'a: |\n  x\n b: 1\n',
  'kind: Service\nmetadata: { name: x }\nspec: { image: local://demo@v1, env: [{ name: A, value: !!binary AAAA }] }\n',
  'kind: Service\nmetadata: { name: x, labels: { a: !!timestamp 2001-12-14 } }\nspec: { image: local://demo@v1 }\n',
  'kind: Service\nmetadata: { name: x }\nspec: { image: local://demo@v1, replicas: !!float 1 }\n',
  '__proto__: { polluted: 1 }\nkind: Service\n',
  'metadata: { __proto__: { name: x }, name: y }\nkind: Service\nspec: { image: local://demo@v1 }\n',
  'services: { __proto__: { image: local://demo@v1 } }\n',
  'services: { constructor: { image: local://demo@v1 } }\n',
];

/** A YAML or JSON text, valid or broken, as bytes. */
export function rawBody(opts: SpecOptions = {}): fc.Arbitrary<{ bytes: Buffer; json: boolean; note: string }> {
  const fromDocs = fc.tuple(fc.oneof(validDocuments(opts), mutatedDocuments(opts).map((m) => m.docs as Obj[])), fc.boolean()).map(([docs, asJson]) => ({ text: asJson ? JSON.stringify(docs.length === 1 ? docs[0] : docs) : docs.map((d) => yamlOf(d)).join('---\n'), json: asJson }));
  const junk = fc.constantFrom(...YAML_JUNK).map((text) => ({ text, json: false }));
  const randomText = fc.string({ maxLength: 200, unit: 'binary' }).map((text) => ({ text, json: false }));
  const jsonJunk = fc.constantFrom('{', '[]', 'null', '1', '"x"', '{"a":1,"a":2}', '{"kind":"Service","kind":"x"}', '[' + '['.repeat(100_000) + ']'.repeat(100_001), '{"__proto__":{"kind":"Service"}}', '\ufeff{}', '{"metadata":{"name":"x\\u0000"}}').map((text) => ({ text, json: true }));
  return fc
    .tuple(
      fc.oneof({ weight: 4, arbitrary: fromDocs }, { weight: 2, arbitrary: junk }, { weight: 1, arbitrary: randomText }, { weight: 1, arbitrary: jsonJunk }),
      fc.constantFrom('none', 'bom', 'crlf', 'invalidUtf8', 'longLine', 'trailingNul', 'none', 'none'),
    )
    .map(([{ text, json }, wrap]) => {
      let bytes = Buffer.from(wrap === 'crlf' ? text.replace(/\n/g, '\r\n') : wrap === 'longLine' ? `${text}\n# ${'x'.repeat(200_000)}\n` : text, 'utf8');
      if (wrap === 'bom') bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
      if (wrap === 'invalidUtf8') bytes = Buffer.concat([bytes.subarray(0, bytes.length >> 1), Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]), bytes.subarray(bytes.length >> 1)]);
      if (wrap === 'trailingNul') bytes = Buffer.concat([bytes, Buffer.from([0])]);
      return { bytes, json, note: wrap };
    });
}

/** YAML of a document as a user would write it. */
export function yamlOf(doc: unknown): string {
  return stringify(doc, { lineWidth: 0 });
}
