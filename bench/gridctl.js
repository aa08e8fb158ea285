// gridctl start-up benchmark (issue 13): wall time of `gridctl get pods` against `curl` of the
// same route (GET /state, which gridctl reads for pods), measured in the same run, interleaved,
// against a real Grid running the demo (npm start's services, real processes). Also measured:
// `node -e 0`, the floor any Node CLI pays before its first line runs, and `gridctl --version`
// (start-up without the network), so the ratio can be read as "Node's start-up + ours".
//
//   node bench/gridctl.js              31 interleaved runs of each
//   node bench/gridctl.js --runs=11
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT, fmt, gitInfo, mdTable, median, onExitCleanup, parseArgs, percentile, round, startProcess, stopProcess, waitForOutput, writeResults, gridHttp, waitServiceReady, waitQuiet } from './lib.js';

const args = parseArgs();
const RUNS = Math.max(3, Math.min(201, Number(args.runs ?? 31)));
const TARGET_RATIO = 3;
const GRIDCTL = path.join(ROOT, 'bin', 'gridctl.cjs');

function fail(msg) {
  process.stderr.write(`bench gridctl: ${msg}\n`);
  process.exit(1);
}

if (!fs.existsSync(path.join(ROOT, 'dist', 'cli', 'gridctl.cjs'))) fail('dist/cli/gridctl.cjs is missing: npm run build');
if (spawnSync('curl', ['--version']).status !== 0) fail('curl is not installed (apt-get install -y curl)');

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grid-bench-gridctl-'));
const grid = startProcess('grid', process.execPath, ['dist/main.js'], {
  cwd: ROOT,
  env: { ...process.env, GRID_PORT: '0', GRID_DATA_DIR: dataDir, GRID_LOG_LEVEL: 'warn', NODE_OPTIONS: '' },
});
onExitCleanup(() => fs.rmSync(dataDir, { recursive: true, force: true }));

/** Runs one command to completion; its wall time in ms (spawn to exit) and output. */
function timed(cmd, argv, env) {
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
  const ms = performance.now() - t0;
  if (r.status !== 0) fail(`${cmd} ${argv.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

try {
  const m = await waitForOutput(grid, /Grid listening on (http:\/\/127\.0\.0\.1:\d+)/, 30_000, 'Grid start-up line');
  const url = m[1];
  let pods = 0;
  for (const f of ['demo.yaml', 'shop.yaml']) {
    const r = await gridHttp('POST', `${url}/apply`, fs.readFileSync(path.join(ROOT, 'examples', f), 'utf8'));
    if (r.status !== 200) fail(`apply ${f}: ${r.status} ${r.text}`);
    for (const a of r.json.applied) {
      const svc = await gridHttp('GET', `${url}/services/${a.service}`);
      pods += svc.json.desired;
      await waitServiceReady(url, a.service, svc.json.desired, 60_000, 50);
    }
  }
  const env = { PATH: process.env.PATH, HOME: dataDir, GRID_URL: url };
  // Warm the page cache for node, the bundle and curl.
  for (let i = 0; i < 3; i++) {
    timed('curl', ['-sS', '-o', '/dev/null', `${url}/state`], env);
    timed(process.execPath, [GRIDCTL, 'get', 'pods'], env);
  }
  const rows = timed(process.execPath, [GRIDCTL, 'get', 'pods'], env).stdout.trim().split('\n').length - 1;
  if (rows !== pods) fail(`gridctl get pods printed ${rows} rows, expected ${pods}`);
  const quiet = await waitQuiet({ thresholdPct: 20 });

  const series = { curl: [], gridctl: [], nocache: [], node: [], version: [] };
  for (let i = 0; i < RUNS; i++) {
    series.curl.push(timed('curl', ['-sS', '-o', '/dev/null', `${url}/state`], env).ms);
    series.gridctl.push(timed(process.execPath, [GRIDCTL, 'get', 'pods'], env).ms);
    // The bundle run directly: what the launcher's V8 code cache saves.
    series.nocache.push(timed(process.execPath, [path.join(ROOT, 'dist', 'cli', 'gridctl.cjs'), 'get', 'pods'], env).ms);
    series.node.push(timed(process.execPath, ['-e', '0'], env).ms);
    series.version.push(timed(process.execPath, [GRIDCTL, '--version'], env).ms);
  }
  const stat = (xs) => ({ median: round(median(xs), 1), p90: round(percentile(xs, 90), 1), min: round(Math.min(...xs), 1) });
  const s = Object.fromEntries(Object.entries(series).map(([k, v]) => [k, stat(v)]));
  const ratio = round(s.gridctl.median / s.curl.median, 2);
  const floorRatio = round(s.node.median / s.curl.median, 2);
  const ours = round(s.gridctl.median - s.node.median, 1);
  const pass = ratio <= TARGET_RATIO;
  const json = { git: gitInfo(), runs: RUNS, pods, quiet, series: s, ratio, floorRatio, oursMs: ours, target: TARGET_RATIO, pass };
  const md = [
    '# gridctl start-up',
    '',
    `\`node bench/gridctl.js --runs=${RUNS}\` at ${json.git.commit ?? ''}: a real Grid running the demo (${pods} process pods), each command run ${RUNS} times, interleaved (foreign load before the runs: ${quiet.foreignPct}% of a core).`,
    '',
    mdTable(
      ['command', 'median ms', 'p90 ms', 'min ms'],
      [
        ['`curl -sS -o /dev/null $GRID_URL/state`', fmt(s.curl.median, 1), fmt(s.curl.p90, 1), fmt(s.curl.min, 1)],
        ['`gridctl get pods`', fmt(s.gridctl.median, 1), fmt(s.gridctl.p90, 1), fmt(s.gridctl.min, 1)],
        ['`node dist/cli/gridctl.cjs get pods` (the bundle without the launcher\'s code cache)', fmt(s.nocache.median, 1), fmt(s.nocache.p90, 1), fmt(s.nocache.min, 1)],
        ['`gridctl --version` (no request)', fmt(s.version.median, 1), fmt(s.version.p90, 1), fmt(s.version.min, 1)],
        ['`node -e 0` (Node start-up alone)', fmt(s.node.median, 1), fmt(s.node.p90, 1), fmt(s.node.min, 1)],
      ],
    ),
    '',
    `**gridctl get pods / curl: ${ratio}×** (target ≤ ${TARGET_RATIO}×: ${pass ? 'PASS' : 'FAIL'}). Node's start-up alone is ${floorRatio}× curl on this machine, which leaves a Node CLI ${round((TARGET_RATIO - floorRatio) * s.curl.median, 1)} ms for everything else; what gridctl adds to \`node -e 0\` (loading commander and its bundle, the request, the table) is ${ours} ms. The launcher's V8 code cache saves ${round(s.nocache.median - s.gridctl.median, 1)} ms of it.`,
    '',
  ].join('\n');
  writeResults('gridctl', json, md);
  process.stdout.write(md);
} finally {
  await stopProcess(grid);
}
