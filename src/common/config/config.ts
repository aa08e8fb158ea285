// The one place that reads process.env. Everything else receives a typed,
// validated GridConfig through the GRID_CONFIG provider.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface GridConfig {
  port: number;
  host: string;
  dataDir: string;
  tickMs: number;
  apiKey?: string;
  /** Leave process/docker pods running when Grid exits (they are adopted on the next boot). */
  keepPodsOnExit: boolean;
  /** Optional dedicated gateway listener (routes /<service>/... or by Host header); undefined = off. */
  gatewayPort?: number;
  /** Serve plain HTTP/1.1 gateway requests on the raw-socket fast path (wire-proxy.ts); false = node:http only. */
  gatewayFastPath: boolean;
  gatewayLb: 'round-robin' | 'least-request';
  /** Simulated runtime: time from create to Ready. */
  simStartDelayMs: number;
  /** How many recent events the SSE stream replays on connect. */
  sseReplay: number;
  logLevel: 'error' | 'warn' | 'log' | 'debug';
  /** `json`: one `{time, level, context, message}` object per line, for log shippers. */
  logFormat: 'text' | 'json';
  /** Directory relative paths in spec.command/workingDir resolve against. */
  workDir: string;
  /** How often the autoscaler decides (Kubernetes' HPA: 15 s). */
  hpaSyncMs: number;
  /** Grid's own URL, given to pods as GRID_URL. main.ts settles the port (GRID_PORT=0) before any pod starts. */
  url: string;
  /** The environment process pods inherit: Grid's, minus its own settings and secrets. */
  podEnv: Record<string, string>;
  /** Node capacity, as the kubelet's maxPods: pods of the real runtimes (all but sim) that may exist at once; the rest wait Pending. */
  maxPods: number;
  /** Where maxPods comes from, for the boot log: "GRID_MAX_PODS=5" or "GRID_MAX_PODS; default from 2 cores, 24 GiB". */
  maxPodsSource: string;
  /** How many pods of the real runtimes may be starting at once; the rest queue, so Grid itself stays responsive. */
  maxStarting: number;
  /** Origins (http://host:port) failover groups may name as url targets; anything else is refused at apply. */
  failoverUrlAllowlist: string[];
}

/** What the defaults are computed from; injectable so tests do not depend on the machine they run on. */
export interface Machine {
  cores: number;
  totalMemBytes: number;
}

const MIB = 1024 * 1024;

export function thisMachine(): Machine {
  return { cores: os.availableParallelism(), totalMemBytes: os.totalmem() };
}

/**
 * The kubelet's 110, lowered on small machines: an idle pod costs little, but each one is
 * a process to start, probe every period and sample for CPU, so more than ~32 per core makes
 * Grid's own loop and the pods' start-up fight for the CPU; and a small pod (a node or python
 * HTTP server) holds 20-50 MB, so 64 MiB each keeps the node out of swap and the OOM killer.
 */
export function defaultMaxPods(m: Machine): number {
  return Math.max(1, Math.min(110, m.cores * 32, Math.floor(m.totalMemBytes / (64 * MIB))));
}

export const GRID_CONFIG = Symbol('GRID_CONFIG');

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
  }
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer ${min}..${max} (got "${raw}")`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be an integer ${min}..${max} (got ${n})`);
  return n;
}

function bool(env: Env, name: string, def: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(name, `must be true or false (got "${raw}")`);
}

function oneOf<T extends string>(env: Env, name: string, def: T, allowed: readonly T[]): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(name, `must be one of ${allowed.join(', ')} (got "${raw}")`);
  return raw as T;
}

function existingDir(env: Env, name: string, dir: string): string {
  if (env[name] && !fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new ConfigError(name, `${dir} is not a directory`);
  return dir;
}

/** Grid's settings and secrets never reach a pod's environment. */
const GRID_OWN = /^(GRID_|X_API_KEY$|SMTP_|TICK_MS$)/;

function podEnv(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !GRID_OWN.test(k)) out[k] = v;
  return out;
}

/** GRID_FAILOVER_URL_ALLOWLIST: comma-separated http origins, each normalised as the spec validator compares them (URL.origin). */
function originList(env: Env, name: string): string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((item) => item.trim()).filter((item) => item !== '').map((item) => {
    let u: URL | undefined;
    try {
      u = new URL(item);
    } catch {
      u = undefined;
    }
    const plain = u !== undefined && u.protocol === 'http:' && u.username === '' && u.password === '' && u.pathname === '/' && u.search === '' && u.hash === '';
    if (!plain) throw new ConfigError(name, `each entry must be an http origin such as http://10.0.0.5:8080, without path, query or credentials (got "${item}")`);
    return u!.origin;
  });
}

export function gridUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export function loadConfig(env: Env = process.env, cwd = process.cwd(), machine: Machine = thisMachine()): GridConfig {
  const host = env.GRID_HOST || '127.0.0.1';
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) throw new ConfigError('GRID_HOST', `must be a host name or IP address (got "${host}")`);
  const apiKey = env.GRID_API_KEY || env.X_API_KEY || undefined;
  if (apiKey !== undefined && apiKey.length < 8) throw new ConfigError(env.GRID_API_KEY ? 'GRID_API_KEY' : 'X_API_KEY', 'must be at least 8 characters');
  const gatewayPortRaw = env.GRID_GATEWAY_PORT;
  const port = int(env, 'GRID_PORT', 8080, 0, 65535);
  const maxPods = int(env, 'GRID_MAX_PODS', defaultMaxPods(machine), 1, 1_000_000);
  const set = env.GRID_MAX_PODS !== undefined && env.GRID_MAX_PODS !== '';
  return {
    port,
    host,
    dataDir: path.resolve(cwd, env.GRID_DATA_DIR || './data'),
    tickMs: int(env, 'TICK_MS', 1000, 10, 3_600_000),
    apiKey,
    keepPodsOnExit: bool(env, 'GRID_KEEP_PODS_ON_EXIT', false),
    gatewayPort: gatewayPortRaw === undefined || gatewayPortRaw === '' ? undefined : int(env, 'GRID_GATEWAY_PORT', 0, 0, 65535),
    gatewayFastPath: bool(env, 'GRID_GATEWAY_FAST_PATH', true),
    gatewayLb: oneOf(env, 'GRID_GATEWAY_LB', 'round-robin', ['round-robin', 'least-request'] as const),
    simStartDelayMs: int(env, 'GRID_SIM_START_DELAY_MS', 300, 0, 600_000),
    sseReplay: int(env, 'GRID_SSE_REPLAY', 50, 0, 10_000),
    logLevel: oneOf(env, 'GRID_LOG_LEVEL', 'log', ['error', 'warn', 'log', 'debug'] as const),
    logFormat: oneOf(env, 'GRID_LOG_FORMAT', 'text', ['text', 'json'] as const),
    workDir: existingDir(env, 'GRID_WORK_DIR', path.resolve(cwd, env.GRID_WORK_DIR || '.')),
    hpaSyncMs: int(env, 'GRID_HPA_SYNC_MS', 15_000, 100, 600_000),
    url: gridUrl(host, port),
    podEnv: podEnv(env),
    maxPods,
    maxPodsSource: set ? `GRID_MAX_PODS=${maxPods}` : `GRID_MAX_PODS; default from ${machine.cores} cores, ${Math.round(machine.totalMemBytes / (1024 * MIB))} GiB`,
    // A start costs a fresh runtime loading itself (a few hundred ms of CPU): 2 per core keep the cores busy and Grid responsive (bench/admission.js).
    maxStarting: int(env, 'GRID_MAX_STARTING', machine.cores * 2, 1, 10_000),
    failoverUrlAllowlist: originList(env, 'GRID_FAILOVER_URL_ALLOWLIST'),
  };
}
