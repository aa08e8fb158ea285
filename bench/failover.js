// Failover benchmark (issue 10): two versions of the demo service behind one failover group,
// clients GETting /gateway/web/ without pause, and the active version crashed. Per run:
//   1. time from the crash to the group's switch (target: failureThreshold x interval + 100 ms),
//      and to the first answer from the next version (the gateway's standby takes requests
//      the crashed version refuses before the switch);
//   2. requests that failed from the crash until 1 s after the switch (target: 0 for GETs).
//   3. the cost of audit on /apply (bench/audit-cost.js, measured in the same run).
//
//   node bench/failover.js [--runs=5] [--interval=0.1] [--threshold=3] [--clients=4] [--out=failover]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fmt, gitInfo, mdTable, parseArgs, percentile, ROOT, round, sleep, startProcess, stopProcess, waitForOutput, writeResults } from './lib.js';
import { measureAuditCost } from './audit-cost.js';

const args = parseArgs();
const RUNS = Number(args.runs ?? 5);
const INTERVAL_S = Number(args.interval ?? 0.1);
const THRESHOLD = Number(args.threshold ?? 3);
const CLIENTS = Number(args.clients ?? 4);
const TARGET_SWITCH_MS = Math.round(THRESHOLD * INTERVAL_S * 1000) + 100;
// Each run's clients stop after this many requests or this long, whichever comes first.
const MAX_REQUESTS = 50_000;
const MAX_LOAD_MS = 20_000;

function service(name, version) {
  // START_DELAY_MS: the crashed version stays down (Grid restarts it at once) long enough for the switch to be measured.
  return `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  replicas: 1
  command: ["node", "demo-services/versioned/server.js"]
  env: [{ name: VERSION, value: ${version} }, { name: START_DELAY_MS, value: "3000" }]
  readinessProbe: { httpGet: { path: /health/live }, periodSeconds: 1 }
`;
}

const YAML = [
  service('v1', 'v1'),
  service('v2', 'v2'),
  `apiVersion: v1
kind: FailoverGroup
metadata: { name: web }
spec:
  targets: [{ service: v1 }, { service: v2 }]
  healthCheck: { path: /health, intervalSeconds: ${INTERVAL_S}, timeoutSeconds: 1, expectJson: { status: healthy }, failureThreshold: ${THRESHOLD}, successThreshold: 2 }
  cooldownSeconds: 1
  failback: auto
`,
].join('---\n');

async function api(base, method, p, body) {
  const res = await fetch(`${base}${p}`, { method, headers: body ? { 'content-type': 'application/yaml' } : {}, body });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return JSON.parse(text);
}

async function until(what, fn, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** Clients GETting /gateway/web/ until stopped (or the bounds); every answer as [sentAt, doneAt, status, version]. */
function startLoad(base, stop) {
  const samples = [];
  let sent = 0;
  const deadline = Date.now() + MAX_LOAD_MS;
  const worker = async () => {
    while (!stop.done && sent < MAX_REQUESTS && Date.now() < deadline) {
      sent++;
      const at = Date.now();
      try {
        const r = await fetch(`${base}/gateway/web/`);
        const body = await r.json().catch(() => ({}));
        samples.push([at, Date.now(), r.status, body.version ?? null]);
      } catch (e) {
        samples.push([at, Date.now(), `error: ${e.message}`, null]);
      }
    }
  };
  return Promise.all(Array.from({ length: CLIENTS }, worker)).then(() => samples);
}

async function once(base, run) {
  await until('v1 active with both targets healthy', async () => {
    const g = await api(base, 'GET', '/failover/web');
    return g.active === 'v1' && g.healthy === 2 && g.cooldownRemainingMs === 0;
  }, 60_000);
  const known = (await api(base, 'GET', '/failover/web')).history.length;
  const stop = { done: false };
  const load = startLoad(base, stop);
  await sleep(500);
  const crashAt = Date.now();
  await api(base, 'POST', '/gateway/v1/chaos/crash');
  const sw = await until('the switch', async () => {
    const g = await api(base, 'GET', '/failover/web');
    return g.history.length > known && g.history[0].from === 'v1' ? g.history[0] : undefined;
  }, 30_000);
  const switchAt = Date.parse(sw.at);
  await sleep(1000);
  stop.done = true;
  const samples = await load;
  const during = samples.filter(([at]) => at >= crashAt && at <= switchAt + 1000);
  const failed = during.filter(([, , status]) => status !== 200);
  const firstV2 = samples.filter(([at, , status, version]) => at >= crashAt && status === 200 && version === 'v2').map(([, done]) => done);
  const r = {
    run,
    switchMs: switchAt - crashAt,
    firstV2Ms: firstV2.length ? Math.min(...firstV2) - crashAt : null,
    requests: samples.length,
    requestsDuringSwitch: during.length,
    failedDuringSwitch: failed.length,
    failures: [...new Set(failed.map(([, , s]) => String(s)))],
    reason: sw.message,
  };
  console.log(JSON.stringify(r));
  return r;
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grid-bench-failover-'));
const grid = startProcess('grid', process.execPath, [path.join(ROOT, 'dist/main.js')], {
  cwd: ROOT,
  env: { ...process.env, GRID_PORT: '0', GRID_DATA_DIR: dataDir, GRID_LOG_LEVEL: 'warn', TICK_MS: '200' },
});
const results = [];
try {
  const base = (await waitForOutput(grid, /Grid listening on (http:\/\/\S+)/, 30_000, 'Grid start'))[1];
  await api(base, 'POST', '/apply', YAML);
  for (let i = 0; i < RUNS; i++) results.push(await once(base, i + 1));
} finally {
  await stopProcess(grid, 20_000);
  fs.rmSync(dataDir, { recursive: true, force: true });
}

// 3. Cost of audit on /apply (target: < 10% added latency): bench/audit-cost.js, in this run,
// after the failover Grid has stopped (it starts its own).
const auditCost = await measureAuditCost({ n: Number(args['audit-n'] ?? 300) });
const audit = `/apply p50 ${auditCost.applyMs.p50} ms (p99 ${auditCost.applyMs.p99} ms); audit work per request p50 ${auditCost.auditUs.p50} µs (p99 ${auditCost.auditUs.p99} µs) → +${auditCost.addedPct}% at p50`;
const switches = results.map((r) => r.switchMs);
const md = [
  `# Failover: the active version crashes under load (${CLIENTS} clients, checks every ${INTERVAL_S * 1000} ms, failureThreshold ${THRESHOLD})`,
  '',
  `${os.cpus().length} cores, ${round(os.totalmem() / 2 ** 30, 1)} GiB; Grid at ${JSON.stringify(gitInfo())}; load average ${os.loadavg().map((l) => round(l, 1)).join(' ')}`,
  '',
  mdTable(
    ['run', 'crash -> switch (ms)', 'crash -> first answer from v2 (ms)', 'GETs from the crash to 1 s after the switch', 'failed', 'requests in the run'],
    results.map((r) => [r.run, r.switchMs, r.firstV2Ms ?? '–', r.requestsDuringSwitch, r.failedDuringSwitch + (r.failures.length ? ` (${r.failures.join(', ')})` : ''), r.requests]),
  ),
  '',
  `Switch time p50 ${fmt(percentile(switches, 50))} ms, max ${fmt(Math.max(...switches))} ms. A crashed process's refused connections are retried on the standby at once, so clients see v2 long before the switch.`,
  '',
  `${Math.max(...switches) <= TARGET_SWITCH_MS ? 'PASS' : 'FAIL'}  1. crash -> switch ≤ ${TARGET_SWITCH_MS} ms (failureThreshold × interval + 100 ms) in every run (max ${Math.max(...switches)} ms)`,
  `${results.every((r) => r.failedDuringSwitch === 0) ? 'PASS' : 'FAIL'}  2. no GET failed during the switch (${results.reduce((n, r) => n + r.failedDuringSwitch, 0)} of ${results.reduce((n, r) => n + r.requestsDuringSwitch, 0)})`,
  `${auditCost.addedPct < 10 ? 'PASS' : 'FAIL'}  3. cost of audit on /apply < 10% added latency: ${audit} (bench/audit-cost.js: the audit's own work timed in-process, set against /apply over HTTP; Grid has no switch to turn audit off)`,
].join('\n');
writeResults(args.out ?? 'failover', { results, audit: auditCost }, md);
console.log(md);
