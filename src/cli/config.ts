// Where gridctl connects and as whom, as kubectl reads a kubeconfig: flags first, then
// GRID_URL / GRID_API_KEY / GRID_USER (+ GRID_PASSWORD), then the current context of
// ~/.config/grid/config.yaml (or $GRID_CONFIG, or $XDG_CONFIG_HOME/grid/config.yaml).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CliError, UsageError } from './errors.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface Context {
  name: string;
  server: string;
  apiKey?: string;
  user?: string;
  password?: string;
}

export interface ConfigFile {
  currentContext?: string;
  contexts: Context[];
}

export interface GlobalOptions {
  server?: string;
  apiKey?: string;
  user?: string;
  password?: string;
  context?: string;
  requestTimeout?: string;
}

export interface Connection {
  url: string;
  apiKey?: string;
  user?: string;
  password?: string;
  /** Where the URL came from, for error messages: `--server`, `GRID_URL`, `context local`, `default`. */
  source: string;
  timeoutMs: number;
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GRID_CONFIG) return path.resolve(env.GRID_CONFIG);
  const base = env.XDG_CONFIG_HOME ? env.XDG_CONFIG_HOME : path.join(os.homedir(), '.config');
  return path.join(base, 'grid', 'config.yaml');
}

export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * Reads a regular file of at most `limit` bytes. A device (/dev/zero), FIFO or directory is
 * refused before a byte is read: reading one could take all of the machine's memory.
 */
export function readSmallFile(file: string, limit: number): string {
  const st = fs.statSync(file);
  // A pipe (`-f <(…)`) is read up to the limit; devices and directories are refused unread.
  if (!st.isFile() && !st.isFIFO()) throw new CliError(`${file}: not a regular file`);
  if (st.size > limit) throw new CliError(`${file}: ${st.size} bytes, more than the ${limit} gridctl reads`);
  const fd = fs.openSync(file, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.alloc(64 * 1024);
      const r = fs.readSync(fd, buf, 0, buf.length, null);
      if (r === 0) break;
      total += r;
      if (total > limit) throw new CliError(`${file}: more than the ${limit} bytes gridctl reads`);
      chunks.push(buf.subarray(0, r));
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads the config file; a missing file is an empty config. The YAML parser loads only when a file exists. */
export async function readConfig(file = configPath()): Promise<ConfigFile> {
  let text: string;
  try {
    text = readSmallFile(file, MAX_CONFIG_BYTES);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { contexts: [] };
    if (e instanceof CliError) throw e;
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const { parse } = await import('./yaml.js');
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new CliError(`${file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return parseConfig(doc, file);
}

/** Validates the file's shape (kubeconfig-like names: `current-context`, `contexts: [{name, server, api-key, user, password}]`). */
export function parseConfig(doc: unknown, file: string): ConfigFile {
  if (doc === null || doc === undefined) return { contexts: [] };
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new CliError(`${file}: must be a mapping with current-context and contexts`);
  const d = doc as Record<string, unknown>;
  const list = d.contexts ?? [];
  if (!Array.isArray(list)) throw new CliError(`${file}: contexts: must be a list`);
  const contexts = list.map((c, i): Context => {
    const o = (c ?? {}) as Record<string, unknown>;
    const str = (k: string): string | undefined => {
      const v = o[k];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'string') throw new CliError(`${file}: contexts[${i}].${k}: must be a string`);
      return v;
    };
    const name = str('name');
    if (!name) throw new CliError(`${file}: contexts[${i}].name: required`);
    const server = str('server');
    if (!server) throw new CliError(`${file}: contexts[${i}].server: required`);
    return { name, server, apiKey: str('api-key'), user: str('user'), password: str('password') };
  });
  const current = d['current-context'];
  if (current !== undefined && current !== null && typeof current !== 'string') throw new CliError(`${file}: current-context: must be a string`);
  return { currentContext: (current as string | undefined) ?? undefined, contexts };
}

/** Writes the file readable by its owner only: it may hold an API key or a password. */
export async function writeConfig(cfg: ConfigFile, file = configPath()): Promise<void> {
  const { stringify } = await import('./yaml.js');
  const doc = {
    ...(cfg.currentContext ? { 'current-context': cfg.currentContext } : {}),
    contexts: cfg.contexts.map((c) => ({
      name: c.name,
      server: c.server,
      ...(c.apiKey ? { 'api-key': c.apiKey } : {}),
      ...(c.user ? { user: c.user } : {}),
      ...(c.password ? { password: c.password } : {}),
    })),
  };
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // A fresh name, created exclusively: a file planted at a predictable name would keep its own mode.
  const { randomBytes } = await import('node:crypto');
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, stringify(doc), { mode: 0o600, flag: 'wx' });
  fs.renameSync(tmp, file);
}

export function normalizeUrl(raw: string, source: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new UsageError(`${source}: not a URL: ${raw}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`${source}: must be http:// or https:// (got ${u.protocol})`);
  // A password in the URL would be printed with every message that names it, and sent beside an API key.
  if (u.username || u.password) throw new UsageError(`${source}: no user or password in the URL; use --user/--password, GRID_USER, or a context's user`);
  return u.toString().replace(/\/+$/, '');
}

function timeoutOf(raw: string | undefined): number {
  if (raw === undefined) return 30_000;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw.trim());
  if (!m) throw new UsageError(`--request-timeout: a duration like 30s, 500ms or 2m (got '${raw}')`);
  const n = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
  if (n <= 0) throw new UsageError(`--request-timeout: must be more than 0`);
  return n;
}

/** Flags, then environment, then the config file's context. */
export async function resolveConnection(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  const timeoutMs = timeoutOf(opts.requestTimeout ?? env.GRID_REQUEST_TIMEOUT);
  let ctx: Context | undefined;
  // A context's credentials go to its own server only: with --server or GRID_URL (and no
  // --context) the file is not read at all, so neither a key meant for another Grid nor a
  // broken file gets in the way.
  const needFile = opts.context !== undefined || !(opts.server ?? env.GRID_URL);
  if (needFile) {
    const file = configPath(env);
    const cfg = await readConfig(file);
    const name = opts.context ?? cfg.currentContext;
    if (name !== undefined) {
      ctx = cfg.contexts.find((c) => c.name === name);
      if (!ctx) throw new UsageError(`context "${name}" not found in ${file} (gridctl config get-contexts lists them)`);
    }
  }
  let url: string;
  let source: string;
  if (opts.server) [url, source] = [normalizeUrl(opts.server, '--server'), '--server'];
  else if (env.GRID_URL) [url, source] = [normalizeUrl(env.GRID_URL, 'GRID_URL'), 'GRID_URL'];
  else if (ctx) [url, source] = [normalizeUrl(ctx.server, `context ${ctx.name}`), `context ${ctx.name}`];
  else [url, source] = [DEFAULT_URL, 'default'];

  // Credentials travel as one set: a flag or variable replaces the context's, never mixes with it.
  const apiKey = opts.apiKey ?? env.GRID_API_KEY;
  let user = opts.user ?? env.GRID_USER;
  let password = opts.password ?? env.GRID_PASSWORD;
  if (user && password === undefined && user.includes(':')) [user, password] = [user.slice(0, user.indexOf(':')), user.slice(user.indexOf(':') + 1)];
  if (apiKey) return { url, apiKey, source, timeoutMs };
  if (user) {
    if (password === undefined) throw new UsageError('a user needs a password: --password, GRID_PASSWORD, or GRID_USER=name:password');
    return { url, user, password, source, timeoutMs };
  }
  if (ctx) return { url, apiKey: ctx.apiKey, user: ctx.user, password: ctx.password, source, timeoutMs };
  return { url, source, timeoutMs };
}
