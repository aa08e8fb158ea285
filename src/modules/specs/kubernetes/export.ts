// Grid specs → Kubernetes and Argo Rollouts objects (issue 14). Pure: the route and gridctl
// are shells around exportManifests. What has no direct equivalent becomes a warning, what
// cannot run in a cluster at all (no image) an error naming the service; nothing is dropped silently.
import type { FailoverGroupManifest, FieldError, Probe, ServiceManifest, ServiceSpec } from '../spec.types.js';
import { versionOf } from '../version-of.js';
import {
  ANALYSIS_SUFFIX,
  ANNOTATION_COMMAND,
  ANNOTATION_IMAGE,
  DATA_MOUNT_PATH,
  DATA_VOLUME,
  DEFAULT_CONTAINER_PORT,
  DEFAULT_STORAGE_REQUEST,
  HEADLESS_SUFFIX,
  PORT_ENV,
  POD_DATA_ENV,
  PREVIEW_SUFFIX,
  SERVICE_PORT,
  SERVICE_PORT_NAME,
  LABEL_MANAGED_BY,
  LABEL_NAME,
  MANAGED_BY_GRID,
  labelsOf,
  selectorOf,
} from './k8s-names.js';

export interface ExportOptions {
  namespace?: string;
  /** The Prometheus the AnalysisTemplates query (Argo's prometheus provider address). */
  prometheusAddress: string;
  /** SERVICE → image: the container image of a process service (or one replacing a sim or docker image). */
  images: Record<string, string>;
  /** SERVICE → Grid's version of its current revision (stored specs); otherwise computed as for revision 1. */
  versions?: Record<string, string>;
}

export interface ExportResult {
  objects: K8sObject[];
  warnings: string[];
  errors: FieldError[];
}

export type K8sObject = { apiVersion: string; kind: string; metadata: Record<string, unknown> } & Record<string, unknown>;

/** Where a Prometheus is when nobody says: the in-cluster address of the kube-prometheus-stack chart's service. */
export const DEFAULT_PROMETHEUS = 'http://prometheus-operated.monitoring.svc:9090';

/** Grid's Kubernetes-style restart backoff defaults; other values have no kubelet equivalent. */
const DEFAULT_BACKOFF = { initialSeconds: 1, maxSeconds: 60, resetAfterSeconds: 600 };

export function exportManifests(services: ServiceManifest[], groups: FailoverGroupManifest[], opts: ExportOptions): ExportResult {
  const out: ExportResult = { objects: [], warnings: [], errors: [] };
  services.forEach((m, i) => exportService(m, i, opts, out));
  const ports = new Map(services.map((m) => [m.metadata.name, containerPortOf(m.spec)]));
  for (const g of groups) exportGroup(g, ports, opts, out);
  // A mistyped --image would otherwise pass unseen.
  for (const name of Object.keys(opts.images)) if (!ports.has(name)) out.warnings.push(`image for ${name}: no service ${name} in this export, so it is not used`);
  return out;
}

/** The port the container listens on: docker bridge's spec.port, else the PORT Grid would give it (fixed here). */
export function containerPortOf(spec: ServiceSpec): number {
  const port = spec.env.find((e) => e.name === PORT_ENV);
  if (port && /^\d+$/.test(port.value) && Number(port.value) >= 1 && Number(port.value) <= 65535) return Number(port.value);
  return spec.runtime === 'docker' && spec.network === 'bridge' && spec.port ? spec.port : DEFAULT_CONTAINER_PORT;
}

/** A label value Kubernetes accepts (63 characters of [A-Za-z0-9-_.], alphanumeric at both ends). */
export function labelValue(value: string): string {
  return value
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

/** Kubernetes quantities: cores as "2" or "500m", bytes as an integer. */
export function cpuQuantity(cores: number): string {
  return Number.isInteger(cores) ? String(cores) : `${Math.round(cores * 1000)}m`;
}

function imageOf(m: ServiceManifest, opts: ExportOptions, out: ExportResult, index: number): string | undefined {
  const name = m.metadata.name;
  const given = opts.images[name] ?? m.metadata.annotations?.[ANNOTATION_IMAGE];
  if (given) return given;
  if (m.spec.runtime === 'process') {
    out.errors.push({ path: `[${index}].spec.command`, message: `service ${name} runs a command (process runtime) and Kubernetes needs a container image: give one with --image ${name}=IMAGE (image=${name}=IMAGE) or metadata.annotations["${ANNOTATION_IMAGE}"]` });
    return undefined;
  }
  if (m.spec.image?.startsWith('local://')) {
    out.errors.push({ path: `[${index}].spec.image`, message: `service ${name} runs the simulated image ${m.spec.image}, which exists only inside Grid: give a real one with --image ${name}=IMAGE (image=${name}=IMAGE)` });
    return undefined;
  }
  return m.spec.image;
}

function exportService(m: ServiceManifest, index: number, opts: ExportOptions, out: ExportResult): void {
  const name = m.metadata.name;
  const spec = m.spec;
  const image = imageOf(m, opts, out, index);
  if (image === undefined || !serviceNameFits(m, index, out)) return;
  const version = labelValue(opts.versions?.[name] ?? versionOf(spec, 1)) || 'r1';
  const labels = { ...m.metadata.labels, ...labelsOf(name, version) };
  const selector = selectorOf(name);
  const port = containerPortOf(spec);
  // grid.dev/* are Grid's to write: a spec's own grid.dev/command would turn a container into a
  // host process when the export is imported again.
  const annotations: Record<string, string> = Object.fromEntries(Object.entries(m.metadata.annotations ?? {}).filter(([k]) => k !== ANNOTATION_COMMAND && k !== ANNOTATION_IMAGE));
  if (spec.runtime === 'process') {
    annotations[ANNOTATION_IMAGE] = image;
    annotations[ANNOTATION_COMMAND] = JSON.stringify(spec.command);
  }
  const meta = (objName: string, withAnnotations = false) => ({
    name: objName,
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
    labels,
    ...(withAnnotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
  });
  warnService(m, out);

  const strategy = spec.rollout.strategy;
  const persistent = spec.storage?.persistent === true;
  // The validator refuses Canary and BlueGreen with storage, so a persistent service is always Rolling.
  const workloadKind = persistent ? 'StatefulSet' : strategy === 'Rolling' ? 'Deployment' : 'Rollout';
  const workloadApi = strategy === 'Rolling' ? 'apps/v1' : 'argoproj.io/v1alpha1';
  const template = { metadata: { labels }, spec: podSpec(name, image, spec, port) };
  if (persistent) {
    out.objects.push({
      apiVersion: workloadApi,
      kind: workloadKind,
      metadata: meta(name, true),
      spec: {
        serviceName: `${name}${HEADLESS_SUFFIX}`,
        replicas: spec.replicas,
        selector: { matchLabels: selector },
        template,
        // Grid starts a persistent service's pods together (Parallel), and updates them highest ordinal
        // first, one at a time (RollingUpdate), each Ready before the next.
        podManagementPolicy: 'Parallel',
        updateStrategy: { type: 'RollingUpdate' },
        minReadySeconds: spec.rollout.minReadySeconds,
        revisionHistoryLimit: spec.revisionHistoryLimit,
        volumeClaimTemplates: [{ metadata: { name: DATA_VOLUME }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: DEFAULT_STORAGE_REQUEST } } } }],
      },
    });
    out.objects.push(service(meta(name), selector, port));
    out.objects.push(headlessService(meta(`${name}${HEADLESS_SUFFIX}`), selector, port));
    if (spec.autoscale) out.objects.push(hpa(meta(name), workloadApi, workloadKind, name, spec, out));
    return;
  }
  const common = {
    // Kept with an HPA too: it is the count the first apply starts with, as in Grid (README: Kubernetes → Export).
    replicas: spec.replicas,
    selector: { matchLabels: selector },
    template,
    minReadySeconds: spec.rollout.minReadySeconds,
    revisionHistoryLimit: spec.revisionHistoryLimit,
    progressDeadlineSeconds: spec.rollout.progressDeadlineSeconds,
  };
  if (strategy === 'Rolling') {
    out.objects.push({
      apiVersion: workloadApi,
      kind: workloadKind,
      metadata: meta(name, true),
      spec: { ...common, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: spec.rollout.maxSurge, maxUnavailable: spec.rollout.maxUnavailable } } },
    });
  } else {
    out.objects.push({
      apiVersion: workloadApi,
      kind: workloadKind,
      metadata: meta(name, true),
      spec: { ...common, progressDeadlineAbort: spec.rollout.progressDeadlineAbort, strategy: argoStrategy(name, spec) },
    });
  }
  out.objects.push(service(meta(name), selector, port));
  if (strategy === 'BlueGreen') out.objects.push(service(meta(`${name}${PREVIEW_SUFFIX}`), selector, port));
  if (strategy === 'Canary' && spec.rollout.analysis) out.objects.push(analysisTemplate(meta(`${name}${ANALYSIS_SUFFIX}`), name, spec, opts.prometheusAddress));
  if (spec.autoscale) out.objects.push(hpa(meta(name), workloadApi, workloadKind, name, spec, out));
}

/**
 * A Kubernetes Service name is a DNS-1035 label (a letter first), and `<name>-preview` must fit in 63
 * characters too. A StatefulSet's pods carry the label `controller-revision-hash: <name>-<10-character hash>`,
 * so its name must leave room for it: the controller cannot create pods of a longer one.
 */
const MAX_STATEFULSET_NAME = 52;

function serviceNameFits(m: ServiceManifest, index: number, out: ExportResult): boolean {
  const name = m.metadata.name;
  const longest = m.spec.rollout.strategy === 'BlueGreen' ? `${name}${PREVIEW_SUFFIX}` : m.spec.storage?.persistent ? `${name}${HEADLESS_SUFFIX}` : name;
  if (!/^[a-z]/.test(name) || longest.length > 63) {
    out.errors.push({ path: `[${index}].metadata.name`, message: `service ${name}: a Kubernetes Service name must start with a letter and ${longest} must fit in 63 characters` });
    return false;
  }
  if (m.spec.storage?.persistent && name.length > MAX_STATEFULSET_NAME) {
    out.errors.push({ path: `[${index}].metadata.name`, message: `service ${name}: a persistent service becomes a StatefulSet, whose name must fit in ${MAX_STATEFULSET_NAME} characters (its pods' controller-revision-hash label adds 11)` });
    return false;
  }
  return true;
}

function warnService(m: ServiceManifest, out: ExportResult): void {
  const name = m.metadata.name;
  const spec = m.spec;
  const b = spec.restartBackoff;
  if (b.initialSeconds !== DEFAULT_BACKOFF.initialSeconds || b.maxSeconds !== DEFAULT_BACKOFF.maxSeconds || b.resetAfterSeconds !== DEFAULT_BACKOFF.resetAfterSeconds) {
    out.warnings.push(`${name}: spec.restartBackoff is not exported; the kubelet's crash backoff is fixed (10s doubling to 5m)`);
  }
  if (spec.rollout.analysis) {
    if (spec.rollout.strategy === 'Canary') {
      out.warnings.push(`${name}: spec.rollout.analysis.minRequests (${spec.rollout.analysis.minRequests}) is not exported; Argo's Prometheus metric measures whatever traffic there was`);
      out.warnings.push(`${name}: AnalysisTemplate ${name}${ANALYSIS_SUFFIX} queries Grid's gateway metrics (grid_gateway_requests_total, grid_gateway_request_duration_seconds); in a cluster nothing emits them: point its queries at your ingress's or mesh's request metrics`);
    }
    else out.warnings.push(`${name}: spec.rollout.analysis is not exported for the ${spec.rollout.strategy} strategy (Grid analyses only Canary steps)`);
  }
  const chaosSteps = spec.rollout.steps.filter((s) => 'chaos' in s).length;
  if (chaosSteps > 0) out.warnings.push(`${name}: ${chaosSteps} chaos step(s) of spec.rollout.steps are not exported: Argo Rollouts has no step that injects failure into the canary (a Chaos Mesh or Litmus experiment run from an analysis job comes closest)`);
  if (spec.rollout.strategy === 'Canary') out.warnings.push(`${name}: Argo Rollouts without a traffic router approximates the canary weights by pod counts; Grid's gateway splits requests exactly`);
  if (spec.runtime === 'process') {
    if (spec.workingDir) out.warnings.push(`${name}: spec.workingDir (${spec.workingDir}) is a directory of Grid's machine and is not exported; the image's WORKDIR applies`);
    out.warnings.push(`${name}: a process service listens on 127.0.0.1 in Grid; in Kubernetes it must listen on 0.0.0.0:$(PORT) for its Service to reach it`);
  }
  if (spec.runtime === 'docker' && spec.network !== 'bridge') out.warnings.push(`${name}: spec.network host has no equivalent (hostNetwork would share the node's ports); the container listens on PORT=${containerPortOf(spec)} in its own network namespace`);
  if (spec.imagePullPolicy === 'Never') out.warnings.push(`${name}: imagePullPolicy Never: the image must already be on every node`);
  if (spec.storage?.persistent) {
    const at = dataMountPath(spec);
    out.warnings.push(`${name}: spec.storage.persistent becomes a StatefulSet whose pods each claim a ${DEFAULT_STORAGE_REQUEST} ReadWriteOnce volume (volumeClaimTemplates ${DATA_VOLUME}, mounted at ${at}, ${POD_DATA_ENV}=${at}) of the cluster's default StorageClass: Grid's directories have no size, so set the request (and storageClassName) to what ${name} needs; a container that does not run as root may need securityContext.fsGroup to write it (Grid gives the directory to the image's USER)`);
    const r = spec.rollout;
    // Grid updates a persistent service one pod at a time, highest ordinal first, as a StatefulSet does: surge settings never applied.
    if (r.maxSurge !== '25%' || r.maxUnavailable !== '25%') out.warnings.push(`${name}: spec.rollout.maxSurge/maxUnavailable are not exported: a StatefulSet, like Grid for a persistent service, replaces one pod at a time, highest ordinal first`);
    out.warnings.push(`${name}: a StatefulSet has no progress deadline: an update stuck on a pod that never gets Ready waits there (Grid rolls back after spec.rollout.progressDeadlineSeconds, ${r.progressDeadlineSeconds}s)`);
  }
  if (spec.dependsOn) out.warnings.push(`${name}: spec.dependsOn (${spec.dependsOn.map((d) => `${d.service} ${d.condition}`).join(', ')}) is not exported: Kubernetes starts pods in no order; an initContainer that waits for ${spec.dependsOn[0].service}, or a readiness probe that checks it, does that there`);
  // What Grid gives every pod besides PORT has no meaning in a cluster: GRID_URL's gateway least of all.
  const gridVars = [...new Set([...spec.env.map((e) => e.value), ...(spec.command ?? [])].flatMap((v) => v.match(/\b(GRID_URL|GRID_POD|GRID_SERVICE|GRID_VERSION|POD_NAME)\b/g) ?? []))];
  if (gridVars.length > 0) out.warnings.push(`${name}: uses ${gridVars.join(', ')}, which Grid gives its pods and a cluster does not (GRID_URL's /gateway/<service> is a Service's DNS name there): set them in the exported env`);
}

/** Where the claim is mounted: a docker service's own mountPath, else /data, which GRID_POD_DATA names for a program that reads it. */
function dataMountPath(spec: ServiceSpec): string {
  return spec.storage?.mountPath ?? DATA_MOUNT_PATH;
}

function podSpec(name: string, image: string, spec: ServiceSpec, port: number): Record<string, unknown> {
  const persistent = spec.storage?.persistent === true;
  const dataAt = dataMountPath(spec);
  // Grid tells a process or a host-network container its port in PORT; a bridge container listens on its own fixed port.
  const bridge = spec.runtime === 'docker' && spec.network === 'bridge';
  // Grid sets GRID_POD_DATA over the spec's own; first, so a later value's $(GRID_POD_DATA) expands in a cluster.
  const own = persistent ? spec.env.filter((e) => e.name !== POD_DATA_ENV) : spec.env;
  const withData = persistent ? [{ name: POD_DATA_ENV, value: dataAt }, ...own] : own;
  const env = bridge || spec.env.some((e) => e.name === PORT_ENV) ? withData : [...withData, { name: PORT_ENV, value: String(port) }];
  const container: Record<string, unknown> = {
    name,
    image,
    ...(spec.command ? { command: spec.command } : {}),
    ...(spec.imagePullPolicy ? { imagePullPolicy: spec.imagePullPolicy } : {}),
    ports: [{ name: SERVICE_PORT_NAME, containerPort: port, protocol: 'TCP' }],
    env: env.map((e) => ({ name: e.name, value: e.value })),
    ...(persistent ? { volumeMounts: [{ name: DATA_VOLUME, mountPath: dataAt }] } : {}),
  };
  const resources = resourcesOf(spec);
  if (resources) container.resources = resources;
  for (const kind of ['readinessProbe', 'livenessProbe', 'startupProbe'] as const) {
    const p = spec[kind];
    if (p) container[kind] = probe(p, port);
  }
  return { terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds, containers: [container] };
}

/**
 * Grid's targetCPU is a percentage of one core; an HPA's Utilization is a percentage of
 * requests.cpu. So a service with autoscale requests one core (or its whole limit when that is
 * less, with the target scaled to match: 50% of a core is 100% of a half-core request).
 */
function cpuRequestOf(spec: ServiceSpec): number | undefined {
  if (!spec.autoscale) return undefined;
  return Math.min(1, spec.resources?.cpus ?? 1);
}

function resourcesOf(spec: ServiceSpec): Record<string, unknown> | undefined {
  const limits: Record<string, string> = {};
  if (spec.resources?.cpus !== undefined) limits.cpu = cpuQuantity(spec.resources.cpus);
  if (spec.resources?.memory !== undefined) limits.memory = String(spec.resources.memory);
  const request = cpuRequestOf(spec);
  const r: Record<string, unknown> = {};
  if (Object.keys(limits).length > 0) r.limits = limits;
  if (request !== undefined) r.requests = { cpu: cpuQuantity(request) };
  return Object.keys(r).length > 0 ? r : undefined;
}

function probe(p: Probe, port: number): Record<string, unknown> {
  return {
    httpGet: { path: p.httpGet.path, port },
    initialDelaySeconds: p.initialDelaySeconds,
    periodSeconds: p.periodSeconds,
    timeoutSeconds: p.timeoutSeconds,
    successThreshold: p.successThreshold,
    failureThreshold: p.failureThreshold,
  };
}

function argoStrategy(name: string, spec: ServiceSpec): Record<string, unknown> {
  const r = spec.rollout;
  if (r.strategy === 'BlueGreen') {
    return {
      blueGreen: {
        activeService: name,
        previewService: `${name}${PREVIEW_SUFFIX}`,
        autoPromotionEnabled: r.autoPromotionEnabled,
        ...(r.autoPromotionSeconds !== undefined ? { autoPromotionSeconds: r.autoPromotionSeconds } : {}),
        scaleDownDelaySeconds: r.scaleDownDelaySeconds,
      },
    };
  }
  // Chaos steps have no Argo equivalent (warned in warnService): the rollout there skips them.
  const steps = r.steps.flatMap((s): ({ setWeight: number } | { pause: { duration?: string } })[] => ('setWeight' in s ? [{ setWeight: s.setWeight }] : 'pause' in s ? [{ pause: s.pause.duration !== undefined ? { duration: `${s.pause.duration}s` } : {} }] : []));
  return {
    canary: {
      maxSurge: r.maxSurge,
      maxUnavailable: r.maxUnavailable,
      steps,
      // Background analysis, as Grid's: it runs for the whole rollout and aborts it on failureLimit.
      ...(r.analysis ? { analysis: { templates: [{ templateName: `${name}${ANALYSIS_SUFFIX}` }], args: [{ name: 'service', value: name }] } } : {}),
    },
  };
}

/** The same two measurements Grid's analysis makes on its gateway, as PromQL over Grid's gateway series. */
export function analysisQueries(intervalSeconds: number): { successRate: string; p99Ms: string } {
  const window = `${Math.max(intervalSeconds, 60)}s`;
  const sel = 'service="{{args.service}}"';
  return {
    // The status code is a label of the request counter (the duration histogram has service and version only).
    successRate: `sum(rate(grid_gateway_requests_total{${sel},code!~"5.."}[${window}])) / sum(rate(grid_gateway_requests_total{${sel}}[${window}]))`,
    p99Ms: `1000 * histogram_quantile(0.99, sum by (le) (rate(grid_gateway_request_duration_seconds_bucket{${sel}}[${window}])))`,
  };
}

function analysisTemplate(metadata: Record<string, unknown>, name: string, spec: ServiceSpec, prometheus: string): K8sObject {
  const a = spec.rollout.analysis!;
  const q = analysisQueries(a.intervalSeconds);
  const metric = (metricName: string, successCondition: string, query: string) => ({
    name: metricName,
    interval: `${a.intervalSeconds}s`,
    failureLimit: a.failureLimit,
    successCondition,
    provider: { prometheus: { address: prometheus, query } },
  });
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisTemplate',
    metadata,
    spec: {
      args: [{ name: 'service', value: name }],
      metrics: [
        metric('success-rate', `result[0] >= ${round(1 - a.maxErrorRate)}`, q.successRate),
        metric('p99-latency-ms', `result[0] <= ${a.maxP99LatencyMs}`, q.p99Ms),
      ],
    },
  };
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

function hpa(metadata: Record<string, unknown>, apiVersion: string, kind: string, name: string, spec: ServiceSpec, out: ExportResult): K8sObject {
  const a = spec.autoscale!;
  const request = cpuRequestOf(spec)!;
  const utilization = Math.round(a.targetCPU / request);
  if (request < 1) out.warnings.push(`${name}: requests.cpu is the ${cpuQuantity(request)} limit, so the HPA targets ${utilization}% of it (Grid's targetCPU ${a.targetCPU}% of one core)`);
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata,
    spec: {
      scaleTargetRef: { apiVersion, kind, name },
      minReplicas: a.min,
      maxReplicas: a.max,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: utilization } } }],
      behavior: { scaleDown: { stabilizationWindowSeconds: a.scaleDownStabilizationSeconds } },
    },
  };
}

function service(metadata: Record<string, unknown>, selector: Record<string, string>, port: number): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata,
    spec: { type: 'ClusterIP', selector, ports: [{ name: SERVICE_PORT_NAME, port: SERVICE_PORT, targetPort: port, protocol: 'TCP' }] },
  };
}

/** The Service a StatefulSet names as its serviceName: headless, so each pod has a DNS name (`<name>-0.<name>-headless`). */
function headlessService(metadata: Record<string, unknown>, selector: Record<string, string>, port: number): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata,
    spec: { clusterIP: 'None', selector, ports: [{ name: SERVICE_PORT_NAME, port, targetPort: port, protocol: 'TCP' }] },
  };
}

/**
 * Kubernetes has no health-checked failover across services: the group becomes a Service
 * selecting its first service target (where Grid sends traffic while it is healthy), and a warning
 * that spells out what is lost.
 */
function exportGroup(g: FailoverGroupManifest, ports: Map<string, number>, opts: ExportOptions, out: ExportResult): void {
  const name = g.metadata.name;
  const targets = g.spec.targets.map((t) => ('service' in t ? t.service : t.url));
  const hc = g.spec.healthCheck;
  const first = g.spec.targets.find((t): t is { service: string } => 'service' in t);
  const lost = `failover group ${name} (targets in order: ${targets.join(', ')}; health check ${hc.path} every ${hc.intervalSeconds}s, ${hc.failureThreshold} failures) has no Kubernetes equivalent`;
  if (!first) {
    out.warnings.push(`${lost}; its targets are all URLs, so nothing is exported for it`);
    return;
  }
  out.warnings.push(`${lost}; exported as Service ${name} sending all traffic to ${first.service}`);
  out.objects.push(
    service(
      {
        name,
        ...(opts.namespace ? { namespace: opts.namespace } : {}),
        labels: { ...g.metadata.labels, [LABEL_NAME]: name, [LABEL_MANAGED_BY]: MANAGED_BY_GRID },
        annotations: { ...g.metadata.annotations, 'grid.dev/failover-targets': JSON.stringify(targets) },
      },
      selectorOf(first.service),
      ports.get(first.service) ?? DEFAULT_CONTAINER_PORT,
    ),
  );
}
