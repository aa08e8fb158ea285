// The gateway under hostile clients (issue 15): normal traffic's latency alone and under each
// attack in the same run, for clients of the attacked pod and of another service's pod apart,
// Grid's event-loop delay and the machine's idle CPU per phase, Grid's RSS with and without the
// attackers, and when Grid closed them.
// Attacks: 5,000 idle connections; slowloris heads and bodies (a byte a second); clients that ask
// for 64 MiB and never read; clients that pipeline requests for 1 MiB each and never read.
// Every loop is bounded in time and count; traffic only to 127.0.0.1.
// `node bench/run.js hostile [--idle=5000] [--seconds=5]`
import * as fs from 'node:fs';
import http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT, childrenOf, fmt, gitInfo, gridHttp, mdTable, onExitCleanup, parseArgs, percentile, round, sleep, startProcess, stopProcess, waitForOutput, waitServiceReady, writeResults } from './lib.js';

const args = parseArgs();
const IDLE = Math.max(1, Math.min(15_000, Number(args.idle ?? 5000)));
const SECONDS = Math.max(1, Math.min(30, Number(args.seconds ?? 5)));
/** Normal clients per target (the attacked pod's service, and another service): 2 × 4 in all. */
const CONCURRENCY = 4;
const SLOWLORIS = 250;
const NEVER_READ = 100;
const PIPELINERS = 50;
const PIPELINED = 20;
/** Short timeouts so that the closes are seen within the run; the defaults are in the markdown. */
const TIMEOUT_MS = 5000;
/** Long enough to measure beside never-readers that have filled their buffers and wait to be cut. */
const SEND_TIMEOUT_MS = 10_000;
const MIB = 1024 * 1024;

const sockets = new Set();
onExitCleanup(() => {
  for (const s of sockets) s.destroy();
});

/** The kernel's TCP buffer memory in MiB, and its pressure threshold (tcp_mem's second value): never-readers fill kernel buffers, not Grid's. */
function tcpMem() {
  const pages = Number(/TCP:.* mem (\d+)/.exec(fs.readFileSync('/proc/net/sockstat', 'utf8'))[1]);
  const pressure = Number(fs.readFileSync('/proc/sys/net/ipv4/tcp_mem', 'utf8').trim().split(/\s+/)[1]);
  return { mib: round((pages * 4096) / MIB, 0), pressureMib: round((pressure * 4096) / MIB, 0) };
}

/** The machine's idle CPU share between two /proc/stat readings: the machine is shared, and a saturated one delays every process. */
function cpuStat() {
  return fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
}
function idlePct(a, b) {
  const d = b.map((v, i) => v - a[i]);
  const total = d.reduce((x, y) => x + y, 0);
  return total > 0 ? round((100 * (d[3] + d[4])) / total, 0) : null;
}

function rss(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) * 1024;
}

/** Grid's event-loop delay reports (bench/eld-preload.mjs): [epoch ms, max delay ms]. */
const eld = [];

/**
 * Closed-loop normal clients on keep-alive connections, CONCURRENCY per target at once: latency of
 * GET / (a small answer) per target. Also Grid's worst event-loop delay and the machine's idle CPU
 * over the same time.
 */
async function load(targets, seconds) {
  const from = Date.now();
  const cpu0 = cpuStat();
  const entries = await Promise.all(Object.entries(targets).map(async ([name, base]) => [name, await loadOne(base, seconds)]));
  const to = Date.now();
  const delays = eld.filter(([t]) => t > from && t <= to + 250).map(([, d]) => d);
  return { ...Object.fromEntries(entries), eldMaxMs: delays.length ? Math.max(...delays) : null, idlePct: idlePct(cpu0, cpuStat()) };
}

async function loadOne(base, seconds) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const lat = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const one = () =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const req = http.get(`${base}/`, { agent, timeout: 10_000 }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) lat.push(performance.now() - t0);
          else errors++;
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        errors++;
        resolve();
      });
    });
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      // Bounded in count as well as time.
      for (let i = 0; i < 100_000 && performance.now() < end; i++) await one();
    }),
  );
  agent.destroy();
  return { requests: lat.length, errors, p50: round(percentile(lat, 50), 2), p99: round(percentile(lat, 99), 2) };
}

/** A raw connection that records when it closed (ms after `since`) and what it received first. */
function raw(url, since = performance.now()) {
  const u = new URL(url);
  const s = net.connect({ host: '127.0.0.1', port: Number(u.port) });
  const c = { socket: s, closedAfter: -1, bytes: 0, first: '' };
  sockets.add(s);
  s.on('data', (d) => {
    if (c.first === '') c.first = d.toString('latin1', 0, Math.min(d.length, 12));
    c.bytes += d.length;
  });
  s.on('close', () => {
    c.closedAfter = performance.now() - since;
    sockets.delete(s);
  });
  s.on('error', () => undefined);
  c.connected = new Promise((resolve) => {
    s.once('connect', resolve);
    s.once('error', resolve);
  });
  return c;
}

async function opened(conns) {
  await Promise.all(conns.map((c) => c.connected));
}

async function until(cond, timeoutMs, pollMs = 100) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await cond()) return true;
    await sleep(pollMs);
  }
  return false;
}

function closeAll(conns) {
  for (const c of conns) c.socket.destroy();
}

function closeTimes(conns) {
  const t = conns.map((c) => c.closedAfter).filter((x) => x >= 0);
  return { closed: t.length, of: conns.length, medianMs: t.length ? round(percentile(t, 50), 0) : null, maxMs: t.length ? round(Math.max(...t), 0) : null };
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'grid-bench-hostile-'));
  const env = {
    ...process.env,
    GRID_PORT: '0',
    GRID_GATEWAY_PORT: '0',
    GRID_DATA_DIR: tmp,
    GRID_LOG_LEVEL: 'warn',
    GRID_CLIENT_REQUEST_TIMEOUT_MS: String(TIMEOUT_MS),
    GRID_CLIENT_SEND_TIMEOUT_MS: String(SEND_TIMEOUT_MS),
  };
  delete env.NODE_OPTIONS;
  const child = startProcess('grid', process.execPath, ['--import', './bench/eld-preload.mjs', 'dist/main.js'], { cwd: ROOT, env });
  let eldRest = '';
  child.stderr.on('data', (d) => {
    const lines = (eldRest + d).split('\n');
    eldRest = lines.pop();
    for (const l of lines) {
      const m = /^grid-eld (\d+) ([\d.]+)$/.exec(l);
      if (m) eld.push([Number(m[1]), Number(m[2])]);
    }
  });
  const podPids = new Set();
  onExitCleanup(() => {
    for (const pid of childrenOf(child.pid)) podPids.add(pid);
    for (const pid of podPids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });
  const m = await waitForOutput(child, /Grid listening on (http:\/\/127\.0\.0\.1:\d+) \(gateway on (http:\/\/127\.0\.0\.1:\d+)\)/, 30_000, 'Grid start-up line');
  const grid = { url: m[1], gatewayUrl: m[2], pid: child.pid };
  // Two services, one pod each, same fixture: 'big' is attacked, 'other' only serves normal clients.
  const svc = (name) => `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  replicas: 1
  command: ["node", "test/fixtures/hostile/big-server.js"]
  readinessProbe: { httpGet: { path: /health/ready }, periodSeconds: 1 }
  terminationGracePeriodSeconds: 2
`;
  for (const name of ['big', 'other']) {
    const r = await gridHttp('POST', `${grid.url}/apply`, svc(name));
    if (r.status !== 200) throw new Error(`apply ${name}: HTTP ${r.status} ${r.text}`);
  }
  await waitServiceReady(grid.url, 'big', 1, 30_000, 50);
  await waitServiceReady(grid.url, 'other', 1, 30_000, 50);
  const base = `${grid.gatewayUrl}/big`;
  const targets = { same: base, other: `${grid.gatewayUrl}/other` };
  const mainBase = `${grid.url}/gateway/big`;
  const aborted = async () => (await gridHttp('GET', `${base}/stats`)).json.aborted;
  await load(targets, 3); // warm-up
  const phases = [];
  const rss0 = rss(grid.pid);

  // Normal alone.
  phases.push({ phase: 'normal alone', rss: rss0, ...(await load(targets, SECONDS)) });

  // Idle connections: half on each port.
  {
    const conns = [];
    for (let i = 0; i < IDLE; i++) conns.push(raw(i % 2 ? grid.url : grid.gatewayUrl));
    await opened(conns);
    await sleep(1000);
    const rssIdle = rss(grid.pid);
    const l = await load(targets, SECONDS);
    phases.push({ phase: `${IDLE} idle connections`, rss: rssIdle, ...l, perConnection: Math.round((rssIdle - rss0) / IDLE), closes: closeTimes(conns) });
    closeAll(conns);
  }
  await sleep(1000);

  // Slowloris heads and bodies, a byte a second, half on each port.
  {
    const since = performance.now();
    const conns = [];
    for (let i = 0; i < SLOWLORIS; i++) {
      const head = i % 2 === 0;
      const [url, p] = i % 4 < 2 ? [grid.gatewayUrl, '/big/'] : [grid.url, '/gateway/big/'];
      const c = raw(url, since);
      c.socket.write(head ? `GET ${p} HTTP/1.1\r\nHost: t\r\n` : `POST ${p} HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n`);
      c.drip = setInterval(() => {
        if (!c.socket.destroyed) c.socket.write(head ? 'X' : 'x');
      }, 1000);
      conns.push(c);
    }
    await opened(conns);
    const rssAttack = rss(grid.pid);
    const l = await load(targets, SECONDS);
    await until(() => conns.every((c) => c.closedAfter >= 0), TIMEOUT_MS + 5000);
    for (const c of conns) clearInterval(c.drip);
    phases.push({ phase: `${SLOWLORIS} slowloris (heads and bodies, 1 byte/s)`, rss: rssAttack, ...l, closes: closeTimes(conns), answered408: conns.filter((c) => c.first.startsWith('HTTP/1.1 408')).length });
    closeAll(conns);
  }
  await sleep(1000);

  // Clients that ask for 64 MiB and never read.
  {
    const before = await aborted();
    const since = performance.now();
    const conns = [];
    for (let i = 0; i < NEVER_READ; i++) {
      const c = raw(i % 2 ? grid.url : grid.gatewayUrl, since);
      c.socket.pause();
      c.socket.write(`GET ${i % 2 ? '/gateway/big' : '/big'}/big?mib=64 HTTP/1.1\r\nHost: t\r\n\r\n`);
      conns.push(c);
    }
    await opened(conns);
    await sleep(300);
    // While the responses start: pod, kernel and Grid copy each until the never-reader's socket buffers are full.
    const arriving = await load(targets, 2);
    phases.push({ phase: `${NEVER_READ} never-readers of 64 MiB, while their responses fill the buffers (0.3–2.3 s)`, rss: rss(grid.pid), ...arriving });
    // Then they only hold their connections until the send timeout cuts them: settled once the kernel's TCP memory stops growing.
    let last = tcpMem().mib;
    await until(() => {
      const now = tcpMem().mib;
      const stable = Math.abs(now - last) <= Math.max(2, last * 0.02);
      last = now;
      return stable;
    }, 3000, 250);
    const settledAfter = round(performance.now() - since, 0);
    const rssAttack = rss(grid.pid);
    const kernel = tcpMem();
    const holdSeconds = Math.max(1, Math.min(SECONDS, (SEND_TIMEOUT_MS - (performance.now() - since) - 1500) / 1000));
    const holding = await load(targets, holdSeconds);
    let cutAfter = null;
    if (await until(async () => (await aborted()) - before >= NEVER_READ, SEND_TIMEOUT_MS + 10_000, 100)) cutAfter = round(performance.now() - since, 0);
    phases.push({
      phase: `${NEVER_READ} never-readers of 64 MiB, holding full buffers (from ${round(settledAfter / 1000, 1)} s, ${round(holdSeconds, 1)} s)`,
      rss: rssAttack,
      ...holding,
      perConnection: Math.round((rssAttack - rss0) / NEVER_READ),
      cutAllWithinMs: cutAfter,
      kernel,
    });
    closeAll(conns);
  }
  await sleep(1000);

  // Clients that pipeline requests for 1 MiB each and never read.
  {
    const since = performance.now();
    const conns = [];
    for (let i = 0; i < PIPELINERS; i++) {
      const c = raw(i % 2 ? grid.url : grid.gatewayUrl, since);
      c.socket.pause();
      const p = i % 2 ? '/gateway/big' : '/big';
      c.socket.write(Array.from({ length: PIPELINED }, () => `GET ${p}/big?mib=1 HTTP/1.1\r\nHost: t\r\n\r\n`).join(''));
      conns.push(c);
    }
    await opened(conns);
    await sleep(500);
    const rssAttack = rss(grid.pid);
    const l = await load(targets, Math.min(SECONDS, SEND_TIMEOUT_MS / 1000 - 1));
    phases.push({ phase: `${PIPELINERS} clients pipelining ${PIPELINED} × 1 MiB, never reading`, rss: rssAttack, ...l, perConnection: Math.round((rssAttack - rss0) / PIPELINERS) });
    closeAll(conns);
  }

  // The baseline again: on a shared machine, how far normal traffic drifts without any attack.
  await sleep(1000);
  phases.push({ phase: 'normal alone, again (after the attacks)', rss: rss(grid.pid), ...(await load(targets, SECONDS)) });

  for (const pid of childrenOf(grid.pid)) podPids.add(pid);
  await stopProcess(child, 10_000);
  fs.rmSync(tmp, { recursive: true, force: true });

  const normal = phases[0];
  const md = [];
  md.push('# Gateway under hostile clients');
  md.push('');
  md.push(`${gitInfo().commit ?? ''} · ${new Date().toISOString()} · ${os.cpus().length} cores · \`node bench/run.js hostile\``);
  md.push('');
  md.push(
    `Normal traffic, in the same run as every attack: ${CONCURRENCY} keep-alive clients of the attacked pod's service (\`GET /big/\`, "same pod") and ${CONCURRENCY} of another service's pod (\`GET /other/\`, "other service"), at once, closed loop, on the dedicated listener, new connections each phase, ${SECONDS} s per phase unless said. ` +
      `Grid ran with GRID_CLIENT_REQUEST_TIMEOUT_MS=${TIMEOUT_MS} and GRID_CLIENT_SEND_TIMEOUT_MS=${SEND_TIMEOUT_MS} so the closes happen within the run (defaults 30 s and 60 s; idle 65 s; GRID_MAX_CONNECTIONS 10,000). Two process pods (test/fixtures/hostile/big-server.js), one per service. Attackers split over the main port (/gateway/big) and the dedicated listener. ` +
      `"Grid loop delay" is the worst event-loop delay Grid saw during the phase (monitorEventLoopDelay, bench/eld-preload.mjs); "machine idle" is the whole machine's idle CPU (/proc/stat; the machine is shared).`,
  );
  md.push('');
  const ratio = (p, t) => fmt(p[t].p99 / normal[t].p99);
  md.push(
    mdTable(
      ['phase', 'same pod: req', 'p50 ms', 'p99 ms', 'p99 / alone', 'other service: req', 'p50 ms', 'p99 ms', 'p99 / alone', 'errors', 'Grid loop delay max ms', 'machine idle %', 'Grid RSS MiB', 'RSS over baseline per attacker', 'attackers closed'],
      phases.map((p) => [
        p.phase,
        p.same.requests,
        fmt(p.same.p50),
        fmt(p.same.p99),
        ratio(p, 'same'),
        p.other.requests,
        fmt(p.other.p50),
        fmt(p.other.p99),
        ratio(p, 'other'),
        p.same.errors + p.other.errors,
        fmt(p.eldMaxMs, 0),
        p.idlePct ?? '–',
        fmt(p.rss / MIB, 1),
        p.perConnection === undefined ? '' : `${fmt(p.perConnection / 1024, 1)} KiB`,
        p.closes ? `${p.closes.closed}/${p.closes.of}${p.closes.medianMs === null ? '' : `, median ${p.closes.medianMs} ms, max ${p.closes.maxMs} ms`}${p.answered408 === undefined ? '' : `, ${p.answered408} got 408`}` : p.cutAllWithinMs !== undefined ? (p.cutAllWithinMs === null ? 'NOT all cut' : `all cut within ${p.cutAllWithinMs} ms`) : '',
      ]),
    ),
  );
  md.push('');
  const nr = phases.find((p) => p.kernel);
  if (nr) md.push(`Kernel TCP buffer memory with the never-readers holding: ${nr.kernel.mib} MiB (the kernel's pressure threshold, tcp_mem[1]: ${nr.kernel.pressureMib} MiB).`, '');
  md.push(`Idle connections are not closed during the phase (idle timeout 65 s); slowloris closes are measured from their first byte; never-reader cuts from the request (the pod counts its cut responses).`);
  const files = writeResults('hostile', { phases, timeoutMs: TIMEOUT_MS, sendTimeoutMs: SEND_TIMEOUT_MS, idle: IDLE }, md.join('\n'));
  process.stdout.write(md.join('\n') + `\n\nwrote ${files.md}\n`);
}

main().catch((e) => {
  process.stderr.write(`${e.stack ?? e}\n`);
  process.exit(1);
});
