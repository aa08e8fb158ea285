// Kubernetes objects and Compose files → the Grid Service specs a user would write by hand
// (issue 14). Pure: documents in, Grid documents out, with a note per object saying what it
// became and what of it Grid ignored, and a field error for what cannot run on Grid. /apply runs
// it before validation, so the translated documents are validated like any other.
import type { FieldError } from '../spec.types.js';
import { importCompose, isCompose } from './compose.js';
import { isMapping, join, map, Reader, scalarText, shown, WHOLE_OBJECT, type ImportNote, type Obj } from './import-reader.js';

export { WHOLE_OBJECT, type ImportNote };
import { ANNOTATION_COMMAND, ANNOTATION_IMAGE, DEFAULT_CONTAINER_PORT, LABEL_MANAGED_BY, LABEL_NAME, LABEL_VERSION, PORT_ENV, POD_DATA_ENV } from './k8s-names.js';

export interface ImportResult {
  /** Grid documents, in request order: those given as Grid documents untouched, imported ones translated. */
  documents: unknown[];
  /** For each of `documents`, the position of the request document it came from (a workload's, for one fed by a Service or HPA too). */
  origins: number[];
  notes: ImportNote[];
  /** `[i].<path in the original object>`: what cannot run on Grid. */
  errors: FieldError[];
}

/**
 * Grid's own `kind: Service` and Kubernetes' `v1 Service` share apiVersion and kind: a
 * Kubernetes one routes to pods (`spec.selector`/`spec.ports`) and runs nothing, while Grid's
 * always says what to run (`spec.image` or `spec.command`).
 */
export function isKubernetesService(doc: unknown): boolean {
  if (!isMapping(doc) || doc.kind !== 'Service' || doc.apiVersion !== 'v1' || !isMapping(doc.spec)) return false;
  const spec = doc.spec;
  return ('selector' in spec || 'ports' in spec) && !('image' in spec) && !('command' in spec);
}

const WORKLOADS: Record<string, string> = { Deployment: 'apps/v1', StatefulSet: 'apps/v1', Rollout: 'argoproj.io/v1alpha1' };
const HPA_VERSIONS = ['autoscaling/v2', 'autoscaling/v1'];

/** A workload being translated, which its Services and HPAs still add to. */
interface Workload {
  kind: string;
  name: string;
  index: number;
  doc: { apiVersion: 'v1'; kind: 'Service'; metadata: Obj; spec: Obj };
  podLabels: Obj;
  /** The container declared a port (docker: it became spec.port). */
  hasPort: boolean;
  process: boolean;
  note: ImportNote;
  autoscaled?: string;
  /** The container's requests.cpu in cores: an HPA's utilization is a share of it, Grid's targetCPU a share of one core. */
  cpuRequest?: number;
  /** A StatefulSet's spec.serviceName: the (headless) Service that governs it, read as part of it. */
  governingService?: string;
}

/**
 * A `v1 List` (what `kubectl get -o yaml` and `gridctl export -o json` write) is its items: they
 * are imported in its place, their errors and notes told as `[i].items[j]…` of the request.
 */
export function importDocuments(docs: unknown[]): ImportResult {
  // Deeper than any manifest: refused before anything recurses into it (messages quote values).
  const deep = docs.findIndex((d) => nestedDeeperThan(d, MAX_DEPTH));
  if (deep >= 0) return { documents: [], origins: [], notes: [], errors: [{ path: `[${deep}]`, message: `is nested more than ${MAX_DEPTH} levels deep` }] };
  if (!docs.some(isList)) return importFlat(docs);
  const flat: unknown[] = [];
  const from: Array<{ index: number; item?: number }> = [];
  docs.forEach((doc, index) => {
    if (isList(doc)) (doc.items as unknown[]).forEach((item, j) => (flat.push(item), from.push({ index, item: j })));
    else (flat.push(doc), from.push({ index }));
  });
  const r = importFlat(flat);
  const where = (k: number) => from[k];
  return {
    documents: r.documents,
    origins: r.origins.map((k) => where(k).index),
    notes: r.notes.map((n) => ({ ...n, index: where(n.index).index })),
    errors: r.errors.map((e) => {
      const m = /^\[(\d+)\](.*)$/.exec(e.path);
      if (!m) return e;
      const f = where(Number(m[1]));
      return { ...e, path: f.item === undefined ? `[${f.index}]${m[2]}` : `[${f.index}].items[${f.item}]${m[2].startsWith('[') || m[2] === '' ? '' : '.'}${m[2].replace(/^\./, '')}` };
    }),
  };
}

const MAX_DEPTH = 64;

/** Iterative, so a 200,000-deep array cannot overflow the stack here. */
export function nestedDeeperThan(root: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}

function isList(doc: unknown): doc is Obj & { items: unknown[] } {
  return isMapping(doc) && doc.kind === 'List' && doc.apiVersion === 'v1' && Array.isArray(doc.items);
}

function importFlat(docs: unknown[]): ImportResult {
  const out: ImportResult = { documents: [], origins: [], notes: [], errors: [] };
  // Argo AnalysisTemplates a Rollout's canary analysis may name: read into spec.rollout.analysis.
  const templates = new Map<string, { doc: Obj; index: number; usedBy?: string }>();
  docs.forEach((doc, index) => {
    if (isMapping(doc) && doc.kind === 'AnalysisTemplate' && doc.apiVersion === WORKLOADS.Rollout) templates.set(nameOf(doc), { doc, index });
  });
  const workloads: Workload[] = [];
  // Refused workloads: their error is enough, their HPAs need not add one.
  const refused = new Set<string>();
  // Workloads first: a Service or HPA may come before the Deployment it belongs to.
  const slots: Array<{ index: number; doc?: unknown; workload?: Workload }> = [];
  docs.forEach((doc, index) => {
    if (!isMapping(doc)) return slots.push({ index, doc });
    if (isCompose(doc)) {
      const c = importCompose(doc, index);
      out.errors.push(...c.errors);
      out.notes.push(...c.notes);
      for (const d of c.documents) slots.push({ index, doc: d });
      return;
    }
    const kind = doc.kind;
    if (typeof kind === 'string' && kind in WORKLOADS) {
      if (doc.apiVersion !== WORKLOADS[kind]) {
        const r = new Reader(index);
        // Named at kind, as the validator names an unknown kind: of this apiVersion, it is not one Grid knows.
        r.fail('kind', `unknown kind '${kind}' of apiVersion ${shown(doc.apiVersion)}: Grid's own kinds are Service and FailoverGroup, and it imports a ${kind} of ${WORKLOADS[kind]}`);
        out.errors.push(...r.errors);
        return;
      }
      const w = importWorkload(doc, index, out.errors, templates);
      if (w) {
        workloads.push(w);
        slots.push({ index, workload: w });
      } else refused.add(`${kind}/${nameOf(doc)}`);
      return;
    }
    if (isKubernetesService(doc) || kind === 'HorizontalPodAutoscaler') return;
    if (kind === 'AnalysisTemplate' && templates.get(nameOf(doc))?.index === index) return;
    if (!isOtherKubernetesKind(doc)) return slots.push({ index, doc });
    out.notes.push({ object: `${kind}/${nameOf(doc)}`, ignored: [WHOLE_OBJECT], index });
  });
  docs.forEach((doc, index) => {
    if (isKubernetesService(doc)) importService(doc as Obj, index, workloads, out);
    else if (isMapping(doc) && doc.kind === 'HorizontalPodAutoscaler' && !refused.has(targetOf(doc))) importHpa(doc, index, workloads, out);
  });
  for (const s of slots) {
    out.documents.push(s.workload ? s.workload.doc : s.doc);
    out.origins.push(s.index);
  }
  for (const [name, t] of templates) {
    out.notes.push(t.usedBy ? { object: `AnalysisTemplate/${name}`, became: `${t.usedBy} (spec.rollout.analysis)`, ignored: [], index: t.index } : { object: `AnalysisTemplate/${name}`, ignored: [WHOLE_OBJECT], index: t.index });
  }
  // Notes in request order, each object's once.
  out.notes.push(...workloads.map((w) => w.note));
  out.notes.sort((a, b) => a.index - b.index);
  return out;
}

/** Kinds of Kubernetes' core group (apiVersion v1) a manifest stream carries beside workloads. */
const CORE_KINDS = ['ConfigMap', 'Secret', 'Namespace', 'PersistentVolumeClaim', 'PersistentVolume', 'ServiceAccount', 'Pod', 'ReplicationController', 'Endpoints', 'LimitRange', 'ResourceQuota'];

/**
 * An object of some other Kubernetes kind, ignored whole: one of a group (`networking.k8s.io/v1`)
 * or a known core kind. Anything else, such as `apiVersion: v1, kind: Foo`, is left to the validator,
 * which says the kind is unknown, as it did before Grid imported anything.
 */
function isOtherKubernetesKind(doc: Obj): boolean {
  if (typeof doc.kind !== 'string' || typeof doc.apiVersion !== 'string' || doc.kind === 'Service' || doc.kind === 'FailoverGroup') return false;
  return doc.apiVersion.includes('/') || (doc.apiVersion === 'v1' && CORE_KINDS.includes(doc.kind));
}

function nameOf(doc: Obj): string {
  const n = map(doc.metadata).name;
  return typeof n === 'string' ? n : '(unnamed)';
}

/** The annotation's command: a JSON array of strings, or an error. */
function annotatedCommand(r: Reader, annotations: Obj, path: string): string[] | undefined {
  const raw = annotations[ANNOTATION_COMMAND];
  if (raw === undefined) return undefined;
  let value: unknown;
  try {
    value = typeof raw === 'string' ? JSON.parse(raw) : undefined;
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value) || value.length === 0 || !value.every((w) => typeof w === 'string')) {
    r.fail(join(path, ANNOTATION_COMMAND), `must be a JSON array of strings, the command Grid runs as a process (got ${shown(raw)})`);
    return undefined;
  }
  return value as string[];
}

/** Grid sets these labels on export from the service itself; kept, they would go stale. */
const GRID_LABELS = [LABEL_NAME, LABEL_VERSION, LABEL_MANAGED_BY];

type Templates = Map<string, { doc: Obj; index: number; usedBy?: string }>;

function importWorkload(doc: Obj, index: number, errors: FieldError[], templates: Templates): Workload | undefined {
  const r = new Reader(index);
  const kind = doc.kind as string;
  const name = nameOf(doc);
  r.rest(doc, '', ['apiVersion', 'kind', 'metadata', 'spec']);
  const meta = map(doc.metadata);
  r.rest(meta, 'metadata', ['name', 'labels', 'annotations']);
  const spec = map(doc.spec);
  const template = map(spec.template);
  const tmeta = map(template.metadata);
  const pod = map(template.spec);
  r.rest(template, 'spec.template', ['metadata', 'spec']);
  r.rest(tmeta, 'spec.template.metadata', ['labels', 'annotations']);

  const command = annotatedCommand(r, map(meta.annotations), 'metadata.annotations') ?? annotatedCommand(r, map(tmeta.annotations), 'spec.template.metadata.annotations');
  const annotations: Obj = { ...map(meta.annotations) };
  delete annotations[ANNOTATION_COMMAND];
  for (const [k, v] of Object.entries(map(tmeta.annotations))) {
    if (k === ANNOTATION_IMAGE && annotations[k] === undefined) annotations[k] = v;
    else if (k !== ANNOTATION_COMMAND && k !== ANNOTATION_IMAGE) r.ignored.push(join('spec.template.metadata.annotations', k));
  }

  const g: Obj = {};
  if (spec.replicas !== undefined) g.replicas = spec.replicas;
  for (const k of ['revisionHistoryLimit'] as const) if (spec[k] !== undefined) g[k] = spec[k];
  const rollout: Obj = {};
  for (const k of ['minReadySeconds', 'progressDeadlineSeconds'] as const) if (spec[k] !== undefined) rollout[k] = spec[k];
  // A StatefulSet's podManagementPolicy is not among them: Grid starts a persistent service's pods together, not in ordinal order.
  const specKnown =
    kind === 'StatefulSet'
      ? ['replicas', 'selector', 'template', 'serviceName', 'updateStrategy', 'minReadySeconds', 'revisionHistoryLimit', 'volumeClaimTemplates']
      : ['replicas', 'selector', 'template', 'strategy', 'minReadySeconds', 'revisionHistoryLimit', 'progressDeadlineSeconds'];
  if (kind === 'Rollout' && spec.workloadRef !== undefined) r.fail('spec.workloadRef', 'Grid imports a Rollout with its pod template inline (spec.template), not one referring to a Deployment');
  r.rest(spec, 'spec', specKnown);
  if (kind === 'Deployment') deploymentStrategy(r, spec.strategy, rollout);
  else if (kind === 'StatefulSet') statefulSetStrategy(r, spec.updateStrategy);
  else rolloutStrategy(r, spec.strategy, rollout, templates, `service/${name}`);
  if (Object.keys(rollout).length > 0) g.rollout = rollout;

  const podAt = 'spec.template.spec';
  r.rest(pod, podAt, ['containers', 'terminationGracePeriodSeconds', 'restartPolicy', 'initContainers', 'ephemeralContainers']);
  if (pod.terminationGracePeriodSeconds !== undefined) g.terminationGracePeriodSeconds = pod.terminationGracePeriodSeconds;
  if (pod.restartPolicy !== undefined && pod.restartPolicy !== 'Always') r.fail(join(podAt, 'restartPolicy'), `Grid restarts every pod that exits, as restartPolicy Always (got ${shown(pod.restartPolicy)})`);
  for (const k of ['initContainers', 'ephemeralContainers']) {
    if (Array.isArray(pod[k]) && pod[k].length > 0) r.fail(join(podAt, k), 'Grid runs one container per pod and nothing before it');
  }
  const containers = Array.isArray(pod.containers) ? pod.containers : [];
  if (containers.length !== 1) r.fail(join(podAt, 'containers'), `Grid runs one container per pod (got ${containers.length})`);
  let hasPort = false;
  const claimTemplates = kind === 'StatefulSet' && Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates.map(map) : [];
  const side: ContainerSide = { claims: claimTemplates.map((t) => map(t.metadata).name) };
  if (containers.length >= 1) hasPort = importContainer(r, map(containers[0]), join(join(podAt, 'containers'), 0), g, command, annotations, side);
  // A container of an image is mounted its directory where it mounted the claim; a process or a simulated pod is not mounted anything.
  const container = map(containers[0]);
  const mounted = command === undefined && typeof container.image === 'string' && container.image !== '' && !isSimImage(container.image);
  const storage = side.data ? persistentStorage(r, claimTemplates, side.data, name, mounted) : undefined;
  if (!side.data) claimTemplates.forEach((_, i) => r.ignored.push(join('spec.volumeClaimTemplates', i)));
  if (side.data && storage) g.storage = mounted ? { persistent: true, mountPath: side.data.mountPath } : { persistent: true };

  const metadata: Obj = { name: meta.name };
  const labels = Object.fromEntries(Object.entries(map(meta.labels)).filter(([k]) => !GRID_LABELS.includes(k)));
  if (Object.keys(labels).length > 0) metadata.labels = labels;
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  errors.push(...r.errors);
  if (r.errors.length > 0) return undefined;
  return {
    kind,
    name,
    index,
    doc: { apiVersion: 'v1', kind: 'Service', metadata, spec: g },
    podLabels: map(tmeta.labels),
    hasPort,
    process: command !== undefined,
    cpuRequest: side.cpuRequest,
    ...(kind === 'StatefulSet' && typeof spec.serviceName === 'string' ? { governingService: spec.serviceName } : {}),
    note: { object: `${kind}/${name}`, became: `service/${name}`, ignored: r.ignored, index, ...(command ? { runsOnHost: command } : {}), ...(storage ? { storage } : {}) },
  };
}

function deploymentStrategy(r: Reader, raw: unknown, rollout: Obj): void {
  if (raw === undefined) return;
  const s = map(raw);
  r.rest(s, 'spec.strategy', ['type', 'rollingUpdate']);
  rollout.strategy = 'Rolling';
  if (s.type === 'Recreate') {
    // Every old pod goes before any new one starts: Rolling with no surge and all unavailable.
    rollout.maxSurge = 0;
    rollout.maxUnavailable = '100%';
    return;
  }
  const ru = map(s.rollingUpdate);
  r.rest(ru, 'spec.strategy.rollingUpdate', ['maxSurge', 'maxUnavailable']);
  if (ru.maxSurge !== undefined) rollout.maxSurge = ru.maxSurge;
  if (ru.maxUnavailable !== undefined) rollout.maxUnavailable = ru.maxUnavailable;
}

/** Grid replaces a persistent service's pods one at a time, highest ordinal first, as RollingUpdate does; it has no partition and no OnDelete. */
function statefulSetStrategy(r: Reader, raw: unknown): void {
  if (raw === undefined) return;
  const s = map(raw);
  r.rest(s, 'spec.updateStrategy', ['type', 'rollingUpdate']);
  if (s.type !== undefined && s.type !== 'RollingUpdate') r.ignored.push('spec.updateStrategy.type');
  if (s.rollingUpdate !== undefined) r.ignored.push('spec.updateStrategy.rollingUpdate');
}

/**
 * The claim template the container mounts becomes spec.storage.persistent: Grid gives each pod a
 * directory of its own in GRID_POD_DATA, on the local disk, so the claim's size, class and access
 * modes are noted ignored. A container (mounted) gets it bind-mounted at the claim's mountPath, so
 * it finds its data where it looks; a process must read $GRID_POD_DATA. Answers the note's sentence.
 */
function persistentStorage(r: Reader, claimTemplates: Obj[], data: DataMount, service: string, mounted: boolean): string {
  claimTemplates.forEach((t, i) => {
    const at = join('spec.volumeClaimTemplates', i);
    if (i !== data.claim) return r.ignored.push(at);
    r.rest(t, at, ['metadata', 'spec']);
    r.rest(map(t.metadata), join(at, 'metadata'), ['name']);
    for (const k of Object.keys(map(t.spec))) r.ignored.push(join(join(at, 'spec'), k));
  });
  const claim = `volumeClaimTemplates[${data.claim}] ${String(map(claimTemplates[data.claim].metadata).name)}, mounted at ${data.mountPath}`;
  if (mounted) return `${claim} → spec.storage: { persistent: true, mountPath: ${data.mountPath} }: each pod of ${service} gets a directory of its own, kept across restarts, bind-mounted at ${data.mountPath} (and named in $${POD_DATA_ENV})`;
  const became = `${claim} → spec.storage.persistent: each pod of ${service} gets a directory of its own, kept across restarts, in $${POD_DATA_ENV} (Grid sets it, and expands $(${POD_DATA_ENV}) in a command)`;
  if (data.readers.length > 0) return `${became}; ${data.readers.join(' and ')} name ${data.mountPath}, where Grid mounts nothing: the program must read $${POD_DATA_ENV} instead`;
  if (!data.fromEnv) return `${became}; nothing tells the program ${data.mountPath} (no ${POD_DATA_ENV}=${data.mountPath}), so if it writes there by itself, it must read $${POD_DATA_ENV} instead`;
  return became;
}

function rolloutStrategy(r: Reader, raw: unknown, rollout: Obj, templates: Templates, became: string): void {
  const s = map(raw);
  r.rest(s, 'spec.strategy', ['blueGreen', 'canary']);
  if (isMapping(s.blueGreen)) {
    const bg = s.blueGreen;
    const at = 'spec.strategy.blueGreen';
    r.rest(bg, at, ['activeService', 'previewService', 'autoPromotionEnabled', 'autoPromotionSeconds', 'scaleDownDelaySeconds']);
    rollout.strategy = 'BlueGreen';
    for (const k of ['autoPromotionEnabled', 'autoPromotionSeconds', 'scaleDownDelaySeconds']) if (bg[k] !== undefined) rollout[k] = bg[k];
  } else if (isMapping(s.canary)) {
    const c = s.canary;
    const at = 'spec.strategy.canary';
    r.rest(c, at, ['steps', 'maxSurge', 'maxUnavailable', 'analysis']);
    if (c.analysis !== undefined) {
      // Grid's analysis runs from the first step and judges the canary's own traffic.
      r.rest(map(c.analysis), join(at, 'analysis'), ['templates', 'args']);
      const analysis = canaryAnalysis(map(c.analysis), templates);
      if (analysis) {
        rollout.analysis = analysis.spec;
        analysis.template.usedBy = became;
      } else r.ignored.push(join(at, 'analysis'));
    }
    rollout.strategy = 'Canary';
    for (const k of ['maxSurge', 'maxUnavailable']) if (c[k] !== undefined) rollout[k] = c[k];
    const steps: unknown[] = [];
    (Array.isArray(c.steps) ? c.steps : []).forEach((step, i) => {
      const st = map(step);
      if (st.setWeight !== undefined && Object.keys(st).length === 1) steps.push({ setWeight: st.setWeight });
      else if (isMapping(st.pause) && Object.keys(st).length === 1) steps.push(st.pause.duration === undefined ? { pause: {} } : { pause: { duration: st.pause.duration } });
      else r.ignored.push(join(join(at, 'steps'), i));
    });
    if (steps.length > 0) rollout.steps = steps;
  }
}

/**
 * A canary's background analysis in the form Grid exports it: one AnalysisTemplate of the request
 * whose metrics judge `result[0] >= <1 - maxErrorRate>` and `result[0] <= <maxP99LatencyMs>`, with
 * one interval and failureLimit. Anything else is not Grid's analysis; the caller notes it ignored.
 */
function canaryAnalysis(a: Obj, templates: Templates): { spec: Obj; template: { usedBy?: string } } | undefined {
  const refs = Array.isArray(a.templates) ? a.templates : [];
  if (refs.length !== 1) return undefined;
  const name = map(refs[0]).templateName;
  const template = typeof name === 'string' ? templates.get(name) : undefined;
  if (!template) return undefined;
  const metrics = Array.isArray(map(template.doc.spec).metrics) ? (map(template.doc.spec).metrics as unknown[]).map(map) : [];
  // Exactly the two Prometheus metrics export writes: Grid's analysis replaces their queries with
  // its gateway's numbers, so a template of other metrics or providers would be misread.
  if (metrics.length !== 2 || !metrics.every((m) => isMapping(map(m.provider).prometheus))) return undefined;
  const spec: Obj = {};
  for (const m of metrics) {
    const cond = typeof m.successCondition === 'string' ? m.successCondition.replace(/\s+/g, ' ').trim() : '';
    const atLeast = /^result\[0\] >= ([0-9.]+)$/.exec(cond);
    const atMost = /^result\[0\] <= ([0-9.]+)$/.exec(cond);
    if (atLeast) spec.maxErrorRate = Math.round((1 - Number(atLeast[1])) * 1e6) / 1e6;
    else if (atMost) spec.maxP99LatencyMs = Number(atMost[1]);
    else return undefined;
    if (typeof m.interval === 'string') spec.interval = m.interval;
    if (typeof m.failureLimit === 'number') spec.failureLimit = m.failureLimit;
  }
  return spec.maxErrorRate !== undefined && spec.maxP99LatencyMs !== undefined ? { spec, template } : undefined;
}

const CONTAINER_KNOWN = ['name', 'image', 'command', 'args', 'ports', 'env', 'readinessProbe', 'livenessProbe', 'startupProbe', 'resources', 'imagePullPolicy', 'workingDir', 'envFrom', 'volumeMounts'];

/** Where a StatefulSet's container mounts a claim template: Grid's GRID_POD_DATA stands for it. */
interface DataMount {
  claim: number;
  mountPath: string;
  /** The container's env set GRID_POD_DATA to the mount path (dropped: Grid sets it). */
  fromEnv: boolean;
  /** What else names the mount path (`env DB_PATH`, `the command`): on Grid it holds nothing. */
  readers: string[];
}

/** What the container tells its workload beside the Grid spec. */
interface ContainerSide {
  cpuRequest?: number;
  /** A StatefulSet's claim template names, by index (empty for other workloads). */
  claims: unknown[];
  data?: DataMount;
}

/** Fills the Grid spec from the one container; answers whether it declared a port. */
function importContainer(r: Reader, c: Obj, at: string, g: Obj, command: string[] | undefined, annotations: Obj, side: ContainerSide): boolean {
  r.rest(c, at, CONTAINER_KNOWN);
  if (c.volumeMounts !== undefined && (side.claims.length === 0 || !Array.isArray(c.volumeMounts))) r.ignored.push(join(at, 'volumeMounts'));
  else if (Array.isArray(c.volumeMounts)) {
    c.volumeMounts.forEach((raw, i) => {
      const m = map(raw);
      const mAt = join(join(at, 'volumeMounts'), i);
      const claim = side.claims.indexOf(m.name);
      if (side.data !== undefined || claim < 0 || typeof m.mountPath !== 'string' || !m.mountPath.startsWith('/')) return r.ignored.push(mAt);
      r.rest(m, mAt, ['name', 'mountPath']);
      side.data = { claim, mountPath: m.mountPath.replace(/(.)\/+$/, '$1'), fromEnv: false, readers: [] };
    });
  }
  if (c.envFrom !== undefined) r.fail(join(at, 'envFrom'), 'Grid takes env values written out (name and value); it reads no ConfigMap or Secret');
  const ports = Array.isArray(c.ports) ? c.ports : [];
  ports.slice(1).forEach((_, i) => r.ignored.push(join(join(at, 'ports'), i + 1)));
  const first = map(ports[0]);
  if (ports.length > 0) r.rest(first, join(join(at, 'ports'), 0), ['containerPort', 'name', 'protocol']);
  const containerPort = typeof first.containerPort === 'number' ? first.containerPort : undefined;

  if (command) {
    // The annotation is the command Grid runs; the container's own command and args are its Kubernetes form.
    g.command = command;
    if (typeof c.image === 'string' && annotations[ANNOTATION_IMAGE] === undefined) annotations[ANNOTATION_IMAGE] = c.image;
    if (containerPort !== undefined) r.ignored.push(join(join(at, 'ports'), 0));
    for (const k of ['command', 'args', 'resources', 'imagePullPolicy']) if (c[k] !== undefined) r.ignored.push(join(at, k));
    if (c.workingDir !== undefined) g.workingDir = c.workingDir;
  } else {
    if (typeof c.image !== 'string' || c.image === '') r.fail(join(at, 'image'), `is required (or a ${ANNOTATION_COMMAND} annotation, to run a command as a process)`);
    else g.image = c.image;
    const argv = [...(Array.isArray(c.command) ? c.command : []), ...(Array.isArray(c.args) ? c.args : [])];
    if (c.args !== undefined && c.command === undefined) r.fail(join(at, 'args'), "Grid's docker runtime replaces the image's entrypoint with the command, not only its arguments: give command as well");
    else if (argv.length > 0) {
      g.runtime = 'docker';
      g.command = argv;
    }
    // A container told its port in PORT listens where it is told: Grid's host network gives it one.
    // A fixed containerPort without it is the image's own port, which a bridge publishes.
    const portFromEnv = (Array.isArray(c.env) ? c.env : []).some((e) => map(e).name === PORT_ENV && scalarText(map(e).value) === String(containerPort));
    // A simulated image (local://…) listens nowhere: its port is not published (nor a Service's, see importService).
    if (isSimImage(c.image)) {
      if (containerPort !== undefined) r.ignored.push(join(join(at, 'ports'), 0));
    } else if (containerPort !== undefined && !portFromEnv) {
      g.network = 'bridge';
      g.port = containerPort;
    }
    if (c.imagePullPolicy !== undefined) g.imagePullPolicy = c.imagePullPolicy;
    if (c.workingDir !== undefined) r.ignored.push(join(at, 'workingDir'));
    if (c.resources !== undefined) side.cpuRequest = importResources(r, map(c.resources), join(at, 'resources'), g);
  }

  const env: Obj[] = [];
  const portValue = String(containerPort ?? DEFAULT_CONTAINER_PORT);
  (Array.isArray(c.env) ? c.env : []).forEach((raw, i) => {
    const e = map(raw);
    const eAt = join(join(at, 'env'), i);
    if (e.valueFrom !== undefined) return r.fail(join(eAt, 'valueFrom'), 'Grid takes env values written out; it reads no field, ConfigMap or Secret');
    r.rest(e, eAt, ['name', 'value']);
    // Export adds PORT=<containerPort> (Grid gives every pod PORT); it is not the user's.
    if (e.name === PORT_ENV && scalarText(e.value) === portValue) return;
    // Export points GRID_POD_DATA at the claim's mount; Grid sets it to the pod's own directory.
    if (side.data && e.name === POD_DATA_ENV && scalarText(e.value)?.replace(/(.)\/+$/, '$1') === side.data.mountPath) {
      side.data.fromEnv = true;
      return;
    }
    env.push({ name: e.name, value: e.value === undefined ? '' : e.value });
  });
  if (env.length > 0) g.env = env;
  if (side.data) {
    const names = namesPath(side.data.mountPath);
    side.data.readers = [...env.filter((e) => e.name !== POD_DATA_ENV && names(e.value)).map((e) => `env ${String(e.name)}`), ...(Array.isArray(g.command) && g.command.some(names) ? ['the command'] : [])];
  }

  for (const k of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
    if (c[k] !== undefined) {
      const p = importProbe(r, map(c[k]), join(at, k), { number: containerPort, name: typeof first.name === 'string' ? first.name : undefined });
      if (p) g[k] = p;
    }
  }
  return containerPort !== undefined && !command && !isSimImage(c.image);
}

function isSimImage(image: unknown): boolean {
  return typeof image === 'string' && image.startsWith('local://');
}

/** Whether a value names the path or something under it (`/data`, `/data/db`, `--dir=/data`), not `/database`. */
function namesPath(path: string): (v: unknown) => boolean {
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`(^|[=:,\\s"'])${escaped}(?=$|[/:,\\s"'])`);
  return (v) => typeof v === 'string' && re.test(v);
}

/** limits become spec.resources; requests.cpu is answered (cores) for an HPA's utilization. */
function importResources(r: Reader, res: Obj, at: string, g: Obj): number | undefined {
  r.rest(res, at, ['limits', 'requests']);
  const limits = map(res.limits);
  r.rest(limits, join(at, 'limits'), ['cpu', 'memory']);
  const requests = map(res.requests);
  r.rest(requests, join(at, 'requests'), ['cpu']);
  const out: Obj = {};
  if (limits.cpu !== undefined) out.cpus = cpuCores(limits.cpu);
  if (limits.memory !== undefined) out.memory = limits.memory;
  if (Object.keys(out).length > 0) g.resources = out;
  const request = cpuCores(requests.cpu);
  return typeof request === 'number' && request > 0 ? request : undefined;
}

/** Kubernetes' CPU quantity ("500m", "1", 2) in cores; anything else is left for the validator to refuse. */
export function cpuCores(q: unknown): unknown {
  if (typeof q === 'number') return q;
  const m = typeof q === 'string' ? /^(\d+(?:\.\d+)?)(m?)$/.exec(q) : null;
  if (!m) return q;
  return m[2] === 'm' ? Number(m[1]) / 1000 : Number(m[1]);
}

const PROBE_TIMING = ['initialDelaySeconds', 'periodSeconds', 'timeoutSeconds', 'successThreshold', 'failureThreshold'];

/**
 * Grid probes the pod's one port. A probe's httpGet.port naming another (an admin port) would be
 * probed on the wrong port: refused. `port` is the container's first port (number and name).
 */
function probePortProblem(h: Obj, port: { number?: number; name?: string }): string | undefined {
  if (h.port === undefined) return undefined;
  if (typeof h.port === 'number' && (port.number === undefined || h.port === port.number)) return undefined;
  if (typeof h.port === 'string' && port.name !== undefined && h.port === port.name) return undefined;
  if (typeof h.port === 'string' && /^\d+$/.test(h.port) && Number(h.port) === port.number) return undefined;
  return `Grid probes the pod's own port${port.number !== undefined ? ` (${port.number})` : ''}; a probe on another port (${shown(h.port)}) cannot be moved there`;
}

function importProbe(r: Reader, p: Obj, at: string, port: { number?: number; name?: string } = {}): Obj | undefined {
  for (const k of ['exec', 'tcpSocket', 'grpc']) {
    if (p[k] !== undefined) {
      r.fail(join(at, k), 'Grid probes over HTTP only (httpGet)');
      return undefined;
    }
  }
  r.rest(p, at, ['httpGet', ...PROBE_TIMING]);
  const h = map(p.httpGet);
  r.rest(h, join(at, 'httpGet'), ['path', 'port', 'scheme']);
  if (h.scheme !== undefined && h.scheme !== 'HTTP') r.fail(join(join(at, 'httpGet'), 'scheme'), `Grid probes over plain HTTP (got ${shown(h.scheme)})`);
  const portProblem = probePortProblem(h, port);
  if (portProblem) r.fail(join(join(at, 'httpGet'), 'port'), portProblem);
  const out: Obj = { httpGet: { path: h.path ?? '/' } };
  for (const k of PROBE_TIMING) if (p[k] !== undefined) out[k] = p[k];
  return out;
}

/** A v1 Service: the port of the workload it selects (when the container named none). */
function importService(doc: Obj, index: number, workloads: Workload[], out: ImportResult): void {
  const r = new Reader(index);
  const spec = map(doc.spec);
  r.rest(doc, '', ['apiVersion', 'kind', 'metadata', 'spec']);
  r.rest(map(doc.metadata), 'metadata', ['name', 'labels', 'annotations']);
  const selector = map(spec.selector);
  const w = Object.keys(selector).length > 0 ? workloads.find((x) => Object.entries(selector).every(([k, v]) => x.podLabels[k] === v)) : undefined;
  // A StatefulSet's headless governing Service gives its pods DNS names; Grid's gateway reaches the service as a whole.
  const governing = w !== undefined && w.governingService === nameOf(doc) && spec.clusterIP === 'None';
  r.rest(spec, 'spec', ['selector', 'ports', 'type', ...(governing ? ['clusterIP'] : [])]);
  if (spec.type !== undefined && spec.type !== 'ClusterIP') r.ignored.push('spec.type');
  const object = `Service/${nameOf(doc)}`;
  if (!w) {
    out.notes.push({ object, ignored: [WHOLE_OBJECT], index });
    return;
  }
  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  ports.slice(1).forEach((_, i) => r.ignored.push(join('spec.ports', i + 1)));
  const p = map(ports[0]);
  r.rest(p, 'spec.ports[0]', ['port', 'targetPort', 'name', 'protocol']);
  const target = p.targetPort ?? p.port;
  if (isSimImage(w.doc.spec.image) && target !== undefined) r.ignored.push('spec.ports[0]');
  else if (!w.process && !w.hasPort && typeof target === 'number') {
    w.doc.spec.network = 'bridge';
    w.doc.spec.port = target;
    w.hasPort = true;
  } else if (!w.process && !w.hasPort && target !== undefined) r.ignored.push('spec.ports[0].targetPort');
  out.notes.push({ object, became: `service/${w.name}`, ignored: r.ignored, index });
}

/** `Deployment/api`: what an HPA scales. */
function targetOf(hpa: Obj): string {
  const ref = map(map(hpa.spec).scaleTargetRef);
  return `${scalarText(ref.kind)}/${scalarText(ref.name)}`;
}

function importHpa(doc: Obj, index: number, workloads: Workload[], out: ImportResult): void {
  const r = new Reader(index);
  const object = `HorizontalPodAutoscaler/${nameOf(doc)}`;
  if (!HPA_VERSIONS.includes(doc.apiVersion as string)) {
    r.fail('kind', `unknown kind 'HorizontalPodAutoscaler' of apiVersion ${shown(doc.apiVersion)}: Grid imports one of ${HPA_VERSIONS.join(' or ')}`);
    out.errors.push(...r.errors);
    return;
  }
  r.rest(doc, '', ['apiVersion', 'kind', 'metadata', 'spec']);
  r.rest(map(doc.metadata), 'metadata', ['name', 'labels', 'annotations']);
  const spec = map(doc.spec);
  r.rest(spec, 'spec', ['scaleTargetRef', 'minReplicas', 'maxReplicas', 'metrics', 'behavior', 'targetCPUUtilizationPercentage']);
  const ref = map(spec.scaleTargetRef);
  const w = workloads.find((x) => x.kind === ref.kind && x.name === ref.name);
  if (!isMapping(spec.scaleTargetRef) || ref.name === undefined || ref.kind === undefined) {
    r.fail('spec.scaleTargetRef', 'is required: the kind and name of the Deployment, StatefulSet or Rollout it scales');
  } else if (!w) {
    r.fail('spec.scaleTargetRef', `no Deployment, StatefulSet or Rollout ${shown(ref.name ?? '')} of kind ${shown(ref.kind ?? '')} in this request; Grid imports an autoscaler together with its workload`);
  } else if (w.autoscaled !== undefined) {
    r.fail('spec.scaleTargetRef', `${w.kind}/${w.name} is already scaled by ${w.autoscaled}`);
  }
  let targetCPU: unknown = spec.targetCPUUtilizationPercentage ?? 80;
  if (Array.isArray(spec.metrics) && spec.metrics.length > 0) {
    const cpu = spec.metrics.findIndex((m) => {
      const res = map(map(m).resource);
      return map(m).type === 'Resource' && res.name === 'cpu' && map(res.target).type === 'Utilization';
    });
    spec.metrics.forEach((_, i) => {
      if (i !== cpu) r.ignored.push(join('spec.metrics', i));
    });
    if (cpu < 0) r.fail('spec.metrics', 'Grid scales on CPU utilization only (a Resource metric of cpu with target type Utilization)');
    else targetCPU = map(map(map(spec.metrics[cpu]).resource).target).averageUtilization;
  }
  const behavior = map(spec.behavior);
  r.rest(behavior, 'spec.behavior', ['scaleDown']);
  const down = map(behavior.scaleDown);
  r.rest(down, 'spec.behavior.scaleDown', ['stabilizationWindowSeconds']);
  out.errors.push(...r.errors);
  if (!w || r.errors.length > 0) return;
  w.autoscaled = object;
  // Utilization is a share of the container's CPU request; Grid's targetCPU a share of one core.
  if (typeof targetCPU === 'number' && w.cpuRequest !== undefined) targetCPU = Math.round(targetCPU * w.cpuRequest);
  const autoscale: Obj = { targetCPU, min: spec.minReplicas ?? 1, max: spec.maxReplicas };
  if (down.stabilizationWindowSeconds !== undefined) autoscale.behavior = { scaleDown: { stabilizationWindowSeconds: down.stabilizationWindowSeconds } };
  w.doc.spec.autoscale = autoscale;
  out.notes.push({ object, became: `service/${w.name}`, ignored: r.ignored, index });
}
