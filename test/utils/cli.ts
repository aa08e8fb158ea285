// Runs the real gridctl (node bin/gridctl.cjs → dist/cli, built by `npm run build`) as a child
// process, with a HOME of its own so no user config leaks in, and kills it at a deadline.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from './grid.js';

export const GRIDCTL = path.join(ROOT, 'bin', 'gridctl.cjs');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the deadline ended the run (the process was sent SIGINT, then SIGKILL). */
  timedOut: boolean;
}

export interface CliOptions {
  /** Grid's URL, passed as GRID_URL unless env sets it. */
  url?: string;
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Deadline: SIGINT at this point (a watch ends as on Ctrl-C), SIGKILL 3 s later. Default 20 s. */
  timeoutMs?: number;
  cwd?: string;
  /** Called with each stdout chunk as it arrives (for watches). */
  onStdout?: (chunk: string, all: string) => void;
  /** Ends the run with SIGINT (Ctrl-C) as soon as stdout so far satisfies it: a watch ends when it has shown what the test waits for. */
  stopWhen?: (all: string) => boolean;
}

let home: string | undefined;
/** One empty HOME for the whole test file, removed at exit. */
export function cliHome(): string {
  if (!home) {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'gridctl-home-'));
    const h = home;
    process.once('exit', () => fs.rmSync(h, { recursive: true, force: true }));
  }
  return home;
}

export function gridctl(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('GRID_') && k !== 'NODE_OPTIONS' && k !== 'NO_COLOR' && k !== 'XDG_CONFIG_HOME') env[k] = v;
  env.HOME = cliHome();
  if (opts.url) env.GRID_URL = opts.url;
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const child = spawn(process.execPath, [GRIDCTL, ...args], { cwd: opts.cwd ?? ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  let stopped = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    opts.onStdout?.(d, stdout);
    if (opts.stopWhen && !stopped && opts.stopWhen(stdout)) {
      stopped = true;
      child.kill('SIGINT');
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.on('error', () => undefined);
  child.stdin.end(opts.input ?? '');
  const timeoutMs = opts.timeoutMs ?? 20_000;
  let killer: NodeJS.Timeout | undefined;
  const deadline = setTimeout(() => {
    timedOut = true;
    child.kill('SIGINT');
    killer = setTimeout(() => child.kill('SIGKILL'), 3000);
  }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(deadline);
      if (killer) clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** Parses a kubectl-style table into rows keyed by header. */
export function parseTable(text: string): Array<Record<string, string>> {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return [];
  const header = lines[0];
  const starts: number[] = [];
  const names: string[] = [];
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(header))) {
    starts.push(m.index);
    names.push(m[0]);
  }
  return lines.slice(1).map((line) => {
    const row: Record<string, string> = {};
    names.forEach((n, i) => (row[n] = line.slice(starts[i], i + 1 < starts.length ? starts[i + 1] : undefined).trim()));
    return row;
  });
}
