// A Compose file (docker-compose.yml) → one Grid Service spec per Compose service. Pure.
import { ShellWordsError, splitCommand } from '../../../common/shell-words.js';
import type { FieldError } from '../spec.types.js';
import { isMapping, join, map, Reader, scalarText, shown, type ImportNote, type Obj } from './import-reader.js';
import { ANNOTATION_COMMAND, ANNOTATION_IMAGE, PORT_ENV, POD_DATA_ENV } from './k8s-names.js';

const MAX_COMPOSE_SERVICES = 1000;

/** A Compose file: a top-level `services:` mapping and no `kind` (which every Grid and Kubernetes object has). */
export function isCompose(doc: Obj): boolean {
  return doc.kind === undefined && isMapping(doc.services);
}

const SERVICE_KNOWN = ['image', 'build', 'command', 'entrypoint', 'environment', 'env_file', 'ports', 'healthcheck', 'deploy', 'labels', 'stop_grace_period', 'depends_on', 'volumes'];

export function importCompose(doc: Obj, index: number): { documents: unknown[]; notes: ImportNote[]; errors: FieldError[] } {
  const documents: unknown[] = [];
  const notes: ImportNote[] = [];
  const errors: FieldError[] = [];
  const top = new Reader(index);
  top.rest(doc, '', ['services', 'version', 'name', 'volumes']);
  // A named volume's declaration: bare (`dbdata:`) it says nothing more than its use; a driver or options Grid does not use.
  if (doc.volumes !== undefined && !isMapping(doc.volumes)) top.ignored.push('volumes');
  for (const [name, decl] of Object.entries(map(doc.volumes))) if (decl !== null && !(isMapping(decl) && Object.keys(decl).length === 0)) top.ignored.push(join('volumes', name));
  if (top.ignored.length > 0) notes.push({ object: 'Compose', ignored: top.ignored, index });
  // As many services as one request may make (spec-validator's MAX_DOCUMENTS): refused before any is read.
  const count = Object.keys(doc.services as Obj).length;
  if (count === 0) {
    top.fail('services', 'is empty: a Compose file with no service applies nothing');
    return { documents, notes, errors: top.errors };
  }
  if (count > MAX_COMPOSE_SERVICES) {
    top.fail('services', `${count} services; at most ${MAX_COMPOSE_SERVICES} in one request`);
    return { documents, notes, errors: top.errors };
  }
  for (const [name, raw] of Object.entries(doc.services as Obj)) {
    const r = new Reader(index);
    const at = join('services', name);
    const spec = composeService(r, map(raw), at, name);
    errors.push(...r.errors);
    if (r.errors.length > 0) continue;
    const metadata: Obj = { name };
    // A process service keeps its image where export looks for it.
    if (spec.process && typeof map(raw).image === 'string') metadata.annotations = { [ANNOTATION_IMAGE]: map(raw).image };
    documents.push({ apiVersion: 'v1', kind: 'Service', metadata, spec: spec.spec });
    // Paths relative to the Compose service, as a reader of the file sees it.
    notes.push({ object: `Compose/${name}`, became: `service/${name}`, ignored: r.ignored.map((p) => p.slice(at.length + 1)), index, ...(spec.process ? { runsOnHost: spec.spec.command as string[] } : {}), ...(spec.storage ? { storage: spec.storage } : {}) });
  }
  return { documents, notes, errors };
}

function composeService(r: Reader, s: Obj, at: string, name: string): { spec: Obj; process: boolean; storage?: string } {
  r.rest(s, at, SERVICE_KNOWN);
  const g: Obj = {};
  const labels = labelsOf(s.labels);
  const annotated = labels[ANNOTATION_COMMAND];
  let process = false;
  if (s.labels !== undefined) for (const k of Object.keys(labels)) if (k !== ANNOTATION_COMMAND) r.ignored.push(join(join(at, 'labels'), k));

  if (s.depends_on !== undefined) {
    const deps = dependsOn(r, s.depends_on, join(at, 'depends_on'));
    if (deps.length > 0) g.dependsOn = deps;
  }

  const command = s.command === undefined ? undefined : words(r, s.command, join(at, 'command'));
  const entrypoint = s.entrypoint === undefined ? undefined : words(r, s.entrypoint, join(at, 'entrypoint'));
  if (annotated !== undefined) {
    // As on a Kubernetes object: run this command as a process here; the image is for elsewhere.
    let argv: unknown;
    try {
      argv = JSON.parse(annotated);
    } catch {
      argv = undefined;
    }
    if (!Array.isArray(argv) || argv.length === 0 || !argv.every((w) => typeof w === 'string')) r.fail(join(join(at, 'labels'), ANNOTATION_COMMAND), 'must be a JSON array of strings, the command Grid runs as a process');
    else {
      g.command = argv;
      process = true;
    }
    for (const k of ['command', 'entrypoint', 'build'] as const) if (s[k] !== undefined) r.ignored.push(join(at, k));
    if (s.image !== undefined && typeof s.image !== 'string') r.fail(join(at, 'image'), 'must be a string');
  } else {
    if (typeof s.image !== 'string' || s.image === '') {
      r.fail(s.build !== undefined ? join(at, 'build') : join(at, 'image'), s.build !== undefined ? 'Grid runs images and does not build them: give image (built beforehand) or a grid.dev/command label' : 'is required');
    } else if (INTERPOLATION.test(s.image)) r.fail(join(at, 'image'), `${interpolationProblem} (got ${shown(s.image)})`);
    else g.image = s.image;
    if (s.build !== undefined && typeof s.image === 'string') r.ignored.push(join(at, 'build'));
    const argv = [...(entrypoint ?? []), ...(command ?? [])];
    if (argv.length > 0) {
      // Grid's docker runtime runs the command as the container's entrypoint (Kubernetes' command).
      g.runtime = 'docker';
      g.command = argv;
    }
  }

  let env = environment(r, s.environment, join(at, 'environment'));
  if (s.env_file !== undefined) r.fail(join(at, 'env_file'), 'Grid reads no files named by the applied documents: write the variables under environment');

  // A simulated image (local://…) listens nowhere: like a process, it has no port to publish.
  const unpublished = process || (typeof s.image === 'string' && s.image.startsWith('local://'));
  const port = firstPort(r, s.ports, join(at, 'ports'), unpublished);
  // Without a published port the container runs on the host network, where Grid gives it PORT:
  // a PORT of the file's own would be overridden unseen (and is what export writes back).
  if (port === undefined || unpublished) {
    const i = env.findIndex((e) => e.name === PORT_ENV);
    if (i >= 0) r.ignored.push(join(join(at, 'environment'), PORT_ENV));
    env = env.filter((e) => e.name !== PORT_ENV);
  }
  if (env.length > 0) g.env = env;
  if (port !== undefined && !unpublished) {
    g.network = 'bridge';
    g.port = port;
  } else if (port !== undefined) r.ignored.push(join(join(at, 'ports'), 0));

  if (s.healthcheck !== undefined) {
    const probe = healthcheck(r, map(s.healthcheck), join(at, 'healthcheck'));
    if (probe) g.readinessProbe = probe;
  }
  if (s.deploy !== undefined) deploy(r, map(s.deploy), join(at, 'deploy'), g, process);
  if (s.stop_grace_period !== undefined) {
    const sec = seconds(s.stop_grace_period);
    if (sec === undefined) r.fail(join(at, 'stop_grace_period'), `must be a duration such as 10s or 1m30s (got ${shown(s.stop_grace_period)})`);
    else g.terminationGracePeriodSeconds = Math.ceil(sec);
  }
  const runtime = process ? 'process' : typeof s.image === 'string' && s.image.startsWith('local://') ? 'sim' : 'docker';
  const storage = s.volumes === undefined ? undefined : volumes(r, s.volumes, join(at, 'volumes'), g, runtime, name);
  return { spec: g, process, ...(storage ? { storage } : {}) };
}

interface ComposeVolume {
  kind: 'named' | 'bind' | 'anonymous' | 'other';
  source?: string;
  target?: string;
  readOnly: boolean;
  /** As the file wrote it, for the note. */
  shownAs: string;
}

/** Short syntax (`dbdata:/data`, `./x:/y:ro`, `/data`) or long syntax ({type, source, target, read_only}). */
function composeVolume(raw: unknown): ComposeVolume {
  if (typeof raw === 'string') {
    const [first, second, mode] = raw.split(':');
    if (second === undefined) return { kind: 'anonymous', target: first, readOnly: false, shownAs: raw };
    const bind = /^[./~]/.test(first);
    return { kind: bind ? 'bind' : 'named', source: first, target: second, readOnly: (mode ?? '').split(',').includes('ro'), shownAs: raw };
  }
  const v = map(raw);
  const target = typeof v.target === 'string' ? v.target : undefined;
  const source = typeof v.source === 'string' ? v.source : undefined;
  const type = v.type ?? 'volume';
  const kind = type === 'bind' ? 'bind' : type === 'volume' ? (source ? 'named' : 'anonymous') : 'other';
  return { kind, source, target, readOnly: v.read_only === true, shownAs: source && target ? `${source}:${target}` : shown(raw) };
}

/**
 * A named volume is data that outlives the container: with one replica it becomes the service's
 * persistent directory, bind-mounted at the volume's target (a process reads it in $GRID_POD_DATA).
 * Compose shares one volume among all replicas, where Grid gives each pod its own, so with more it
 * is not kept; nor are bind mounts (files of the machine compose ran on), anonymous volumes and
 * tmpfs. Each of those is listed ignored, and the note says plainly that their data is lost.
 */
function volumes(r: Reader, raw: unknown, at: string, g: Obj, runtime: 'docker' | 'process' | 'sim', service: string): string | undefined {
  if (!Array.isArray(raw)) {
    r.ignored.push(at);
    return `volumes is not a list: nothing is mounted, and data ${service} writes will not survive a restart of its pod`;
  }
  const replicas = g.replicas ?? 1;
  const said: string[] = [];
  raw.forEach((entry, i) => {
    const v = composeVolume(entry);
    const vAt = join(at, i);
    const where = v.target ? ` at ${v.target}` : '';
    const lost = `what ${service} writes${where} is in its container only and will not survive a restart`;
    if (v.kind === 'named' && !v.readOnly && v.target?.startsWith('/') && replicas === 1 && g.storage === undefined) {
      if (isMapping(entry)) r.rest(entry, vAt, ['type', 'source', 'target', 'read_only']);
      if (runtime === 'docker') {
        g.storage = { persistent: true, mountPath: v.target };
        said.push(`volumes[${i}] ${v.shownAs} → spec.storage: { persistent: true, mountPath: ${v.target} }: a directory of ${service}'s own, kept across restarts and deletes, is bind-mounted at ${v.target} (it starts empty: the Docker volume ${v.source}'s data is not copied)`);
      } else {
        g.storage = { persistent: true };
        said.push(`volumes[${i}] ${v.shownAs} → spec.storage.persistent: a ${runtime} pod is not mounted anything, so the program must read its directory from $${POD_DATA_ENV} rather than ${v.target}`);
      }
      return;
    }
    r.ignored.push(vAt);
    if (v.kind === 'named' && replicas !== 1 && !v.readOnly) said.push(`volumes[${i}] ${v.shownAs} is not mounted: Compose shares one volume among ${String(replicas)} replicas and Grid gives each pod a directory of its own only as a StatefulSet does (set replicas 1 for spec.storage), so ${lost}`);
    else if (v.kind === 'bind') said.push(`volumes[${i}] ${v.shownAs} is a bind mount of files on the machine compose ran on, which Grid does not mount: ${lost}`);
    else if (v.readOnly) said.push(`volumes[${i}] ${v.shownAs} (read-only) is not mounted: ${v.target ?? 'its target'} holds only what the image has`);
    else said.push(`volumes[${i}] ${v.shownAs} is not mounted: ${lost}`);
  });
  return said.join('; ');
}

/**
 * depends_on → spec.dependsOn: a list (or `condition: service_started`) waits for the service to be
 * started, `service_healthy` for it to be Available (Ready, as its healthcheck says);
 * `service_completed_successfully` names a one-off job, which Grid does not run: refused.
 */
function dependsOn(r: Reader, raw: unknown, at: string): Obj[] {
  if (Array.isArray(raw)) return raw.map((name) => ({ service: name, condition: 'Started' }));
  if (!isMapping(raw)) {
    r.fail(at, 'must be a list of service names or a mapping of them to {condition}');
    return [];
  }
  const out: Obj[] = [];
  for (const [name, v] of Object.entries(raw)) {
    const entry = map(v);
    r.rest(entry, join(at, name), ['condition', 'restart', 'required']);
    const c = entry.condition ?? 'service_started';
    if (c === 'service_started') out.push({ service: name, condition: 'Started' });
    else if (c === 'service_healthy') out.push({ service: name, condition: 'Available' });
    else r.fail(join(join(at, name), 'condition'), `Grid waits for a service to be started or healthy; it runs no one-off job to completion (got ${shown(c)})`);
  }
  return out;
}

/** Compose labels as a map or a `KEY=VALUE` list. */
function labelsOf(raw: unknown): Record<string, string> {
  if (isMapping(raw)) return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, scalarText(v) ?? '']));
  if (!Array.isArray(raw)) return {};
  return Object.fromEntries(raw.filter((x): x is string => typeof x === 'string').map((x) => (x.includes('=') ? [x.slice(0, x.indexOf('=')), x.slice(x.indexOf('=') + 1)] : [x, ''])));
}

/** A command as a list, or a string split like a shell splits it (Grid spawns without one). */
function words(r: Reader, raw: unknown, at: string): string[] | undefined {
  if (Array.isArray(raw) && raw.every((w) => typeof w === 'string')) return raw as string[];
  if (typeof raw !== 'string') {
    r.fail(at, `must be a string or a list of strings (got ${shown(raw)})`);
    return undefined;
  }
  try {
    return splitCommand(raw);
  } catch (e) {
    if (!(e instanceof ShellWordsError)) throw e;
    r.fail(at, `${e.message}; write it as a list, or run it through sh -c explicitly`);
    return undefined;
  }
}

/** Compose's variable interpolation: `$VAR`, `${VAR}`, `${VAR:-default}` (`$$` is a literal `$`). */
const INTERPOLATION = /(^|[^$])\$(\{|[A-Za-z_])/;
const interpolationProblem = "uses Compose variable substitution, which needs the shell running compose; Grid has none: write the value out (or $$ for a literal $)";

function environment(r: Reader, raw: unknown, at: string): Obj[] {
  const out: Obj[] = [];
  const add = (name: string, value: unknown, path: string) => {
    const text = scalarText(value);
    if (value === null || value === undefined) r.fail(path, 'takes its value from the shell running compose, which Grid does not have: give the value');
    // String() would make a mapping "[object Object]" (or throw, given its own toString key).
    else if (text === undefined) r.fail(path, `must be a string, number or boolean (got ${shown(value)})`);
    else if (INTERPOLATION.test(text)) r.fail(path, `${interpolationProblem} (got ${shown(text)})`);
    // Compose writes a literal $ as $$.
    else out.push({ name, value: text.replace(/\$\$/g, '$') });
  };
  if (isMapping(raw)) for (const [k, v] of Object.entries(raw)) add(k, v, join(at, k));
  else if (Array.isArray(raw))
    raw.forEach((item, i) => {
      const text = scalarText(item);
      if (text === undefined) return r.fail(join(at, i), `must be NAME=VALUE (got ${shown(item)})`);
      const eq = text.indexOf('=');
      add(eq < 0 ? text : text.slice(0, eq), eq < 0 ? undefined : text.slice(eq + 1), join(at, i));
    });
  else if (raw !== undefined) r.fail(at, 'must be a mapping or a list of NAME=VALUE');
  return out;
}

/** The container side of the first published port: "8080:80" → 80, "127.0.0.1:8080:80/tcp" → 80, {target: 80} → 80. */
export function containerPort(entry: unknown): number | undefined {
  if (isMapping(entry)) return typeof entry.target === 'number' ? entry.target : typeof entry.target === 'string' && /^\d+$/.test(entry.target) ? Number(entry.target) : undefined;
  if (typeof entry === 'number') return entry;
  if (typeof entry !== 'string') return undefined;
  const last = entry.split('/')[0].split(':').at(-1) ?? '';
  return /^\d+$/.test(last) ? Number(last) : undefined;
}

function firstPort(r: Reader, raw: unknown, at: string, process: boolean): number | undefined {
  if (raw === undefined) return undefined;
  const list = Array.isArray(raw) ? raw : [];
  list.slice(1).forEach((_, i) => r.ignored.push(join(at, i + 1)));
  if (list.length === 0) return undefined;
  const port = containerPort(list[0]);
  if (port === undefined) r.fail(join(at, 0), `must publish one container port, such as "8080:80" (got ${shown(list[0])})`);
  // Grid publishes the container port on a free 127.0.0.1 port of its choosing (reach it through the gateway): the host side is not kept.
  else if (!process && typeof list[0] === 'string' && list[0].includes(':')) r.ignored.push(`${join(at, 0)} (host side)`);
  return port;
}

/** Compose durations ("1m30s", "500ms", "10s") in seconds. */
export function seconds(raw: unknown): number | undefined {
  if (typeof raw === 'number') return raw;
  if (typeof raw !== 'string' || !/^(\d+(\.\d+)?(h|m|s|ms|us|ns))+$/.test(raw)) return undefined;
  const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, ns: 1e-9 };
  let total = 0;
  for (const m of raw.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|ns)/g)) total += Number(m[1]) * unit[m[2]];
  return total;
}

/** curl or wget of http://localhost[:port]/path, the usual Compose HTTP check. */
/** A URL of this container, as a healthcheck's curl or wget names it; anchored, tested word by word. */
const LOCAL_URL = /^https?:\/\/(?:localhost|127\.0\.0\.1)(?::\d+)?(\/[^\s'"|;&]*)?$/;
/** More than any real healthcheck line; a longer one is not read (a bound on the work an apply can ask). */
const MAX_HEALTHCHECK_CHARS = 4096;

/**
 * The path a `curl …`/`wget …` healthcheck fetches from localhost, or undefined. Linear: the
 * words are split once, and the URL looked for among the words after the first curl or wget.
 */
export function healthcheckPath(line: string): string | undefined {
  if (line.length > MAX_HEALTHCHECK_CHARS) return undefined;
  const words = line.split(/\s+/).map((w) => w.replace(/^['"]|['"]$/g, ''));
  const tool = words.findIndex((w) => /(^|\/)(curl|wget)$/.test(w));
  if (tool < 0) return undefined;
  for (const w of words.slice(tool + 1)) {
    const m = LOCAL_URL.exec(w);
    if (m) return m[1] ?? '/';
  }
  return undefined;
}

function healthcheck(r: Reader, h: Obj, at: string): Obj | undefined {
  r.rest(h, at, ['test', 'interval', 'timeout', 'retries', 'start_period', 'disable']);
  if (h.disable === true) return undefined;
  const test = Array.isArray(h.test) ? h.test.map((t) => (typeof t === 'string' ? t : '')) : typeof h.test === 'string' ? [h.test] : [];
  if (test[0] === 'NONE') return undefined;
  const line = (test[0] === 'CMD' || test[0] === 'CMD-SHELL' ? test.slice(1) : test).join(' ');
  const path = healthcheckPath(line);
  if (path === undefined) {
    // The service still runs; Grid only cannot tell when it is ready.
    r.ignored.push(join(at, 'test'));
    return undefined;
  }
  const probe: Obj = { httpGet: { path } };
  const fields: Array<[string, string]> = [
    ['interval', 'periodSeconds'],
    ['timeout', 'timeoutSeconds'],
    ['start_period', 'initialDelaySeconds'],
  ];
  for (const [from, to] of fields) {
    if (h[from] === undefined) continue;
    const sec = seconds(h[from]);
    if (sec === undefined) r.fail(join(at, from), `must be a duration such as 10s or 1m30s (got ${shown(h[from])})`);
    // Grid's probe fields are whole seconds, at least 1 (0 for a delay).
    else probe[to] = to === 'initialDelaySeconds' ? Math.ceil(sec) : Math.max(1, Math.ceil(sec));
  }
  if (h.retries !== undefined) probe.failureThreshold = h.retries;
  return probe;
}

function deploy(r: Reader, d: Obj, at: string, g: Obj, process: boolean): void {
  r.rest(d, at, ['replicas', 'resources']);
  if (d.replicas !== undefined) g.replicas = d.replicas;
  if (d.resources === undefined) return;
  const res = map(d.resources);
  r.rest(res, join(at, 'resources'), ['limits']);
  const limits = map(res.limits);
  r.rest(limits, join(join(at, 'resources'), 'limits'), ['cpus', 'memory']);
  if (process) {
    if (res.limits !== undefined) r.ignored.push(join(join(at, 'resources'), 'limits'));
    return;
  }
  const out: Obj = {};
  if (limits.cpus !== undefined) out.cpus = Number(limits.cpus);
  if (limits.memory !== undefined) out.memory = limits.memory;
  if (Object.keys(out).length > 0) g.resources = out;
}
