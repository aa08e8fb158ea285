// Small helpers shared by the benchmarks: statistics, markdown, /proc readers,
// and a registry of child processes that is always cleaned up (by PID) on exit.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(BENCH_DIR, '..');
export const RESULTS_DIR = path.join(BENCH_DIR, 'results');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function parseArgs(argv = process.argv.slice(2)) {
  const out = { _: [] };
  for (const a of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (m) out[m[1]] = m[2] === undefined ? true : m[2];
    else out._.push(a);
  }
  return out;
}

/** Nearest-rank percentile of an unsorted array (p in 0..100). */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
}

export function median(values) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function round(n, digits = 2) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return n;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export const MB = 1024 * 1024;

export function fmt(n, digits = 2) {
  if (n === null || n === undefined) return '–';
  if (typeof n !== 'number') return String(n);
  if (!Number.isFinite(n)) return '–';
  return round(n, digits).toLocaleString('en-US', { maximumFractionDigits: digits });
}

export function mdTable(header, rows) {
  const line = (cells) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function writeResults(name, json, md) {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const j = path.join(RESULTS_DIR, `${name}.json`);
  const m = path.join(RESULTS_DIR, `${name}.md`);
  fs.writeFileSync(j, JSON.stringify(json, null, 2) + '\n');
  fs.writeFileSync(m, md.endsWith('\n') ? md : md + '\n');
  return { json: j, md: m };
}

/** utime+stime in clock ticks of one process (its own, not its children's), or undefined if gone. */
export function procTicks(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return undefined;
  }
}

/** { utime, stime } in clock ticks of one process (not its children), or undefined if gone. */
export function procTimes(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { utime: Number(rest[11]), stime: Number(rest[12]) };
  } catch {
    return undefined;
  }
}

/** Commit and whether src/ differs from it, for the record (the tree may move while a benchmark runs). */
export function gitInfo() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return { commit: head, srcDirty: dirty !== '', distStale: newestMtime(path.join(ROOT, 'src')) > newestMtime(path.join(ROOT, 'dist')) };
  } catch {
    return { commit: 'unknown', srcDirty: null };
  }
}

function newestMtime(dir) {
  let newest = 0;
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  try {
    walk(dir);
  } catch {
    // missing
  }
  return newest;
}

export function procPpid(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(rest[1]);
  } catch {
    return undefined;
  }
}

export function procCmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return undefined;
  }
}

export function alive(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Direct children of pid (scans /proc). */
export function childrenOf(pid) {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    if (procPpid(Number(d)) === pid) out.push(Number(d));
  }
  return out;
}

export const CLK_TCK = 100; // getconf CLK_TCK on Linux x86-64

// ---------------------------------------------------------------------------
// Child processes: every one we start is registered and killed by PID on exit.

const started = new Map(); // pid -> { name, child }
let handlersInstalled = false;

function killAllSync() {
  for (const fn of extraCleanups) {
    try {
      fn();
    } catch {
      // best effort
    }
  }
  for (const [pid, s] of started) {
    if (s.child.exitCode !== null || s.child.signalCode !== null) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

const extraCleanups = [];
/** Synchronous cleanup run on exit (e.g. kill pods Grid started, by PID). */
export function onExitCleanup(fn) {
  extraCleanups.push(fn);
}

function installHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      killAllSync();
      process.exit(130);
    });
  }
}

/** spawn() and register the child for cleanup. */
export function startProcess(name, cmd, args, opts = {}) {
  installHandlers();
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  if (child.pid === undefined) throw new Error(`could not start ${name}: ${cmd}`);
  started.set(child.pid, { name, child });
  child.stdoutText = '';
  child.stderrText = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (d) => {
    if (child.stdoutText.length < 1_000_000) child.stdoutText += d;
  });
  child.stderr?.on('data', (d) => {
    if (child.stderrText.length < 1_000_000) child.stderrText += d;
  });
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.exited.then(() => started.delete(child.pid));
  return child;
}

/** Waits until the child's stdout matches re (or it exits, or the deadline passes). */
export async function waitForOutput(child, re, timeoutMs, what = 'output') {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const m = re.exec(child.stdoutText);
    if (m) return m;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what}: process exited (${child.exitCode ?? child.signalCode}) before printing it; stderr: ${child.stderrText.slice(-2000)}`);
    }
    await sleep(10);
  }
  throw new Error(`${what}: not seen within ${timeoutMs} ms; stdout: ${child.stdoutText.slice(-500)} stderr: ${child.stderrText.slice(-1000)}`);
}

/** SIGTERM, then SIGKILL after graceMs; resolves with the exit. */
export async function stopProcess(child, graceMs = 10_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exited;
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {
    return child.exited;
  }
  const t = setTimeout(() => {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }, graceMs);
  const r = await child.exited;
  clearTimeout(t);
  return r;
}

/** Runs a command to completion (bounded); returns { code, stdout, stderr }. */
export async function run(name, cmd, args, timeoutMs, opts = {}) {
  const child = startProcess(name, cmd, args, opts);
  const t = setTimeout(() => {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }, timeoutMs);
  const r = await child.exited;
  clearTimeout(t);
  return { code: r.code, signal: r.signal, stdout: child.stdoutText, stderr: child.stderrText };
}

// ---------------------------------------------------------------------------
// Foreign load: other sessions share this VM. CPU time the whole machine spent
// minus what our own processes spent, in % of one core.

export function systemTicks() {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
  return { busy: user + nice + system + irq + softirq, total: user + nice + system + idle + iowait + irq + softirq + (steal || 0) };
}

const NCPU = fs.readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d+ /.test(l)).length;

/** Busy % of one core not spent by oursTicks() processes, between two snapshots. */
export function foreignBetween(a, b) {
  const total = b.sys.total - a.sys.total;
  if (total <= 0) return 0;
  const busy = b.sys.busy - a.sys.busy - (b.ours - a.ours);
  return Math.max(0, round((busy / total) * NCPU * 100, 1));
}

export function snapshot(oursTicks) {
  return { sys: systemTicks(), ours: oursTicks() };
}

/**
 * Waits (bounded) until the machine's foreign load over a 1 s window is at most
 * thresholdPct of one core. Returns { waitedMs, foreignPct, gaveUp }.
 */
export async function waitQuiet({ thresholdPct = 15, maxWaitMs = 20_000, oursTicks = () => procTicks(process.pid) ?? 0, budget }) {
  const t0 = Date.now();
  const limit = budget ? Math.min(maxWaitMs, Math.max(0, budget.remainingMs)) : maxWaitMs;
  let foreignPct = 0;
  for (;;) {
    const a = snapshot(oursTicks);
    await sleep(1000);
    foreignPct = foreignBetween(a, snapshot(oursTicks));
    const waited = Date.now() - t0;
    if (foreignPct <= thresholdPct || waited >= limit) {
      const extra = Math.max(0, waited - 1000);
      if (budget) budget.remainingMs -= extra;
      return { waitedMs: extra, foreignPct, gaveUp: foreignPct > thresholdPct };
    }
  }
}

/** One call to Grid's API, bounded at 15 s; the answer's JSON (when it parses) and text. */
export async function gridHttp(method, url, body, contentType = 'application/yaml') {
  const res = await fetch(url, { method, body, headers: body ? { 'content-type': contentType } : {}, signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** Polls GET /services/<name> every pollMs until `want` pods exist and are all Ready; returns the service's JSON. */
export async function waitServiceReady(gridUrl, name, want, timeoutMs, pollMs = 5) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const r = await gridHttp('GET', `${gridUrl}/services/${name}`);
    if (r.status === 200 && r.json.ready === want && r.json.actual === want) return r.json;
    if (performance.now() > deadline) throw new Error(`service ${name}: ${r.json?.ready} of ${want} pods Ready after ${timeoutMs} ms`);
    await sleep(pollMs);
  }
}
