// Crash consistency at length: runs the crash suite (test/faults/crash.faults.spec.ts) for more
// iterations than CI does and writes its figures to bench/results/faults.md.
//   npm run bench -- faults [--iterations=200] [--seed=N]
// Figures come from the suite itself (GRID_FAULTS_REPORT), so the bench checks exactly what CI checks.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fmt, gitInfo, mdTable, parseArgs, percentile, ROOT, writeResults } from './lib.js';

const args = parseArgs();
const iterations = Number(args.iterations ?? 200);
const seed = args.seed ?? String(Math.floor(Math.random() * 2 ** 31));
const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'grid-faults-')), 'figures.json');

const started = Date.now();
const code = await new Promise((resolve) => {
  const child = spawn(process.execPath, ['--experimental-vm-modules', path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), 'test/faults/crash.faults.spec.ts'], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, GRID_FAULTS_ITERATIONS: String(iterations), GRID_FAULTS_SEED: seed, GRID_FAULTS_REPORT: report },
  });
  // bench/run.js stops a benchmark with SIGTERM: pass it on so jest's afterAll cleans up by PID.
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.once('exit', (c, s) => resolve(c ?? (s ? 128 : 1)));
});
const seconds = (Date.now() - started) / 1000;
if (!fs.existsSync(report)) {
  process.stderr.write(`faults: the suite wrote no figures (exit ${code})\n`);
  process.exit(1);
}
const f = JSON.parse(fs.readFileSync(report, 'utf8'));
const ms = f.restartToConvergedMs;
const ok = code === 0 && !f.failure;
const md = [
  '# Crash consistency (`npm run bench -- faults`)',
  '',
  `${ok ? 'PASS' : 'FAIL'}: ${f.iterations} of ${iterations} iterations, seed ${f.seed} (rerun: \`GRID_FAULTS_SEED=${f.seed} GRID_FAULTS_ITERATIONS=${iterations} npm run test:faults\`), ${fmt(seconds, 0)} s, ${os.cpus().length} cores, commit ${gitInfo().commit}`,
  '',
  'Each iteration: one operation on a Grid with process pods, SIGKILL of Grid at a random moment during it, a restart on the same data dir, and every invariant polled until it holds (40 s deadline).',
  '',
  f.failure ? `**Failure:** ${f.failure}\n` : '',
  '## Operations',
  '',
  mdTable(['operation', 'iterations'], Object.entries(f.operations).map(([k, v]) => [k, v])),
  '',
  '## Kill points',
  '',
  mdTable(['kill point', 'iterations'], Object.entries(f.killPoints).map(([k, v]) => [k === 'after-send' ? 'random 0..600 ms after sending the request (half within 30 ms)' : 'after the answer, while polling /state 0..5 times', v])),
  '',
  `Requests acknowledged (2xx) before the kill: ${f.acknowledgedBeforeKill}.`,
  '',
  '## Invariants',
  '',
  mdTable(['invariant', 'passed', 'failed'], Object.entries(f.invariants).map(([k, v]) => [k, v.passed, v.failed])),
  '',
  '## Restart to converged',
  '',
  mdTable(['n', 'p50 ms', 'p99 ms', 'max ms'], [[ms.length, fmt(percentile(ms, 50), 0), fmt(percentile(ms, 99), 0), fmt(Math.max(...ms), 0)]]),
  '',
  'From spawning the new Grid to every service converged (desired replicas Ready on one revision, or a paused/aborted canary coherent) and every acknowledged change found.',
].join('\n');
writeResults('faults', { ...f, requested: iterations, seconds, ok }, md);
process.stdout.write(md + '\n');
process.exit(ok ? 0 : 1);
