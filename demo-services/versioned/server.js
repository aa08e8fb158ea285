// Grid's versioned demo service: one process whose VERSION (v1, v2, v3) sets
// its behaviour, with chaos toggles for failover/rollout demos.
//
//   GET  /  and  /version     {"service","version","pod","hostname"}
//   GET  /health              {"status":"healthy"} | 503 {"status":"unhealthy","reason"}
//   GET  /health/live         {"status":"alive"}   | 500 when liveness was made to fail
//   GET  /health/ready        {"status":"ready"}   | 503 when corrupt / unready / starting / draining
//   GET  /metrics             Prometheus text
//   GET  /chaos               current toggles
//   POST /chaos/{cpu,corrupt,crash,fail,slow,liveness,unready}, POST /reset
//   ANY  /echo                streams the request body back
//   GET  /headers             the request headers as JSON
//
// v3 is the "stable" version: it ignores the corrupt and fail toggles.
// See ../README.md for the environment knobs.

import {
  serve,
  lifecycle,
  POD,
  HOSTNAME,
  envInt,
  envNumber,
  precomputed,
  jsonHeaders,
  sendPre,
  sendJson,
  countStatus,
  notFound,
  methodNotAllowed,
  renderMetrics,
  label,
} from '../lib/runtime.js';

const SERVICE = process.env.SERVICE || process.env.GRID_SERVICE || 'versioned';
const VERSION = process.env.VERSION || 'v1';
const STABLE = VERSION === 'v3';

const START_FAIL_RATE = envNumber('FAIL_RATE', 0, 0, 1);
const READY_DELAY_MS = envInt('READY_DELAY_MS', 0);
const CRASH_AFTER_MS = envInt('CRASH_AFTER_MS', 0);
const LIVENESS_FAIL_AFTER_MS = envInt('LIVENESS_FAIL_AFTER_MS', 0);

const CPU_DEFAULT_S = 10;
const CPU_MAX_S = 300;
const CPU_SLICE_MS = 50;
const SLOW_MAX_MS = 60_000;

// --- precomputed bodies (hot path) -----------------------------------------

const VERSION_OK = precomputed({ service: SERVICE, version: VERSION, pod: POD, hostname: HOSTNAME });
const FAIL = precomputed({ error: 'injected failure', service: SERVICE, version: VERSION, pod: POD });
const HEALTHY = precomputed({ status: 'healthy', service: SERVICE, version: VERSION, pod: POD });
const ALIVE = precomputed({ status: 'alive' });
const READY = precomputed({ status: 'ready' });
const LIVE_FAILING = precomputed({ status: 'failing', reason: 'liveness failure injected' });

// --- chaos state ------------------------------------------------------------

const chaos = {
  corrupted: false,
  corruptBody: null, // precomputed, made when corrupted
  failRate: 0,
  failCounter: 0,
  slowMs: 0,
  livenessFail: false,
  unready: false,
  readyAt: 0, // Date.now() before which /health/ready is 503 (READY_DELAY_MS)
  cpuUntil: 0,
  cpuBurning: false,
  delayed: 0, // requests currently held back by /chaos/slow
};
let crashTimer = null;
let livenessTimer = null;

function garbage() {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789#$%&*+-/=?@^~';
  let s = '';
  for (let i = 0; i < 32; i++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
  return s;
}

function setCorrupted(on) {
  chaos.corrupted = on;
  chaos.corruptBody = on
    ? precomputed({ service: SERVICE, version: 'corrupted', pod: POD, hostname: HOSTNAME, data: garbage() })
    : null;
}

function setFailRate(rate) {
  chaos.failRate = rate;
  chaos.failCounter = 0;
}

/** Deterministic schedule: request n (0-based) fails when floor((n+1)*rate) > floor(n*rate). */
function shouldFail() {
  const n = chaos.failCounter++;
  const rate = chaos.failRate;
  // The epsilon keeps e.g. rate 0.1 at n=9 from missing the step to 1 through rounding.
  return Math.floor((n + 1) * rate + 1e-9) > Math.floor(n * rate + 1e-9);
}

function isReady() {
  return !lifecycle.shuttingDown && !chaos.corrupted && !chaos.unready && Date.now() >= chaos.readyAt;
}

function unhealthyReason() {
  if (chaos.corrupted) return 'data corruption detected';
  if (chaos.livenessFail) return 'liveness failure injected';
  if (chaos.failRate >= 1) return 'all requests failing (injected)';
  return null;
}

function chaosState() {
  const now = Date.now();
  return {
    service: SERVICE,
    version: VERSION,
    pod: POD,
    stable: STABLE,
    corrupted: chaos.corrupted,
    failRate: chaos.failRate,
    slowMs: chaos.slowMs,
    livenessFail: chaos.livenessFail,
    unready: chaos.unready,
    ready: isReady(),
    readyDelayRemainingMs: Math.max(0, chaos.readyAt - now),
    cpuBurning: chaos.cpuBurning,
    cpuRemainingMs: chaos.cpuBurning ? Math.max(0, chaos.cpuUntil - now) : 0,
    delayedRequests: chaos.delayed,
    crashScheduled: crashTimer !== null,
    livenessFailScheduled: livenessTimer !== null,
    shuttingDown: lifecycle.shuttingDown,
  };
}

// --- CPU burn: 50 ms busy slices with setImmediate between, so I/O (probes) still runs.

let cpuSink = 0;
function burnSlice() {
  const now = Date.now();
  if (now >= chaos.cpuUntil || lifecycle.shuttingDown) {
    chaos.cpuBurning = false;
    return;
  }
  const end = Math.min(now + CPU_SLICE_MS, chaos.cpuUntil);
  let x = cpuSink;
  while (Date.now() < end) {
    for (let i = 0; i < 1000; i++) x = (x * 1.0000001 + Math.sqrt(i + 1)) % 1e9;
  }
  cpuSink = x;
  setImmediate(burnSlice);
}

function startBurn(seconds) {
  chaos.cpuUntil = Date.now() + seconds * 1000;
  if (!chaos.cpuBurning && seconds > 0) {
    chaos.cpuBurning = true;
    setImmediate(burnSlice);
  }
}

// --- env-scheduled faults ----------------------------------------------------

function scheduleEnvFaults() {
  if (READY_DELAY_MS > 0) chaos.readyAt = Date.now() + READY_DELAY_MS;
  if (CRASH_AFTER_MS > 0) {
    crashTimer = setTimeout(() => {
      process.stdout.write(`CRASH_AFTER_MS=${CRASH_AFTER_MS} elapsed: exiting with code 1\n`);
      process.exit(1);
    }, CRASH_AFTER_MS);
  }
  if (LIVENESS_FAIL_AFTER_MS > 0) {
    livenessTimer = setTimeout(() => {
      livenessTimer = null;
      chaos.livenessFail = true;
    }, LIVENESS_FAIL_AFTER_MS);
  }
}

function resetAll() {
  setCorrupted(false);
  setFailRate(0);
  chaos.slowMs = 0;
  chaos.livenessFail = false;
  chaos.unready = false;
  chaos.readyAt = 0;
  chaos.cpuUntil = 0; // the burn loop stops at its next slice
  if (crashTimer) clearTimeout(crashTimer);
  if (livenessTimer) clearTimeout(livenessTimer);
  crashTimer = null;
  livenessTimer = null;
}

if (!STABLE && START_FAIL_RATE > 0) setFailRate(START_FAIL_RATE);

// --- app routes (subject to fail/slow) ----------------------------------------

function versionRoute(req, res) {
  sendPre(res, 200, chaos.corrupted ? chaos.corruptBody : VERSION_OK);
}

function echoRoute(req, res) {
  countStatus(200);
  const h = ['content-type', req.headers['content-type'] || 'application/octet-stream'];
  const len = req.headers['content-length'];
  if (len !== undefined) h.push('content-length', len);
  if (lifecycle.shuttingDown) h.push('connection', 'close');
  res.writeHead(200, h);
  req.pipe(res);
  req.on('error', () => res.destroy());
}

function headersRoute(req, res) {
  sendJson(res, 200, req.headers);
}

function failRoute(req, res) {
  sendPre(res, 500, FAIL);
}

/** Run an app route through the fail and slow toggles. */
function app(req, res, route) {
  if (chaos.failRate > 0 && shouldFail()) route = failRoute;
  if (chaos.slowMs > 0) {
    chaos.delayed++;
    setTimeout(() => {
      chaos.delayed--;
      route(req, res);
    }, chaos.slowMs);
    return;
  }
  route(req, res);
}

// --- chaos routes ------------------------------------------------------------

function bool(v, def) {
  if (v === null || v === '') return def;
  const s = v.toLowerCase();
  if (s === 'true' || s === '1' || s === 'yes' || s === 'on') return true;
  if (s === 'false' || s === '0' || s === 'no' || s === 'off') return false;
  return undefined;
}

function badParam(res, message) {
  sendJson(res, 400, { error: message });
}

function ignored(res, action) {
  sendJson(res, 200, {
    ignored: true,
    action,
    reason: `${VERSION} is the stable version: ${action} is ignored`,
    ...chaosState(),
  });
}

const CHAOS_ACTIONS = new Set([
  '/reset',
  '/chaos/reset',
  '/chaos/cpu',
  '/chaos/corrupt',
  '/chaos/crash',
  '/chaos/fail',
  '/chaos/slow',
  '/chaos/liveness',
  '/chaos/unready',
]);

function chaosRoute(req, res, path, query) {
  if (path === '/chaos') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD');
    return sendJson(res, 200, chaosState());
  }
  if (!CHAOS_ACTIONS.has(path)) return notFound(req, res);
  if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
  const params = new URLSearchParams(query);
  switch (path) {
    case '/reset':
    case '/chaos/reset':
      resetAll();
      return sendJson(res, 200, { action: 'reset', ...chaosState() });

    case '/chaos/cpu': {
      const raw = params.get('seconds');
      const seconds = raw === null || raw === '' ? CPU_DEFAULT_S : Number(raw);
      if (!Number.isFinite(seconds) || seconds < 0 || seconds > CPU_MAX_S) {
        return badParam(res, `seconds must be a number 0..${CPU_MAX_S}`);
      }
      startBurn(seconds);
      return sendJson(res, 202, { action: 'cpu', seconds, ...chaosState() });
    }

    case '/chaos/corrupt':
      if (STABLE) return ignored(res, 'corrupt');
      setCorrupted(true);
      return sendJson(res, 200, { action: 'corrupt', ...chaosState() });

    case '/chaos/crash':
      process.stdout.write('POST /chaos/crash: exiting with code 1\n');
    {
      const body = Buffer.from(JSON.stringify({ action: 'crash', exiting: true, code: 1, pod: POD }));
      countStatus(202);
      res.writeHead(202, jsonHeaders(body.length, true));
      res.end(body, () => process.exit(1));
      return;
    }

    case '/chaos/fail': {
      const raw = params.get('rate');
      const rate = raw === null || raw === '' ? 1 : Number(raw);
      if (!Number.isFinite(rate) || rate < 0 || rate > 1) return badParam(res, 'rate must be a number 0..1');
      if (STABLE) return ignored(res, 'fail');
      setFailRate(rate);
      return sendJson(res, 200, { action: 'fail', ...chaosState() });
    }

    case '/chaos/slow': {
      const raw = params.get('ms');
      const ms = raw === null || raw === '' ? NaN : Number(raw);
      if (!Number.isInteger(ms) || ms < 0 || ms > SLOW_MAX_MS) {
        return badParam(res, `ms must be an integer 0..${SLOW_MAX_MS}`);
      }
      chaos.slowMs = ms;
      return sendJson(res, 200, { action: 'slow', ...chaosState() });
    }

    case '/chaos/liveness': {
      const fail = bool(params.get('fail'), true);
      if (fail === undefined) return badParam(res, 'fail must be true or false');
      if (livenessTimer) clearTimeout(livenessTimer);
      livenessTimer = null;
      chaos.livenessFail = fail;
      return sendJson(res, 200, { action: 'liveness', ...chaosState() });
    }

    case '/chaos/unready': {
      const value = bool(params.get('value'), true);
      if (value === undefined) return badParam(res, 'value must be true or false');
      chaos.unready = value;
      return sendJson(res, 200, { action: 'unready', ...chaosState() });
    }

    default:
      return notFound(req, res);
  }
}

// --- health & metrics ----------------------------------------------------------

function healthRoute(req, res, path) {
  if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD');
  if (path === '/health/live') {
    return sendPre(res, chaos.livenessFail ? 500 : 200, chaos.livenessFail ? LIVE_FAILING : ALIVE);
  }
  if (path === '/health/ready') {
    if (isReady()) return sendPre(res, 200, READY);
    let reason = 'not ready';
    if (lifecycle.shuttingDown) reason = 'shutting down';
    else if (chaos.corrupted) reason = 'data corruption detected';
    else if (chaos.unready) reason = 'marked unready';
    else if (Date.now() < chaos.readyAt) reason = 'starting up';
    return sendJson(res, 503, { status: 'not ready', reason });
  }
  if (path === '/health') {
    const reason = unhealthyReason();
    if (reason === null) return sendPre(res, 200, HEALTHY);
    return sendJson(res, 503, { status: 'unhealthy', reason, service: SERVICE, version: VERSION, pod: POD });
  }
  return notFound(req, res);
}

function metricsRoute(req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD');
  const extra =
    `# HELP demo_info Static information about this process.\n` +
    `# TYPE demo_info gauge\n` +
    `demo_info{service="${label(SERVICE)}",version="${label(VERSION)}",pod="${label(POD)}"} 1\n` +
    `# HELP demo_ready 1 when /health/ready answers 200.\n` +
    `# TYPE demo_ready gauge\n` +
    `demo_ready ${isReady() ? 1 : 0}\n` +
    `# HELP demo_chaos_fail_rate Injected failure rate (0..1).\n` +
    `# TYPE demo_chaos_fail_rate gauge\n` +
    `demo_chaos_fail_rate ${chaos.failRate}\n` +
    `# HELP demo_chaos_slow_ms Injected delay in milliseconds.\n` +
    `# TYPE demo_chaos_slow_ms gauge\n` +
    `demo_chaos_slow_ms ${chaos.slowMs}\n` +
    `# HELP demo_chaos_corrupted 1 while corrupted.\n` +
    `# TYPE demo_chaos_corrupted gauge\n` +
    `demo_chaos_corrupted ${chaos.corrupted ? 1 : 0}\n` +
    `# HELP demo_chaos_cpu_burning 1 while a CPU burn is running.\n` +
    `# TYPE demo_chaos_cpu_burning gauge\n` +
    `demo_chaos_cpu_burning ${chaos.cpuBurning ? 1 : 0}\n`;
  // Count this response before rendering so the scrape includes itself.
  countStatus(200);
  const body = Buffer.from(renderMetrics('demo', extra));
  const h = ['content-type', 'text/plain; version=0.0.4; charset=utf-8', 'content-length', String(body.length)];
  if (lifecycle.shuttingDown) h.push('connection', 'close');
  res.writeHead(200, h);
  res.end(body);
}

// --- dispatch -------------------------------------------------------------------

function handler(req, res) {
  const url = req.url;
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);

  if (path === '/' || path === '/version') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD');
    if (chaos.failRate === 0 && chaos.slowMs === 0) return versionRoute(req, res);
    return app(req, res, versionRoute);
  }
  if (path === '/health' || path.startsWith('/health/')) return healthRoute(req, res, path);
  if (path === '/reset' || path === '/chaos' || path.startsWith('/chaos/')) {
    return chaosRoute(req, res, path, q === -1 ? '' : url.slice(q + 1));
  }
  if (path === '/metrics') return metricsRoute(req, res);
  if (path === '/echo') return app(req, res, echoRoute);
  if (path === '/headers') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD');
    return app(req, res, headersRoute);
  }
  return app(req, res, notFound);
}

serve(handler, {
  onListening: scheduleEnvFaults,
  onShutdown: () => {
    chaos.cpuUntil = 0;
  },
});
