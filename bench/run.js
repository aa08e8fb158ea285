// Runs benchmarks in sequence, each in its own process: `node bench/run.js [name...] [--args]`.
// No name runs all. Arguments starting with -- are passed through to every benchmark.
// Exits non-zero if a benchmark crashes; a missed target is not a crash (it is a FAIL in its markdown).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH_DIR, '..');
// Every bench/<name>.js except the helpers; reconcile and gateway first, the rest alphabetically.
const HELPERS = new Set(['run', 'lib', 'profile-top']);
const FIRST = ['reconcile', 'gateway'];
const found = fs
  .readdirSync(BENCH_DIR)
  .filter((f) => f.endsWith('.js'))
  .map((f) => f.slice(0, -3))
  .filter((n) => !HELPERS.has(n));
const ALL = [...FIRST.filter((n) => found.includes(n)), ...found.filter((n) => !FIRST.includes(n)).sort()];
// fuzz: a million parser cases take ~3 min on 2 idle cores; the margin is for a shared machine.
const argv = process.argv.slice(2);
const names = argv.filter((a) => !a.startsWith('--'));
const passthrough = argv.filter((a) => a.startsWith('--'));
// soak: its --minutes (default 30), plus 5 for the cycle that may run past the deadline and the report.
const soakMinutes = Number(/^--minutes=(.*)$/.exec(passthrough.findLast((a) => a.startsWith('--minutes=')) ?? '')?.[1] ?? 30);
const TIMEOUT_MS = { reconcile: 10 * 60_000, gateway: 15 * 60_000, fuzz: 15 * 60_000, soak: ((Number.isFinite(soakMinutes) ? soakMinutes : 30) + 5) * 60_000 };
const selected = names.length ? names : ALL;
for (const n of selected) {
  if (!ALL.includes(n)) {
    process.stderr.write(`bench: unknown benchmark '${n}' (have: ${ALL.join(', ')})\n`);
    process.exit(2);
  }
}

let current;
const killCurrent = () => {
  if (current && current.exitCode === null && current.signalCode === null) {
    try {
      // SIGTERM lets the benchmark's own handlers clean up its processes by PID.
      process.kill(current.pid, 'SIGTERM');
    } catch {
      // gone
    }
  }
};
process.on('exit', killCurrent);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    killCurrent();
    process.exit(130);
  });
}

const failed = [];
const t0 = Date.now();
for (const name of selected) {
  process.stdout.write(`\n=== bench: ${name} ${passthrough.join(' ')} ===\n`);
  const started = Date.now();
  const code = await new Promise((resolve) => {
    current = spawn(process.execPath, [path.join(BENCH_DIR, `${name}.js`), ...passthrough], { cwd: ROOT, stdio: 'inherit' });
    const timer = setTimeout(() => {
      process.stderr.write(`bench: ${name} exceeded ${TIMEOUT_MS[name] ?? 15 * 60_000} ms; stopping it\n`);
      killCurrent();
      setTimeout(() => {
        try {
          process.kill(current.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }, 15_000).unref();
    }, TIMEOUT_MS[name] ?? 15 * 60_000);
    current.once('exit', (c, s) => {
      clearTimeout(timer);
      resolve(c ?? (s ? 128 : 1));
    });
    current.once('error', (e) => {
      clearTimeout(timer);
      process.stderr.write(`bench: could not start ${name}: ${e.message}\n`);
      resolve(1);
    });
  });
  current = undefined;
  process.stdout.write(`=== bench: ${name} ${code === 0 ? 'done' : `CRASHED (exit ${code})`} in ${((Date.now() - started) / 1000).toFixed(1)} s ===\n`);
  if (code !== 0) failed.push(name);
}
process.stdout.write(`\nbench: ${selected.length - failed.length}/${selected.length} finished in ${((Date.now() - t0) / 1000).toFixed(1)} s; results in bench/results/\n`);
if (failed.length) {
  process.stderr.write(`bench: crashed: ${failed.join(', ')}\n`);
  process.exit(1);
}
