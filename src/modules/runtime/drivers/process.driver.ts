import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { Clock } from '../../../common/clock/clock.js';
import type { PodLogLimits } from '../../../common/config/config.js';
import type { RuntimeName } from '../../specs/spec.types.js';
import { expandVars } from '../expand-vars.js';
import type { AdoptCandidate, DriverSink, PodDriver, PodStartSpec, StartedPod } from './pod-driver.js';
import { faultOf } from '../../storage/storage-state.js';
import { isFrozenState, procStateOf } from './proc-state.js';
import { strayGroups, type ProcessSighting, type StrayPod } from './stray-pods.js';
import { RotationLog, type RotationState } from '../log-follow.js';

const CPU_SAMPLE_MS = 1000;
/** How often the pods' log sizes are checked: a log outgrows GRID_POD_LOG_MAX_BYTES by at most what its pod writes in this long plus during one rotation. */
export const LOG_CHECK_MS = 100;
const ADOPTED_POLL_MS = 250;
const CLK_TCK = 100;
/** A stray pod (spawned, never recorded) gets this long after SIGTERM before SIGKILL. */
const STRAY_GRACE_MS = 5000;
const STRAY_POLL_MS = 50;

interface Proc {
  podId: string;
  pid: number;
  child?: ChildProcess;
  /** Set once Grid asked it to stop: its exit is then expected and not reported as a crash. */
  stopping: boolean;
  exited: Promise<void>;
  markExited: () => void;
  cpu: number;
  lastTicks?: number;
  lastAt?: number;
  poll?: NodeJS.Timeout;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** utime+stime (clock ticks) and start time (field 22) from /proc/<pid>/stat; undefined if the process is gone or a zombie. */
export function procStat(pid: number): { ticks: number; start: string } | undefined {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // A zombie has exited; it only waits for a parent (not Grid, after a restart) to reap it.
    if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
    return { ticks: Number(rest[11]) + Number(rest[12]), start: rest[19] };
  } catch {
    return undefined;
  }
}

/**
 * Real child processes, spawned without a shell. Each pod gets a free 127.0.0.1 port
 * in PORT and its own process group (so Ctrl-C on Grid's terminal does not hit the pods
 * directly and Grid can stop them in order). stdout/stderr go to a per-pod log file,
 * rotated by size (see rotateLog), which survives a Grid restart so adopted pods keep their logs.
 */
export class ProcessDriver implements PodDriver {
  readonly name: RuntimeName = 'process';
  readonly probesOverHttp = true;
  private sink!: DriverSink;
  private readonly procs = new Map<string, Proc>();
  /** Pods between start() and their spawn: a stop in that gap cancels them, so no child outlives Grid's knowledge of it. */
  private readonly starting = new Map<string, { cancelled: boolean }>();
  /** The turn of the event loop the last queued spawn runs in (see nextSpawnTurn). */
  private spawnTurn: Promise<void> = Promise.resolve();
  private readonly sampler: NodeJS.Timeout;
  /** Pods whose log is being rotated: the copy runs off the event loop and must not start twice. */
  private readonly rotating = new Set<string>();
  /** Each pod's rotations since Grid started, for LogFollower. */
  private readonly rotationLogs = new Map<string, RotationLog>();
  private readonly logCheck: NodeJS.Timeout;

  constructor(
    private readonly clock: Clock,
    private readonly workDir: string,
    private readonly logDir: string,
    private readonly baseEnv: Readonly<Record<string, string>>,
    private readonly logLimits: PodLogLimits,
    /** This data dir's random id (docker-instance.ts), in every pod's GRID_INSTANCE: how a stray is told from a lookalike. */
    private readonly instance: string,
  ) {
    fs.mkdirSync(logDir, { recursive: true, mode: 0o700 });
    this.sampler = setInterval(() => this.sample(), CPU_SAMPLE_MS);
    this.sampler.unref();
    this.logCheck = setInterval(() => {
      for (const podId of this.procs.keys()) this.rotateIfFull(podId);
    }, LOG_CHECK_MS);
    this.logCheck.unref();
  }

  attach(sink: DriverSink): void {
    this.sink = sink;
  }

  logFile(podId: string): string {
    return path.join(this.logDir, `${podId}.log`);
  }

  /** The pod's log files, newest first: `<pod>.log`, then the rotated `<pod>.log.1`, `.2`, … */
  logFiles(podId: string): string[] {
    const files = [this.logFile(podId)];
    for (let i = 1; i < this.logLimits.maxFiles; i++) files.push(rotated(this.logFile(podId), i));
    return files;
  }

  /** Rotations of the pod's log since Grid started: a follower reads the copies it missed (see LogFollower). */
  rotations(podId: string): RotationState {
    return this.rotationLogs.get(podId) ?? new RotationLog(this.logLimits.maxFiles - 1);
  }

  /** The last `bytes` of the pod's output, across a rotation: a tail asked for just after one still finds its lines. */
  readLog(podId: string, bytes: number): string {
    let out = '';
    for (const file of this.logFiles(podId)) {
      if (out.length >= bytes) break;
      out = readTail(file, bytes - out.length) + out;
    }
    return out;
  }

  async start(p: PodStartSpec): Promise<StartedPod> {
    const ticket = { cancelled: false };
    this.starting.set(p.podId, ticket);
    try {
      return await this.spawnPod(p, ticket);
    } finally {
      if (this.starting.get(p.podId) === ticket) this.starting.delete(p.podId);
    }
  }

  private async spawnPod(p: PodStartSpec, ticket: { cancelled: boolean }): Promise<StartedPod> {
    const port = await freePort();
    await this.nextSpawnTurn();
    if (ticket.cancelled) throw new Error('stopped before it started');
    const cwd = path.resolve(this.workDir, p.spec.workingDir ?? '.');
    if (!fs.existsSync(cwd)) throw new Error(`workingDir ${cwd} does not exist`);
    const podEnv = { ...p.env, PORT: String(port), HOST: '127.0.0.1' };
    // As in Kubernetes, $(VAR) comes from the pod's own environment, not Grid's: PORT is known only here.
    const [file, ...args] = p.spec.command!.map((arg) => expandVars(arg, podEnv));
    const log = openLog(this.logFile(p.podId));
    let child: ChildProcess;
    try {
      child = spawn(file, args, { cwd, env: { ...this.baseEnv, ...podEnv, GRID_INSTANCE: this.instance }, stdio: ['ignore', log, log], detached: true, shell: false });
    } finally {
      if (log !== 'ignore') fs.closeSync(log);
    }
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`cannot start ${JSON.stringify(file)}: ${e.code === 'ENOENT' ? 'no such file or directory (is it installed and on PATH?)' : e.message}`)));
    });
    const pid = child.pid!;
    const proc = this.track(p.podId, pid, child);
    if (ticket.cancelled) {
      proc.stopping = true;
      this.signal(proc, 'SIGKILL');
    }
    child.once('exit', (code, signal) => {
      proc.markExited();
      if (this.procs.get(p.podId) !== proc) return;
      this.procs.delete(p.podId);
      if (proc.stopping) return;
      this.sink.exited(p.podId, {
        code,
        signal,
        reason: code === 0 ? 'Completed' : 'Error',
        message: `${file} exited ${code !== null ? `with code ${code}` : `on ${signal}`}${tail(this.logFile(p.podId))}`,
      });
    });
    return { pid, port, procStart: procStat(pid)?.start };
  }

  /**
   * A spawn forks Grid, which blocks its loop while the kernel copies its page tables (10-25 ms
   * for Grid's heap on a busy machine). Several pods starting together would block it for all
   * of theirs at once, so each spawn gets a turn of the loop of its own and requests are served
   * between them.
   */
  private nextSpawnTurn(): Promise<void> {
    this.spawnTurn = this.spawnTurn.then(() => new Promise<void>((r) => setImmediate(r)));
    return this.spawnTurn;
  }

  private track(podId: string, pid: number, child?: ChildProcess): Proc {
    let markExited!: () => void;
    const exited = new Promise<void>((r) => (markExited = r));
    const proc: Proc = { podId, pid, child, stopping: false, exited, markExited, cpu: 0 };
    this.procs.set(podId, proc);
    return proc;
  }

  async stop(podId: string, graceMs: number): Promise<void> {
    this.cancelStart(podId);
    const proc = this.procs.get(podId);
    if (!proc) return;
    proc.stopping = true;
    this.signal(proc, 'SIGTERM');
    // A paused (SIGSTOPped) process keeps SIGTERM pending until it runs again: continue it, or it would sit out the whole grace period.
    this.signal(proc, 'SIGCONT');
    const timer = setTimeout(() => this.signal(proc, 'SIGKILL'), graceMs);
    await proc.exited;
    clearTimeout(timer);
    if (this.procs.get(podId) === proc) this.procs.delete(podId);
  }

  async kill(podId: string): Promise<void> {
    this.cancelStart(podId);
    const proc = this.procs.get(podId);
    if (!proc) return;
    proc.stopping = true;
    this.signal(proc, 'SIGKILL');
    await proc.exited;
    if (this.procs.get(podId) === proc) this.procs.delete(podId);
  }

  /** SIGSTOP to the pod's process group: every process of the pod freezes, as a hung one, and answers nothing. */
  async pause(podId: string): Promise<void> {
    this.signal(this.running(podId), 'SIGSTOP');
  }

  async resume(podId: string): Promise<void> {
    this.signal(this.running(podId), 'SIGCONT');
  }

  async isPaused(podId: string): Promise<boolean> {
    const proc = this.procs.get(podId);
    if (!proc) return false;
    try {
      return isFrozenState(procStateOf(fs.readFileSync(`/proc/${proc.pid}/stat`, 'utf8')));
    } catch {
      return false;
    }
  }

  private running(podId: string): Proc {
    const proc = this.procs.get(podId);
    if (!proc || proc.stopping) throw new Error(`pod ${podId} has no running process`);
    return proc;
  }

  private cancelStart(podId: string): void {
    const t = this.starting.get(podId);
    if (t) t.cancelled = true;
  }

  /** The pod is gone for good: its logs go with it. */
  release(podId: string): void {
    for (const file of this.logFiles(podId)) fs.rmSync(file, { force: true });
    this.rotationLogs.delete(podId);
  }

  /** Signal the pod's process group, so helpers it spawned go too. */
  private signal(proc: Proc, sig: NodeJS.Signals): void {
    try {
      process.kill(-proc.pid, sig);
    } catch {
      try {
        process.kill(proc.pid, sig);
      } catch {
        // already gone
      }
    }
  }

  cpu(podId: string): number | undefined {
    return this.procs.get(podId)?.cpu;
  }

  async adopt(c: AdoptCandidate): Promise<boolean> {
    const { pid, procStart } = c;
    if (!pid || !procStart) return false;
    const stat = procStat(pid);
    if (!stat || stat.start !== procStart) return false;
    const proc = this.track(c.podId, pid);
    // Not our child any more: watch the pid instead of waiting on it.
    proc.poll = setInterval(() => {
      if (procStat(pid)?.start === procStart) return;
      clearInterval(proc.poll);
      proc.markExited();
      if (this.procs.get(c.podId) !== proc) return;
      this.procs.delete(c.podId);
      if (!proc.stopping) this.sink.exited(c.podId, { code: null, signal: null, reason: 'Error', message: `adopted process ${c.pid} exited${tail(this.logFile(c.podId))}` });
    }, ADOPTED_POLL_MS);
    proc.poll.unref();
    return true;
  }

  /**
   * Pods spawned by a Grid that was killed before it recorded them run on unmanaged, beside the
   * replacements the reconciler starts: stop them (SIGTERM, SIGKILL after STRAY_GRACE_MS) before
   * the first reconcile. Then the logs no adopted pod accounts for (pods that went while Grid was
   * down, or those strays) would stay on disk for ever, so they go too. In that order: a stray is
   * recognised by its stdout being its pod's log file (see strayGroups for what else must agree).
   */
  async adoptionFinished(): Promise<StrayPod[]> {
    const adopted = new Set([...this.procs.values()].map((p) => p.pid));
    const strays = strayGroups(sightPods(), { logDir: this.logDir, instance: this.instance, uid: process.getuid?.() ?? -1, pgid: ownPgid() }, adopted);
    const groups = strays.map((s) => s.pid);
    for (const g of groups) signalGroup(g, 'SIGTERM');
    const deadline = this.clock.now() + STRAY_GRACE_MS;
    while (groups.some(groupAlive) && this.clock.now() < deadline) await new Promise((r) => setTimeout(r, STRAY_POLL_MS));
    for (const g of groups.filter(groupAlive)) signalGroup(g, 'SIGKILL');
    for (const name of fs.readdirSync(this.logDir)) {
      const m = /^(.+)\.log(\.\d+)?$/.exec(name);
      if (!m || this.procs.has(m[1]) || this.starting.has(m[1])) continue;
      fs.rmSync(path.join(this.logDir, name), { force: true });
    }
    return strays;
  }

  async shutdown(keep: boolean): Promise<void> {
    clearInterval(this.sampler);
    clearInterval(this.logCheck);
    const procs = [...this.procs.values()];
    if (keep) {
      for (const p of procs) if (p.poll) clearInterval(p.poll);
      return;
    }
    for (const id of this.starting.keys()) this.cancelStart(id);
    // The runtime has already drained and stopped its pods with their own grace periods; this catches any left.
    await Promise.all(procs.map((p) => this.stop(p.podId, 5000)));
  }

  private sample(): void {
    const now = this.clock.now();
    for (const proc of this.procs.values()) {
      const s = procStat(proc.pid);
      if (!s) continue;
      if (proc.lastTicks !== undefined && proc.lastAt !== undefined && now > proc.lastAt) {
        proc.cpu = Math.round((((s.ticks - proc.lastTicks) / CLK_TCK) * 1000 * 100) / (now - proc.lastAt));
      }
      proc.lastTicks = s.ticks;
      proc.lastAt = now;
    }
  }

  private rotateIfFull(podId: string): void {
    if (this.rotating.has(podId)) return;
    const file = this.logFile(podId);
    if ((fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0) <= this.logLimits.maxBytes) return;
    this.rotating.add(podId);
    let log = this.rotationLogs.get(podId);
    if (!log) this.rotationLogs.set(podId, (log = new RotationLog(this.logLimits.maxFiles - 1)));
    rotateLog(file, this.logLimits, log)
      .catch(() => undefined) // the pod (and its log) may be gone; the next check tries again
      .finally(() => this.rotating.delete(podId));
  }
}

function rotated(file: string, n: number): string {
  return `${file}.${n}`;
}

/** A rotation copies this much per read, off the event loop. */
const ROTATE_CHUNK = 64 * 1024;
/** What arrived after the copy's last read is appended in one synchronous step (with the truncate) if it is at most this much; more is dropped with a marker line. */
export const ROTATE_CARRY_MAX = 256 * 1024;

/**
 * Docker json-file's max-size/max-file for a file Grid does not write: the pod holds the log open
 * (O_APPEND) and keeps it across a Grid restart, so it cannot be renamed away under the pod. It is
 * copied to `.1` (the older ones shifted to `.2`, …, the oldest dropped) and truncated in place, as
 * logrotate's copytruncate: the pod writes on at the new end. The copy runs off the event loop in
 * ROTATE_CHUNK reads, up to `maxBytes`; then, in one turn, what arrived since (at most
 * ROTATE_CARRY_MAX) is appended and the live file truncated, so only what the pod writes in the
 * instant between that append and the truncate is lost. A pod that wrote more than that meanwhile
 * outran the rotation: the rest is dropped and `.1` ends with `[grid: N bytes dropped …]`, so a
 * copy holds at most maxBytes + ROTATE_CARRY_MAX and a line, and is always a prefix of what the live
 * file held (LogFollower relies on it). With maxFiles 1 the log is only truncated. `log` learns of
 * the renames and the truncate in the turns they happen.
 */
export async function rotateLog(file: string, limits: PodLogLimits, log: RotationLog = new RotationLog(limits.maxFiles - 1)): Promise<void> {
  if (limits.maxFiles <= 1) {
    const size = fs.statSync(file).size;
    fs.truncateSync(file, 0);
    log.finish(size);
    return;
  }
  fs.rmSync(rotated(file, limits.maxFiles - 1), { force: true });
  for (let i = limits.maxFiles - 2; i >= 1; i--) if (fs.existsSync(rotated(file, i))) fs.renameSync(rotated(file, i), rotated(file, i + 1));
  log.shift();
  let finished = false;
  let src: fs.promises.FileHandle | undefined;
  let dst: fs.promises.FileHandle | undefined;
  try {
    src = await fs.promises.open(file, 'r');
    dst = await fs.promises.open(rotated(file, 1), 'w', 0o600);
    const buf = Buffer.allocUnsafe(ROTATE_CHUNK);
    let copied = 0;
    let endsLine = true;
    for (;;) {
      const n = Math.min(ROTATE_CHUNK, Math.min((await src.stat()).size, limits.maxBytes) - copied);
      if (n <= 0) break;
      const { bytesRead } = await src.read(buf, 0, n, copied);
      if (bytesRead === 0) break;
      await dst.write(buf, 0, bytesRead, copied);
      copied += bytesRead;
      endsLine = buf[bytesRead - 1] === 0x0a;
    }
    // One turn from here to the truncate: no await.
    const size = fs.fstatSync(src.fd).size;
    const rest = size - copied;
    if (rest > ROTATE_CARRY_MAX) {
      fs.writeSync(dst.fd, `${endsLine ? '' : '\n'}[grid: ${rest} bytes dropped: the pod wrote faster than its log could be rotated]\n`, copied);
    } else if (rest > 0) {
      const tail = Buffer.allocUnsafe(rest);
      const got = fs.readSync(src.fd, tail, 0, rest, copied);
      fs.writeSync(dst.fd, tail, 0, got, copied);
    }
    fs.truncateSync(file, 0);
    log.finish(size);
    finished = true;
  } finally {
    // The copies are shifted whatever failed: counted as a rotation so `.i` still maps to its generation.
    if (!finished) log.finish(0);
    await src?.close().catch(() => undefined);
    await dst?.close().catch(() => undefined);
  }
}

/**
 * The pod's log file, opened for appending; made 0600, as a pod's output may hold its secrets (a
 * rotation's copy keeps that mode). On a read-only data dir it cannot be opened: the pod still
 * starts (a restart must not wait for the disk), without a log until its next start.
 */
function openLog(file: string): number | 'ignore' {
  try {
    return fs.openSync(file, 'a', 0o600);
  } catch (e) {
    if (faultOf(e)) return 'ignore';
    throw e;
  }
}

/** Every readable process that carries GRID_POD: candidates for strayGroups. Others' processes are unreadable and skipped. */
function sightPods(): ProcessSighting[] {
  const out: ProcessSighting[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const env = fs.readFileSync(`/proc/${name}/environ`, 'latin1').split('\0');
      const pod = envValue(env, 'GRID_POD');
      if (!pod) continue;
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (rest[0] === 'Z' || rest[0] === 'X') continue;
      const uidLine = /^Uid:\s+(\d+)\s+(\d+)/m.exec(fs.readFileSync(`/proc/${name}/status`, 'utf8'));
      const flags = /^flags:\s+([0-7]+)/m.exec(fs.readFileSync(`/proc/${name}/fdinfo/1`, 'utf8'));
      out.push({
        pid: Number(name),
        pgid: Number(rest[2]),
        uids: uidLine ? [Number(uidLine[1]), Number(uidLine[2])] : [],
        pod,
        instance: envValue(env, 'GRID_INSTANCE') ?? '',
        stdout: fs.readlinkSync(`/proc/${name}/fd/1`),
        stdoutFlags: flags ? parseInt(flags[1], 8) : 0,
      });
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

function envValue(env: readonly string[], name: string): string | undefined {
  return env.find((v) => v.startsWith(`${name}=`))?.slice(name.length + 1);
}

/** Grid's own process group (field 5 of /proc/self/stat); Node has no getpgid. */
function ownPgid(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // already gone
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The last lines a crashed process printed, for the exit event. */
function tail(file: string): string {
  const t = readTail(file, 400).trim();
  return t ? `; last output: ${t.split('\n').slice(-3).join(' | ')}` : '';
}

export function readTail(file: string, bytes: number): string {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const n = Math.min(size, bytes);
    const buf = Buffer.alloc(n);
    fs.readSync(fd, buf, 0, n, size - n);
    return buf.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
