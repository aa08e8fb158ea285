// Rollout benchmark (issue 4): a 3-replica rolling update v1 → v2 on the process
// runtime under constant load (median of 3, zero failed requests), and the time from
// a bad canary's first failing request to 100% of traffic back on stable.
// Baseline measured in the same run: apply → 3 pods Ready of a fresh service.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { median, mdTable, fmt, parseArgs, percentile, ROOT, round, sleep, startProcess, stopProcess, waitForOutput, writeResults } from './lib.js';

const args = parseArgs();
const RUNS = Number(args.runs ?? 3);
const INTERVAL_S = Number(args.interval ?? 2);
const LOAD_CONCURRENCY = 8;
const LOAD_MAX_MS = 120_000;
const LOAD_MAX_REQUESTS = 2_000_000;

const agent = new http.Agent({ keepAlive: true, maxSockets: LOAD_CONCURRENCY * 2 });

function get(url) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const req = http.get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, version: res.headers['x-grid-version'], at: performance.now(), ms: performance.now() - t0 }));
    });
    req.on('error', (e) => resolve({ status: 0, error: e.message, at: performance.now(), ms: performance.now() - t0 }));
  });
}

async function api(base, method, p, body) {
  const res = await fetch(`${base}${p}`, { method, headers: body ? { 'content-type': 'application/yaml' } : {}, body });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return JSON.parse(text);
}

function spec(name, version, rollout, env = {}) {
  const envs = Object.entries({ VERSION: version, ...env })
    .map(([k, v]) => `    - { name: ${k}, value: "${v}" }`)
    .join('\n');
  return `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  replicas: 3
  command: ["node", "demo-services/versioned/server.js"]
  env:
${envs}
  readinessProbe: { httpGet: { path: /health/ready }, periodSeconds: 1, failureThreshold: 1 }
  terminationGracePeriodSeconds: 5
  rollout:
${rollout}
`;
}

/** Constant load, bounded in time and count; records every response with its time. */
function startLoad(url) {
  const samples = [];
  let stop = false;
  const deadline = Date.now() + LOAD_MAX_MS;
  const worker = async () => {
    while (!stop && Date.now() < deadline && samples.length < LOAD_MAX_REQUESTS) samples.push(await get(url));
  };
  const done = Promise.all(Array.from({ length: LOAD_CONCURRENCY }, worker));
  return {
    samples,
    async stop() {
      stop = true;
      await done;
      return samples;
    },
  };
}

async function until(fn, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await sleep(5);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

async function converged(base, name, version) {
  const s = await api(base, 'GET', `/services/${name}`);
  return s.pods.length === 3 && s.pods.every((p) => p.ready && p.version === version && p.state === 'Ready');
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grid-bench-rollout-'));
  const grid = startProcess('grid', process.execPath, [path.join(ROOT, 'dist/main.js')], {
    cwd: ROOT,
    env: { ...process.env, GRID_PORT: '0', GRID_DATA_DIR: dataDir, GRID_LOG_LEVEL: 'warn' },
  });
  try {
    const m = await waitForOutput(grid, /Grid listening on (http:\/\/\S+)/, 30_000, 'Grid start');
    const base = m[1];

    // Baseline: a fresh 3-replica service from apply to all Ready.
    const fresh = [];
    for (let i = 0; i < RUNS; i++) {
      const name = `fresh-${i}`;
      const t0 = performance.now();
      await api(base, 'POST', '/apply', spec(name, 'v1', '    strategy: Rolling'));
      await until(() => converged(base, name, 'v1'), 30_000, 'fresh service Ready');
      fresh.push(performance.now() - t0);
      await api(base, 'DELETE', `/services/${name}`);
    }

    // Rolling updates under load, alternating v1 → v2 → v1 ...
    const name = 'rolling';
    await api(base, 'POST', '/apply', spec(name, 'v1', '    strategy: Rolling'));
    await until(() => converged(base, name, 'v1'), 30_000, 'v1 Ready');
    const rolling = [];
    for (let i = 0; i < RUNS; i++) {
      const to = i % 2 === 0 ? 'v2' : 'v1';
      const load = startLoad(`${base}/gateway/${name}/version`);
      await sleep(500);
      const t0 = performance.now();
      await api(base, 'POST', '/apply', spec(name, to, '    strategy: Rolling'));
      await until(() => converged(base, name, to), 60_000, `rolled to ${to}`);
      const ms = performance.now() - t0;
      await sleep(500);
      const samples = await load.stop();
      const failed = samples.filter((s) => s.status !== 200).length;
      rolling.push({ to, ms, requests: samples.length, failed, p99: round(percentile(samples.map((s) => s.ms), 99)) });
    }

    // Bad canary: analysis every INTERVAL_S, failureLimit 0 (the first failed interval aborts).
    const canaryRollout = `    strategy: Canary
    steps: [ { setWeight: 25 }, { pause: { duration: 120s } }, { setWeight: 100 } ]
    analysis: { interval: ${INTERVAL_S}s, minRequests: 10, maxErrorRate: 0.05, failureLimit: 0 }`;
    const cname = 'canary';
    await api(base, 'POST', '/apply', spec(cname, 'v1', canaryRollout));
    await until(() => converged(base, cname, 'v1'), 30_000, 'canary v1 Ready');
    const load = startLoad(`${base}/gateway/${cname}/version`);
    await sleep(500);
    await api(base, 'POST', '/apply', spec(cname, 'v2', canaryRollout, { FAIL_RATE: '0.5' }));
    await until(async () => (await api(base, 'GET', `/services/${cname}/rollout`)).phase === 'Aborted', 60_000, 'canary aborted');
    await sleep(1000);
    const samples = await load.stop();
    const ro = await api(base, 'GET', `/services/${cname}/rollout`);
    const firstFail = samples.find((s) => s.status >= 500);
    const v2 = samples.filter((s) => s.version === 'v2');
    const lastV2 = v2.length ? Math.max(...v2.map((s) => s.at)) : undefined;
    const revertMs = firstFail && lastV2 !== undefined ? lastV2 - (firstFail.at - firstFail.ms) : NaN;
    const errors = samples.filter((s) => s.status !== 200).length;

    const result = {
      when: new Date().toISOString(),
      node: process.version,
      runs: RUNS,
      baseline: { freshApplyToReadyMs: fresh.map((x) => round(x)), medianMs: round(median(fresh)) },
      rolling: { runs: rolling.map((r) => ({ ...r, ms: round(r.ms) })), medianMs: round(median(rolling.map((r) => r.ms))), failedRequests: rolling.reduce((n, r) => n + r.failed, 0) },
      badCanary: {
        analysisIntervalS: INTERVAL_S,
        firstFailureToAllStableMs: round(revertMs),
        intervals: round(revertMs / (INTERVAL_S * 1000)),
        requests: samples.length,
        errors,
        errorShare: round(errors / samples.length, 4),
        v2Requests: v2.length,
        abort: ro.abort,
      },
    };
    const targets = [
      ['rolling update of 3 pods ≤ 3 s (median)', `${fmt(result.rolling.medianMs, 0)} ms`, result.rolling.medianMs <= 3000 ? 'PASS' : 'FAIL'],
      ['zero failed requests during rolling updates', `${result.rolling.failedRequests} failed of ${rolling.reduce((n, r) => n + r.requests, 0)}`, result.rolling.failedRequests === 0 ? 'PASS' : 'FAIL'],
      ['bad canary detected and reverted ≤ 2 analysis intervals', `${fmt(revertMs, 0)} ms = ${fmt(result.badCanary.intervals)} intervals of ${INTERVAL_S}s`, result.badCanary.intervals <= 2 ? 'PASS' : 'FAIL'],
    ];
    const md = `# Rollout benchmark (process runtime)

Run ${result.when} · Node ${process.version} · \`node bench/rollout.js\`

Method: Grid (\`node dist/main.js\`, defaults, TICK_MS 1000) runs 3 replicas of \`demo-services/versioned/server.js\` with a
1 s readiness period. Load: ${LOAD_CONCURRENCY} keep-alive clients in a closed loop through \`/gateway/<service>/version\`.
*Rolling* = time from \`POST /apply\` of the new version to all 3 pods Ready on it and none of the old left (polled every 5 ms), while the load runs;
the baseline is apply → 3 Ready of a fresh service in the same run. *Bad canary*: v2 answers 50% 500s (\`FAIL_RATE=0.5\`);
steps 25% then a long pause; analysis every ${INTERVAL_S}s, \`failureLimit: 0\`; measured from the moment the first failing request was sent
to the arrival of the last response served by v2.

## Rolling update under load

${mdTable(['run', 'to', 'apply → converged ms', 'vs fresh apply → Ready', 'requests', 'failed', 'client p99 ms'], rolling.map((r, i) => [i + 1, r.to, fmt(r.ms, 0), `${fmt(r.ms / median(fresh))}×`, r.requests, r.failed, r.p99]))}

Baseline (fresh apply → 3 Ready): ${fresh.map((x) => fmt(x, 0)).join(', ')} ms, median ${fmt(median(fresh), 0)} ms.

## Bad canary

| analysis interval | first failure → all on stable | in intervals | requests | errors (share) | served by v2 | abort reason |
| --- | --- | --- | --- | --- | --- | --- |
| ${INTERVAL_S}s | ${fmt(revertMs, 0)} ms | ${fmt(result.badCanary.intervals)} | ${samples.length} | ${errors} (${fmt(result.badCanary.errorShare * 100)}%) | ${v2.length} | ${ro.abort?.message ?? '–'} |

## Targets

${mdTable(['target', 'measured', 'result'], targets)}
`;
    writeResults('rollout', result, md);
    process.stdout.write(md);
  } finally {
    await stopProcess(grid, 15_000);
    fs.rmSync(dataDir, { recursive: true, force: true });
    agent.destroy();
  }
}

main().catch((e) => {
  process.stderr.write(`bench rollout: ${e.stack ?? e}\n`);
  process.exit(1);
});
