// Admission benchmark (issue 9): apply one process service with many replicas and
// poll /healthz every 20 ms for the whole start. Reports /healthz p50/p99/max, failed
// polls, and the time from the apply until every pod is Ready. Then deletes the
// service and waits (bounded) until every pod process is gone.
//
//   node bench/admission.js [--pods=200] [--max-pods=300] [--max-starting=N] [--runs=1] [--out=admission] [--prof=DIR] [--root=DIR]
//
// --root runs another build (e.g. main's, for a before/after): DIR/dist/main.js.
//
// The pods are `python3 -m http.server` (~20 MB each): 200 copies of the node demo
// service would take ~9 GB on a machine other people use too.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { childrenOf, fmt, gitInfo, mdTable, parseArgs, percentile, ROOT, round, sleep, startProcess, stopProcess, waitForOutput, writeResults } from './lib.js';

const args = parseArgs();
const PODS = Number(args.pods ?? 200);
const MAX_PODS = String(args['max-pods'] ?? 300);
const GRID_ROOT = path.resolve(args.root ?? ROOT);
const RUNS = Number(args.runs ?? 1);
const POLL_MS = 20;
const READY_MAX_MS = 120_000;
const GONE_MAX_MS = 60_000;
const PYTHON = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();

function spec(name, dir) {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  replicas: ${PODS}
  command: ["${PYTHON}", "-m", "http.server", "--bind", "127.0.0.1", "--directory", "${dir}", "$(PORT)"]
  readinessProbe: { httpGet: { path: / } }
  terminationGracePeriodSeconds: 5
`;
}

async function api(base, method, p, body) {
  const res = await fetch(`${base}${p}`, { method, headers: body ? { 'content-type': 'application/yaml' } : {}, body });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return JSON.parse(text);
}

function stats(lat, failed = 0) {
  return { samples: lat.length, failed, p50: round(percentile(lat, 50)), p99: round(percentile(lat, 99)), max: round(Math.max(...lat)) };
}

async function once(run) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grid-bench-adm-'));
  const www = fs.mkdtempSync(path.join(os.tmpdir(), 'grid-bench-www-'));
  const nodeArgs = args.prof ? ['--cpu-prof', `--cpu-prof-dir=${args.prof}`] : [];
  const env = { ...process.env, GRID_PORT: '0', GRID_DATA_DIR: dataDir, GRID_LOG_LEVEL: 'warn', GRID_MAX_PODS: MAX_PODS };
  if (args['max-starting']) env.GRID_MAX_STARTING = String(args['max-starting']);
  const grid = startProcess('grid', process.execPath, [...nodeArgs, path.join(GRID_ROOT, 'dist/main.js')], {
    cwd: GRID_ROOT,
    env,
  });
  try {
    const base = (await waitForOutput(grid, /Grid listening on (http:\/\/\S+)/, 30_000, 'Grid start'))[1];
    /** [sent, ms]: sent relative to the apply request, so polls answered while the apply itself was handled can be told apart. */
    const polls = [];
    let failed = 0;
    let polling = true;
    const inflight = new Set();
    let applyAt = Infinity;
    const poller = (async () => {
      while (polling) {
        const t0 = performance.now();
        const sent = Date.now();
        const p = fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5000) })
          .then((r) =>
            r.arrayBuffer().then(() => {
              if (r.status !== 200) return failed++;
              polls.push([sent - applyAt, performance.now() - t0]);
            }),
          )
          .catch(() => failed++)
          .finally(() => inflight.delete(p));
        inflight.add(p);
        await sleep(POLL_MS);
      }
      await Promise.all(inflight);
    })();
    const t0 = (applyAt = Date.now());
    await api(base, 'POST', '/apply', spec('load', www));
    const appliedMs = Date.now() - t0;
    let readyMs = null;
    let ready = 0;
    while (Date.now() - t0 < READY_MAX_MS) {
      const s = await api(base, 'GET', '/services/load');
      ready = s.ready;
      if (ready === PODS) {
        readyMs = Date.now() - t0;
        break;
      }
      await sleep(250);
    }
    polling = false;
    await poller;
    await api(base, 'DELETE', '/services/load');
    const goneBy = Date.now() + GONE_MAX_MS;
    while (childrenOf(grid.pid).length > 0 && Date.now() < goneBy) await sleep(100);
    const left = childrenOf(grid.pid).length;
    const r = {
      run,
      pods: PODS,
      maxPods: Number(MAX_PODS),
      readyMs,
      readyAtEnd: ready,
      applyMs: appliedMs,
      healthz: stats(polls.map(([, ms]) => ms), failed),
      // The apply request itself (parse, validate, create the pod records) is the same work before and after; this is the start alone.
      healthzAfterApply: stats(polls.filter(([sent]) => sent >= appliedMs).map(([, ms]) => ms)),
      leftAfterDelete: left,
    };
    console.log(JSON.stringify(r));
    return r;
  } finally {
    await stopProcess(grid, 20_000);
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(www, { recursive: true, force: true });
  }
}

const results = [];
for (let i = 0; i < RUNS; i++) results.push(await once(i + 1));
const md = [
  `# Admission: ${PODS} process pods started at once (GRID_MAX_PODS=${MAX_PODS})`,
  '',
  `${os.cpus().length} cores, ${round(os.totalmem() / 2 ** 30, 1)} GiB; Grid from ${GRID_ROOT === ROOT ? JSON.stringify(gitInfo()) : GRID_ROOT}`,
  '',
  mdTable(
    ['run', 'all Ready (s)', '/healthz p50 (ms)', 'p99 (ms)', 'max (ms)', 'after the apply returned: p50', 'p99', 'max', 'samples', 'failed'],
    results.map((r) => [
      r.run,
      r.readyMs === null ? `not within ${READY_MAX_MS / 1000} s (${r.readyAtEnd})` : fmt(r.readyMs / 1000),
      fmt(r.healthz.p50),
      fmt(r.healthz.p99),
      fmt(r.healthz.max),
      fmt(r.healthzAfterApply.p50),
      fmt(r.healthzAfterApply.p99),
      fmt(r.healthzAfterApply.max),
      r.healthz.samples,
      r.healthz.failed,
    ]),
  ),
  '',
  // Issue 9's target: /healthz and the gateway stay responsive (p99 < 100 ms) while hundreds of pods start.
  ...results.map((r) => `${r.healthz.p99 < 100 && r.healthz.failed === 0 ? 'PASS' : 'FAIL'}  run ${r.run}: /healthz p99 ${fmt(r.healthz.p99)} ms < 100 ms with no failed poll while ${PODS} pods start`),
].join('\n');
writeResults(args.out ?? 'admission', { results }, md);
console.log(md);
