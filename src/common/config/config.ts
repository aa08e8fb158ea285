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
  /** Named API keys (GRID_API_KEYS, plus GRID_API_KEY/X_API_KEY as `default`); a key acts as an operator named after it. */
  apiKeys: ApiKeyEntry[];
  /** Sets the password of the operator `admin` at boot (a secret: never logged). */
  adminPassword?: string;
  /** YAML `users: [{name, role, passwordHash}]` loaded at boot (config as code). */
  usersFile?: string;
  /** Serve without any credentials on a non-loopback GRID_HOST (otherwise Grid refuses to start). */
  allowInsecure: boolean;
  /** Leave process/docker pods running when Grid exits (they are adopted on the next boot). */
  keepPodsOnExit: boolean;
  /** Optional dedicated gateway listener (routes /<service>/... or by Host header); undefined = off. */
  gatewayPort?: number;
  /** Serve plain HTTP/1.1 gateway requests on the raw-socket fast path (wire-proxy.ts); false = node:http only. */
  gatewayFastPath: boolean;
  gatewayLb: 'round-robin' | 'least-request';
  /** A request's head must arrive within this long of its first byte, else 408 (both ports; slowloris). GRID_CLIENT_REQUEST_TIMEOUT_MS. */
  clientHeadTimeoutMs: number;
  /** Once a request's head is in, the longest gap between two reads of its body, else 408. */
  clientBodyTimeoutMs: number;
  /** A client connection with no request in progress, including one that never sent a byte, is closed after this long. */
  clientIdleTimeoutMs: number;
  /** A client whose send buffer stays full (it reads nothing of a response) this long is cut. */
  clientSendTimeoutMs: number;
  /** Client connections each listener keeps open; at the cap the cheapest open one is closed for a newcomer. */
  maxConnections: number;
  /** GRID_MAX_CONNECTIONS was set (a default cap is lowered to fit the open-files limit; a set one only warned about). */
  maxConnectionsSet: boolean;
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
  alerts: AlertsConfig;
  /** Origins (http://host:port) failover groups may name as url targets; anything else is refused at apply. */
  failoverUrlAllowlist: string[];
  /** The Docker Engine's unix socket (GRID_DOCKER_SOCKET, else DOCKER_HOST's unix:// path, else /var/run/docker.sock). */
  dockerSocket: string;
  /** auth.refused rows one source address may cause a minute; the rest are counted into one row. */
  auditRefusalsPerMinute: number;
  /** The event log keeps events younger than maxAgeMs and at most maxCount of them; undefined = no limit of that kind. */
  eventsRetention: EventsRetention;
  /** Process pod logs rotate at maxBytes, keeping maxFiles files in all (Docker json-file's max-size/max-file); docker pods get the same log-opts. */
  podLogs: PodLogLimits;
}

export interface EventsRetention {
  maxAgeMs?: number;
  maxCount?: number;
}

export interface PodLogLimits {
  maxBytes: number;
  maxFiles: number;
}

/** SMTP delivery of alerts (seed names; see alertsConfig for the aliases). */
export interface EmailConfig {
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  pass?: string;
  from: string;
  to: string[];
  subjectPrefix: string;
}

export interface AlertsConfig {
  /** A DOWN is confirmed only after the condition held this long (the seed's knobs and defaults). */
  downConfirmMs: number;
  upConfirmMs: number;
  /** Least time between two notifications of one subject. */
  cooldownMs: number;
  /** Nothing is sent this long after boot, after a subject appears, or after a service is scaled from 0. */
  startupGraceMs: number;
  /** Per-attempt limit of one delivery (SMTP connect, greeting and socket timeouts; webhook request). */
  sendTimeoutMs: number;
  /** Attempts per delivery, with exponential backoff between them. */
  sendAttempts: number;
  email?: EmailConfig;
  webhookUrl?: string;
  /** Linked from every alert when set. */
  publicUiUrl?: string;
}

export interface ApiKeyEntry {
  name: string;
  key: string;
}

/** Short enough to paste, long enough that guessing through the login limiter is hopeless. */
export const MIN_API_KEY_LENGTH = 16;
/** NIST SP 800-63B's floor for a memorised secret is 8; an admin password guards every service, so more. */
export const MIN_PASSWORD_LENGTH = 12;
export const USER_NAME = /^[a-z][a-z0-9._-]{0,62}$/;

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

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: MIB, g: 1024 * MIB };

/** A size as Docker's json-file log driver takes its max-size: bytes, or k, m, g (binary, as Docker counts them). */
function size(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return def;
  const m = /^(\d{1,16})([kmg]?)$/i.exec(raw);
  const range = `${min}..${max} bytes`;
  if (!m) throw new ConfigError(name, `must be a size such as 10m, 512k, 1g or 1048576 (bytes; units k, m, g as Docker's max-size), ${range} (got "${env[name]}")`);
  const n = Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()];
  if (n < min || n > max) throw new ConfigError(name, `must be ${range} (got ${raw} = ${n} bytes)`);
  return n;
}

const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000, y: 365 * 86_400_000 };

/** A duration as Prometheus writes its retention (`15d`, `720h`, `1y`); `0` means no limit. */
function retentionAge(env: Env, name: string, def: number): number | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return def;
  if (raw === '0') return undefined;
  const m = /^(\d{1,9})(s|m|h|d|w|y)$/.exec(raw);
  if (!m || Number(m[1]) === 0) throw new ConfigError(name, `must be a duration such as 90d, 720h, 30m or 1y (units s, m, h, d, w, y), or 0 for no age limit (got "${raw}")`);
  return Number(m[1]) * DURATION_UNITS[m[2]];
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
const GRID_OWN = /^(GRID_|X_API_KEY$|SMTP_|TICK_MS$|ALERT_|EMAIL_|MAIL_|DSR_|PUBLIC_UI_URL$)/;

function podEnv(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !GRID_OWN.test(k)) out[k] = v;
  return out;
}

function apiKeys(env: Env, legacy: string | undefined): ApiKeyEntry[] {
  const out: ApiKeyEntry[] = [];
  for (const [i, item] of (env.GRID_API_KEYS ?? '').split(',').entries()) {
    if (item.trim() === '') continue;
    const at = item.indexOf(':');
    // Never echo the key itself in the message: it lands in terminals and CI logs.
    if (at < 0) throw new ConfigError('GRID_API_KEYS', `entry ${i + 1} must be name:key`);
    const name = item.slice(0, at).trim();
    const key = item.slice(at + 1).trim();
    if (!USER_NAME.test(name)) throw new ConfigError('GRID_API_KEYS', `entry ${i + 1}: name must match ${USER_NAME.source} (got "${name}")`);
    if (out.some((k) => k.name === name)) throw new ConfigError('GRID_API_KEYS', `entry ${i + 1}: name "${name}" is used twice`);
    if (key.length < MIN_API_KEY_LENGTH) throw new ConfigError('GRID_API_KEYS', `entry ${i + 1} ("${name}"): key must be at least ${MIN_API_KEY_LENGTH} characters`);
    if (out.some((k) => k.key === key)) throw new ConfigError('GRID_API_KEYS', `entry ${i + 1} ("${name}"): same key as "${out.find((k) => k.key === key)!.name}"; each key must name one actor`);
    out.push({ name, key });
  }
  if (legacy !== undefined) {
    const variable = env.GRID_API_KEY ? 'GRID_API_KEY' : 'X_API_KEY';
    if (out.some((k) => k.name === 'default')) throw new ConfigError('GRID_API_KEYS', `the name "default" is taken by ${variable}`);
    if (out.some((k) => k.key === legacy)) throw new ConfigError('GRID_API_KEYS', `a key equals ${variable}; each key must name one actor`);
    out.push({ name: 'default', key: legacy });
  }
  return out;
}

function adminPassword(env: Env): string | undefined {
  const raw = env.GRID_ADMIN_PASSWORD;
  if (raw === undefined || raw === '') return undefined;
  if (raw.length < MIN_PASSWORD_LENGTH) throw new ConfigError('GRID_ADMIN_PASSWORD', `must be at least ${MIN_PASSWORD_LENGTH} characters`);
  return raw;
}

function existingFile(env: Env, name: string, cwd: string): string | undefined {
  if (!env[name]) return undefined;
  const file = path.resolve(cwd, env[name]);
  if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) throw new ConfigError(name, `${file} is not a file`);
  return file;
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

/** Grid talks to the engine over a unix socket only; a tcp DOCKER_HOST would put the engine's full control on the network. */
export function dockerSocket(env: Env, cwd: string): string {
  const own = env.GRID_DOCKER_SOCKET;
  if (own !== undefined && own !== '') {
    const p = own.startsWith('unix://') ? own.slice('unix://'.length) : own;
    if (p === '' || p.includes('://')) throw new ConfigError('GRID_DOCKER_SOCKET', `must be the path of the Docker unix socket, e.g. /var/run/docker.sock or unix:///var/run/docker.sock (got "${own}")`);
    return path.resolve(cwd, p);
  }
  const host = env.DOCKER_HOST;
  if (host !== undefined && host !== '') {
    if (!host.startsWith('unix://') || host.length === 'unix://'.length) {
      throw new ConfigError('DOCKER_HOST', `Grid reaches Docker through a unix socket only (got "${host}"); set GRID_DOCKER_SOCKET to the socket's path`);
    }
    return path.resolve(cwd, host.slice('unix://'.length));
  }
  return '/var/run/docker.sock';
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
    apiKeys: apiKeys(env, apiKey),
    adminPassword: adminPassword(env),
    usersFile: existingFile(env, 'GRID_USERS_FILE', cwd),
    allowInsecure: bool(env, 'GRID_ALLOW_INSECURE', false),
    keepPodsOnExit: bool(env, 'GRID_KEEP_PODS_ON_EXIT', false),
    gatewayPort: gatewayPortRaw === undefined || gatewayPortRaw === '' ? undefined : int(env, 'GRID_GATEWAY_PORT', 0, 0, 65535),
    gatewayFastPath: bool(env, 'GRID_GATEWAY_FAST_PATH', true),
    gatewayLb: oneOf(env, 'GRID_GATEWAY_LB', 'round-robin', ['round-robin', 'least-request'] as const),
    // The gateway's client limits (src/modules/gateway/client-limits.ts has why these defaults).
    // The name predates the body timeout: it bounded head and body together, and cut slow uploads.
    clientHeadTimeoutMs: int(env, 'GRID_CLIENT_REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000),
    clientBodyTimeoutMs: int(env, 'GRID_CLIENT_BODY_TIMEOUT_MS', 30_000, 100, 3_600_000),
    clientIdleTimeoutMs: int(env, 'GRID_CLIENT_IDLE_TIMEOUT_MS', 65_000, 100, 3_600_000),
    clientSendTimeoutMs: int(env, 'GRID_CLIENT_SEND_TIMEOUT_MS', 60_000, 100, 3_600_000),
    maxConnections: int(env, 'GRID_MAX_CONNECTIONS', 10_000, 1, 1_000_000),
    maxConnectionsSet: env.GRID_MAX_CONNECTIONS !== undefined && env.GRID_MAX_CONNECTIONS !== '',
    simStartDelayMs: int(env, 'GRID_SIM_START_DELAY_MS', 300, 0, 600_000),
    sseReplay: int(env, 'GRID_SSE_REPLAY', 50, 0, 10_000),
    logLevel: oneOf(env, 'GRID_LOG_LEVEL', 'log', ['error', 'warn', 'log', 'debug'] as const),
    logFormat: oneOf(env, 'GRID_LOG_FORMAT', 'text', ['text', 'json'] as const),
    workDir: existingDir(env, 'GRID_WORK_DIR', path.resolve(cwd, env.GRID_WORK_DIR || '.')),
    hpaSyncMs: int(env, 'GRID_HPA_SYNC_MS', 15_000, 100, 600_000),
    url: gridUrl(host, port),
    podEnv: podEnv(env),
    dockerSocket: dockerSocket(env, cwd),
    maxPods,
    maxPodsSource: set ? `GRID_MAX_PODS=${maxPods}` : `GRID_MAX_PODS; default from ${machine.cores} cores, ${Math.round(machine.totalMemBytes / (1024 * MIB))} GiB`,
    // A start costs a fresh runtime loading itself (a few hundred ms of CPU): 2 per core keep the cores busy and Grid responsive (bench/admission.js).
    maxStarting: int(env, 'GRID_MAX_STARTING', machine.cores * 2, 1, 10_000),
    failoverUrlAllowlist: originList(env, 'GRID_FAILOVER_URL_ALLOWLIST'),
    auditRefusalsPerMinute: int(env, 'GRID_AUDIT_REFUSALS_PER_MINUTE', 20, 1, 1_000_000),
    alerts: alertsConfig(env),
    eventsRetention: {
      maxAgeMs: retentionAge(env, 'GRID_EVENTS_RETENTION', DEFAULT_EVENTS_RETENTION_MS),
      maxCount: int(env, 'GRID_EVENTS_RETENTION_COUNT', DEFAULT_EVENTS_RETENTION_COUNT, 0, 1_000_000_000) || undefined,
    },
    podLogs: {
      maxBytes: size(env, 'GRID_POD_LOG_MAX_BYTES', 10 * MIB, 1024, 1024 * 1024 * MIB),
      maxFiles: int(env, 'GRID_POD_LOG_MAX_FILES', 2, 1, 100),
    },
  };
}

/** The README's *Retention* section derives these from measured row sizes and event rates. */
export const DEFAULT_EVENTS_RETENTION_MS = 90 * 86_400_000;
export const DEFAULT_EVENTS_RETENTION_COUNT = 1_000_000;

/** The first of names that is set, as {name, value}; two of them set to different values is an error (which one would win is not obvious). */
function aliased(env: Env, names: readonly string[]): { name: string; value: string } | undefined {
  let found: { name: string; value: string } | undefined;
  for (const name of names) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (!found) found = { name, value };
    else if (value !== found.value) throw new ConfigError(name, `is set and differs from ${found.name}; they mean the same, keep one`);
  }
  return found;
}

/** A header value from the environment: a CR or LF would let it add headers of its own. */
function headerSafe(name: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new ConfigError(name, 'must not contain line breaks');
  return value;
}

const EMAIL_ADDRESS = /^[^\s@<>,;]+@[^\s@<>,;]+$/;

function httpUrl(name: string, value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new ConfigError(name, `must be an http:// or https:// URL (got "${value}")`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(name, `must be an http:// or https:// URL (got ${u.protocol})`);
  return u.toString();
}

/**
 * Alerts read the seed's names (Perfect System: SMTP_*, EMAIL_*), and as aliases the Secure
 * Failover Monitor's (MAIL_USER, MAIL_PASS, MAIL_RECEIVER) and the DSR's (DSR_SMTP_*, DSR_EMAIL_*,
 * DSR_ENABLE_EMAIL). Email is on when a host is set; half a configuration is an error, not silence.
 */
export function alertsConfig(env: Env): AlertsConfig {
  const host = aliased(env, ['SMTP_HOST', 'DSR_SMTP_HOST']);
  const portVar = aliased(env, ['SMTP_PORT', 'DSR_SMTP_PORT']);
  const user = aliased(env, ['SMTP_USER', 'MAIL_USER', 'DSR_SMTP_USER']);
  const pass = aliased(env, ['SMTP_PASS', 'MAIL_PASS', 'DSR_SMTP_PASSWORD']);
  const from = aliased(env, ['EMAIL_FROM', 'DSR_EMAIL_FROM']);
  const to = aliased(env, ['EMAIL_TO', 'MAIL_RECEIVER', 'DSR_EMAIL_TO']);
  const enabledVar = aliased(env, ['EMAIL_ENABLED', 'DSR_ENABLE_EMAIL']);
  const enabled = enabledVar ? bool({ [enabledVar.name]: enabledVar.value }, enabledVar.name, true) : true;
  let email: EmailConfig | undefined;
  if (enabled && (host || to || user || enabledVar)) {
    if (!host) throw new ConfigError('SMTP_HOST', `is required to send email (${(to ?? user ?? enabledVar)!.name} is set); for Gmail it is smtp.gmail.com`);
    if (!/^[A-Za-z0-9.:-]+$/.test(host.value)) throw new ConfigError(host.name, `must be a host name or IP address (got "${host.value}")`);
    if (!to) throw new ConfigError('EMAIL_TO', `is required when ${host.name} is set (comma-separated recipients)`);
    const recipients = to.value.split(',').map((x) => x.trim()).filter((x) => x !== '');
    const bad = recipients.find((r) => !EMAIL_ADDRESS.test(r));
    if (bad !== undefined || recipients.length === 0) throw new ConfigError(to.name, `must be comma-separated email addresses (got "${bad ?? to.value}")`);
    if (user && !pass) throw new ConfigError('SMTP_PASS', `is required when ${user.name} is set`);
    if (pass && !user) throw new ConfigError('SMTP_USER', `is required when ${pass.name} is set`);
    const secureSet = env.SMTP_SECURE !== undefined && env.SMTP_SECURE !== '';
    const port = portVar ? int({ [portVar.name]: portVar.value }, portVar.name, 587, 1, 65535) : bool(env, 'SMTP_SECURE', false) ? 465 : 587;
    const fromValue = headerSafe(from?.name ?? 'EMAIL_FROM', from?.value ?? 'grid@localhost');
    email = {
      host: host.value,
      port,
      // The seed: SMTP_SECURE defaults to false, or to true on port 465 (implicit TLS).
      secure: secureSet ? bool(env, 'SMTP_SECURE', false) : port === 465,
      user: user?.value,
      pass: pass?.value,
      from: fromValue,
      to: recipients,
      subjectPrefix: headerSafe('EMAIL_SUBJECT_PREFIX', env.EMAIL_SUBJECT_PREFIX ?? '[Grid] '),
    };
  }
  const webhook = env.ALERT_WEBHOOK_URL;
  const ui = env.PUBLIC_UI_URL;
  return {
    downConfirmMs: int(env, 'ALERT_DOWN_CONFIRM_MS', 0, 0, 86_400_000),
    upConfirmMs: int(env, 'ALERT_UP_CONFIRM_MS', 0, 0, 86_400_000),
    cooldownMs: int(env, 'ALERT_COOLDOWN_MS', 0, 0, 86_400_000),
    startupGraceMs: int(env, 'ALERT_STARTUP_GRACE_MS', 5000, 0, 86_400_000),
    sendTimeoutMs: int(env, 'ALERT_SEND_TIMEOUT_MS', 10_000, 100, 600_000),
    sendAttempts: int(env, 'ALERT_SEND_ATTEMPTS', 5, 1, 20),
    email,
    webhookUrl: webhook ? httpUrl('ALERT_WEBHOOK_URL', webhook) : undefined,
    publicUiUrl: ui ? httpUrl('PUBLIC_UI_URL', ui) : undefined,
  };
}
