// Gateway benchmark: Grid's reverse proxy against nginx and against no proxy at all,
// on one 2-core machine, with the load generator and the backends on CPU 0 and the
// proxy under test alone on CPU 1.
//
//   node bench/gateway.js                 10 s per run at 16 and 64 connections
//   node bench/gateway.js --duration=3    quick run
//   node bench/gateway.js --cpu-prof      also profile a separate Grid process under load (not the measured one)
//
// Issue targets: Grid's CPU per proxied request ≤ 1.6× nginx's (issue 9; issue 7 asked ≤ 2×); zero non-2xx; killing one of
// 3 pods under load keeps ≥ 99.9% of requests successful; apply → 3 pods Ready (median of 5).
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { topSelf } from './profile-top.js';
import {
  BENCH_DIR,
  CLK_TCK,
  ROOT,
  alive,
  childrenOf,
  fmt,
  gridHttp,
  mdTable,
  median,
  onExitCleanup,
  parseArgs,
  procCmdline,
  procTicks,
  procTimes,
  gitInfo,
  foreignBetween,
  round,
  systemTicks,
  waitQuiet,
  run,
  sleep,
  startProcess,
  stopProcess,
  waitForOutput,
  waitServiceReady,
  writeResults,
} from './lib.js';

const args = parseArgs();
const DURATION_S = Math.max(1, Math.min(60, Number(args.duration ?? 10)));
const CONNECTIONS = String(args.connections ?? '16,64')
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0 && n <= 1024);
const WARMUP_S = 1;
const FIRST_WARMUP_S = 3; // before a target's first run: Grid's proxy path is still being JIT-compiled
const ROUNDS = Math.max(1, Math.min(5, Number(args.rounds ?? 2)));
const NOISY_RETRIES = 6; // a noisy run is repeated once (after waiting for quiet), at most this many times per benchmark
const QUIET_PCT = 15; // wait before a run until other sessions use at most this much of a core …
const QUIET_BUDGET_MS = 60_000; // … but never more than this in total
const FOREIGN_MAX_PCT = 25; // a run with more foreign load than this is marked noisy and left out of the medians (if a clean one exists)
const KILL_AT_S = Math.min(3, DURATION_S / 3);
const APPLY_RUNS = 5;
const LOAD_CPU = '0';
const PROXY_CPU = '1';
const BACKEND = path.join('demo-services', 'versioned', 'server.js');
const RUN_ID = randomBytes(6).toString('hex');
const MARKER = `BENCH_RUN_MARKER=${RUN_ID}`; // env of every process this run starts (Grid passes it on to its pods)
const NGINX = fs.existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : undefined;

const baseEnv = { ...process.env, BENCH_RUN_MARKER: RUN_ID };

// ---------------------------------------------------------------------------
// Cleanup of pods Grid started: by PID, only processes carrying this run's marker.

const podPids = new Set();

function hasMarker(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(MARKER);
  } catch {
    return false;
  }
}

/** Every live process started (directly or via Grid) by this run, other than this process. */
function markedProcesses() {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pid = Number(d);
    if (pid === process.pid) continue;
    if (hasMarker(pid) && alive(pid)) out.push(pid);
  }
  return out;
}

/** Kills leftover backend pods of this run by PID; returns what it killed. */
function killLeftoverPods() {
  const killed = [];
  const candidates = new Set([...podPids, ...markedProcesses()]);
  for (const pid of candidates) {
    if (!alive(pid) || !hasMarker(pid)) continue;
    const cmd = procCmdline(pid) ?? '';
    if (!cmd.includes(BACKEND)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed.push({ pid, cmd });
    } catch {
      // gone
    }
  }
  return killed;
}
onExitCleanup(() => killLeftoverPods());

// ---------------------------------------------------------------------------
// Helpers: wrk, /proc CPU accounting, HTTP to Grid.

function parseDuration(s) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(s.trim());
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 'ms' ? v : m[2] === 's' ? v * 1000 : v * 60_000;
}

function parseWrk(out) {
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : 0;
  };
  const lat = (p) => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out);
    return m ? parseDuration(m[1]) : NaN;
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = sock ? { connect: +sock[1], read: +sock[2], write: +sock[3], timeout: +sock[4] } : { connect: 0, read: 0, write: 0, timeout: 0 };
  const rq = /(\d+) requests in ([\d.]+)(\w+)/.exec(out);
  return {
    requests: rq ? Number(rq[1]) : 0,
    seconds: rq ? parseDuration(rq[2] + rq[3]) / 1000 : NaN,
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50: lat(50),
    p75: lat(75),
    p90: lat(90),
    p99: lat(99),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    socketErrors: errors,
    socketErrorsTotal: errors.connect + errors.read + errors.write + errors.timeout,
  };
}

async function wrk(url, connections, seconds) {
  const child = startProcess('wrk', 'taskset', ['-c', LOAD_CPU, 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency', url], { env: baseEnv });
  // wrk's own CPU, sampled while it runs (it is gone by the time the run is accounted).
  let wrkTicks = 0;
  const poll = setInterval(() => {
    const t = procTicks(child.pid);
    if (t !== undefined) wrkTicks = t;
  }, 100);
  const killer = setTimeout(() => {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }, (seconds + 20) * 1000);
  const r = await child.exited;
  clearInterval(poll);
  clearTimeout(killer);
  if (r.code !== 0) throw new Error(`wrk failed (${r.code ?? r.signal}): ${child.stderrText || child.stdoutText}`);
  const parsed = parseWrk(child.stdoutText);
  if (parsed.requests === 0) throw new Error(`wrk made no requests against ${url}: ${child.stdoutText}`);
  return { ...parsed, wrkTicks, raw: child.stdoutText };
}

/** CPU ticks of every long-lived process of this run (marked), plus this one. */
function oursTicks() {
  return ticksOf([process.pid, ...markedProcesses()]);
}

const quietBudget = { remainingMs: QUIET_BUDGET_MS };

/** Per-CPU jiffies from /proc/stat: { cpu0: {busy, idle, steal}, ... }. */
function cpuStat() {
  const out = {};
  for (const line of fs.readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^(cpu\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = m[2].split(/\s+/).map(Number);
    out[m[1]] = { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal: steal || 0 };
  }
  return out;
}

function cpuUtil(a, b) {
  const out = {};
  for (const k of Object.keys(b)) {
    if (!a[k]) continue;
    const busy = b[k].busy - a[k].busy;
    const idle = b[k].idle - a[k].idle;
    const steal = b[k].steal - a[k].steal;
    const total = busy + idle + steal;
    out[k] = { busyPct: round((100 * busy) / (total || 1), 1), stealPct: round((100 * steal) / (total || 1), 1) };
  }
  return out;
}

/** read/write syscalls (syscr/syscw from /proc/<pid>/io) summed over pids. */
function syscallsOf(pids) {
  let r = 0;
  let w = 0;
  for (const pid of pids) {
    try {
      const io = fs.readFileSync(`/proc/${pid}/io`, 'utf8');
      r += Number(/syscr: (\d+)/.exec(io)?.[1] ?? 0);
      w += Number(/syscw: (\d+)/.exec(io)?.[1] ?? 0);
    } catch {
      // gone or not readable
    }
  }
  return { r, w };
}

function timesOf(pids) {
  let u = 0;
  let st = 0;
  for (const pid of pids) {
    const t = procTimes(pid);
    if (t) {
      u += t.utime;
      st += t.stime;
    }
  }
  return { u, s: st };
}

function ticksOf(pids) {
  let t = 0;
  for (const pid of pids) t += procTicks(pid) ?? 0;
  return t;
}

/** One measured wrk run with the proxy's CPU accounted (pids: the proxy's processes, or [] for none). */
async function measure(label, url, connections, pids, warmupS = WARMUP_S) {
  const quiet = await waitQuiet({ thresholdPct: QUIET_PCT, maxWaitMs: 20_000, oursTicks, budget: quietBudget });
  if (quiet.waitedMs >= 50) process.stdout.write(`  (waited ${fmt(quiet.waitedMs / 1000, 1)} s for other load on the machine to settle: ${quiet.foreignPct}% of a core${quiet.gaveUp ? ', gave up' : ''})\n`);
  await wrk(url, connections, warmupS);
  const ours = [...new Set([process.pid, ...markedProcesses(), ...pids])];
  const snapA = { sys: systemTicks(), ours: ticksOf(ours) };
  const cpu0 = cpuStat();
  const t0 = ticksOf(pids);
  const us0 = timesOf(pids);
  const io0 = syscallsOf(pids);
  const w0 = performance.now();
  const w = await wrk(url, connections, DURATION_S);
  const wallS = (performance.now() - w0) / 1000;
  const t1 = ticksOf(pids);
  const us1 = timesOf(pids);
  const io1 = syscallsOf(pids);
  const util = cpuUtil(cpu0, cpuStat());
  const foreignPct = foreignBetween(snapA, { sys: systemTicks(), ours: ticksOf(ours) + w.wrkTicks });
  const proxyCpuS = (t1 - t0) / CLK_TCK;
  const r = {
    config: label,
    url,
    connections,
    durationS: DURATION_S,
    rps: round(w.rps, 0),
    requests: w.requests,
    p50Ms: round(w.p50, 3),
    p99Ms: round(w.p99, 3),
    non2xx: w.non2xx,
    socketErrors: w.socketErrorsTotal,
    proxyCpuS: pids.length ? round(proxyCpuS, 2) : null,
    proxyCpuPct: pids.length ? round((100 * proxyCpuS) / wallS, 1) : null,
    cpuUsPerRequest: pids.length ? round((proxyCpuS * 1e6) / w.requests, 1) : null,
    // user vs kernel CPU of the proxy per request
    userUsPerRequest: pids.length ? round((((us1.u - us0.u) / CLK_TCK) * 1e6) / w.requests, 1) : null,
    sysUsPerRequest: pids.length ? round((((us1.s - us0.s) / CLK_TCK) * 1e6) / w.requests, 1) : null,
    // read-type and write-type syscalls (read/recv*/readv, write/send*/writev) of the proxy per request
    syscallsPerRequest: pids.length ? { read: round((io1.r - io0.r) / w.requests, 2), write: round((io1.w - io0.w) / w.requests, 2) } : null,
    cpu: util,
    foreignPct,
    clean: foreignPct <= FOREIGN_MAX_PCT,
    quietWaitMs: quiet.waitedMs,
  };
  process.stdout.write(
    `  ${label.padEnd(15)} c${String(connections).padEnd(3)} ${fmt(r.rps, 0).padStart(7)} rps  p50 ${fmt(r.p50Ms, 2)} ms  p99 ${fmt(r.p99Ms, 2)} ms  non-2xx ${r.non2xx}  errors ${r.socketErrors}` +
      (r.cpuUsPerRequest !== null ? `  ${fmt(r.cpuUsPerRequest, 1)} µs CPU/req = ${fmt(r.userUsPerRequest, 1)} user + ${fmt(r.sysUsPerRequest, 1)} sys (proxy core ${fmt(r.proxyCpuPct, 0)}% busy, ${r.syscallsPerRequest.read}r+${r.syscallsPerRequest.write}w syscalls/req)` : '') +
      `  [cpu0 ${util.cpu0?.busyPct}% cpu1 ${util.cpu1?.busyPct}%, other load ${foreignPct}% of a core${r.clean ? '' : ' NOISY'}]\n`,
  );
  return r;
}

function waitPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`port ${port} not accepting after ${timeoutMs} ms`));
        else setTimeout(attempt, 20);
      });
    };
    attempt();
  });
}

function serviceYaml(name, replicas) {
  return (
    `apiVersion: v1\nkind: Service\nmetadata: { name: ${name} }\nspec:\n  replicas: ${replicas}\n` +
    `  command: ["node", "${BACKEND}"]\n  env:\n    - { name: VERSION, value: v1 }\n` +
    `  readinessProbe: { httpGet: { path: /health/ready } }\n`
  );
}

async function podsOf(grid, service) {
  const r = await gridHttp('GET', `${grid.url}/state`);
  const pods = r.json.pods.filter((p) => p.service === service);
  for (const p of pods) if (p.pid) podPids.add(p.pid);
  return pods;
}

/** Moves a process and all its threads to a CPU. */
async function pin(pid, cpu) {
  const r = await run('taskset', 'taskset', ['-a', '-pc', cpu, String(pid)], 5000);
  if (r.code !== 0) throw new Error(`taskset -a -pc ${cpu} ${pid} failed: ${r.stderr}`);
}

async function startGrid(tmp, name, nodeFlags = []) {
  const dataDir = path.join(tmp, name);
  fs.mkdirSync(dataDir, { recursive: true });
  const child = startProcess(name, 'taskset', ['-c', PROXY_CPU, process.execPath, ...nodeFlags, 'dist/main.js'], {
    cwd: ROOT,
    env: { ...baseEnv, GRID_PORT: '0', GRID_GATEWAY_PORT: '0', GRID_DATA_DIR: dataDir, GRID_LOG_LEVEL: 'warn' },
  });
  const m = await waitForOutput(child, /Grid listening on (http:\/\/127\.0\.0\.1:(\d+)) \(gateway on (http:\/\/127\.0\.0\.1:(\d+))\)/, 30_000, 'Grid start-up line');
  onExitCleanup(() => {
    // If we die with Grid still up, its pods would outlive a SIGKILL of Grid: note them first.
    for (const pid of childrenOf(child.pid)) podPids.add(pid);
  });
  return { child, pid: child.pid, url: m[1], port: Number(m[2]), gatewayUrl: m[3], gatewayPort: Number(m[4]) };
}

async function stopGrid(grid) {
  if (!grid) return undefined;
  for (const pid of childrenOf(grid.pid)) podPids.add(pid);
  const t0 = performance.now();
  const r = await stopProcess(grid.child, 10_000);
  return { exit: r?.code ?? r?.signal, ms: round(performance.now() - t0, 0) };
}

/** Applies a service of process pods and waits until `replicas` are Ready; pods are then moved to CPU 0. */
async function deploy(grid, name, replicas) {
  const r = await gridHttp('POST', `${grid.url}/apply`, serviceYaml(name, replicas));
  if (r.status !== 200) throw new Error(`apply ${name}: HTTP ${r.status} ${r.text}`);
  await waitServiceReady(grid.url, name, replicas, 30_000, 20);
  const pods = await podsOf(grid, name);
  for (const p of pods) await pin(p.pid, LOAD_CPU);
  return pods;
}

// ---------------------------------------------------------------------------

async function main() {
  // This orchestrating process stays off the proxy's core.
  await pin(process.pid, LOAD_CPU);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'grid-bench-gateway-'));
  const runs = [];
  const notes = [];
  let backends = [];
  let nginx;
  let floor;
  let grid;
  let killTest;
  let applyTest;
  let profile;
  let shutdown;
  let gridIdle;
  let leftovers = [];
  try {
    process.stdout.write(
      `gateway: ${ROUNDS} round(s) × ${DURATION_S} s per run (+${WARMUP_S} s warm-up, ${FIRST_WARMUP_S} s before a target's first run), connections ${CONNECTIONS.join(', ')}; ` +
        `load generator + backends on CPU ${LOAD_CPU}, proxy on CPU ${PROXY_CPU}\n`,
    );
    // --- every target up first; the rounds then interleave them ------------------------
    backends = [0, 1].map((i) =>
      startProcess(`backend ${i}`, 'taskset', ['-c', LOAD_CPU, process.execPath, BACKEND], { cwd: ROOT, env: { ...baseEnv, PORT: '0', VERSION: 'v1', SERVICE: 'bench', POD_NAME: `backend-${i}` } }),
    );
    const ports = [];
    for (const b of backends) ports.push(Number((await waitForOutput(b, /listening on 127\.0\.0\.1:(\d+)/, 15_000, 'backend start-up line'))[1]));
    const targets = [{ label: 'direct', url: `http://127.0.0.1:${ports[0]}/version`, pids: () => [] }];

    if (NGINX) {
      const nginxPort = await freePort();
      const conf = path.join(tmp, 'nginx.conf');
      for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) fs.mkdirSync(path.join(tmp, d), { recursive: true });
      fs.writeFileSync(
        conf,
        `worker_processes 1;\ndaemon off;\nenv BENCH_RUN_MARKER;\npid ${tmp}/nginx.pid;\nerror_log ${tmp}/error.log warn;\n` +
          `events { worker_connections 4096; }\n` +
          `http {\n  access_log off;\n  client_body_temp_path ${tmp}/body;\n  proxy_temp_path ${tmp}/proxy;\n  fastcgi_temp_path ${tmp}/fastcgi;\n  uwsgi_temp_path ${tmp}/uwsgi;\n  scgi_temp_path ${tmp}/scgi;\n` +
          `  upstream backends {\n    server 127.0.0.1:${ports[0]};\n    server 127.0.0.1:${ports[1]};\n    keepalive 256;\n  }\n` +
          `  server {\n    listen 127.0.0.1:${nginxPort};\n    location / {\n      proxy_pass http://backends;\n      proxy_http_version 1.1;\n      proxy_set_header Connection "";\n    }\n  }\n}\n`,
      );
      nginx = startProcess('nginx', 'taskset', ['-c', PROXY_CPU, NGINX, '-c', conf, '-p', tmp, '-e', path.join(tmp, 'error.log')], { cwd: tmp, env: baseEnv });
      await waitPort(nginxPort, 10_000);
      await sleep(100);
      const nginxPids = [nginx.pid, ...childrenOf(nginx.pid)];
      targets.push({ label: 'nginx', url: `http://127.0.0.1:${nginxPort}/version`, pids: () => nginxPids });
    } else {
      notes.push('nginx is not installed: no nginx baseline, CPU ratios vs nginx are n/a.');
    }

    // The Node floor: what a bare undici Pool.stream proxy costs on this machine, in this run.
    floor = startProcess('node-floor', 'taskset', ['-c', PROXY_CPU, process.execPath, path.join(BENCH_DIR, 'floor-proxy.js')], { cwd: ROOT, env: { ...baseEnv, PORT: '0', BACKENDS: ports.join(',') } });
    const floorPort = Number((await waitForOutput(floor, /listening on 127\.0\.0\.1:(\d+)/, 15_000, 'floor proxy start-up line'))[1]);
    targets.push({ label: 'node-floor', url: `http://127.0.0.1:${floorPort}/version`, pids: () => [floor.pid] });

    grid = await startGrid(tmp, 'grid');
    await deploy(grid, 'bench', 2);
    // Grid's own background work (resync ticks, probes, CPU sampler) with no traffic, for scale.
    {
      const t0 = procTicks(grid.pid);
      const w0 = performance.now();
      await sleep(3000);
      gridIdle = { cpuMsPerS: round(((procTicks(grid.pid) - t0) / CLK_TCK) * 1000 / ((performance.now() - w0) / 1000), 1) };
    }
    targets.push({ label: 'grid-dedicated', url: `${grid.gatewayUrl}/bench/version`, pids: () => [grid.pid] });
    targets.push({ label: 'grid-main', url: `${grid.url}/gateway/bench/version`, pids: () => [grid.pid] });

    // --- the rounds: every target × every connection count, order rotated per round -----
    const warmed = new Set();
    let retriesLeft = NOISY_RETRIES;
    for (let r = 0; r < ROUNDS; r++) {
      const order = targets.map((_, i) => targets[(i + r) % targets.length]);
      process.stdout.write(`  round ${r + 1}/${ROUNDS}\n`);
      for (const t of order) {
        for (const c of CONNECTIONS) {
          const warm = warmed.has(t.label) ? WARMUP_S : FIRST_WARMUP_S;
          warmed.add(t.label);
          let m = await measure(t.label, t.url, c, t.pids(), warm);
          if (!m.clean && retriesLeft > 0) {
            retriesLeft--;
            process.stdout.write(`  (noisy: other load ${m.foreignPct}% of a core; repeating the run)\n`);
            runs.push({ round: r + 1, ...m, retried: true });
            m = await measure(t.label, t.url, c, t.pids(), WARMUP_S);
          }
          runs.push({ round: r + 1, ...m });
        }
      }
    }
    if (floor) {
      await stopProcess(floor, 10_000);
      floor = undefined;
    }
    if (nginx) {
      await stopProcess(nginx, 10_000);
      nginx = undefined;
    }
    for (const b of backends) await stopProcess(b, 5_000);
    backends = [];

    // --- pod kill under load --------------------------------------------------------
    process.stdout.write(`  pod kill: 3 replicas, wrk c16 ${DURATION_S} s through the dedicated gateway, kill 1 pod at ${fmt(KILL_AT_S, 1)} s\n`);
    await deploy(grid, 'victim', 3);
    const before = (await podsOf(grid, 'victim')).map((p) => p.id);
    await waitQuiet({ thresholdPct: QUIET_PCT, maxWaitMs: 20_000, oursTicks, budget: quietBudget });
    await wrk(`${grid.gatewayUrl}/victim/version`, 16, WARMUP_S);
    const load = wrk(`${grid.gatewayUrl}/victim/version`, 16, DURATION_S);
    await sleep(KILL_AT_S * 1000);
    const tKill = performance.now();
    const k = await gridHttp('POST', `${grid.url}/chaos/kill?service=victim&count=1`);
    if (k.status !== 200) throw new Error(`chaos/kill: HTTP ${k.status} ${k.text}`);
    let replacementReadyMs;
    const deadline = Date.now() + (DURATION_S - KILL_AT_S) * 1000;
    while (Date.now() < deadline) {
      const s = await gridHttp('GET', `${grid.url}/services/victim`);
      if (s.json?.ready === 3 && s.json.pods.every((p) => p.id !== k.json.killed[0])) {
        replacementReadyMs = round(performance.now() - tKill, 0);
        break;
      }
      await sleep(50);
    }
    const w = await load;
    const traffic = (await gridHttp('GET', `${grid.url}/traffic?service=victim&window=60`)).json;
    const gwEvents = (await gridHttp('GET', `${grid.url}/events?service=victim&type=gateway.*&limit=100`)).json?.events;
    await podsOf(grid, 'victim');
    const ok = w.requests - w.non2xx;
    const share = ok / (w.requests + w.socketErrorsTotal);
    killTest = {
      killed: k.json.killed,
      podsBefore: before,
      requests: w.requests,
      rps: round(w.rps, 0),
      ok2xx: ok,
      non2xx: w.non2xx,
      socketErrors: w.socketErrors,
      successShare: share,
      successPct: round(100 * share, 4),
      p50Ms: round(w.p50, 3),
      p99Ms: round(w.p99, 3),
      replacementReadyMs,
      gatewayTotals: traffic?.totals,
      gatewayEvents: Array.isArray(gwEvents) ? gwEvents.map((e) => `${e.type}: ${e.message}`) : gwEvents,
    };
    process.stdout.write(
      `  pod kill: ${w.requests} requests, ${w.non2xx} non-2xx, ${w.socketErrorsTotal} socket errors → ${fmt(100 * share, 4)}% success; replacement Ready after ${replacementReadyMs ?? '–'} ms\n`,
    );
    await gridHttp('DELETE', `${grid.url}/services/victim`);

    // --- apply → 3 Ready ---------------------------------------------------------------
    applyTest = {};
    for (const mode of ['pinned', 'unpinned']) {
      if (mode === 'unpinned') await pin(grid.pid, `${LOAD_CPU},${PROXY_CPU}`);
      await waitQuiet({ thresholdPct: QUIET_PCT, maxWaitMs: 20_000, oursTicks, budget: quietBudget });
      const ms = [];
      for (let i = 1; i <= APPLY_RUNS; i++) {
        const name = `ready-${mode === 'pinned' ? 'p' : 'u'}${i}`;
        const t0 = performance.now();
        const r = await gridHttp('POST', `${grid.url}/apply`, serviceYaml(name, 3));
        if (r.status !== 200) throw new Error(`apply ${name}: HTTP ${r.status} ${r.text}`);
        await waitServiceReady(grid.url, name, 3, 30_000, 5);
        ms.push(round(performance.now() - t0, 1));
        await podsOf(grid, name);
        await gridHttp('DELETE', `${grid.url}/services/${name}`);
        // Wait until its pods are gone so the next run starts from the same state.
        const gone = Date.now() + 15_000;
        while (Date.now() < gone && (await podsOf(grid, name)).length > 0) await sleep(20);
      }
      applyTest[mode] = { runsMs: ms, medianMs: round(median(ms), 1), minMs: Math.min(...ms), maxMs: Math.max(...ms) };
      process.stdout.write(`  apply → 3 Ready (${mode === 'pinned' ? `Grid and new pods on CPU ${PROXY_CPU}` : 'Grid and new pods on both CPUs'}): ${ms.join(', ')} ms → median ${fmt(median(ms), 0)} ms\n`);
    }

    await podsOf(grid, 'bench');
    shutdown = await stopGrid(grid);
    grid = undefined;

    // --- optional: a CPU profile of a separate Grid under the same load ---------------------
    if (args['cpu-prof']) {
      const dir = path.join(BENCH_DIR, 'results', 'profiles');
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, 'gateway-grid.cpuprofile');
      fs.rmSync(file, { force: true });
      const g = await startGrid(tmp, 'grid-profiled', ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-name=gateway-grid.cpuprofile']);
      const windows = [];
      try {
        await deploy(g, 'bench', 2);
        for (const [label, url] of [
          ['grid-dedicated', `${g.gatewayUrl}/bench/version`],
          ['grid-main', `${g.url}/gateway/bench/version`],
        ]) {
          await waitQuiet({ thresholdPct: QUIET_PCT, maxWaitMs: 20_000, oursTicks, budget: quietBudget });
          await wrk(url, 64, FIRST_WARMUP_S);
          process.stdout.write(`  profiling: ${label} c64 for ${DURATION_S} s (separate Grid process ${g.pid} under --cpu-prof)\n`);
          // CLOCK_MONOTONIC µs, the clock of the profile's sample timestamps.
          const fromUs = Number(process.hrtime.bigint() / 1000n);
          const c0 = procTicks(g.pid);
          const w2 = await wrk(url, 64, DURATION_S);
          const toUs = Number(process.hrtime.bigint() / 1000n);
          windows.push({ label, fromUs, toUs, requests: w2.requests, rps: round(w2.rps, 0), cpuUsPerRequest: round((((procTicks(g.pid) - c0) / CLK_TCK) * 1e6) / w2.requests, 1) });
        }
        await podsOf(g, 'bench');
      } finally {
        await stopGrid(g);
      }
      if (fs.existsSync(file)) {
        const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
        profile = {
          file: path.relative(ROOT, file),
          windows: windows.map((w) => {
            const t = topSelf(prof, 15, { fromUs: w.fromUs, toUs: w.toUs });
            const perReq = (ms) => round((ms * 1000) / w.requests, 2);
            return {
              ...w,
              sampledMs: t.totalMs,
              busyMs: t.busyMs,
              busyUsPerRequest: perReq(t.busyMs),
              top: t.top.map((x) => ({ ...x, usPerRequest: perReq(x.selfMs) })),
              groups: t.groups.map((x) => ({ ...x, usPerRequest: perReq(x.selfMs) })),
            };
          }),
        };
      } else notes.push('the CPU profile was not written (Grid did not exit normally)');
    }
  } finally {
    if (nginx) await stopProcess(nginx, 10_000);
    if (floor) await stopProcess(floor, 10_000);
    for (const b of backends) await stopProcess(b, 5_000);
    if (grid) shutdown = await stopGrid(grid);
    await sleep(200);
    leftovers = killLeftoverPods();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (leftovers.length > 0) notes.push(`after Grid stopped, ${leftovers.length} pod process(es) of this run were still alive and were killed by PID: ${leftovers.map((l) => l.pid).join(', ')}`);
  report(runs, killTest, applyTest, shutdown, profile, notes, leftovers, gridIdle);
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = srv.address().port;
      srv.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------

function aggregate(runs) {
  const groups = new Map();
  for (const r of runs) {
    const key = `${r.config} ${r.connections}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(r);
  }
  const rows = [];
  for (const all of groups.values()) {
    const cleanRuns = all.filter((r) => r.clean);
    const rs = cleanRuns.length > 0 ? cleanRuns : all;
    const med = (f) => {
      const v = rs.map(f).filter((x) => typeof x === 'number' && Number.isFinite(x));
      return v.length ? median(v) : null;
    };
    rows.push({
      config: rs[0].config,
      connections: rs[0].connections,
      rounds: all.length,
      roundsUsed: rs.length,
      foreignPctMax: Math.max(...rs.map((r) => r.foreignPct)),
      rps: round(med((r) => r.rps), 0),
      rpsMin: Math.min(...rs.map((r) => r.rps)),
      rpsMax: Math.max(...rs.map((r) => r.rps)),
      p50Ms: round(med((r) => r.p50Ms), 3),
      p99Ms: round(med((r) => r.p99Ms), 3),
      non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
      socketErrors: rs.reduce((a, r) => a + r.socketErrors, 0),
      requests: rs.reduce((a, r) => a + r.requests, 0),
      cpuUsPerRequest: med((r) => r.cpuUsPerRequest) === null ? null : round(med((r) => r.cpuUsPerRequest), 1),
      cpuUsPerRequestAll: rs.map((r) => r.cpuUsPerRequest),
      proxyCpuPct: med((r) => r.proxyCpuPct) === null ? null : round(med((r) => r.proxyCpuPct), 1),
      userUsPerRequest: med((r) => r.userUsPerRequest) === null ? null : round(med((r) => r.userUsPerRequest), 1),
      sysUsPerRequest: med((r) => r.sysUsPerRequest) === null ? null : round(med((r) => r.sysUsPerRequest), 1),
      syscallsPerRequest: rs[0].syscallsPerRequest ? { read: round(med((r) => r.syscallsPerRequest.read), 2), write: round(med((r) => r.syscallsPerRequest.write), 2) } : null,
    });
  }
  const find = (config, c) => rows.find((r) => r.config === config && r.connections === c);
  for (const r of rows) {
    const n = find('nginx', r.connections);
    const d = find('direct', r.connections);
    // Per-round CPU/request ratios against nginx's run of the same round: the spread says how noisy the ratio is.
    const perRound = n
      ? runs
          .filter((x) => x.config === r.config && x.connections === r.connections && x.cpuUsPerRequest !== null && (x.clean || r.roundsUsed === r.rounds))
          .map((x) => {
            const same = runs.filter((y) => y.config === 'nginx' && y.connections === r.connections && y.round === x.round);
            const nx = same.find((y) => y.clean) ?? same[same.length - 1];
            return nx?.cpuUsPerRequest ? round(x.cpuUsPerRequest / nx.cpuUsPerRequest) : null;
          })
          .filter((x) => x !== null)
      : [];
    r.vsNginx = n
      ? {
          cpuPerRequest: r.cpuUsPerRequest !== null && n.cpuUsPerRequest ? round(r.cpuUsPerRequest / n.cpuUsPerRequest) : null,
          cpuPerRequestPerRound: perRound,
          rps: round(r.rps / n.rps),
          p99: round(r.p99Ms / n.p99Ms),
        }
      : null;
    r.vsDirect = d ? { rps: round(r.rps / d.rps), p50: round(r.p50Ms / d.p50Ms), p99: round(r.p99Ms / d.p99Ms) } : null;
  }
  return rows;
}

function report(runs, killTest, applyTest, shutdown, profile, notes, leftovers, gridIdle) {
  const rows = aggregate(runs);
  const grids = rows.filter((r) => r.config.startsWith('grid'));
  const nginxRows = rows.filter((r) => r.config === 'nginx');
  const cpuRatios = grids.map((r) => r.vsNginx?.cpuPerRequest).filter((x) => typeof x === 'number' && Number.isFinite(x));
  const worstCpuRatio = cpuRatios.length ? Math.max(...cpuRatios) : NaN;
  const non2xx = runs.reduce((a, r) => a + r.non2xx, 0);
  const errors = runs.reduce((a, r) => a + r.socketErrors, 0);
  const totalSocketErrors = killTest ? Object.values(killTest.socketErrors).reduce((a, b) => a + b, 0) : 0;
  const targets = [
    {
      target: "Grid's CPU per proxied request ≤ 1.6× nginx's (median of rounds)",
      value: Number.isFinite(worstCpuRatio)
        ? grids.map((r) => `${r.config} c${r.connections}: ${fmt(r.cpuUsPerRequest, 1)} µs = ${fmt(r.vsNginx?.cpuPerRequest)}×`).join('; ') +
          ` (nginx ${nginxRows.map((r) => `c${r.connections} ${fmt(r.cpuUsPerRequest, 1)} µs`).join(', ')}; medians of ${ROUNDS} round(s))`
        : 'n/a (no nginx)',
      result: Number.isFinite(worstCpuRatio) ? (worstCpuRatio <= 1.6 ? 'PASS' : 'FAIL') : 'n/a',
    },
    {
      target: 'zero non-2xx in the throughput runs',
      value: `${non2xx} non-2xx, ${errors} socket errors over ${runs.reduce((a, r) => a + r.requests, 0).toLocaleString('en-US')} requests`,
      result: non2xx === 0 && errors === 0 ? 'PASS' : 'FAIL',
    },
    {
      target: 'kill 1 of 3 pods under load: ≥ 99.9% of requests succeed',
      value: killTest ? `${fmt(killTest.successPct, 4)}% (${killTest.ok2xx.toLocaleString('en-US')} 2xx of ${(killTest.requests + totalSocketErrors).toLocaleString('en-US')})` : 'n/a',
      result: killTest ? (killTest.successShare >= 0.999 ? 'PASS' : 'FAIL') : 'n/a',
    },
    {
      target: 'apply → all 3 pods Ready (median of 5; no numeric target)',
      value: applyTest ? `${fmt(applyTest.pinned.medianMs, 0)} ms with Grid pinned to CPU ${PROXY_CPU}; ${fmt(applyTest.unpinned.medianMs, 0)} ms on both CPUs` : 'n/a',
      result: 'reported',
    },
  ];

  const json = {
    benchmark: 'gateway',
    date: new Date().toISOString(),
    git: gitInfo(),
    node: process.version,
    cpus: os.cpus().length,
    durationS: DURATION_S,
    warmupS: WARMUP_S,
    firstWarmupS: FIRST_WARMUP_S,
    rounds: ROUNDS,
    connections: CONNECTIONS,
    pinning: { loadGeneratorAndBackends: `CPU ${LOAD_CPU}`, proxy: `CPU ${PROXY_CPU}` },
    summary: rows,
    runs,
    gridIdle,
    killTest,
    applyTest,
    gridShutdown: shutdown,
    leftoverPodsKilled: leftovers,
    profile,
    targets,
    notes,
  };

  const md = [];
  md.push('# Gateway benchmark: Grid vs nginx vs direct');
  md.push('');
  md.push(`Run ${json.date} · commit ${json.git.commit}${json.git.srcDirty ? ' + uncommitted src/ changes' : ''}${json.git.distStale ? ' (WARNING: dist/ is older than src/; run npm run build)' : ''} · Node ${process.version} · ${os.cpus().length} CPUs · wrk 4.1 · nginx 1.22 · \`node bench/gateway.js${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}\``);
  md.push('');
  md.push('## Method');
  md.push('');
  md.push(`- **Pinning.** wrk (\`-t1\`), the backends and this script run on CPU ${LOAD_CPU} (\`taskset -c ${LOAD_CPU}\`); the proxy under test runs on CPU ${PROXY_CPU}`);
  md.push(`  (\`taskset -c ${PROXY_CPU}\`). Grid's pods are its children and start on CPU ${PROXY_CPU}; once Ready they are moved to CPU ${LOAD_CPU} with \`taskset -a -pc ${LOAD_CPU} <pid>\` (all threads).`);
  md.push('  nginx and Grid are both up for the whole throughput phase (the idle one sits on CPU 1; Grid idles at ' + (gridIdle ? `${gridIdle.cpuMsPerS} ms CPU per second` : '?') + ').');
  md.push('- **Backends.** `demo-services/versioned/server.js` (`GET /version`, a precomputed ~100-byte JSON body). direct and nginx use two standalone');
  md.push('  backends; Grid proxies to two pods it started itself from the same file (`spec.command`).');
  md.push('- **direct** = wrk against **one** backend (wrk targets one host:port per thread and runs with `-t1` here), so it has half the backend processes of the proxied rows.');
  md.push('- **nginx**: `worker_processes 1`, upstream with both backends, `keepalive 256`, `proxy_http_version 1.1`, `proxy_set_header Connection ""`, access log off.');
  md.push('- **node-floor**: `bench/floor-proxy.js`, a bare node:http server + undici `Pool.stream` round robin over both backends (no stats, retries or added headers), pinned like the other proxies: what any Node proxy costs here, measured in the same run.');
  md.push('- **grid-dedicated** = Grid\'s dedicated gateway listener (`GRID_GATEWAY_PORT`, `/<service>/version`);');
  md.push('  **grid-main** = the main port (`/gateway/<service>/version`). Both start every connection on Grid\'s raw-socket fast path');
  md.push('  (`src/modules/gateway/wire-proxy.ts`: its own HTTP/1.1 parsing, pooled keep-alive upstream sockets, bodies passed through with their framing);');
  md.push('  requests outside its subset go to node:http + undici (`proxy.ts`) on the same connection. wrk\'s plain GETs all stay on the fast path.');
  md.push(`- **Rounds.** ${ROUNDS} round(s); each round runs every target at every connection count (order rotated per round), each as ${WARMUP_S} s warm-up`);
  md.push(`  (${FIRST_WARMUP_S} s before a target's first run) and then \`wrk -t1 -c<N> -d${DURATION_S}s --latency\`. The summary shows the median over rounds; all runs are listed below.`);
  md.push('- **CPU µs/request** = the proxy\'s utime+stime delta from `/proc/<pid>/stat` (nginx: master + worker; Grid: the Grid process only, not its pods) over the');
  md.push('  measured run, divided by the requests wrk completed (10 ms tick resolution). *Proxy core busy* = that CPU time / wall time. p50/p99 from wrk\'s latency distribution.');
  md.push('  *user / kernel* splits it by utime and stime. *Syscalls/req* = `syscr`/`syscw` deltas from `/proc/<pid>/io` per request: they count read/readv and write/writev');
  md.push('  but not recv*/send* (nginx reads sockets with recv(), so its reads show as 0; Node/libuv uses read()).');
  md.push(`- **Pod kill**: 3 replicas behind the dedicated gateway, wrk c16 for ${DURATION_S} s, \`POST /chaos/kill?service=…&count=1\` (SIGKILL, no drain) after ${fmt(KILL_AT_S, 1)} s;`);
  md.push('  success = 2xx / (requests + socket errors). The replacement pod starts on CPU 1 (not re-pinned).');
  md.push(`- **apply → 3 Ready**: \`POST /apply\` of a new 3-replica process service, then \`GET /services/<name>\` every 5 ms until \`ready == 3\`; ${APPLY_RUNS} runs, median; each service is deleted`);
  md.push(`  (and its pods gone) before the next. Measured with Grid pinned to CPU ${PROXY_CPU} (its new pods start there too) and with Grid allowed on both CPUs.`);
  md.push('  Node start-up dominates (≈30 ms bare, ≈65 ms with NODE_EXTRA_CA_CERTS set, as here; see shared/reference/proxy-baseline.md); the environment is passed through unchanged.');
  md.push('- **Noise.** A shared 2-core VM where other sessions run builds and tests at the same time (seen: `tsc`, jest, other Grid processes).');
  md.push(`  Before each run the script waits (≤ 20 s, ≤ ${QUIET_BUDGET_MS / 1000} s in total) until foreign load is ≤ ${QUIET_PCT} % of a core. *Other load* = machine-wide busy CPU`);
  md.push(`  (\`/proc/stat\`) minus the CPU of every process of this run (wrk, backends, nginx, Grid, its pods, this script), in % of one core. Runs above ${FOREIGN_MAX_PCT} %`);
  md.push('  are marked noisy and left out of the medians when the same row has a clean round. Compare ratios within one run, not absolute numbers across runs.');
  md.push('');
  md.push('## Summary (median of rounds)');
  md.push('');
  md.push(
    mdTable(
      ['config', 'conns', 'runs used (clean/all)', 'rps', 'rps range', 'p50 ms', 'p99 ms', 'non-2xx', 'socket err', 'proxy CPU µs/req', 'of which user / kernel', 'proxy core busy', 'proxy syscalls/req (read+write)', 'CPU/req vs nginx (per round)', 'rps vs nginx', 'rps vs direct', 'p99 vs direct', 'max other load'],
      rows.map((r) => [
        r.config,
        r.connections,
        `${r.roundsUsed}/${r.rounds}`,
        fmt(r.rps, 0),
        `${fmt(r.rpsMin, 0)}–${fmt(r.rpsMax, 0)}`,
        fmt(r.p50Ms, 2),
        fmt(r.p99Ms, 2),
        r.non2xx,
        r.socketErrors,
        r.cpuUsPerRequest === null ? '–' : fmt(r.cpuUsPerRequest, 1),
        r.userUsPerRequest === null ? '–' : `${fmt(r.userUsPerRequest, 1)} / ${fmt(r.sysUsPerRequest, 1)}`,
        r.proxyCpuPct === null ? '–' : `${fmt(r.proxyCpuPct, 0)}%`,
        r.syscallsPerRequest ? `${fmt(r.syscallsPerRequest.read)} + ${fmt(r.syscallsPerRequest.write)}` : '–',
        r.vsNginx?.cpuPerRequest ? `${fmt(r.vsNginx.cpuPerRequest)}× (${r.vsNginx.cpuPerRequestPerRound.map((x) => fmt(x)).join(', ')})` : '–',
        r.vsNginx ? `${fmt(r.vsNginx.rps)}×` : '–',
        r.vsDirect ? `${fmt(r.vsDirect.rps)}×` : '–',
        r.vsDirect ? `${fmt(r.vsDirect.p99)}×` : '–',
        `${fmt(r.foreignPctMax, 0)}%`,
      ]),
    ),
  );
  md.push('');
  md.push('## Targets');
  md.push('');
  md.push(mdTable(['target', 'measured', 'result'], targets.map((t) => [t.target, t.value, t.result])));
  md.push('');
  if (killTest) {
    md.push('## Pod kill under load');
    md.push('');
    md.push(
      mdTable(
        ['requests', 'rps', '2xx', 'non-2xx', 'socket errors (connect/read/write/timeout)', 'success', 'p50 ms', 'p99 ms', 'replacement Ready after kill'],
        [
          [
            killTest.requests.toLocaleString('en-US'),
            fmt(killTest.rps, 0),
            killTest.ok2xx.toLocaleString('en-US'),
            killTest.non2xx,
            `${killTest.socketErrors.connect}/${killTest.socketErrors.read}/${killTest.socketErrors.write}/${killTest.socketErrors.timeout}`,
            `${fmt(killTest.successPct, 4)}%`,
            fmt(killTest.p50Ms, 2),
            fmt(killTest.p99Ms, 2),
            killTest.replacementReadyMs !== undefined ? `${killTest.replacementReadyMs} ms` : 'not within the run',
          ],
        ],
      ),
    );
    md.push('');
    md.push(`Killed ${killTest.killed.join(', ')}. Gateway events for the service: ${killTest.gatewayEvents?.length ? killTest.gatewayEvents.map((e) => `\`${e}\``).join('; ') : 'none'}.`);
    md.push('');
  }
  if (applyTest) {
    md.push('## apply → 3 pods Ready');
    md.push('');
    md.push(
      mdTable(
        ['Grid placement', 'runs (ms)', 'median ms', 'min', 'max'],
        Object.entries(applyTest).map(([mode, a]) => [mode === 'pinned' ? `pinned to CPU ${PROXY_CPU} (pods start there)` : 'both CPUs', a.runsMs.join(', '), fmt(a.medianMs, 0), fmt(a.minMs, 0), fmt(a.maxMs, 0)]),
      ),
    );
    md.push('');
  }
  md.push('## All runs');
  md.push('');
  md.push(
    mdTable(
      ['round', 'config', 'conns', 'rps', 'p50 ms', 'p99 ms', 'non-2xx', 'socket err', 'proxy CPU µs/req', 'proxy core busy', 'cpu0 / cpu1 busy', 'other load (% of a core)', 'waited for quiet'],
      runs.map((r) => [
        r.round,
        r.config,
        r.connections,
        fmt(r.rps, 0),
        fmt(r.p50Ms, 2),
        fmt(r.p99Ms, 2),
        r.non2xx,
        r.socketErrors,
        r.cpuUsPerRequest === null ? '–' : fmt(r.cpuUsPerRequest, 1),
        r.proxyCpuPct === null ? '–' : `${fmt(r.proxyCpuPct, 0)}%`,
        `${r.cpu.cpu0?.busyPct}% / ${r.cpu.cpu1?.busyPct}%`,
        `${fmt(r.foreignPct, 0)}%${r.clean ? '' : ' (noisy)'}`,
        r.quietWaitMs >= 50 ? `${fmt(r.quietWaitMs / 1000, 1)} s` : '–',
      ]),
    ),
  );
  md.push('');
  if (profile?.windows?.length) {
    md.push('## CPU profile of Grid under load (a separate Grid process, not the measured one)');
    md.push('');
    md.push(`\`node --cpu-prof dist/main.js\` pinned to CPU ${PROXY_CPU} with 2 pods on CPU ${LOAD_CPU}; wrk c64 for ${DURATION_S} s on each path after a ${FIRST_WARMUP_S} s warm-up;`);
    md.push(`only samples inside each measured window are counted (\`${profile.file}\`). µs/req = self time / requests (inflated by the profiler).`);
    md.push('Native functions are named after their JavaScript caller (`writev [native] ← writevGeneric …` is the socket write syscall).');
    md.push('');
    for (const w of profile.windows) {
      md.push(`### ${w.label}: ${fmt(w.rps, 0)} rps under the profiler, ${fmt(w.cpuUsPerRequest, 1)} µs CPU/req (/proc), ${fmt(w.busyUsPerRequest, 1)} µs/req busy in samples`);
      md.push('');
      md.push(mdTable(['self ms', '% of busy', 'µs/req', 'function (top 15 by self time)'], w.top.map((t) => [fmt(t.selfMs, 1), fmt(t.pctOfBusy, 1), fmt(t.usPerRequest, 2), t.fn])));
      md.push('');
      md.push(mdTable(['self ms', '% of busy', 'µs/req', 'owner'], w.groups.map((t) => [fmt(t.selfMs, 1), fmt(t.pctOfBusy, 1), fmt(t.usPerRequest, 2), t.group])));
      md.push('');
    }
  }
  md.push(`Grid shutdown (SIGTERM → exit): ${shutdown ? `exit ${shutdown.exit} after ${shutdown.ms} ms` : 'n/a'}; leftover pod processes after shutdown: ${leftovers.length}.`);
  for (const n of notes) md.push(`\nNote: ${n}`);
  md.push('');
  const files = writeResults('gateway', json, md.join('\n'));
  process.stdout.write('\n' + mdTable(['config', 'conns', 'rps', 'p50 ms', 'p99 ms', 'non-2xx', 'CPU µs/req', 'vs nginx'], rows.map((r) => [r.config, r.connections, fmt(r.rps, 0), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), r.non2xx, r.cpuUsPerRequest ?? '–', r.vsNginx?.cpuPerRequest ? `${r.vsNginx.cpuPerRequest}×` : '–'])) + '\n');
  process.stdout.write('\n' + targets.map((t) => `  ${t.result.padEnd(8)}  ${t.target}: ${t.value}`).join('\n') + '\n');
  process.stdout.write(`  wrote ${path.relative(ROOT, files.md)} and ${path.relative(ROOT, files.json)}\n`);
}

await main();
// Nothing else to wait for; leave even if a stray handle (fetch keep-alive) is open.
process.exit(0);
