// Turns untrusted YAML/JSON into ServiceManifests. Pure: no Nest, no I/O, so
// the API, the CLI and the tests all share one definition of "valid".
import { createHash } from 'node:crypto';
import { resolve as resolvePath } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import { importDocuments, type ImportNote } from './kubernetes/import.js';
import { join } from './field-path.js';
import { checkFaultSettings, MAX_FAULT_DELAY_MS, MAX_FAULT_SECONDS, MIN_RECOVER_SECONDS, PAUSE_MAX_SECONDS } from '../../common/chaos-limits.js';
import type {
  AnalysisSpec,
  AutoscaleSpec,
  CanaryStep,
  ChaosFaults,
  ChaosStep,
  Dependency,
  DependencyCondition,
  EnvVar,
  FailoverGroupManifest,
  FailoverGroupSpec,
  FailoverHealthCheck,
  FailoverTarget,
  FieldError,
  Manifest,
  Probe,
  RestartBackoff,
  RolloutSpec,
  RolloutStrategy,
  RuntimeName,
  ServiceManifest,
  ServiceSpec,
  StatusRange,
} from './spec.types.js';

/** A valid body: its services and its failover groups, each in the order of the body. */
export type ParseResult = { ok: true; manifests: ServiceManifest[]; groups: FailoverGroupManifest[]; imported: ImportNote[] } | { ok: false; errors: FieldError[] };
export type ValidateResult = { ok: true; manifest: ServiceManifest } | { ok: false; errors: FieldError[] };
type DocumentResult = { ok: true; manifest: Manifest } | { ok: false; errors: FieldError[] };

/** What only the running server knows. The validator stays pure: it is handed these rather than looking itself. */
export interface ParseOptions {
  /** Runtimes this Grid has (default: all). A spec for another is refused before that runtime's own fields are read. */
  hasRuntime?: (runtime: RuntimeName) => boolean;
  /** Why a runtime this Grid has cannot run pods now (the Docker socket does not answer); undefined when it can. */
  runtimeUnavailable?: (runtime: RuntimeName) => string | undefined;
  /** Where a relative spec.workingDir resolves (GridConfig.workDir), and how to tell a directory exists. Without it, workingDir is not checked against the disk. */
  workingDirs?: { base: string; isDirectory: (path: string) => boolean };
  /** Origins a FailoverGroup's url targets may name (GRID_FAILOVER_URL_ALLOWLIST); without it, none. */
  failoverUrlAllowlist?: readonly string[];
  /** Services and failover groups share one namespace: what is stored already, so a clash is refused at once. */
  serviceExists?: (name: string) => boolean;
  groupExists?: (name: string) => boolean;
  /** The stored group that names `name` as a service target, if any (a group may not take such a name). */
  targetedBy?: (name: string) => string | undefined;
  /** The services a stored service depends on (spec.dependsOn), so a cycle through stored services is refused too. */
  dependenciesOf?: (name: string) => readonly string[];
}

// Aliases are legitimate YAML, but each one can multiply the output size;
// capping them turns a "billion laughs" document into an error, not an OOM.
// uniqueKeys is checked here (duplicateYamlKey), not by the yaml package: its check compares every
// key of a map with every other, so a 1 MiB mapping of ~100k keys took minutes of CPU.
const YAML_PARSE_OPTIONS = { uniqueKeys: false, prettyErrors: true } as const;
const YAML_TOJS_OPTIONS = { maxAliasCount: 100 } as const;

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LOCAL_IMAGE = /^local:\/\/([A-Za-z0-9._-]+)@([A-Za-z0-9._-]+)$/;
const DOCKER_IMAGE = /^[a-z0-9][a-z0-9._/:@-]*$/i;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Kubernetes label syntax: keys are qualified names ([DNS-subdomain prefix/]name), values are names or empty.
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_NAME_SOURCE = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// The version label goes out as the X-Grid-Version response header, so it must be a plain token.
const VERSION_TOKEN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,62}$/;
// Docker's tag grammar; the tag becomes the version label when VERSION is not set.
const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const PERCENT = /^(\d{1,3})%$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const DURATION_UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

// Upper bounds the brief leaves open; they keep timers below setTimeout's
// 2^31 ms limit and reject values that can only be typos.
const MAX_PAUSE_SECONDS = 86_400;
/** A chaos experiment's length and recovery bound: an hour, as the faults API's own limit. */
const MAX_CHAOS_SECONDS = 3600;
const MAX_LONG_SECONDS = 86_400;

// execve(2) on Linux refuses (E2BIG) one argv/envp string longer than MAX_ARG_STRLEN
// (32 pages, counting its NUL) and all of them together beyond a quarter of the stack
// rlimit (typically 2 MiB). The spec may use half of the latter: the inherited
// environment and the variables Grid adds (PORT, POD_NAME, ...) need the rest.
const MAX_ARG_STRLEN = 32 * 4096;
const MAX_EXEC_BYTES = 1024 * 1024;

/** Bytes a string takes in argv or envp: UTF-8 plus the terminating NUL. */
function execBytes(value: string): number {
  return Buffer.byteLength(value) + 1;
}

type Obj = Record<string, unknown>;

function isMapping(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/** YAML `key:` with no value yields null; like Kubernetes, treat it as unset. */
function isAbsent(value: unknown): value is null | undefined {
  return value === undefined || value === null;
}

/** A string as an error shows it: escaped, so control characters stay visible, and cut short. */
function quote(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'number') return `number ${value}`;
  if (typeof value === 'string') return `string ${quote(value)}`;
  if (typeof value === 'boolean') return `boolean ${value}`;
  if (Array.isArray(value)) return 'array';
  if (isMapping(value)) return 'mapping';
  return typeof value;
}

function got(value: unknown): string {
  return `(got ${describe(value)})`;
}

/** For range checks: a number is shown bare ("got -1"), anything else with its type. */
function gotInRange(value: unknown): string {
  return typeof value === 'number' ? `(got ${value})` : got(value);
}

class Errors {
  readonly list: FieldError[] = [];
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }
  /** For the error that makes the others moot: it heads the list. */
  addFirst(path: string, message: string): void {
    this.list.unshift({ path, message });
  }
}

/** A key spelled as in Compose (`depends_on`) or in another case (`DependsOn`) is a Grid field; say which. */
function unknownField(key: string, allowed: readonly string[]): string {
  const norm = (k: string): string => k.replace(/[-_]/g, '').toLowerCase();
  const near = allowed.find((a) => norm(a) === norm(key));
  return near ? `unknown field; did you mean ${near}?` : 'unknown field';
}

/**
 * A mapping at a known path. Reports unknown keys on construction; each
 * getter reports its own errors and returns undefined when the field is
 * absent or invalid, so callers write `?? default` and keep going.
 */
class Fields {
  constructor(
    private readonly errors: Errors,
    readonly path: string,
    private readonly obj: Obj,
    allowed: readonly string[],
    hints: Readonly<Record<string, string>> = {},
  ) {
    for (const key of Object.keys(obj)) {
      // An unknown key is named in the path, cut short: a 200 KB key must not come back whole.
      if (!allowed.includes(key)) this.fail(key.length > 100 ? `${key.slice(0, 100)}…` : key, Object.hasOwn(hints, key) ? hints[key] : unknownField(key, allowed));
    }
  }

  at(key: string): string {
    return join(this.path, key);
  }

  fail(key: string, message: string): void {
    this.errors.add(this.at(key), message);
  }

  raw(key: string): unknown {
    return Object.hasOwn(this.obj, key) ? this.obj[key] : undefined;
  }

  has(key: string): boolean {
    return !isAbsent(this.raw(key));
  }

  required(key: string, why = 'is required'): boolean {
    if (this.has(key)) return true;
    this.fail(key, why);
    return false;
  }

  int(key: string, min: number, max: number): number | undefined {
    const value = this.raw(key);
    if (isAbsent(value)) return undefined;
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
    this.fail(key, `must be an integer ${min}..${max} ${gotInRange(value)}`);
    return undefined;
  }

  /** A finite number in [min, max], or (min, max] when minExclusive. */
  num(key: string, min: number, max: number, minExclusive = false): number | undefined {
    const value = this.raw(key);
    if (isAbsent(value)) return undefined;
    const inRange =
      typeof value === 'number' && Number.isFinite(value) && (minExclusive ? value > min : value >= min) && value <= max;
    if (inRange) return value;
    const range = minExclusive ? `greater than ${min} and at most ${max}` : `${min}..${max}`;
    this.fail(key, `must be a number ${range} ${gotInRange(value)}`);
    return undefined;
  }

  bool(key: string): boolean | undefined {
    const value = this.raw(key);
    if (isAbsent(value)) return undefined;
    if (typeof value === 'boolean') return value;
    this.fail(key, `must be a boolean ${got(value)}`);
    return undefined;
  }

  str(key: string, maxLength: number): string | undefined {
    const value = this.raw(key);
    if (isAbsent(value)) return undefined;
    if (typeof value !== 'string') {
      this.fail(key, `must be a string ${got(value)}`);
      return undefined;
    }
    if (value.length > maxLength) {
      this.fail(key, `must be at most ${maxLength} characters (got ${value.length})`);
      return undefined;
    }
    return value;
  }

  map(key: string, allowed: readonly string[], hints?: Readonly<Record<string, string>>): Fields | undefined {
    const value = this.raw(key);
    if (isAbsent(value)) return undefined;
    return fieldsAt(this.errors, this.at(key), value, allowed, hints);
  }

  array(key: string, maxItems: number): unknown[] | undefined {
    const value = this.raw(key);
    if (isAbsent(value)) return undefined;
    if (!Array.isArray(value)) {
      this.fail(key, `must be an array ${got(value)}`);
      return undefined;
    }
    if (value.length > maxItems) {
      this.fail(key, `must have at most ${maxItems} items (got ${value.length})`);
      return undefined;
    }
    return value;
  }
}

function fieldsAt(
  errors: Errors,
  path: string,
  value: unknown,
  allowed: readonly string[],
  hints?: Readonly<Record<string, string>>,
): Fields | undefined {
  if (isMapping(value)) return new Fields(errors, path, value, allowed, hints);
  errors.add(path, `must be a mapping ${got(value)}`);
  return undefined;
}

/** Seconds from a number or a Go-style duration string ("30s", "1m30s", "500ms"). */
function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string' || !DURATION.test(value)) return undefined;
  let seconds = 0;
  for (const [, amount, unit] of value.matchAll(DURATION_PART)) seconds += Number(amount) * DURATION_UNIT_SECONDS[unit];
  return seconds;
}

/** A duration the chaos service takes as whole seconds min..max: what /apply accepts, a rollout can run. */
function wholeSeconds(f: Fields, key: string, min: number, max: number): number | undefined {
  const seconds = duration(f, key, max, false);
  if (seconds === undefined) return undefined;
  if (Number.isInteger(seconds) && seconds >= min) return seconds;
  f.fail(key, `must be whole seconds ${min}..${max} such as 30s or 5m ${got(f.raw(key))}`);
  return undefined;
}

function duration(f: Fields, key: string, max: number, allowZero: boolean): number | undefined {
  const value = f.raw(key);
  if (isAbsent(value)) return undefined;
  const seconds = parseDuration(value);
  if (seconds !== undefined && seconds <= max && (allowZero || seconds > 0)) return seconds;
  const bound = `${allowZero ? '' : 'greater than 0 and '}at most ${max}s`;
  f.fail(key, `must be a duration such as 30s, 5m, 1h, 500ms or a number of seconds, ${bound} ${got(value)}`);
  return undefined;
}

/** Validates one Service document. */
export function validateManifest(raw: unknown, options: ParseOptions = {}): ValidateResult {
  const result = validateDocument(raw, options);
  if (!result.ok) return result;
  if (result.manifest.kind !== 'Service') return { ok: false, errors: [{ path: 'kind', message: `must be Service (got ${result.manifest.kind})` }] };
  return { ok: true, manifest: result.manifest };
}

function validateDocument(raw: unknown, options: ParseOptions): DocumentResult {
  const errors = new Errors();
  const manifest = readManifest(errors, raw, options);
  if (errors.list.length > 0 || manifest === undefined) return { ok: false, errors: errors.list };
  return { ok: true, manifest };
}

function readManifest(errors: Errors, raw: unknown, options: ParseOptions): Manifest | undefined {
  if (!isMapping(raw)) {
    errors.add('(root)', `must be a mapping ${got(raw)}`);
    return undefined;
  }
  const top = new Fields(errors, '', raw, ['apiVersion', 'kind', 'metadata', 'spec']);

  const apiVersion = top.raw('apiVersion');
  if (!isAbsent(apiVersion) && apiVersion !== 'v1' && apiVersion !== 'grid/v1') {
    errors.add('apiVersion', `must be v1 ${got(apiVersion)}`);
  }

  const kind = top.raw('kind');
  let kindOk = false;
  if (isAbsent(kind)) errors.add('kind', 'is required');
  else if (typeof kind !== 'string') errors.add('kind', `must be a string ${got(kind)}`);
  else if (kind !== 'Service' && kind !== 'FailoverGroup') errors.add('kind', `unknown kind '${cut(kind)}' (expected Service); the kinds are Service and FailoverGroup`);
  else kindOk = true;

  const metadata = readMetadata(errors, top);
  if (kindOk && kind === 'FailoverGroup') {
    const spec = readGroupSpec(errors, top, options);
    if (metadata === undefined || spec === undefined) return undefined;
    return { apiVersion: 'v1', kind: 'FailoverGroup', metadata, spec };
  }
  // The spec's shape depends on the kind; validating a foreign kind's spec as
  // a Service would only bury the one error that matters.
  const spec = kindOk ? readSpec(errors, top, options) : undefined;
  if (metadata === undefined || spec === undefined) return undefined;
  const self = spec.dependsOn?.findIndex((d) => d.service === metadata.name) ?? -1;
  if (self >= 0) {
    errors.add(`spec.dependsOn[${self}].service`, `'${metadata.name}' cannot depend on itself`);
    return undefined;
  }
  return { apiVersion: 'v1', kind: 'Service', metadata, spec };
}

function readMetadata(errors: Errors, top: Fields): ServiceManifest['metadata'] | undefined {
  if (!top.required('metadata')) return undefined;
  const m = top.map('metadata', ['name', 'labels', 'annotations']);
  if (!m) return undefined;

  let name: string | undefined;
  if (m.required('name')) {
    const value = m.raw('name');
    const path = m.at('name');
    if (typeof value !== 'string') errors.add(path, `must be a string ${got(value)}`);
    else if (value.length > 63) errors.add(path, `must be at most 63 characters (got ${value.length})`);
    else if (!DNS_1123_LABEL.test(value)) {
      errors.add(
        path,
        `must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit (got '${value}')`,
      );
    } else if (value.includes('--')) errors.add(path, `must not contain '--' (reserved by Grid, e.g. for --preview)`);
    else name = value;
  }

  const labels = readQualifiedMap(errors, m, 'labels', (value) => {
    if (value.length > 63) return `must be at most 63 characters (got ${value.length})`;
    if (value !== '' && !LABEL_NAME.test(value)) return `must be empty or match ${LABEL_NAME_SOURCE} ${got(value)}`;
    return undefined;
  });
  // metadata.annotations as Kubernetes has them: any string value, 256 KiB of keys and values in all.
  // Grid reads its own (grid.dev/image, grid.dev/command) and keeps the rest, so an exported or
  // imported object carries them through. Absent or empty: no annotations field at all.
  const annotations = readQualifiedMap(errors, m, 'annotations', (value) => (value.includes('\0') ? 'must not contain NUL' : undefined));
  // Read only on an imported Kubernetes object (which becomes a spec with spec.command): on a Grid
  // spec it would do nothing here and turn a container into a host process after an export.
  if (annotations['grid.dev/command'] !== undefined) errors.add(join(m.at('annotations'), 'grid.dev/command'), 'is read on imported Kubernetes objects only; a Grid spec gives its command in spec.command');
  const annotationBytes = Object.entries(annotations).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  if (annotationBytes > MAX_ANNOTATIONS_BYTES) m.fail('annotations', `must total at most ${MAX_ANNOTATIONS_BYTES} bytes of keys and values (got ${annotationBytes})`);
  if (name === undefined) return undefined;
  return Object.keys(annotations).length > 0 ? { name, labels, annotations } : { name, labels };
}

/** Kubernetes' limit on all of an object's annotation keys and values together. */
const MAX_ANNOTATIONS_BYTES = 256 * 1024;

/** metadata.labels or .annotations: Kubernetes qualified-name keys, string values that `valueProblem` accepts. */
function readQualifiedMap(errors: Errors, m: Fields, field: string, valueProblem: (value: string) => string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = m.raw(field);
  if (isAbsent(raw)) return out;
  if (!isMapping(raw)) {
    m.fail(field, `must be a mapping of strings ${got(raw)}`);
    return out;
  }
  for (const [key, value] of Object.entries(raw)) {
    const keyProblem = labelKeyProblem(key);
    if (keyProblem !== undefined) {
      m.fail(field, keyProblem);
      continue;
    }
    const at = join(m.at(field), key);
    const problem = typeof value !== 'string' ? `must be a string ${got(value)}` : valueProblem(value);
    if (problem !== undefined) errors.add(at, problem);
    else out[key] = value as string;
  }
  return out;
}

/** Why a label key is not a Kubernetes qualified name, or undefined when it is one. */
function labelKeyProblem(key: string): string | undefined {
  const shown = `key ${quote(key)}`;
  const parts = key.split('/');
  const general = `${shown} must be a qualified name: an optional DNS subdomain prefix and '/', then a name matching ${LABEL_NAME_SOURCE}`;
  if (parts.length > 2) return general;
  const [prefix, name] = parts.length === 2 ? parts : [undefined, key];
  if (prefix !== undefined) {
    if (prefix.length > 253) return `${shown}: prefix must be at most 253 characters (got ${prefix.length})`;
    if (!DNS_1123_SUBDOMAIN.test(prefix)) return `${shown}: prefix must be a DNS subdomain: lowercase letters, digits, '-' and '.' ${got(prefix)}`;
  }
  if (name.length > 63) return `${shown}: name part must be at most 63 characters (got ${name.length})`;
  return LABEL_NAME.test(name) ? undefined : general;
}

const SPEC_FIELDS = [
  'replicas',
  'runtime',
  'image',
  'command',
  'workingDir',
  'port',
  'network',
  'imagePullPolicy',
  'resources',
  'env',
  'readinessProbe',
  'livenessProbe',
  'startupProbe',
  'terminationGracePeriodSeconds',
  'restartBackoff',
  'autoscale',
  'rollout',
  'revisionHistoryLimit',
  'dependsOn',
  'storage',
] as const;

/** Compose and Kubernetes names for what a Grid spec calls otherwise: a user coming from either gets the Grid field, not just "unknown". */
const SPEC_HINTS: Readonly<Record<string, string>> = {
  environment: 'unknown field; did you mean env? (a list of {name, value})',
  entrypoint: 'unknown field; did you mean command?',
  args: 'unknown field; did you mean command? (the program and its arguments in one list)',
  containers: 'unknown field; a Grid service runs one program: give image (or command) and port in spec itself',
  ports: 'unknown field; did you mean port? (the one port the pod listens on)',
  healthcheck: 'unknown field; did you mean readinessProbe? ({httpGet: {path}})',
  volumes: 'unknown field; did you mean storage? ({persistent: true} gives each pod a data directory, $(GRID_POD_DATA))',
  volumeClaimTemplates: 'unknown field; did you mean storage? ({persistent: true} gives each pod a data directory, $(GRID_POD_DATA))',
  strategy: 'unknown field; did you mean rollout? ({strategy: Rolling | BlueGreen | Canary})',
  deploy: 'unknown field; Grid reads replicas, resources and rollout from spec itself',
  scale: 'unknown field; did you mean replicas?',
  restart: 'unknown field; Grid always restarts a pod that exits (see restartBackoff)',
  minReadySeconds: 'unknown field; did you mean rollout.minReadySeconds?',
};

function readSpec(errors: Errors, top: Fields, options: ParseOptions): ServiceSpec | undefined {
  if (!top.required('spec')) return undefined;
  const s = top.map('spec', SPEC_FIELDS, SPEC_HINTS);
  if (!s) return undefined;

  const replicas = s.int('replicas', 0, 1000) ?? 1;
  const workload = readWorkload(errors, s, options);
  const workingDir = readWorkingDir(s, workload?.runtime, options);
  const env = readEnv(errors, s);
  checkExecSize(s, workload?.command ?? [], env);
  const readinessProbe = readProbe(s, 'readinessProbe');
  const livenessProbe = readProbe(s, 'livenessProbe');
  const startupProbe = readProbe(s, 'startupProbe');
  const terminationGracePeriodSeconds = s.int('terminationGracePeriodSeconds', 0, 3600) ?? 10;
  const restartBackoff = readRestartBackoff(s);
  const autoscale = readAutoscale(s);
  const rollout = readRollout(errors, s);
  const revisionHistoryLimit = s.int('revisionHistoryLimit', 0, 100) ?? 10;
  const dependsOn = readDependsOn(errors, s);
  const storage = s.map('storage', ['persistent', 'mountPath']);
  const persistent = storage?.bool('persistent') ?? false;
  const mountPath = storage ? readMountPath(storage, persistent, workload?.runtime) : undefined;
  // Two versions side by side would share ordinals, and so each other's data directory.
  if (persistent && rollout.strategy !== 'Rolling') {
    errors.add('spec.rollout.strategy', `must be Rolling with spec.storage.persistent: a ${rollout.strategy} rollout runs two versions side by side, and they would share each ordinal's data directory (got ${rollout.strategy})`);
  }

  if (!workload) return undefined;
  const spec: ServiceSpec = {
    replicas,
    ...workload,
    env,
    terminationGracePeriodSeconds,
    restartBackoff,
    rollout,
    revisionHistoryLimit,
  };
  // Optional fields are left out rather than set to undefined so that two
  // equal specs are also equal under toEqual and produce the same hash.
  if (workingDir !== undefined) spec.workingDir = workingDir;
  if (readinessProbe) spec.readinessProbe = readinessProbe;
  if (livenessProbe) spec.livenessProbe = livenessProbe;
  if (startupProbe) spec.startupProbe = startupProbe;
  if (autoscale) spec.autoscale = autoscale;
  if (dependsOn && dependsOn.length > 0) spec.dependsOn = dependsOn;
  if (persistent) spec.storage = mountPath === undefined ? { persistent: true } : { persistent: true, mountPath };
  return spec;
}

/**
 * spec.storage.mountPath: where a container finds its directory. Docker's bind syntax is
 * host:container[:options], so a ':' would be read as options; '/' would hide the image itself.
 */
function readMountPath(st: Fields, persistent: boolean, runtime: RuntimeName | undefined): string | undefined {
  const value = st.str('mountPath', 4096);
  if (value === undefined) return undefined;
  const problem = value.includes('\0')
    ? 'must not contain a NUL byte'
    : !value.startsWith('/')
      ? 'must be an absolute path inside the container'
      : value.split('/').includes('..')
        ? "must not contain '..'"
        : value.includes(':')
          ? "must not contain ':' (Docker's bind syntax separates host path, container path and options with it)"
          : /^\/+$/.test(value)
            ? "must not be '/': the directory would hide the container's whole filesystem"
            : !persistent
              ? 'needs spec.storage.persistent: true (there is no directory to mount without it)'
              : runtime !== undefined && runtime !== 'docker'
                ? `is for the docker runtime (an image): a ${runtime} pod is not mounted anything, it finds its directory in $GRID_POD_DATA`
                : undefined;
  if (problem === undefined) return value;
  st.fail('mountPath', `${problem} ${got(value)}`);
  return undefined;
}

export const MAX_DEPENDENCIES = 16;
const DEPENDENCY_CONDITIONS: readonly DependencyCondition[] = ['Available', 'Started'];

const COMPOSE_CONDITIONS: Readonly<Record<string, string>> = { service_healthy: 'did you mean Available? ', service_started: 'did you mean Started? ' };

function readDependsOn(errors: Errors, s: Fields): Dependency[] | undefined {
  // Compose writes depends_on as a list of names or a mapping by name; say what Grid's form is.
  const raw = s.raw('dependsOn');
  if (isMapping(raw)) {
    const first = Object.keys(raw)[0] ?? 'db';
    s.fail('dependsOn', `must be a list of mappings like [{service: ${first}}] (got a mapping)`);
    return undefined;
  }
  const items = s.array('dependsOn', MAX_DEPENDENCIES);
  if (!items) return undefined;
  const deps: Dependency[] = [];
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (typeof item === 'string') {
      errors.add(join(s.at('dependsOn'), i), `must be a mapping like {service: ${item.length <= 63 && DNS_1123_LABEL.test(item) ? item : 'db'}} ${got(item)}`);
      return;
    }
    const d = fieldsAt(errors, join(s.at('dependsOn'), i), item, ['service', 'condition']);
    if (!d) return;
    const name = d.raw('service');
    const condition = d.raw('condition');
    let ok = true;
    if (typeof name !== 'string' || name.length > 63 || !DNS_1123_LABEL.test(name)) {
      d.fail('service', `must be the name of a Grid service (a DNS-1123 label) ${got(name)}`);
      ok = false;
    } else if (seen.has(name)) {
      d.fail('service', `duplicate dependency '${name}'`);
      ok = false;
    }
    if (!isAbsent(condition) && !DEPENDENCY_CONDITIONS.includes(condition as DependencyCondition)) {
      d.fail('condition', `${typeof condition === 'string' && Object.hasOwn(COMPOSE_CONDITIONS, condition) ? COMPOSE_CONDITIONS[condition] : ''}must be Available (default: the service's Available condition is True) or Started (one of its pods is Running); a service that does not exist yet is waited for ${got(condition)}`);
      ok = false;
    }
    if (!ok) return;
    seen.add(name as string);
    deps.push({ service: name as string, condition: isAbsent(condition) ? 'Available' : (condition as DependencyCondition) });
  });
  return deps;
}

type Workload = Pick<ServiceSpec, 'runtime' | 'image' | 'command' | 'port' | 'network' | 'imagePullPolicy' | 'resources'>;

function readWorkload(errors: Errors, s: Fields, options: ParseOptions): Workload | undefined {
  const port = s.int('port', 1, 65535);
  const image = s.str('image', 255);
  const command = readCommand(errors, s);
  const imageGiven = s.has('image');
  const commandGiven = s.has('command');

  let derived: RuntimeName | undefined;
  const imageRaw = s.raw('image');
  const isLocal = typeof imageRaw === 'string' && imageRaw.startsWith('local://');
  if (imageGiven && commandGiven && s.raw('runtime') === 'docker' && !isLocal) {
    // Said explicitly, a command beside a docker image is the container's entrypoint (Kubernetes' `command`).
    if (image !== undefined) derived = readImageRuntime(errors, s, image);
  } else if (imageGiven && commandGiven) {
    errors.add(
      s.path,
      isLocal
        ? 'use either image local://… (simulated) or command (process runtime), not both'
        : 'use either image (docker) or command (process runtime), not both; add runtime: docker to run the command in the image',
    );
  } else if (!imageGiven && !commandGiven) {
    errors.add(s.path, 'one of image or command is required');
  } else if (commandGiven) {
    derived = 'process';
  } else if (image !== undefined) {
    derived = readImageRuntime(errors, s, image);
  }

  const runtimeRaw = s.raw('runtime');
  if (!isAbsent(runtimeRaw)) {
    if (runtimeRaw !== 'sim' && runtimeRaw !== 'process' && runtimeRaw !== 'docker') {
      s.fail('runtime', `must be one of sim, process, docker ${got(runtimeRaw)}`);
    } else if (derived !== undefined && runtimeRaw !== derived) {
      const source = derived === 'process' ? 'spec.command' : 'spec.image';
      s.fail('runtime', `'${runtimeRaw}' does not match the runtime implied by ${source} (${derived})`);
    }
  }

  if (derived === undefined) return undefined;
  const unavailable = options.runtimeUnavailable?.(derived);
  if (unavailable !== undefined) {
    errors.addFirst(s.at(derived === 'process' ? 'command' : 'image'), `${derived === 'docker' ? `'${image}' ` : ''}needs the ${derived} runtime, which is unavailable: ${unavailable}`);
    return undefined;
  }
  if (options.hasRuntime?.(derived) === false) {
    // A docker spec's missing port is beside the point until Grid can run docker at all:
    // say that first, rather than have the user fix the port only to be refused again.
    const alternatives = derived === 'process' ? 'image local://<name>@<version> (simulated)' : 'image local://<name>@<version> (simulated) or command: [...] (process)';
    errors.addFirst(s.at(derived === 'process' ? 'command' : 'image'), `needs the ${derived} runtime, which this Grid does not have yet; use ${alternatives}`);
    return undefined;
  }
  const workload: Workload = { runtime: derived };
  if (derived === 'docker' && image !== undefined) Object.assign(workload, readDockerFields(s, image, port));
  else rejectDockerOnly(s);
  if (derived === 'process') workload.command = command;
  else workload.image = image;
  if (derived === 'docker' && command !== undefined) workload.command = command;
  if (port !== undefined) workload.port = port;
  return workload;
}

const DOCKER_ONLY = ['network', 'imagePullPolicy', 'resources'] as const;
const PULL_POLICIES = ['IfNotPresent', 'Never', 'Always'] as const;
const NETWORKS = ['host', 'bridge'] as const;
/** Docker's and Kubernetes' spellings: a plain number is bytes; k/m/g are powers of 1000, Ki/Mi/Gi of 1024. */
const MEMORY = /^(\d+(?:\.\d+)?)(k|Ki|M|Mi|G|Gi)?$/;
const MEMORY_UNIT: Record<string, number> = { k: 1e3, Ki: 1024, M: 1e6, Mi: 1024 ** 2, G: 1e9, Gi: 1024 ** 3 };
/** Docker refuses less than 6 MiB. */
const MIN_MEMORY = 6 * 1024 ** 2;
const MAX_MEMORY = 1024 ** 4;

function rejectDockerOnly(s: Fields): void {
  for (const key of DOCKER_ONLY) if (s.has(key)) s.fail(key, 'applies to docker images only (spec.image: name:tag)');
}

function oneOfField<T extends string>(s: Fields, key: string, allowed: readonly T[]): T | undefined {
  const value = s.raw(key);
  if (isAbsent(value)) return undefined;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  s.fail(key, `must be one of ${allowed.join(', ')} ${got(value)}`);
  return undefined;
}

function readResources(s: Fields): ServiceSpec['resources'] {
  const r = s.map('resources', ['cpus', 'memory'], { limits: 'Grid takes cpus and memory here directly', requests: 'Grid takes cpus and memory here directly' });
  if (!r) return undefined;
  const out: NonNullable<ServiceSpec['resources']> = {};
  const cpus = r.num('cpus', 0, 1024, true);
  if (cpus !== undefined) {
    if (cpus < 0.01) r.fail('cpus', `must be at least 0.01 (got ${cpus})`);
    else out.cpus = cpus;
  }
  const raw = r.raw('memory');
  if (!isAbsent(raw)) {
    const m = typeof raw === 'string' ? MEMORY.exec(raw) : null;
    const bytes = typeof raw === 'number' ? raw : m ? Math.round(Number(m[1]) * (m[2] ? MEMORY_UNIT[m[2]] : 1)) : NaN;
    if (!Number.isInteger(bytes)) r.fail('memory', `must be bytes or a quantity such as 256Mi, 512M, 1Gi ${got(raw)}`);
    else if (bytes < MIN_MEMORY || bytes > MAX_MEMORY) r.fail('memory', `must be 6Mi..1Ti (got ${bytes} bytes)`);
    else out.memory = bytes;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function readImageRuntime(errors: Errors, s: Fields, image: string): RuntimeName | undefined {
  const path = s.at('image');
  if (image.startsWith('local://')) {
    if (LOCAL_IMAGE.test(image)) return 'sim';
    errors.add(path, `must be local://<name>@<version> using [A-Za-z0-9._-] (got '${image}')`);
    return undefined;
  }
  // A URL-looking reference would otherwise pass the character check below.
  if (!DOCKER_IMAGE.test(image) || image.includes('://')) {
    errors.add(path, `must be local://<name>@<version> or a docker image reference such as nginx:1.27 (got '${image}')`);
    return undefined;
  }
  return 'docker';
}

function readDockerFields(s: Fields, image: string, port: number | undefined): Pick<ServiceSpec, 'network' | 'imagePullPolicy' | 'resources'> {
  const out: Pick<ServiceSpec, 'network' | 'imagePullPolicy' | 'resources'> = {};
  // Absent fields stay absent, so a spec that does not set them keeps its template hash.
  const network = oneOfField(s, 'network', NETWORKS);
  if (network !== undefined) out.network = network;
  // On the host network Grid hands the container its PORT, as it does a process; only a bridge needs to know where to publish.
  if (network === 'bridge' && port === undefined && !s.has('port')) {
    s.fail('port', 'is required for a docker image on network: bridge (the port the container listens on, published on 127.0.0.1)');
  }
  const pull = oneOfField(s, 'imagePullPolicy', PULL_POLICIES);
  if (pull !== undefined) out.imagePullPolicy = pull;
  const resources = readResources(s);
  if (resources) out.resources = resources;
  // Where versionOf (specs.service.ts) takes the version label from: after the last ':' past the last '/'.
  const colon = image.lastIndexOf(':');
  if (colon > image.lastIndexOf('/')) {
    const tag = image.slice(colon + 1);
    if (!DOCKER_TAG.test(tag)) s.fail('image', `tag must match ${DOCKER_TAG.source} (got '${tag}')`);
  }
  return out;
}

function readWorkingDir(s: Fields, runtime: RuntimeName | undefined, options: ParseOptions): string | undefined {
  const value = s.str('workingDir', 4096);
  if (value === undefined) return undefined;
  if (value.includes('\0')) {
    s.fail('workingDir', `must not contain a NUL byte ${got(value)}`);
    return undefined;
  }
  // Docker wants an absolute path inside the image; a relative one would crash-loop at create.
  if (runtime === 'docker' && !value.startsWith('/')) s.fail('workingDir', `must be an absolute path inside the image for a docker image ${got(value)}`);
  // Only the process runtime runs in it. Checked here, a typo is a 400 instead of a pod that can never start.
  const dirs = options.workingDirs;
  if (dirs && runtime === 'process') {
    const resolved = resolvePath(dirs.base, value);
    if (!dirs.isDirectory(resolved)) s.fail('workingDir', `must be an existing directory: '${cut(value)}' is not a directory (resolved to ${cut(resolved)})`);
  }
  return value;
}

function checkExecSize(s: Fields, command: string[], env: EnvVar[]): void {
  let total = 0;
  for (const arg of command) total += execBytes(arg);
  for (const e of env) total += execBytes(`${e.name}=${e.value}`);
  if (total <= MAX_EXEC_BYTES) return;
  // command alone cannot get there (64 arguments of 4096 characters), so env is what to shorten.
  s.fail(
    'env',
    `command and env together must be at most ${MAX_EXEC_BYTES} bytes (got ${total}): Linux's execve allows a quarter of the stack limit (typically 2 MiB), and the inherited environment and Grid's own variables need the rest`,
  );
}

function readCommand(errors: Errors, s: Fields): string[] | undefined {
  const value = s.raw('command');
  if (isAbsent(value)) return undefined;
  const path = s.at('command');
  if (!Array.isArray(value)) {
    errors.add(path, `must be an array of strings (no shell is used) ${got(value)}`);
    return undefined;
  }
  if (value.length === 0) errors.add(path, 'must not be empty');
  if (value.length > 64) errors.add(path, `must have at most 64 items (got ${value.length})`);
  let ok = value.length > 0 && value.length <= 64;
  value.forEach((arg: unknown, i) => {
    if (typeof arg !== 'string' || arg.length === 0) {
      errors.add(join(path, i), `must be a non-empty string ${got(arg)}`);
      ok = false;
    } else if (arg.length > 4096) {
      errors.add(join(path, i), `must be at most 4096 characters (got ${arg.length})`);
      ok = false;
    } else if (arg.includes('\0')) {
      errors.add(join(path, i), `must not contain a NUL byte ${got(arg)}`);
      ok = false;
    }
  });
  return ok ? (value as string[]) : undefined;
}

function readEnv(errors: Errors, s: Fields): EnvVar[] {
  const items = s.array('env', 256);
  if (!items) return [];
  const env: EnvVar[] = [];
  const firstIndex = new Map<string, number>();
  items.forEach((item, i) => {
    const e = fieldsAt(errors, join(s.at('env'), i), item, ['name', 'value']);
    if (!e) return;
    let name: string | undefined;
    if (e.required('name')) {
      const raw = e.raw('name');
      if (typeof raw !== 'string') e.fail('name', `must be a string ${got(raw)}`);
      else if (!ENV_NAME.test(raw)) e.fail('name', `must match ${ENV_NAME.source} ${got(raw)}`);
      else name = raw;
    }
    if (name !== undefined) {
      const earlier = firstIndex.get(name);
      if (earlier === undefined) firstIndex.set(name, i);
      else e.fail('name', `duplicate name '${name}' (first at ${join(s.at('env'), earlier)})`);
    }
    // Like Kubernetes: `value: 8080` is an error, not a silent conversion;
    // an absent value means the empty string.
    const rawValue = e.raw('value');
    let value = '';
    if (!isAbsent(rawValue)) {
      if (typeof rawValue !== 'string') e.fail('value', `must be a string; quote it ${got(rawValue)}`);
      else if (rawValue.includes('\0')) e.fail('value', `must not contain a NUL byte ${got(rawValue)}`);
      else if (name === 'VERSION' && rawValue !== '' && !VERSION_TOKEN.test(rawValue)) {
        e.fail('value', `is the version label and becomes the X-Grid-Version header, so it must match ${VERSION_TOKEN.source} ${got(rawValue)}`);
      } else value = rawValue;
    }
    if (name === undefined) return;
    const bytes = execBytes(`${name}=${value}`);
    if (bytes > MAX_ARG_STRLEN) {
      const culprit = Buffer.byteLength(name) > Buffer.byteLength(value) ? 'name' : 'value';
      e.fail(culprit, `as NAME=value must be at most ${MAX_ARG_STRLEN} bytes including the terminating NUL (MAX_ARG_STRLEN) (got ${bytes})`);
      return;
    }
    env.push({ name, value });
  });
  return env;
}

const PROBE_HINT = 'unknown field (Grid supports httpGet probes only)';
const HTTP_GET_HINT = "only path is allowed; Grid probes 127.0.0.1 on the pod's port";

function readProbe(s: Fields, key: 'readinessProbe' | 'livenessProbe' | 'startupProbe'): Probe | undefined {
  const p = s.map(
    key,
    ['httpGet', 'initialDelaySeconds', 'periodSeconds', 'timeoutSeconds', 'successThreshold', 'failureThreshold'],
    { exec: PROBE_HINT, tcpSocket: PROBE_HINT, grpc: PROBE_HINT },
  );
  if (!p) return undefined;

  let path: string | undefined;
  if (p.required('httpGet')) {
    const h = p.map('httpGet', ['path'], { host: HTTP_GET_HINT, port: HTTP_GET_HINT, scheme: HTTP_GET_HINT });
    if (h && h.required('path')) path = readProbePath(h);
  }

  const initialDelaySeconds = p.int('initialDelaySeconds', 0, 3600) ?? 0;
  const periodSeconds = p.int('periodSeconds', 1, 3600) ?? 10;
  const timeoutSeconds = p.int('timeoutSeconds', 1, 3600) ?? 1;
  const failureThreshold = p.int('failureThreshold', 1, 100) ?? 3;
  const successThreshold = p.int('successThreshold', 1, 100) ?? 1;
  // As in Kubernetes: a liveness or startup probe acts on the first success.
  if (key !== 'readinessProbe' && successThreshold !== 1) {
    p.fail('successThreshold', `must be 1 for ${key} (got ${successThreshold})`);
  }

  if (path === undefined) return undefined;
  return { httpGet: { path }, initialDelaySeconds, periodSeconds, timeoutSeconds, successThreshold, failureThreshold };
}

function readProbePath(h: Fields): string | undefined {
  const value = h.str('path', 2048);
  if (value === undefined) return undefined;
  // The path is appended to http://127.0.0.1:<port>; anything that could
  // change the authority would turn a probe into a request elsewhere.
  let problem: string | undefined;
  if (!value.startsWith('/')) problem = "must start with '/'";
  else if (value.startsWith('//')) problem = "must not start with '//'";
  else if (value.includes('://')) problem = "must be a path, not a URL (contains '://')";
  // C1 controls and U+2028/2029 too: YAML parsers read \x85, U+2028 and U+2029 as line breaks.
  else if (/[\s\x00-\x1f\x7f-\x9f\u2028\u2029]/.test(value)) problem = 'must not contain whitespace or control characters';
  // A failover check goes to <GRID url>/gateway/<service><path>: '..' would climb out to another service or Grid's own API.
  else if (value.split(/[?#]/)[0].split('/').some((seg) => /^(\.|%2e){1,2}$/i.test(seg))) problem = "must not contain '.' or '..' segments (plain or %2e)";
  if (problem === undefined) return value;
  h.fail('path', `${problem} (got ${quote(value)})`);
  return undefined;
}

// --- FailoverGroup --------------------------------------------------------------

const MAX_TARGETS = 10;
const STATUS_RANGE = /^(\d{3})(?:-(\d{3}))?$/;
const MAX_EXPECT_JSON = 4096;

function readGroupSpec(errors: Errors, top: Fields, options: ParseOptions): FailoverGroupSpec | undefined {
  if (!top.required('spec')) return undefined;
  const s = top.map('spec', ['targets', 'healthCheck', 'cooldownSeconds', 'failback']);
  if (!s) return undefined;
  const targets = readTargets(errors, s, options);
  const healthCheck = readHealthCheck(s);
  const cooldownSeconds = s.num('cooldownSeconds', 0, MAX_LONG_SECONDS) ?? 30;
  const failbackRaw = s.raw('failback');
  let failback: FailoverGroupSpec['failback'] = 'auto';
  if (failbackRaw === 'auto' || failbackRaw === 'manual') failback = failbackRaw;
  else if (!isAbsent(failbackRaw)) s.fail('failback', `must be auto or manual ${got(failbackRaw)}`);
  if (targets === undefined || healthCheck === undefined) return undefined;
  return { targets, healthCheck, cooldownSeconds, failback };
}

function readTargets(errors: Errors, s: Fields, options: ParseOptions): FailoverTarget[] | undefined {
  if (!s.required('targets', `is required: 1..${MAX_TARGETS} targets in priority order, each {service: <name>} or {url: http://host:port}`)) return undefined;
  const items = s.array('targets', MAX_TARGETS);
  if (!items) return undefined;
  if (items.length === 0) {
    s.fail('targets', `must have 1..${MAX_TARGETS} targets (got 0)`);
    return undefined;
  }
  const allow = new Set(options.failoverUrlAllowlist ?? []);
  const targets: FailoverTarget[] = [];
  const seen = new Set<string>();
  let ok = true;
  items.forEach((item, i) => {
    const t = fieldsAt(errors, join(s.at('targets'), i), item, ['service', 'url']);
    if (!t) return (ok = false);
    if (t.has('service') === t.has('url')) {
      errors.add(t.path, 'must have exactly one of service or url');
      return (ok = false);
    }
    const target = t.has('service') ? readTargetService(t, options) : readTargetUrl(t, allow);
    if (target === undefined) return (ok = false);
    const key = 'service' in target ? target.service : target.url;
    if (seen.has(key)) {
      errors.add(t.path, `duplicate target '${key}'`);
      return (ok = false);
    }
    seen.add(key);
    targets.push(target);
  });
  return ok ? targets : undefined;
}

function readTargetService(t: Fields, options: ParseOptions): FailoverTarget | undefined {
  const name = t.raw('service');
  if (typeof name !== 'string' || name.length > 63 || !DNS_1123_LABEL.test(name)) t.fail('service', `must be the name of a Grid service (a DNS-1123 label) ${got(name)}`);
  else if (options.groupExists?.(name)) t.fail('service', `'${name}' is a failover group; targets are services or urls`);
  else return { service: name };
  return undefined;
}

/** The url of a target as its origin, if it is an http origin the operator allowed: Grid must not become a way to reach anything else. */
function readTargetUrl(t: Fields, allow: ReadonlySet<string>): FailoverTarget | undefined {
  const value = t.str('url', 2048);
  if (value === undefined) return undefined;
  const origin = httpOrigin(value);
  if (origin === undefined) {
    t.fail('url', `must be an http origin such as http://10.0.0.5:8080 (no path, query, credentials or https) (got ${quote(value)})`);
    return undefined;
  }
  if (!allow.has(origin)) {
    const listed = allow.size === 0 ? 'it is empty' : `it has ${[...allow].join(', ')}`;
    t.fail('url', `${origin} is not in GRID_FAILOVER_URL_ALLOWLIST (${listed}); the operator lists the exact origins failover groups may send traffic to`);
    return undefined;
  }
  return { url: origin };
}

/** `http://host[:port]` (a trailing / allowed) as its normalised origin; undefined for anything else. */
export function httpOrigin(value: string): string | undefined {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' || u.username !== '' || u.password !== '' || u.search !== '' || u.hash !== '' || u.pathname !== '/') return undefined;
  if (value.endsWith('?') || value.endsWith('#')) return undefined;
  return u.origin;
}

function readHealthCheck(s: Fields): FailoverHealthCheck | undefined {
  const h = s.map('healthCheck', ['path', 'intervalSeconds', 'timeoutSeconds', 'maxLatencyMs', 'expectStatus', 'expectJson', 'failureThreshold', 'successThreshold']);
  const path = h?.has('path') ? readProbePath(h) : '/health';
  const intervalSeconds = h?.num('intervalSeconds', 0.1, 3600) ?? 5;
  const timeoutSeconds = h?.num('timeoutSeconds', 0.05, 60) ?? 2;
  const maxLatencyMs = h?.num('maxLatencyMs', 0, 60_000, true);
  if (maxLatencyMs !== undefined && maxLatencyMs >= timeoutSeconds * 1000) {
    h!.fail('maxLatencyMs', `must be below timeoutSeconds (${timeoutSeconds * 1000} ms): a slower answer is cut off by the timeout anyway (got ${maxLatencyMs})`);
  }
  const expectStatus = h ? readExpectStatus(h) : [{ min: 200, max: 399 }];
  const expectJson = h ? readExpectJson(h) : undefined;
  const failureThreshold = h?.int('failureThreshold', 1, 100) ?? 3;
  const successThreshold = h?.int('successThreshold', 1, 100) ?? 2;
  if (path === undefined || expectStatus === undefined) return undefined;
  const check: FailoverHealthCheck = { path, intervalSeconds, timeoutSeconds, expectStatus, failureThreshold, successThreshold };
  if (maxLatencyMs !== undefined) check.maxLatencyMs = maxLatencyMs;
  if (expectJson !== undefined) check.expectJson = expectJson;
  return check;
}

/** A status (200), a range ("200-399"), or a list of either; default 200-399. */
function readExpectStatus(h: Fields): StatusRange[] | undefined {
  const value = h.raw('expectStatus');
  if (isAbsent(value)) return [{ min: 200, max: 399 }];
  const items = Array.isArray(value) ? value : [value];
  const problem = `must be a status code 100..599, a range such as "200-399" or {min: 200, max: 399}, or a list of them ${got(value)}`;
  if (items.length === 0 || items.length > 20) {
    h.fail('expectStatus', problem);
    return undefined;
  }
  const ranges: StatusRange[] = [];
  for (const item of items) {
    let range: StatusRange | undefined;
    if (typeof item === 'number' && Number.isInteger(item)) range = { min: item, max: item };
    // {min, max} is how Grid stores a range (GET /failovergroups): what Grid shows must apply back unchanged.
    else if (isMapping(item) && Object.keys(item).every((k) => k === 'min' || k === 'max') && Number.isInteger(item.min) && Number.isInteger(item.max)) range = { min: item.min as number, max: item.max as number };
    else if (typeof item === 'string') {
      const m = STATUS_RANGE.exec(item.trim());
      if (m) range = { min: Number(m[1]), max: Number(m[2] ?? m[1]) };
    }
    if (range === undefined || range.min < 100 || range.max > 599 || range.min > range.max) {
      h.fail('expectStatus', problem);
      return undefined;
    }
    ranges.push(range);
  }
  return ranges;
}

function readExpectJson(h: Fields): Record<string, unknown> | undefined {
  const value = h.raw('expectJson');
  if (isAbsent(value)) return undefined;
  if (!isMapping(value) || Object.keys(value).length === 0) {
    h.fail('expectJson', `must be a non-empty mapping of the keys and values the body must contain, e.g. {status: healthy} ${got(value)}`);
    return undefined;
  }
  const size = JSON.stringify(value).length;
  if (size > MAX_EXPECT_JSON) {
    h.fail('expectJson', `must be at most ${MAX_EXPECT_JSON} characters as JSON (got ${size})`);
    return undefined;
  }
  return value;
}

function readRestartBackoff(s: Fields): RestartBackoff {
  const b = s.map('restartBackoff', ['initialSeconds', 'maxSeconds', 'resetAfterSeconds']);
  const initialSeconds = b?.num('initialSeconds', 0, 3600, true) ?? 1;
  const maxSeconds = b?.num('maxSeconds', 0, 3600, true) ?? 60;
  const resetAfterSeconds = b?.num('resetAfterSeconds', 0, MAX_LONG_SECONDS, true) ?? 600;
  if (b && maxSeconds < initialSeconds) {
    b.fail('maxSeconds', `must be at least initialSeconds (${initialSeconds}) (got ${maxSeconds})`);
  }
  return { initialSeconds, maxSeconds, resetAfterSeconds };
}

function readAutoscale(s: Fields): AutoscaleSpec | undefined {
  const a = s.map('autoscale', ['targetCPU', 'min', 'max', 'behavior', 'scaleDownStabilizationSeconds']);
  if (!a) return undefined;
  a.required('targetCPU');
  a.required('max');
  const targetCPU = a.int('targetCPU', 1, 100);
  const min = a.int('min', 0, 1000) ?? 1;
  const max = a.int('max', 1, 1000);
  if (max !== undefined && min > max) a.fail('min', `must be at most max (${max}) (got ${min})`);

  const scaleDown = a.map('behavior', ['scaleDown'])?.map('scaleDown', ['stabilizationWindowSeconds']);
  // scaleDownStabilizationSeconds is how Grid stores it (GET /services/:name): what Grid shows must apply back unchanged.
  const stored = a.int('scaleDownStabilizationSeconds', 0, 3600);
  if (stored !== undefined && scaleDown?.has('stabilizationWindowSeconds')) a.fail('scaleDownStabilizationSeconds', 'give either this or behavior.scaleDown.stabilizationWindowSeconds, not both');
  const scaleDownStabilizationSeconds = scaleDown?.int('stabilizationWindowSeconds', 0, 3600) ?? stored ?? 300;

  if (targetCPU === undefined || max === undefined) return undefined;
  return { targetCPU, min, max, scaleDownStabilizationSeconds };
}

const ROLLOUT_FIELDS = [
  'strategy',
  'maxSurge',
  'maxUnavailable',
  'minReadySeconds',
  'steps',
  'autoPromotionEnabled',
  'autoPromotionSeconds',
  'scaleDownDelaySeconds',
  'progressDeadlineSeconds',
  'progressDeadlineAbort',
  'analysis',
] as const;

function readRollout(errors: Errors, s: Fields): RolloutSpec {
  const r = s.map('rollout', ROLLOUT_FIELDS);
  const rollout: RolloutSpec = {
    strategy: 'Rolling',
    maxSurge: '25%',
    maxUnavailable: '25%',
    minReadySeconds: 0,
    steps: [],
    autoPromotionEnabled: true,
    scaleDownDelaySeconds: 30,
    progressDeadlineSeconds: 600,
    progressDeadlineAbort: true,
  };
  if (!r) return rollout;

  rollout.strategy = readStrategy(r) ?? 'Rolling';
  const maxSurge = readIntOrPercent(r, 'maxSurge');
  const maxUnavailable = readIntOrPercent(r, 'maxUnavailable');
  if (maxSurge !== undefined) rollout.maxSurge = maxSurge;
  if (maxUnavailable !== undefined) rollout.maxUnavailable = maxUnavailable;
  if (isZero(rollout.maxSurge) && isZero(rollout.maxUnavailable)) {
    errors.add(r.path, 'maxSurge and maxUnavailable must not both be 0 (the rollout could never make progress)');
  }
  rollout.minReadySeconds = r.int('minReadySeconds', 0, 3600) ?? 0;
  rollout.steps = readSteps(errors, r, rollout.strategy);
  rollout.autoPromotionEnabled = r.bool('autoPromotionEnabled') ?? true;
  const autoPromotionSeconds = r.int('autoPromotionSeconds', 0, MAX_LONG_SECONDS);
  if (autoPromotionSeconds !== undefined) rollout.autoPromotionSeconds = autoPromotionSeconds;
  rollout.scaleDownDelaySeconds = r.int('scaleDownDelaySeconds', 0, MAX_LONG_SECONDS) ?? 30;
  rollout.progressDeadlineSeconds = r.int('progressDeadlineSeconds', 1, MAX_LONG_SECONDS) ?? 600;
  rollout.progressDeadlineAbort = r.bool('progressDeadlineAbort') ?? true;
  const analysis = readAnalysis(r);
  if (analysis) rollout.analysis = analysis;
  return rollout;
}

function readStrategy(r: Fields): RolloutStrategy | undefined {
  const value = r.raw('strategy');
  if (isAbsent(value)) return undefined;
  if (value === 'Rolling' || value === 'RollingUpdate') return 'Rolling';
  if (value === 'BlueGreen' || value === 'Canary') return value;
  r.fail('strategy', `must be one of Rolling, BlueGreen, Canary ${got(value)}`);
  return undefined;
}

function readIntOrPercent(r: Fields, key: string): number | string | undefined {
  const value = r.raw(key);
  if (isAbsent(value)) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 1000) return value;
  if (typeof value === 'string') {
    const match = PERCENT.exec(value);
    const percent = match ? Number(match[1]) : NaN;
    // Normalised ("025%" -> "25%") so equivalent specs hash the same.
    if (percent <= 100) return `${percent}%`;
  }
  r.fail(key, `must be an integer 0..1000 or a percentage 0%..100% ${gotInRange(value)}`);
  return undefined;
}

function isZero(value: number | string): boolean {
  return value === 0 || value === '0%';
}

function readSteps(errors: Errors, r: Fields, strategy: RolloutStrategy): CanaryStep[] {
  if (!r.has('steps')) return [];
  // `steps: []` is what Grid itself writes for every strategy (GET /services/:name, export): reapplied, it must pass.
  const raw = r.raw('steps');
  if (Array.isArray(raw) && raw.length === 0) return [];
  if (strategy !== 'Canary') {
    r.fail('steps', 'steps are only used by the Canary strategy');
    return [];
  }
  const items = r.array('steps', 100);
  if (!items) return [];
  const steps: CanaryStep[] = [];
  items.forEach((item, i) => {
    const step = fieldsAt(errors, join(r.at('steps'), i), item, ['setWeight', 'pause', 'chaos']);
    if (!step) return;
    const kinds = ['setWeight', 'pause', 'chaos'].filter((k) => Object.hasOwn(item as Obj, k));
    if (kinds.length !== 1) {
      errors.add(step.path, `must have exactly one of setWeight, pause or chaos`);
      return;
    }
    const hasWeight = kinds[0] === 'setWeight';
    if (kinds[0] === 'chaos') {
      const chaos = readChaosStep(errors, step);
      if (chaos) steps.push({ chaos });
      return;
    }
    if (hasWeight) {
      if (!step.required('setWeight')) return;
      const setWeight = step.int('setWeight', 0, 100);
      if (setWeight !== undefined) steps.push({ setWeight });
      return;
    }
    // `- pause:` (null) reads naturally as "pause until promoted", same as `pause: {}`.
    const pauseRaw = step.raw('pause');
    if (isAbsent(pauseRaw)) {
      steps.push({ pause: {} });
      return;
    }
    const pause = step.map('pause', ['duration']);
    if (!pause) return;
    if (!pause.has('duration')) {
      steps.push({ pause: {} });
      return;
    }
    const seconds = duration(pause, 'duration', MAX_PAUSE_SECONDS, true);
    if (seconds !== undefined) steps.push({ pause: { duration: seconds } });
  });
  return steps;
}

/**
 * `chaos: {kill: 1}`, `{pause: 1, seconds: 10}` or `{faults: {...}, duration: 30s}`. Whether the canary has
 * that many pods depends on the replicas at the time, so the count is checked when the step runs.
 */
function readChaosStep(errors: Errors, step: Fields): ChaosStep | undefined {
  const c = step.map('chaos', ['kill', 'pause', 'seconds', 'faults', 'duration', 'recoverWithin']);
  if (!c) {
    if (isAbsent(step.raw('chaos'))) step.fail('chaos', 'must be a mapping with one of kill, pause or faults');
    return undefined;
  }
  const kinds = (['kill', 'pause', 'faults'] as const).filter((k) => c.has(k));
  if (kinds.length !== 1) {
    errors.add(c.path, `must have exactly one of kill, pause or faults (got ${kinds.length === 0 ? 'none' : kinds.join(' and ')})`);
    return undefined;
  }
  const kind = kinds[0];
  if (kind !== 'pause' && c.has('seconds')) c.fail('seconds', 'only a pause experiment has seconds');
  if (kind !== 'faults' && c.has('duration')) c.fail('duration', 'only a faults experiment has a duration (kill and pause end when the canary recovers)');
  // Faults take effect and lift on their own; nothing has to recover from them.
  if (kind === 'faults' && c.has('recoverWithin')) c.fail('recoverWithin', 'only kill and pause experiments wait for the canary to recover');
  const recoverWithin = wholeSeconds(c, 'recoverWithin', MIN_RECOVER_SECONDS, MAX_CHAOS_SECONDS) ?? 60;
  if (kind === 'kill') {
    const kill = c.int('kill', 1, 1000);
    return kill === undefined ? undefined : { kill, recoverWithin };
  }
  if (kind === 'pause') {
    const pause = c.int('pause', 1, 1000);
    if (!c.required('seconds', 'is required with pause: how long the pod stays stopped')) return undefined;
    const seconds = wholeSeconds(c, 'seconds', 1, PAUSE_MAX_SECONDS);
    return pause === undefined || seconds === undefined ? undefined : { pause, seconds, recoverWithin };
  }
  const f = c.map('faults', ['delayMs', 'delayPercent', 'abortPercent', 'abortStatus']);
  if (!c.required('duration', 'is required with faults: how long they are injected')) return undefined;
  const seconds = wholeSeconds(c, 'duration', 1, MAX_FAULT_SECONDS);
  if (!f) return undefined;
  const faults: ChaosFaults = {
    delayMs: f.int('delayMs', 0, MAX_FAULT_DELAY_MS) ?? 0,
    delayPercent: f.num('delayPercent', 0, 100) ?? 0,
    abortPercent: f.num('abortPercent', 0, 100) ?? 0,
    abortStatus: f.int('abortStatus', 400, 599) ?? 503,
  };
  if (faults.abortPercent === 0 && (faults.delayPercent === 0 || faults.delayMs === 0)) {
    errors.add(f.path, 'injects nothing: set abortPercent, or delayMs with delayPercent');
    return undefined;
  }
  // The chaos service's own check (two decimals at most, delayMs with delayPercent): a step /apply takes is one it runs.
  const checked = checkFaultSettings({ ...faults, delayMs: f.has('delayMs') ? faults.delayMs : undefined, durationSeconds: seconds ?? 1 });
  if ('path' in checked) {
    f.fail(checked.path, checked.message);
    return undefined;
  }
  return seconds === undefined ? undefined : { faults, duration: seconds };
}

function readAnalysis(r: Fields): AnalysisSpec | undefined {
  const a = r.map('analysis', ['interval', 'intervalSeconds', 'minRequests', 'maxErrorRate', 'maxP99LatencyMs', 'failureLimit']);
  if (!a) return undefined;
  // intervalSeconds is how Grid stores it (GET /services/:name): what Grid shows must apply back unchanged.
  if (a.has('interval') && a.has('intervalSeconds')) a.fail('intervalSeconds', 'give either interval or intervalSeconds, not both');
  return {
    // The gateway keeps 300 s of per-second numbers; a longer interval could not be judged.
    intervalSeconds: duration(a, 'interval', 300, false) ?? a.num('intervalSeconds', 0, 300, true) ?? 10,
    minRequests: a.int('minRequests', 0, 1_000_000) ?? 20,
    maxErrorRate: a.num('maxErrorRate', 0, 1) ?? 0.05,
    maxP99LatencyMs: a.num('maxP99LatencyMs', 0, 600_000, true) ?? 500,
    failureLimit: a.int('failureLimit', 0, 100) ?? 2,
  };
}

/**
 * Parses a request body (YAML, possibly multi-document, or JSON) and validates
 * every manifest in it. All-or-nothing: one bad document fails the request,
 * with the errors of every document.
 */
/** Documents (and the services they become) one /apply or /export may carry. */
export const MAX_DOCUMENTS = 1000;

export function parseManifests(body: string | Buffer | unknown, contentType: string | undefined, options: ParseOptions = {}): ParseResult {
  const docs = readDocuments(body, contentType);
  if (!docs.ok) return docs;
  if (docs.values.length === 0) return { ok: false, errors: [{ path: '(body)', message: 'is empty' }] };

  // Paths count the request's documents, whatever the importer made of them.
  const multi = docs.values.length > 1;
  const prefix = (i: number, path: string): string => {
    if (!multi) return path;
    return path === '(root)' ? `[${i}]` : `[${i}].${path}`;
  };

  // A bound on the work one request can ask (each object is validated, translated, planned):
  // more than a single machine's worth of services.
  if (docs.values.length > MAX_DOCUMENTS) return { ok: false, errors: [{ path: '(body)', message: `holds ${docs.values.length} documents; at most ${MAX_DOCUMENTS} in one request` }] };
  const imported = importDocuments(docs.values);
  if (imported.documents.length > MAX_DOCUMENTS) return { ok: false, errors: [{ path: '(body)', message: `makes ${imported.documents.length} services (Compose services and List items count); at most ${MAX_DOCUMENTS} in one request` }] };
  const errors: FieldError[] = imported.errors.map((e) => ({ path: multi ? e.path : e.path.replace(/^\[0\]\.?/, '') || '(root)', message: e.message }));
  const manifests: ServiceManifest[] = [];
  const groups: FailoverGroupManifest[] = [];
  const seen = new Set<string>();
  // A group's target must not name a group of the same body either.
  const bodyGroups = new Set(imported.documents.filter((raw) => isMapping(raw) && raw.kind === 'FailoverGroup').map(rawName));
  const groupExists = (name: string): boolean => bodyGroups.has(name) || options.groupExists?.(name) === true;
  imported.documents.forEach((raw, j) => {
    const i = imported.origins[j];
    // A translated document's fields are Grid's, not the original object's: the message says which Grid service they belong to.
    const source = docs.values[i];
    // Names cut short: an over-long one is itself the error, and must not come back whole in every message.
    const name = cut(rawName(raw));
    const from = raw === source ? '' : ` (in service/${name}, imported from ${importedFrom(source, name)})`;
    const result = validateDocument(raw, { ...options, groupExists });
    if (result.ok) {
      const m = result.manifest;
      if (m.kind === 'Service') manifests.push(m);
      else groups.push(m);
      const clash = namespaceClash(m, options);
      if (clash) errors.push({ path: prefix(i, 'metadata.name'), message: clash + from });
    } else errors.push(...result.errors.map((e) => ({ path: prefix(i, e.path), message: e.message + from })));
    const full = rawName(raw);
    if (full === undefined) return;
    if (seen.has(full)) errors.push({ path: prefix(i, 'metadata.name'), message: `duplicate name '${name}' in this request${from}` });
    seen.add(full);
  });
  if (errors.length === 0) {
    const cycle = dependencyCycle(manifests, options.dependenciesOf);
    if (cycle) {
      const i = imported.origins[Math.max(0, imported.documents.findIndex((raw) => rawName(raw) === cycle[0]))];
      errors.push({ path: prefix(i, 'spec.dependsOn'), message: `a cycle: ${cycle.join(' → ')}; a service cannot wait for itself, even through others` });
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, manifests, groups, imported: imported.notes };
}

/**
 * The first cycle of dependencies among these services and the stored ones (a service of the request
 * replaces its stored self), as the names along it with the first repeated at the end; undefined if none.
 * Only a cycle through one of these services is found: the stored ones alone were checked when applied.
 */
export function dependencyCycle(manifests: readonly ServiceManifest[], stored: ParseOptions['dependenciesOf'] = () => []): string[] | undefined {
  const given = new Map(manifests.map((m) => [m.metadata.name, (m.spec.dependsOn ?? []).map((d) => d.service)]));
  const next = (name: string): readonly string[] => given.get(name) ?? stored(name);
  const done = new Set<string>();
  const path: string[] = [];
  const onPath = new Set<string>();
  const visit = (name: string): string[] | undefined => {
    if (onPath.has(name)) {
      // Told from a service of the request, which is the one to change.
      const ring = path.slice(path.indexOf(name));
      const k = Math.max(0, ring.findIndex((n) => given.has(n)));
      const rotated = [...ring.slice(k), ...ring.slice(0, k)];
      return [...rotated, rotated[0]];
    }
    if (done.has(name)) return undefined;
    path.push(name);
    onPath.add(name);
    for (const dep of next(name)) {
      const found = visit(dep);
      if (found) return found;
    }
    path.pop();
    onPath.delete(name);
    done.add(name);
    return undefined;
  };
  for (const m of manifests) {
    const found = visit(m.metadata.name);
    if (found) return found;
  }
  return undefined;
}

/** A name or value as a message shows it in quotes, cut short (quote() escapes as well; these kept their plain form). */
function cut<T extends string | undefined>(text: T): T {
  return (text !== undefined && text.length > 63 ? `${text.slice(0, 63)}…` : text) as T;
}

/** `Deployment/api`, or `Compose/web` for a service of a Compose file. */
function importedFrom(source: unknown, service: string | undefined): string {
  if (isMapping(source) && typeof source.kind === 'string') return `${cut(source.kind)}/${cut(rawName(source)) ?? service}`;
  return `Compose/${service}`;
}

/** Services and failover groups share one namespace (/gateway/<name> routes either): why `m` may not take its name, if it may not. */
export function namespaceClash(m: Manifest, exists: Pick<ParseOptions, 'serviceExists' | 'groupExists' | 'targetedBy'>): string | undefined {
  const name = m.metadata.name;
  if (m.kind === 'Service' && exists.groupExists?.(name)) return `'${name}' is already a failover group; services and failover groups share one namespace`;
  if (m.kind === 'FailoverGroup' && exists.serviceExists?.(name)) return `'${name}' is already a service; services and failover groups share one namespace`;
  // A group may name a service that does not exist yet; that name is then taken for services (found by the attack review: else a group became another's target).
  const by = m.kind === 'FailoverGroup' ? exists.targetedBy?.(name) : undefined;
  if (by !== undefined && by !== name) return `'${name}' is a service target of failover group '${by}'; a failover group cannot be another group's target`;
  return undefined;
}

type Documents = { ok: true; values: unknown[] } | { ok: false; errors: FieldError[] };

function readDocuments(body: unknown, contentType: string | undefined): Documents {
  if (isAbsent(body)) return { ok: true, values: [] };
  if (typeof body !== 'string' && !Buffer.isBuffer(body)) return { ok: true, values: Array.isArray(body) ? body : [body] };
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : body;
  return contentType?.toLowerCase().includes('json') ? readJson(text) : readYaml(text);
}

function readJson(text: string): Documents {
  if (text.trim() === '') return { ok: true, values: [] };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, errors: [{ path: '(json)', message: (err as Error).message }] };
  }
  const values = Array.isArray(value) ? value : [value];
  const duplicate = duplicateJsonKey(text);
  if (duplicate !== undefined) {
    // Paths of a lone document carry no index, as parseManifests reports them.
    const at = values.length === 1 ? duplicate.replace(/^\[0\]\./, '') : duplicate;
    return { ok: false, errors: [{ path: at, message: 'duplicate key (JSON.parse would keep only the last one; YAML refuses it too)' }] };
  }
  return { ok: true, values };
}

/**
 * The path of the first key repeated within one JSON object. Runs only on text
 * JSON.parse accepted, so it tracks nesting and keys without checking the grammar.
 */
function duplicateJsonKey(text: string): string | undefined {
  type Frame = { path: string; keys?: Set<string>; key: string; index: number; expectKey: boolean };
  const stack: Frame[] = [];
  const childPath = (): string => {
    const top = stack.at(-1);
    if (!top) return '';
    return top.keys ? join(top.path, top.key) : join(top.path, top.index);
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{' || c === '[') {
      const isObject = c === '{';
      stack.push({ path: childPath(), keys: isObject ? new Set() : undefined, key: '', index: 0, expectKey: isObject });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack.at(-1)!;
      top.index++;
      top.expectKey = top.keys !== undefined;
    } else if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const top = stack.at(-1);
      if (top?.keys && top.expectKey) {
        // Decoded, so "\u006bind" and "kind" are the same key.
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) return join(top.path, key);
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = end;
    }
  }
  return undefined;
}

/** The first key repeated within one mapping, as YAML 1.2 forbids, found in one linear walk (no recursion: nesting may be deep). */
function duplicateYamlKey(root: unknown, lines: LineCounter): string | undefined {
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        // Scalar keys compare by value, as the yaml package's own check does; a collection as a key is never equal to another.
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (seen.has(key)) {
          const at = isScalar(pair.key) && pair.key.range ? lines.linePos(pair.key.range[0]) : undefined;
          return `Map keys must be unique${at ? ` at line ${at.line}, column ${at.col}` : ''}`;
        }
        seen.add(key);
        stack.push(pair.key, pair.value);
      }
    } else if (isSeq(node)) for (const item of node.items) stack.push(item);
  }
  return undefined;
}

/**
 * The yaml package spends seconds of CPU (on the event loop, while the gateway waits) on a
 * 1 MiB body of tiny nodes: 500,000 sequence items took 4 s, deep nesting as long. Grid's
 * specs are a few hundred lines, so a body with more lines or flow separators than this is
 * refused before it is parsed (JSON bodies are parsed natively and are not limited this way).
 */
export const MAX_YAML_LINES = 10_000;
export const MAX_YAML_FLOW_SEPARATORS = 10_000;

function yamlTooLarge(text: string): string | undefined {
  let lines = 1;
  let flow = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) lines++;
    else if (c === 44 /* , */ || c === 91 /* [ */ || c === 123 /* { */) flow++;
  }
  if (lines > MAX_YAML_LINES) return `a YAML body may have at most ${MAX_YAML_LINES} lines (got ${lines}); send large specs as JSON or in several requests`;
  if (flow > MAX_YAML_FLOW_SEPARATORS) return `a YAML body may have at most ${MAX_YAML_FLOW_SEPARATORS} of ',', '[' and '{' (got ${flow}); send large specs as JSON`;
  return undefined;
}

function readYaml(text: string): Documents {
  const tooLarge = yamlTooLarge(text);
  if (tooLarge) return { ok: false, errors: [{ path: '(yaml)', message: tooLarge }] };
  const errors: FieldError[] = [];
  const values: unknown[] = [];
  const lines = new LineCounter();
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    docs = parseAllDocuments(text, { ...YAML_PARSE_OPTIONS, lineCounter: lines });
  } catch (err) {
    // The yaml package recurses per nesting level: a few thousand levels overflow the stack.
    if (err instanceof RangeError) return { ok: false, errors: [{ path: '(yaml)', message: 'nested too deeply to parse' }] };
    throw err;
  }
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      // prettyErrors appends a source excerpt after the first line; the first
      // line already names the line and column.
      for (const e of doc.errors) errors.push({ path: '(yaml)', message: e.message.split('\n')[0].replace(/:$/, '') });
      // Composing recurses per nesting level too: one clear error instead of one per level.
      if (errors.some((e) => e.message.startsWith('Maximum call stack size exceeded'))) return { ok: false, errors: [{ path: '(yaml)', message: 'nested too deeply to parse' }] };
      continue;
    }
    const duplicate = duplicateYamlKey(doc.contents, lines);
    if (duplicate) {
      errors.push({ path: '(yaml)', message: duplicate });
      continue;
    }
    try {
      const value: unknown = doc.toJS(YAML_TOJS_OPTIONS);
      if (!isAbsent(value)) values.push(value);
    } catch (err) {
      errors.push({ path: '(yaml)', message: (err as Error).message });
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, values };
}

function rawName(raw: unknown): string | undefined {
  if (!isMapping(raw) || !isMapping(raw.metadata)) return undefined;
  const name = raw.metadata.name;
  return typeof name === 'string' ? name : undefined;
}

const TEMPLATE_FIELDS = [
  'runtime',
  'image',
  'command',
  'workingDir',
  'port',
  'network',
  'imagePullPolicy',
  'resources',
  'env',
  'readinessProbe',
  'livenessProbe',
  'startupProbe',
  'terminationGracePeriodSeconds',
  'restartBackoff',
  'storage',
] as const satisfies readonly (keyof ServiceSpec)[];

/** Identifies a whole spec revision; stable across key order. */
export function specHash(spec: ServiceSpec | FailoverGroupSpec): string {
  return hash(spec);
}

/**
 * Identifies the pod template: pods whose template hash differs from the
 * spec's must be replaced, while replicas/autoscale/rollout changes never
 * restart a pod.
 */
export function templateHash(spec: ServiceSpec): string {
  return hash(Object.fromEntries(TEMPLATE_FIELDS.map((key) => [key, spec[key]])));
}

function hash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isMapping(value)) {
    const entries = Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
