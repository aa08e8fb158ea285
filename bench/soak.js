// Soak (issue 15): Grid under steady gateway load while a cycle of faults repeats until time is up.
//
//   node bench/soak.js [--minutes=30] [--rps=60] [--rounds=3] [--warmup=30] [--out=soak]
//
// Services (real processes of demo-services/versioned/server.js): `web` (3 replicas, the target of
// pod kills and of the demo's crash/cpu/fail toggles), `cn` (2 replicas, Canary with analysis) and
// the FailoverGroup `fo` over `fa` and `fb` (2 replicas each). Clients GET /gateway/{web,cn,fo}/version
// at a fixed rate over keep-alive connections. One cycle is `rounds` rounds of faults, then a Grid SIGKILL
// (a Grid that lived one round, ~40 s, would never get past its warm-up; three give each incarnation
// ~2 minutes to show a trend in). A round:
//   1. two random pods killed (POST /chaos/kill?pod=), of two services that each keep a Ready pod
//   2. one web pod crashes, then burns CPU for 5 s, then answers 500 to everything for 3 s (then reset)
//   3. a canary with a good version (completes), then one with a bad version (FAIL_RATE=0.5; analysis aborts it)
//   4. every pod of fa crashes: the group switches to fb, and fails back to fa on its own
// and at the end of the cycle Grid is SIGKILLed and restarted on the same data dir and port; its
// pods keep running and are adopted.
// After every step: all services converge, no duplicate/orphan/missing pod process, the audit chain
// verifies, event ids have no gap. Results in bench/results/soak.{md,json}.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { fmt, gitInfo, MB, mdTable, onExitCleanup, parseArgs, percentile, ROOT, round, sleep, startProcess, stopProcess, waitForOutput, writeResults } from './lib.js';

const args = parseArgs();
const MINUTES = Number(args.minutes ?? 30);
const RPS = Number(args.rps ?? 60);
const ROUNDS = Number(args.rounds ?? 3);
const WARMUP_S = Number(args.warmup ?? 30);
const OUT = args.out ?? 'soak';
if (!(MINUTES > 0) || !(RPS > 0 && RPS <= 200) || !(Number.isInteger(ROUNDS) && ROUNDS >= 1)) {
  process.stderr.write('soak: --minutes must be > 0, --rps 1..200, --rounds an integer ≥ 1\n');
  process.exit(2);
}
const MAX_IN_FLIGHT = 64;
const REQUEST_TIMEOUT_MS = 10_000;
const CONVERGE_MS = 90_000;
const SAMPLE_MS = 2_000;
const TARGETS = ['web', 'cn', 'fo'];
// Every pod carries this in its environment, so the process table can be searched for exactly our pods.
const RUN_ID = crypto.randomBytes(6).toString('hex');
const MARKER = `SOAK_RUN=${RUN_ID}`;

// ---------------------------------------------------------------------------
// Specs

function envList(env) {
  return Object.entries(env)
    .map(([k, v]) => `    - { name: ${k}, value: "${v}" }`)
    .join('\n');
}

function service(name, replicas, env, extra = '') {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  command: ["node", "demo-services/versioned/server.js"]
  env:
${envList({ SOAK_RUN: RUN_ID, ...env })}
  readinessProbe: { httpGet: { path: /health/ready }, periodSeconds: 1, failureThreshold: 1 }
  terminationGracePeriodSeconds: 5
${extra}`;
}

const CANARY_ROLLOUT = `  rollout:
    strategy: Canary
    steps: [ { setWeight: 50 }, { pause: { duration: 4s } }, { setWeight: 100 } ]
    analysis: { interval: 2s, minRequests: 5, maxErrorRate: 0.05, failureLimit: 0 }
`;
const canarySpec = (version, env = {}) => service('cn', 2, { VERSION: version, ...env }, CANARY_ROLLOUT);

const INITIAL = [
  service('web', 3, { VERSION: 'v1' }),
  canarySpec('g0'),
  // START_DELAY_MS: a crashed fa stays down for 2 s, long enough for the group to notice.
  service('fa', 2, { VERSION: 'v1', START_DELAY_MS: '2000' }),
  service('fb', 2, { VERSION: 'v2' }),
  `apiVersion: v1
kind: FailoverGroup
metadata: { name: fo }
spec:
  targets: [{ service: fa }, { service: fb }]
  healthCheck: { path: /health, intervalSeconds: 0.5, timeoutSeconds: 1, expectJson: { status: healthy }, failureThreshold: 3, successThreshold: 2 }
  cooldownSeconds: 3
  failback: auto
`,
].join('---\n');

// ---------------------------------------------------------------------------
// Grid, its port and data dir, and cleanup by PID

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grid-bench-soak-'));
const port = await new Promise((resolve, reject) => {
  const s = net.createServer();
  s.once('error', reject);
  s.listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const base = `http://127.0.0.1:${port}`;
let grid;
let incarnation = 0;
const incarnations = []; // { n, pid, startedAt, listeningAt, endedAt, how }

/** Pids of live processes whose environment holds our marker, with the GRID_POD each was given. */
function podProcesses() {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let env;
    try {
      env = fs.readFileSync(`/proc/${d}/environ`, 'utf8');
    } catch {
      continue;
    }
    const vars = env.split('\0');
    if (!vars.includes(MARKER)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'Z' || state === 'X') continue;
    } catch {
      continue;
    }
    out.push({ pid: Number(d), pod: vars.find((v) => v.startsWith('GRID_POD='))?.slice(9) ?? null });
  }
  return out;
}

function killEverything() {
  if (grid && grid.exitCode === null && grid.signalCode === null) {
    try {
      process.kill(grid.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const p of podProcesses()) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
}
onExitCleanup(killEverything);

async function startGrid() {
  incarnation++;
  const startedAt = Date.now();
  grid = startProcess(`grid#${incarnation}`, process.execPath, [path.join(ROOT, 'dist/main.js')], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', GRID_PORT: String(port), GRID_DATA_DIR: dataDir, GRID_LOG_LEVEL: 'warn', TICK_MS: '500' },
  });
  await waitForOutput(grid, /Grid listening on (http:\/\/\S+)/, 60_000, `Grid #${incarnation} start`);
  const inc = { n: incarnation, pid: grid.pid, startedAt, listeningAt: Date.now(), endedAt: null, how: null };
  incarnations.push(inc);
  return inc;
}

// ---------------------------------------------------------------------------
// Grid's API

async function api(method, p, body) {
  const res = await fetch(`${base}${p}`, { method, headers: body ? { 'content-type': 'application/yaml' } : {}, body, signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${p}: ${res.status} ${text.slice(0, 500)}`);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function until(what, fn, timeoutMs, pollMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${last.message})` : ''}`);
    await sleep(pollMs);
  }
}

// ---------------------------------------------------------------------------
// Load: a fixed rate of GETs, round robin over the targets, over keep-alive connections

// Few sockets, so Grid's fd count does not follow how many connections a burst made the client open
// (at 64 the median moved 35% between incarnations with no leak behind it); more requests queue here.
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
const load = {
  running: false,
  inFlight: 0,
  sent: 0,
  skipped: 0, // the in-flight bound was reached: not sent (reported, never counted as served)
  served: Object.fromEntries(TARGETS.map((t) => [t, 0])),
  failures: [], // { t0, t1, target, status, error, body }
  perMinute: [], // index = minute: { requests, failed }
  latencies: [],
};
const t0Run = Date.now();
const minuteOf = (t) => Math.floor((t - t0Run) / 60_000);

function bump(t, key) {
  const m = minuteOf(t);
  while (load.perMinute.length <= m) load.perMinute.push({ requests: 0, failed: 0 });
  load.perMinute[m][key]++;
}

function getOnce(target) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const req = http.get(`${base}/gateway/${target}/version`, { agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        if (body.length < 300) body += d;
      });
      res.on('end', () => resolve({ t0, t1: Date.now(), target, status: res.statusCode, body }));
      res.on('error', (e) => resolve({ t0, t1: Date.now(), target, status: 0, error: e.code ?? e.message, body }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e) => resolve({ t0, t1: Date.now(), target, status: 0, error: e.code ?? e.message }));
  });
}

function startLoad() {
  load.running = true;
  let i = 0;
  const period = 1000 / RPS;
  let next = performance.now();
  const tick = () => {
    if (!load.running) return;
    const now = performance.now();
    // Catch up on missed slots (timers are late under load) without bursting more than a second's worth.
    let due = Math.min(Math.floor((now - next) / period) + 1, RPS);
    next += due * period;
    if (next < now - 1000) next = now;
    for (; due > 0; due--) {
      const target = TARGETS[i++ % TARGETS.length];
      if (load.inFlight >= MAX_IN_FLIGHT) {
        load.skipped++;
        continue;
      }
      load.inFlight++;
      load.sent++;
      getOnce(target).then((r) => {
        load.inFlight--;
        bump(r.t0, 'requests');
        load.latencies.push(r.t1 - r.t0);
        if (load.latencies.length > 200_000) load.latencies.splice(0, 100_000);
        if (r.status === 200) load.served[target]++;
        else {
          bump(r.t0, 'failed');
          if (load.failures.length < 50_000) load.failures.push(r);
        }
      });
    }
    setTimeout(tick, Math.max(1, next - performance.now()));
  };
  tick();
}

async function stopLoad() {
  load.running = false;
  await until('in-flight requests to finish', () => load.inFlight === 0, REQUEST_TIMEOUT_MS + 5_000, 20);
}

// Windows in which failures are expected and counted apart: { kind, targets, start, end }.
const windows = [];
function openWindow(kind, targets) {
  const w = { kind, targets, start: Date.now(), end: null };
  windows.push(w);
  return w;
}

// ---------------------------------------------------------------------------
// Samples: Grid's RSS and open fds

const samples = []; // { t, inc, age, rssKb, fds }
function sampleGrid() {
  if (!grid || grid.exitCode !== null || grid.signalCode !== null) return;
  const inc = incarnations[incarnations.length - 1];
  if (!inc || inc.pid !== grid.pid) return;
  try {
    const status = fs.readFileSync(`/proc/${grid.pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
    const fds = fs.readdirSync(`/proc/${grid.pid}/fd`).length;
    const t = Date.now();
    samples.push({ t, inc: inc.n, age: round((t - inc.listeningAt) / 1000, 1), rssKb, fds });
  } catch {
    // exiting
  }
}

// Reconcile latency: Grid's histogram, scraped before each incarnation ends (a restart resets it).
const reconcileHist = new Map(); // le -> count, summed over incarnations
let reconcileSum = 0;
let reconcileCount = 0;
const reconcilePerInc = [];
async function scrapeReconcile() {
  const text = await api('GET', '/metrics');
  const buckets = [];
  for (const m of text.matchAll(/^grid_reconcile_duration_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm)) buckets.push([m[1], Number(m[2])]);
  const sum = Number(/^grid_reconcile_duration_seconds_sum (\S+)$/m.exec(text)?.[1] ?? 0);
  const count = Number(/^grid_reconcile_duration_seconds_count (\S+)$/m.exec(text)?.[1] ?? 0);
  for (const [le, n] of buckets) reconcileHist.set(le, (reconcileHist.get(le) ?? 0) + n);
  reconcileSum += sum;
  reconcileCount += count;
  reconcilePerInc.push({ inc: incarnation, count, p99: histP99(new Map(buckets), count), meanMs: count ? round((sum / count) * 1000, 3) : null });
}
function histP99(hist, count) {
  if (!count) return null;
  for (const [le, n] of hist) if (n >= 0.99 * count) return le === '+Inf' ? '> 1 s' : `≤ ${Number(le) * 1000} ms`;
  return null;
}

// ---------------------------------------------------------------------------
// Invariants, checked after every step

const checks = new Map(); // name -> { pass, fail, failures: [] }
function record(name, ok, detail) {
  const c = checks.get(name) ?? { pass: 0, fail: 0, failures: [] };
  checks.set(name, c);
  if (ok) c.pass++;
  else {
    c.fail++;
    if (c.failures.length < 20) c.failures.push(detail);
    console.log(`INVARIANT FAILED: ${name}: ${detail}`);
  }
}

const DESIRED = { web: 3, cn: 2, fa: 2, fb: 2 };

async function convergedNow() {
  const state = await api('GET', '/state');
  const { services } = await api('GET', '/services');
  const problems = [];
  for (const [name, want] of Object.entries(DESIRED)) {
    const s = services.find((x) => x.name === name);
    const pods = state.pods.filter((p) => p.service === name);
    const ready = pods.filter((p) => p.ready && p.state === 'Ready');
    if (!s || s.desired !== want || ready.length !== want || pods.length !== want) problems.push(`${name}: ${ready.length} Ready of ${pods.length} pods, want ${want}`);
  }
  const ro = await api('GET', '/services/cn/rollout');
  if (ro.phase !== 'Completed' && ro.phase !== 'Aborted' && ro.phase !== undefined && ro.phase !== null) problems.push(`cn rollout ${ro.phase}`);
  const fo = await api('GET', '/failover/fo');
  if (fo.active !== 'fa' || fo.healthy !== 2) problems.push(`fo: active ${fo.active}, ${fo.healthy} healthy`);
  return { ok: problems.length === 0, problems, state };
}

async function checkInvariants(step, { adoptedPids } = {}) {
  const t0 = Date.now();
  let conv;
  try {
    conv = await until(`${step}: convergence`, async () => {
      const c = await convergedNow();
      conv = c;
      return c.ok ? c : undefined;
    }, CONVERGE_MS, 200);
    record('all services converge', true);
  } catch (e) {
    record('all services converge', false, `${step}: ${conv?.problems.join('; ') ?? e.message}`);
  }
  const convergeMs = Date.now() - t0;

  // Processes: every pod in /state with a pid is one live process with our marker and that GRID_POD,
  // and every such process is a pod /state knows.
  const state = (await api('GET', '/state'));
  const procs = podProcesses();
  const byPod = new Map();
  for (const p of procs) byPod.set(p.pod, [...(byPod.get(p.pod) ?? []), p.pid]);
  const known = new Map(state.pods.filter((p) => p.pid).map((p) => [p.id, p.pid]));
  const dup = [...byPod].filter(([, pids]) => pids.length > 1).map(([pod, pids]) => `${pod}: pids ${pids.join(',')}`);
  const orphan = procs.filter((p) => known.get(p.pod) !== p.pid).map((p) => `pid ${p.pid} (${p.pod})`);
  const missing = [...known].filter(([pod, pid]) => !procs.some((p) => p.pid === pid && p.pod === pod)).map(([pod, pid]) => `${pod} (pid ${pid})`);
  record('no duplicate pod process', dup.length === 0, `${step}: ${dup.join('; ')}`);
  record('no orphan pod process', orphan.length === 0, `${step}: ${orphan.join('; ')}`);
  record('every pod in /state has its process', missing.length === 0, `${step}: ${missing.join('; ')}`);

  if (adoptedPids) {
    const lost = [...adoptedPids].filter(([pod, pid]) => known.get(pod) !== pid).map(([pod, pid]) => `${pod} (pid ${pid}) → ${known.get(pod) ?? 'gone'}`);
    record('pods survive a Grid SIGKILL and are adopted', lost.length === 0, `${step}: ${lost.join('; ')}`);
  }

  const verify = await api('GET', '/audit/verify');
  record('audit chain verifies', verify.ok === true, `${step}: ${JSON.stringify(verify).slice(0, 300)}`);

  const db = new Database(path.join(dataDir, 'grid.db'), { readonly: true, fileMustExist: true });
  try {
    const e = db.prepare('SELECT count(*) AS n, min(id) AS lo, max(id) AS hi FROM events').get();
    record('event ids have no gap', e.n === 0 || e.hi - e.lo + 1 === e.n, `${step}: ${e.n} events with ids ${e.lo}..${e.hi}`);
  } finally {
    db.close();
  }
  return convergeMs;
}

function dbCounts() {
  const db = new Database(path.join(dataDir, 'grid.db'), { readonly: true, fileMustExist: true });
  try {
    return {
      events: db.prepare('SELECT count(*) AS n FROM events').get().n,
      audit: db.prepare('SELECT count(*) AS n FROM audit_log').get().n,
      dbBytes: ['grid.db', 'grid.db-wal'].reduce((n, f) => n + (fs.existsSync(path.join(dataDir, f)) ? fs.statSync(path.join(dataDir, f)).size : 0), 0),
    };
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------
// The steps of a cycle

const steps = []; // { cycle, step, at, ms, convergeMs, detail }
const round1 = (n) => round(n, 1);
const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];
const readyPodsOf = async (svc) => (await api('GET', '/state')).pods.filter((p) => p.service === svc && p.ready);

// Two random pods, as a PodDisruptionBudget of minAvailable 1 allows: from two different services,
// each still left with a Ready pod. Killing every pod of a service fails its requests until one is
// back, in Grid as in Kubernetes; the first 30-minute run did that twice (cn's 2 pods at once) and
// counted those 503s against Grid.
async function podKills() {
  const pods = (await api('GET', '/state')).pods.filter((p) => DESIRED[p.service]);
  const ready = (svc) => pods.filter((p) => p.service === svc && p.ready).length;
  const candidates = pods.filter((p) => p.ready && ready(p.service) >= 2);
  const victims = [];
  while (victims.length < 2 && candidates.length) {
    const v = candidates.splice(Math.floor(Math.random() * candidates.length), 1)[0];
    if (!victims.some((x) => x.service === v.service)) victims.push(v);
  }
  for (const v of victims) await api('POST', `/chaos/kill?pod=${encodeURIComponent(v.id)}`);
  return `killed ${victims.map((v) => v.id).join(', ')}`;
}

async function demoToggles() {
  const crash = pick(await readyPodsOf('web'));
  await api('POST', `/pods/${crash.id}/chaos/crash`);
  await until('web back to 3 Ready', async () => (await readyPodsOf('web')).length === 3 && !(await readyPodsOf('web')).some((p) => p.id === crash.id && p.restarts === crash.restarts), 60_000, 200);
  const cpu = pick(await readyPodsOf('web'));
  await api('POST', `/pods/${cpu.id}/chaos/cpu?seconds=5`);
  await sleep(5_000);
  await api('POST', `/pods/${cpu.id}/chaos/reset`);
  const fail = pick(await readyPodsOf('web'));
  // The pod's own 500s ("injected failure") pass through the gateway as they are: counted apart.
  const w = openWindow('fail toggle (the pod answers 500 itself)', ['web']);
  await api('POST', `/pods/${fail.id}/chaos/fail?rate=1`);
  await sleep(3_000);
  await api('POST', `/pods/${fail.id}/chaos/reset`);
  w.end = Date.now();
  return `crash ${crash.id}, cpu 5 s ${cpu.id}, fail 3 s ${fail.id}`;
}

let canaryN = 0;
async function goodCanary() {
  canaryN++;
  await api('POST', '/apply', canarySpec(`g${canaryN}`));
  const ro = await until('good canary completes', async () => {
    const r = await api('GET', '/services/cn/rollout');
    // The previous rollout's phase may still show until the reconciler takes up the apply.
    if (r.canary?.version !== `g${canaryN}`) return undefined;
    return r.phase === 'Completed' || r.phase === 'Aborted' ? r : undefined;
  }, 120_000, 200).catch((e) => e);
  if (!(ro instanceof Error) && ro.phase !== 'Completed') {
    record('good canary completes', false, `aborted: ${JSON.stringify(ro).slice(0, 400)}`);
    return `g${canaryN} aborted`;
  }
  if (ro instanceof Error) {
    record('good canary completes', false, ro.message);
    return ro.message;
  }
  record('good canary completes', true);
  return `g${canaryN} completed`;
}

async function badCanary() {
  const w = openWindow('bad canary (from its apply to its abort)', ['cn']);
  await api('POST', '/apply', canarySpec(`b${canaryN}`, { FAIL_RATE: '0.5' }));
  const r = await until('bad canary aborts', async () => {
    const ro = await api('GET', '/services/cn/rollout');
    return ro.phase === 'Aborted' && ro.canary?.version === `b${canaryN}` ? ro : undefined;
  }, 120_000, 50).catch((e) => e);
  w.end = Date.now();
  record('bad canary is aborted by analysis', !(r instanceof Error), r instanceof Error ? r.message : '');
  return `b${canaryN}: ${r instanceof Error ? r.message : 'aborted'} after ${w.end - w.start} ms`;
}

async function failoverSwitch() {
  // Grid keeps the newest 50 switches: a new one is told by its time, not by the list's length.
  const newest = async () => (await api('GET', '/failover/fo')).history[0];
  const before = (await newest())?.at;
  for (const p of await readyPodsOf('fa')) await api('POST', `/pods/${p.id}/chaos/crash`).catch(() => undefined);
  const sw = await until('fo switches to fb', async () => {
    const h = await newest();
    return h && h.at !== before && h.to === 'fb' ? h : undefined;
  }, 60_000, 100).catch((e) => e);
  record('failover switches when the active target crashes', !(sw instanceof Error), sw instanceof Error ? sw.message : '');
  const back = await until('fo fails back to fa', async () => {
    const h = await newest();
    return h && h.at !== before && h.at !== sw?.at && h.to === 'fa' ? h : undefined;
  }, 90_000, 200).catch((e) => e);
  record('failover fails back on its own', !(back instanceof Error), back instanceof Error ? back.message : '');
  if (sw instanceof Error || back instanceof Error) return [sw, back].filter((x) => x instanceof Error).map((e) => e.message).join('; ');
  return `switched to fb at ${sw.at.slice(11, 23)}, back to fa at ${back.at.slice(11, 23)}`;
}

async function gridKill() {
  await scrapeReconcile();
  sampleGrid();
  const before = new Map((await api('GET', '/state')).pods.filter((p) => p.pid).map((p) => [p.id, p.pid]));
  const w = openWindow('Grid down (SIGKILL until it listens again)', null);
  const inc = incarnations[incarnations.length - 1];
  process.kill(grid.pid, 'SIGKILL');
  await grid.exited;
  inc.endedAt = Date.now();
  inc.how = 'SIGKILL';
  const next = await startGrid();
  w.end = next.listeningAt;
  return { detail: `down ${w.end - w.start} ms; ${before.size} pods to adopt`, adoptedPids: before };
}

// ---------------------------------------------------------------------------
// Run

const sampler = setInterval(sampleGrid, SAMPLE_MS);
let fatal = null;
const deadline = t0Run + MINUTES * 60_000;
let cycle = 0;
try {
  await startGrid();
  await api('POST', '/apply', INITIAL);
  await until('initial convergence', async () => (await convergedNow()).ok, CONVERGE_MS, 200);
  startLoad();
  await checkInvariants('start');
  const runStep = async (round, name, fn) => {
    const at = Date.now();
    const r = await fn();
    const ms = Date.now() - at;
    const detail = typeof r === 'string' ? r : r.detail;
    const convergeMs = await checkInvariants(`cycle ${cycle} round ${round} ${name}`, typeof r === 'object' ? r : {});
    steps.push({ cycle, round, step: name, at: round1((at - t0Run) / 1000), ms, convergeMs, detail });
    console.log(`[${fmt((Date.now() - t0Run) / 60_000, 1)} min] cycle ${cycle} round ${round} ${name}: ${detail} (${ms} ms, converged in ${convergeMs} ms)`);
  };
  while (Date.now() < deadline) {
    cycle++;
    for (let r = 1; r <= ROUNDS; r++) {
      for (const [name, fn] of [
        ['pod kills', podKills],
        ['demo toggles', demoToggles],
        ['good canary', goodCanary],
        ['bad canary', badCanary],
        ['failover', failoverSwitch],
      ]) await runStep(r, name, fn);
    }
    await runStep('–', 'Grid SIGKILL + restart', gridKill);
  }
  await sleep(2_000);
} catch (e) {
  fatal = e;
  console.error(`soak: stopped early: ${e.stack ?? e.message}`);
} finally {
  clearInterval(sampler);
}
await stopLoad().catch(() => undefined);
let counts = null;
let leftovers = [];
try {
  if (grid.exitCode === null && grid.signalCode === null) {
    await scrapeReconcile().catch(() => undefined);
    sampleGrid();
    const inc = incarnations[incarnations.length - 1];
    await stopProcess(grid, 20_000);
    inc.endedAt = Date.now();
    inc.how = 'SIGTERM (end)';
  }
  counts = dbCounts();
  // A graceful stop stops every pod: anything left with our marker would be Grid's leak.
  leftovers = await until('pods gone after Grid stopped', () => (podProcesses().length === 0 ? [] : undefined), 15_000, 200).catch(() => podProcesses());
  record('no pod process outlives a graceful stop', leftovers.length === 0, leftovers.map((p) => `pid ${p.pid} (${p.pod})`).join('; '));
} finally {
  killEverything();
}

// ---------------------------------------------------------------------------
// Report

function category(f) {
  for (const w of windows) {
    const end = w.end ?? Infinity;
    if (f.t0 > end || f.t1 < w.start) continue;
    if (w.targets && !w.targets.includes(f.target)) continue;
    if (w.kind.startsWith('fail toggle') && !(f.status === 500 && /injected failure/.test(f.body ?? ''))) continue;
    return w.kind;
  }
  return 'outside every window (counts against the target)';
}
const byCategory = new Map();
for (const f of load.failures) {
  const c = category(f);
  const e = byCategory.get(c) ?? { n: 0, kinds: new Map(), examples: [] };
  byCategory.set(c, e);
  e.n++;
  const k = f.status ? String(f.status) : f.error;
  e.kinds.set(k, (e.kinds.get(k) ?? 0) + 1);
  if (e.examples.length < 5) e.examples.push({ at: round((f.t0 - t0Run) / 1000, 2), target: f.target, status: f.status, error: f.error, body: f.body?.slice(0, 160) });
}
const unexpected = byCategory.get('outside every window (counts against the target)')?.n ?? 0;
const served = Object.values(load.served).reduce((a, b) => a + b, 0);

// Memory. A restart resets RSS, so like is compared with like: incarnations that lived a whole cycle
// (ended by the SIGKILL that closes one), each by its peak RSS and median fds after its warm-up. RSS is
// compared by peak because where it sits between peaks depends on when V8 last returned memory (one
// 75 s incarnation dropped 20% at once). Baseline: the median of the first up to three, leaving out the
// first incarnation when there are three or more (it also created every service); compared: the median
// of the last up to three. Within an incarnation: the median of the last third of its post-warm-up
// samples against the first third.
const medianOf = (xs) => {
  const v = [...xs].sort((x, y) => x - y);
  return v.length ? v[(v.length - 1) >> 1] : null;
};
const incStats = incarnations.map((inc) => {
  const s = samples.filter((x) => x.inc === inc.n);
  const post = s.filter((x) => x.age >= WARMUP_S);
  const third = Math.floor(post.length / 3);
  const trend = (key) => (third >= 2 ? round((medianOf(post.slice(-third).map((x) => x[key])) / medianOf(post.slice(0, third).map((x) => x[key])) - 1) * 100, 1) : null);
  return {
    n: inc.n,
    how: inc.how,
    lifetimeS: inc.endedAt ? round((inc.endedAt - inc.listeningAt) / 1000, 1) : null,
    samples: s.length,
    rssMb: post.length ? round(medianOf(post.map((x) => x.rssKb)) / 1024, 1) : null,
    rssMbMax: s.length ? round(Math.max(...s.map((x) => x.rssKb)) / 1024, 1) : null,
    rssMbPeak: post.length ? round(Math.max(...post.map((x) => x.rssKb)) / 1024, 1) : null,
    fds: post.length ? medianOf(post.map((x) => x.fds)) : null,
    fdsMax: s.length ? Math.max(...s.map((x) => x.fds)) : null,
    rssTrendPct: trend('rssKb'),
    fdsTrendPct: trend('fds'),
    fullCycle: inc.how === 'SIGKILL',
  };
});
const comparable = incStats.filter((i) => i.fullCycle && i.rssMb !== null);
const baseline = comparable.slice(comparable.length >= 3 ? 1 : 0).slice(0, Math.max(1, Math.min(3, Math.floor((comparable.length - 1) / 2))));
const lastFew = comparable.filter((i) => i.n > (baseline[baseline.length - 1]?.n ?? Infinity)).slice(-3);
const growth = (key) => (baseline.length && lastFew.length ? round((medianOf(lastFew.map((i) => i[key])) / medianOf(baseline.map((i) => i[key])) - 1) * 100, 1) : null);
const rssGrowthPct = growth('rssMbPeak');
const fdGrowthPct = growth('fds');
const trends = incStats.filter((i) => i.rssTrendPct !== null);
const worstTrend = (key) => (trends.length ? Math.max(...trends.map((i) => i[key])) : null);
const rssTrendPct = worstTrend('rssTrendPct');
const fdsTrendPct = worstTrend('fdsTrendPct');

const SPARK = '▁▂▃▄▅▆▇█';
const minutes = Math.max(load.perMinute.length, samples.length ? minuteOf(samples[samples.length - 1].t) + 1 : 0);
const perMinuteRows = [];
const allRss = samples.filter((x) => x.age >= WARMUP_S).map((x) => x.rssKb);
const lo = Math.min(...allRss);
const hi = Math.max(...allRss);
let spark = '';
for (let m = 0; m < minutes; m++) {
  const s = samples.filter((x) => minuteOf(x.t) === m);
  const post = s.filter((x) => x.age >= WARMUP_S);
  const pm = load.perMinute[m] ?? { requests: 0, failed: 0 };
  const rssPost = post.length ? Math.max(...post.map((x) => x.rssKb)) : null;
  spark += rssPost === null || hi === lo ? (rssPost === null ? '·' : SPARK[0]) : SPARK[Math.min(7, Math.floor(((rssPost - lo) / (hi - lo)) * 8))];
  perMinuteRows.push([
    m + 1,
    [...new Set(s.map((x) => x.inc))].join(', ') || '–',
    s.length ? `${fmt(Math.min(...s.map((x) => x.rssKb)) / 1024, 1)}–${fmt(Math.max(...s.map((x) => x.rssKb)) / 1024, 1)}` : '–',
    rssPost === null ? '–' : fmt(rssPost / 1024, 1),
    s.length ? `${Math.min(...s.map((x) => x.fds))}–${Math.max(...s.map((x) => x.fds))}` : '–',
    pm.requests,
    pm.failed,
  ]);
}

const reconcileP99 = histP99(reconcileHist, reconcileCount);
const gridDown = windows.filter((w) => w.kind.startsWith('Grid down') && w.end);
const badCanaries = windows.filter((w) => w.kind.startsWith('bad canary') && w.end);
const pass = (ok) => (ok ? 'PASS' : 'FAIL');
const checkRows = [...checks].map(([name, c]) => [name, c.pass, c.fail, c.failures.slice(0, 2).join(' / ') || '']);
const allChecksPass = [...checks.values()].every((c) => c.fail === 0);
const under10 = (...xs) => xs.every((x) => x === null || x < 10);
const memMeasured = rssGrowthPct !== null || rssTrendPct !== null;
const memOk = memMeasured && under10(rssGrowthPct, fdGrowthPct, rssTrendPct, fdsTrendPct);

const result = {
  when: new Date().toISOString(),
  minutes: MINUTES,
  elapsedMin: round((Date.now() - t0Run) / 60_000, 2),
  rps: RPS,
  cycles: cycle,
  fatal: fatal ? String(fatal.message) : null,
  git: gitInfo(),
  requests: { sent: load.sent, served, servedPerTarget: load.served, failed: load.failures.length, skipped: load.skipped, p50Ms: percentile(load.latencies, 50), p99Ms: percentile(load.latencies, 99) },
  failuresByCategory: Object.fromEntries([...byCategory].map(([k, v]) => [k, { n: v.n, kinds: Object.fromEntries(v.kinds), examples: v.examples }])),
  windows: windows.map((w) => ({ kind: w.kind, targets: w.targets, startS: round((w.start - t0Run) / 1000, 2), ms: w.end ? w.end - w.start : null })),
  incarnations: incStats,
  memory: { warmupS: WARMUP_S, baselineIncarnations: baseline.map((i) => i.n), comparedIncarnations: lastFew.map((i) => i.n), rssGrowthPct, fdGrowthPct, worstWithinIncarnation: { rssTrendPct, fdsTrendPct } },
  reconcile: { count: reconcileCount, p99: reconcileP99, meanMs: reconcileCount ? round((reconcileSum / reconcileCount) * 1000, 3) : null, perIncarnation: reconcilePerInc },
  db: counts,
  checks: Object.fromEntries(checks),
  steps,
  samples,
};

const md = [
  `# Soak: ${fmt(result.elapsedMin, 1)} minutes (asked: ${MINUTES}), ${cycle} cycles, ${RPS} GET/s through the gateway`,
  '',
  `${os.cpus().length} cores, ${round(os.totalmem() / 2 ** 30, 1)} GiB; Grid at ${JSON.stringify(result.git)}; load average at the end ${os.loadavg().map((l) => round(l, 1)).join(' ')}; ${new Date().toISOString()}`,
  fatal ? `\n**Stopped early:** ${fatal.message}\n` : '',
  `Each cycle: ${ROUNDS} round${ROUNDS === 1 ? "" : "s"} of faults, then Grid SIGKILLed and restarted on the same data dir and port (its pods keep running and are adopted). A round: 2 random pods killed (of two services, each keeping a Ready pod, as a PodDisruptionBudget of minAvailable 1); a web pod crashed, then 5 s of CPU burn, then 3 s of 500s (the demo's toggles, then reset); a good canary (completes) and a bad one (FAIL_RATE 0.5, analysis aborts it); every pod of the failover group's active target crashed (switch, then automatic failback). Invariants are checked after every step.`,
  '',
  '## Requests',
  '',
  `${load.sent} GETs sent (${RPS}/s over keep-alive, round robin over /gateway/web, /gateway/cn and the failover group /gateway/fo), ${served} answered 200, ${load.failures.length} failed; ${load.skipped} not sent because ${MAX_IN_FLIGHT} were in flight. Latency p50 ${fmt(result.requests.p50Ms)} ms, p99 ${fmt(result.requests.p99Ms)} ms.`,
  '',
  mdTable(
    ['category', 'failed', 'as'],
    [...byCategory].map(([k, v]) => [k, v.n, [...v.kinds].map(([s, n]) => `${s}: ${n}`).join(', ')]),
  ),
  '',
  `Windows: ${gridDown.length} Grid restarts, down ${gridDown.length ? `${Math.min(...gridDown.map((w) => w.end - w.start))}–${Math.max(...gridDown.map((w) => w.end - w.start))} ms` : '–'} each (SIGKILL to listening); ${badCanaries.length} bad canaries, ${badCanaries.length ? `${Math.min(...badCanaries.map((w) => w.end - w.start))}–${Math.max(...badCanaries.map((w) => w.end - w.start))} ms` : '–'} from apply to abort. While Grid itself is down nothing listens on its port: those requests fail with connection refused (or reset, when in flight at the kill), and the client does not retry them — they are counted in their own row, not hidden by a retry. A fail toggle's 500s are the pod's own answers (body \`injected failure\`), passed through as they are until the gateway ejects the pod; only those are counted in their row.`,
  '',
  `${pass(unexpected === 0 && !fatal)}  0 failed idempotent requests outside a bad canary's analysis window, a Grid restart and a fail toggle: ${unexpected}`,
  ...(unexpected ? ['', 'Examples of failures outside every window:', '', '```', ...(byCategory.get('outside every window (counts against the target)')?.examples ?? []).map((e) => JSON.stringify(e)), '```'] : []),
  '',
  '## Grid\'s memory and file descriptors',
  '',
  `Sampled every ${SAMPLE_MS / 1000} s from /proc/<pid>/status (VmRSS) and /proc/<pid>/fd. A restart resets RSS, so incarnations are compared like with like: those that lived a whole cycle of faults, each by its peak RSS and median fds after its warm-up (the first ${WARMUP_S} s). Peaks, because where RSS sits between them depends on when V8 last returned memory to the system. Baseline: incarnations ${baseline.map((i) => i.n).join(', ') || '–'} (the first is left out when there are three or more: it also created every service); compared: ${lastFew.map((i) => i.n).join(', ') || '–'}, median against median.`,
  '',
  mdTable(
    ['incarnation', 'ended by', 'lived (s)', 'RSS after warm-up, median (MB)', 'peak (MB)', 'RSS trend within (%)', 'RSS max incl. warm-up (MB)', 'fds after warm-up, median', 'fds trend within (%)', 'fds max'],
    incStats.map((i) => [i.n, i.how ?? '–', i.lifetimeS ?? '–', i.rssMb ?? '–', i.rssMbPeak ?? '–', i.rssTrendPct ?? '–', i.rssMbMax ?? '–', i.fds ?? '–', i.fdsTrendPct ?? '–', i.fdsMax ?? '–']),
  ),
  '',
  `Post-warm-up RSS per minute (max), ${fmt(lo / 1024, 1)}–${fmt(hi / 1024, 1)} MB: \`${spark}\``,
  '',
  mdTable(['minute', 'incarnation', 'RSS (MB)', 'RSS after warm-up, max (MB)', 'fds', 'requests', 'failed'], perMinuteRows),
  '',
  `${memMeasured ? pass(memOk) : 'NOT MEASURED (too short: no incarnation got past its warm-up)'}  RSS and open fds flat after warm-up (< 10% growth): across incarnations RSS peak ${rssGrowthPct ?? '–'}%, fds ${fdGrowthPct ?? '–'}% (incarnations ${lastFew.map((i) => i.n).join(', ') || '–'} against ${baseline.map((i) => i.n).join(', ') || '–'}); within an incarnation at most RSS ${rssTrendPct ?? '–'}%, fds ${fdsTrendPct ?? '–'}% (last third of its post-warm-up samples against the first)`,
  '',
  '## Database and reconciler',
  '',
  counts ? `Rows at the end: ${counts.events} events, ${counts.audit} audit entries; grid.db + WAL ${fmt(counts.dbBytes / MB, 1)} MB.` : 'Database not read.',
  '',
  `Reconcile latency (grid_reconcile_duration_seconds, summed over incarnations): ${reconcileCount} reconciles, p99 ${reconcileP99 ?? '–'} (histogram bucket bound), mean ${result.reconcile.meanMs ?? '–'} ms.`,
  '',
  '## Invariants',
  '',
  mdTable(['check', 'passed', 'failed', 'first failures'], checkRows),
  '',
  `${pass(allChecksPass && !fatal)}  every invariant held in every check`,
  '',
  '## Steps',
  '',
  mdTable(['cycle', 'round', 'step', 'at (s)', 'took (ms)', 'converged after (ms)', 'detail'], steps.map((s) => [s.cycle, s.round, s.step, s.at, s.ms, s.convergeMs, s.detail])),
  '',
  `Rerun: \`npm run build && npm run bench -- soak --minutes=${MINUTES}\` (options: --rps=${RPS} --rounds=${ROUNDS} --warmup=${WARMUP_S}).`,
].join('\n');
writeResults(OUT, result, md);
console.log(md.split('## Steps')[0]);
process.exit(fatal ? 1 : 0);
