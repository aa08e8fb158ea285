import { expandVars } from '../expand-vars.js';
import type { PodLogLimits } from '../../../common/config/config.js';
import type { PodStartSpec } from './pod-driver.js';

// Pure mapping from a pod to the Docker Engine API's container-create body. Kept apart from
// the driver (and from dockerode's types) so the whole mapping is table-tested without an engine.

export const LABEL_MANAGED = 'grid.managed';
export const LABEL_POD = 'grid.pod';
/** Which Grid (by data dir) owns a container: two Grids on one engine never adopt or remove each other's. */
export const LABEL_INSTANCE = 'grid.instance';

/** The subset of POST /containers/create that Grid sets; field names as the Engine API spells them. */
export interface ContainerCreateBody {
  Image: string;
  Env: string[];
  Labels: Record<string, string>;
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  HostConfig: {
    NetworkMode: 'host' | 'bridge';
    PortBindings?: Record<string, { HostIp: string; HostPort: string }[]>;
    NanoCpus?: number;
    Memory?: number;
    /** host-path:container-path: a persistent pod's data directory, at spec.storage.mountPath or else at the same path inside (GRID_POD_DATA names it). */
    Binds?: string[];
    /** Grid restarts pods itself, with its own backoff; the engine must not race it. */
    RestartPolicy: { Name: 'no' };
    CapDrop: string[];
    SecurityOpt: string[];
    PidsLimit: number;
    LogConfig: { Type: 'json-file'; Config: Record<string, string> };
  };
}

/**
 * What every container gets, whatever its spec: on the host network a container shares the host's
 * interfaces, and with NET_RAW it could read every loopback packet (other clients' API keys to Grid
 * among them); no setuid escalation; a bounded number of processes. Logs are rotated as process
 * pods' are (logOptions).
 */
export const CONTAINER_HARDENING = {
  CapDrop: ['NET_RAW'],
  SecurityOpt: ['no-new-privileges'],
  PidsLimit: 1024,
};

/**
 * json-file's log-opts from GRID_POD_LOG_MAX_BYTES/GRID_POD_LOG_MAX_FILES, so a container's logs
 * take what a process pod's do. The engine reads sizes with binary units (k = KiB, m = MiB).
 */
export function logOptions(limits: PodLogLimits): { Type: 'json-file'; Config: Record<string, string> } {
  const b = limits.maxBytes;
  const size = b % (1024 * 1024) === 0 ? `${b / (1024 * 1024)}m` : b % 1024 === 0 ? `${b / 1024}k` : String(b);
  return { Type: 'json-file', Config: { 'max-size': size, 'max-file': String(limits.maxFiles) } };
}


/**
 * Host networking (default): the container listens on PORT=hostPort on the host's loopback, as a
 * process pod does. Bridge: it listens on spec.port inside its own network namespace, published on
 * 127.0.0.1:hostPort only, so nothing is exposed beyond this machine.
 */
export function containerCreateBody(p: PodStartSpec, hostPort: number, instance: string, logs: PodLogLimits): ContainerCreateBody {
  const spec = p.spec;
  const bridge = spec.network === 'bridge';
  const listenPort = bridge ? spec.port! : hostPort;
  const env: Record<string, string> = { ...p.env, PORT: String(listenPort), HOST: bridge ? '0.0.0.0' : '127.0.0.1' };
  const dataInside = p.dataDir === undefined ? undefined : (spec.storage?.mountPath ?? p.dataDir);
  // Inside the container GRID_POD_DATA is where the directory is mounted, for $(GRID_POD_DATA) in command too.
  if (dataInside !== undefined) env.GRID_POD_DATA = dataInside;
  const body: ContainerCreateBody = {
    Image: spec.image!,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: { ...p.labels, [LABEL_MANAGED]: 'true', [LABEL_POD]: p.podId, [LABEL_INSTANCE]: instance },
    HostConfig: { NetworkMode: bridge ? 'bridge' : 'host', RestartPolicy: { Name: 'no' }, ...structuredClone(CONTAINER_HARDENING), LogConfig: logOptions(logs) },
  };
  if (spec.command && spec.command.length > 0) {
    // As Kubernetes' `command`: it replaces the image's entrypoint, and its arguments are not the image's CMD.
    const [entry, ...args] = spec.command.map((arg) => expandVars(arg, env));
    body.Entrypoint = [entry];
    body.Cmd = args;
  }
  if (spec.workingDir !== undefined) body.WorkingDir = spec.workingDir;
  if (bridge) {
    const key = `${spec.port}/tcp`;
    body.ExposedPorts = { [key]: {} };
    body.HostConfig.PortBindings = { [key]: [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }] };
  }
  if (p.dataDir !== undefined) body.HostConfig.Binds = [`${p.dataDir}:${dataInside}`];
  if (spec.resources?.cpus !== undefined) body.HostConfig.NanoCpus = Math.round(spec.resources.cpus * 1e9);
  if (spec.resources?.memory !== undefined) body.HostConfig.Memory = spec.resources.memory;
  return body;
}

/** What to do with a persistent pod's directory so that the container's user may write it (the Kubernetes user's expectation of a volume). */
export type VolumeOwnership =
  /** The container runs as root, which may write any directory, or the directory is already its user's. */
  | { action: 'keep' }
  /** gid -1: the group stays (the image names none, or names it by a name); the directory is 0700, so the owner is what counts. */
  | { action: 'chown'; uid: number; gid: number }
  /** The image's USER is a name: its uid is in the image's /etc/passwd, which Grid does not read. */
  | { action: 'unresolved'; user: string };

/** Linux ids are 32-bit; (uid_t)-1 means "unchanged" to chown, so it is not an id. */
const MAX_ID = 2 ** 32 - 2;

function numericId(text: string): number | undefined {
  if (text === 'root') return 0;
  if (!/^[0-9]{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= MAX_ID ? n : undefined;
}

/**
 * The owner a persistent pod's directory needs, from the image's Config.User (`docker inspect`:
 * "", "uid", "uid:gid", "name", "name:group") and the directory's current owner. Docker runs a
 * container with no USER as root, and `root` is uid 0 in every image.
 */
export function volumeOwnership(configUser: string | undefined, current: { uid: number; gid: number }): VolumeOwnership {
  const user = configUser ?? '';
  if (user === '') return { action: 'keep' };
  const colon = user.indexOf(':');
  const userPart = colon < 0 ? user : user.slice(0, colon);
  const groupPart = colon < 0 ? undefined : user.slice(colon + 1);
  const uid = numericId(userPart);
  if (uid === undefined) return { action: 'unresolved', user };
  if (uid === 0) return { action: 'keep' };
  const gid = groupPart === undefined ? undefined : numericId(groupPart);
  if (current.uid === uid && (gid === undefined || current.gid === gid)) return { action: 'keep' };
  return { action: 'chown', uid, gid: gid ?? -1 };
}

/**
 * Non-TTY container logs come multiplexed: frames of an 8-byte header (stream type, 3 zero
 * bytes, big-endian length) and the payload. A torn last frame is kept as far as it goes.
 */
export function demuxLogs(buf: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= buf.length) {
    const type = buf[at];
    if (type > 2 || buf[at + 1] !== 0 || buf[at + 2] !== 0 || buf[at + 3] !== 0) return buf.toString('utf8');
    const size = buf.readUInt32BE(at + 4);
    parts.push(buf.subarray(at + 8, Math.min(buf.length, at + 8 + size)));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

/** CPU in percent of one core between two stats samples (cpu_stats.cpu_usage.total_usage, in ns). */
export function cpuPercent(prevNs: number, nowNs: number, wallMs: number): number {
  if (wallMs <= 0 || nowNs < prevNs) return 0;
  return Math.round(((nowNs - prevNs) / 1e6 / wallMs) * 100);
}
