// Starts the real Grid (node dist/main.js) on an ephemeral port with a temp data
// dir, and cleans up every process it started, including pods left behind by a
// Grid that was SIGKILLed.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { procStateOf } from '../../src/modules/runtime/drivers/proc-state.js';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

export interface GridHandle {
  url: string;
  /** The dedicated gateway listener, when GRID_GATEWAY_PORT was set. */
  gatewayUrl?: string;
  port: number;
  dataDir: string;
  proc: ChildProcess;
  output: () => string;
  /** Graceful stop (SIGTERM) and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL: pods of the process runtime survive, as after a crash. */
  kill(): Promise<void>;
}

const started = new Set<GridHandle>();
const dataDirs = new Set<string>();

export function tempDataDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'grid-e2e-'));
  dataDirs.add(d);
  return d;
}

export async function startGrid(opts: { env?: Record<string, string>; dataDir?: string; args?: string[]; timeoutMs?: number } = {}): Promise<GridHandle> {
  const dataDir = opts.dataDir ?? tempDataDir();
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    GRID_PORT: '0',
    GRID_DATA_DIR: dataDir,
    GRID_LOG_LEVEL: 'warn',
    TICK_MS: '200',
    ...opts.env,
  };
  delete env.NODE_OPTIONS;
  const proc = spawn(process.execPath, [path.join(ROOT, 'dist', 'main.js'), ...(opts.args ?? [])], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Grid did not start within ${opts.timeoutMs ?? 20000} ms:\n${out}`)), opts.timeoutMs ?? 20000);
    const onData = () => {
      const m = /Grid listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Grid exited with ${code} before listening:\n${out}`));
    });
  });
  const gatewayUrl = /Grid listening on [^\s]+ \(gateway on (http:\/\/[^\s)]+)\)/.exec(out)?.[1];
  const handle: GridHandle = {
    url,
    gatewayUrl,
    port: Number(new URL(url).port),
    dataDir,
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const code = await withTimeout(exited, 20000, 'Grid did not exit after SIGTERM');
      started.delete(handle);
      return code;
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
      started.delete(handle);
    },
  };
  started.add(handle);
  return handle;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, rej) => (t = setTimeout(() => rej(new Error(what)), ms)))]);
  } finally {
    clearTimeout(t);
  }
}

/** Kills pod processes recorded in a data dir (used after a SIGKILLed Grid, and always at the end). */
export function killRecordedPods(dataDir: string): number[] {
  const file = path.join(dataDir, 'grid.db');
  if (!fs.existsSync(file)) return [];
  const killed: number[] = [];
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const rows = db.prepare('SELECT pid, proc_start FROM pods WHERE pid IS NOT NULL').all() as { pid: number; proc_start: string | null }[];
    for (const r of rows) {
      if (!sameProcess(r.pid, r.proc_start)) continue;
      try {
        process.kill(-r.pid, 'SIGKILL');
        killed.push(r.pid);
      } catch {
        try {
          process.kill(r.pid, 'SIGKILL');
          killed.push(r.pid);
        } catch {
          // gone
        }
      }
    }
  } catch {
    // no pods table yet
  } finally {
    db?.close();
  }
  return killed;
}

export function sameProcess(pid: number, procStart: string | null): boolean {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z' || rest[0] === 'X') return false;
    return procStart === null || rest[19] === procStart;
  } catch {
    return false;
  }
}

/** The state letter of /proc/<pid>/stat (T: stopped by a signal); undefined once the process is gone or a zombie. */
export function procState(pid: number): string | undefined {
  try {
    const state = procStateOf(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return state === 'Z' || state === 'X' ? undefined : state;
  } catch {
    return undefined;
  }
}

/** Call from afterAll: stops every Grid started by this file and kills leftover pods. */
export async function cleanupAll(): Promise<void> {
  for (const g of [...started]) {
    try {
      await g.stop();
    } catch {
      await g.kill();
    }
  }
  for (const d of dataDirs) {
    killRecordedPods(d);
    fs.rmSync(d, { recursive: true, force: true });
  }
  dataDirs.clear();
}

/**
 * Polls fn until it returns a truthy value, or fails with the last error after timeoutMs.
 * A throw and every falsy value (false, undefined, null, 0, '', NaN) mean "not yet", so a
 * condition written as a count or a string cannot pass while it is still 0 or empty.
 */
export async function expectEventually<T>(fn: () => T | Promise<T>, timeoutMs = 10000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = new Error(`condition returned ${String(v)}`);
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw last instanceof Error ? new Error(`not true within ${timeoutMs} ms: ${last.message}`) : last;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function json<T = any>(url: string, init?: RequestInit): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body, headers: res.headers };
}

export async function applyYaml(g: GridHandle, yaml: string, headers: Record<string, string> = {}) {
  return json(`${g.url}/apply`, { method: 'POST', headers: { 'content-type': 'application/yaml', ...headers }, body: yaml });
}

export function example(name: string): string {
  return fs.readFileSync(path.join(ROOT, 'examples', name), 'utf8');
}

export interface StatePod {
  id: string;
  service: string;
  state: string;
  ready: boolean;
  restarts: number;
  cpu: number;
  version: string;
  revision: number;
  pid: number | null;
  port: number | null;
  runtime: string;
}

export async function podsOf(g: GridHandle, service: string): Promise<StatePod[]> {
  const { body } = await json<{ pods: StatePod[] }>(`${g.url}/state`);
  return body.pods.filter((p) => p.service === service);
}

export async function readyPods(g: GridHandle, service: string, n: number): Promise<StatePod[]> {
  const pods = (await podsOf(g, service)).filter((p) => p.state !== 'Terminating');
  const ready = pods.filter((p) => p.ready);
  if (ready.length !== n || pods.length !== n) throw new Error(`${service}: ${ready.length} ready of ${pods.length} pods, want ${n}: ${JSON.stringify(pods.map((p) => [p.id, p.state]))}`);
  return ready;
}
