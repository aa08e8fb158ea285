// Shared runtime for Grid's demo services: environment parsing, the HTTP
// server lifecycle (fast start, one "listening on" line, graceful SIGTERM
// drain), cheap JSON responses, request-body reading and a tiny Prometheus
// counter. Only node: built-ins; nothing here runs per request except the
// small send helpers.

import http from 'node:http';
import os from 'node:os';

export const HOSTNAME = os.hostname();
/** Pod id: POD_NAME, else GRID_POD (both may be injected by Grid), else the hostname. */
export const POD = process.env.POD_NAME || process.env.GRID_POD || HOSTNAME;

/** Process-wide lifecycle flags, read by the services' health routes. */
export const lifecycle = {
  /** True once SIGTERM/SIGINT was received: responses get `Connection: close`, readiness fails. */
  shuttingDown: false,
  /** Date.now() when the server started listening (0 before). */
  listeningSince: 0,
};

const DRAIN_LIMIT_MS = 5000;
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

// ---------------------------------------------------------------------------
// Environment

/** Integer env var in [min, max]; a bad value is reported on stderr and the default is used. */
export function envInt(name, def, min = 0, max = Number.MAX_SAFE_INTEGER) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`ignoring ${name}=${JSON.stringify(raw)}: expected an integer ${min}..${max}\n`);
    return def;
  }
  return n;
}

/** Number env var in [min, max]; a bad value is reported on stderr and the default is used. */
export function envNumber(name, def, min = -Infinity, max = Infinity) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) {
    process.stderr.write(`ignoring ${name}=${JSON.stringify(raw)}: expected a number ${min}..${max}\n`);
    return def;
  }
  return n;
}

function requirePort() {
  const raw = process.env.PORT;
  const n = Number(raw);
  if (raw === undefined || raw === '' || !Number.isInteger(n) || n < 0 || n > 65535) {
    process.stderr.write(`PORT must be set to an integer 0..65535 (got ${JSON.stringify(raw ?? null)}); 0 picks a free port\n`);
    process.exit(1);
  }
  return n;
}

// ---------------------------------------------------------------------------
// Metrics: responses by status code (counted in the send helpers).

const statusCounts = Object.create(null);

export function countStatus(status) {
  statusCounts[status] = (statusCounts[status] || 0) + 1;
}

/** Prometheus text for `<prefix>_requests_total{code}` and `<prefix>_up`, plus extra pre-rendered families. */
export function renderMetrics(prefix, extra = '') {
  let out =
    `# HELP ${prefix}_requests_total HTTP responses sent, by status code.\n` +
    `# TYPE ${prefix}_requests_total counter\n`;
  const codes = Object.keys(statusCounts).sort();
  for (const code of codes) out += `${prefix}_requests_total{code="${code}"} ${statusCounts[code]}\n`;
  out +=
    `# HELP ${prefix}_up 1 while the process is serving (0 while draining after SIGTERM).\n` +
    `# TYPE ${prefix}_up gauge\n` +
    `${prefix}_up ${lifecycle.shuttingDown ? 0 : 1}\n` +
    `# HELP ${prefix}_uptime_seconds Seconds since the server started listening.\n` +
    `# TYPE ${prefix}_uptime_seconds gauge\n` +
    `${prefix}_uptime_seconds ${lifecycle.listeningSince ? ((Date.now() - lifecycle.listeningSince) / 1000).toFixed(3) : 0}\n`;
  return out + extra;
}

/** Escape a Prometheus label value. */
export function label(v) {
  return String(v).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

// ---------------------------------------------------------------------------
// Responses

/** Flat header list for a JSON body of `length` bytes, with or without `Connection: close`. */
export function jsonHeaders(length, close = false) {
  const h = ['content-type', 'application/json', 'content-length', String(length)];
  if (close) h.push('connection', 'close');
  return h;
}

/** A precomputed JSON response: body buffer plus its two header lists. */
export function precomputed(obj) {
  const body = Buffer.from(JSON.stringify(obj));
  return { body, headers: jsonHeaders(body.length, false), closeHeaders: jsonHeaders(body.length, true) };
}

/** Send a precomputed response (hot path: no allocation beyond Node's own). */
export function sendPre(res, status, pre) {
  countStatus(status);
  res.writeHead(status, lifecycle.shuttingDown ? pre.closeHeaders : pre.headers);
  res.end(pre.body);
}

/** Send a Buffer/string body with the given content type and optional extra [k, v, ...] headers. */
export function sendBody(res, status, body, contentType, extra) {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  countStatus(status);
  const h = ['content-type', contentType, 'content-length', String(buf.length)];
  if (extra) for (let i = 0; i < extra.length; i++) h.push(extra[i]);
  if (lifecycle.shuttingDown) h.push('connection', 'close');
  res.writeHead(status, h);
  res.end(buf);
}

export function sendJson(res, status, obj, extra) {
  sendBody(res, status, JSON.stringify(obj), 'application/json', extra);
}

export function notFound(req, res) {
  sendJson(res, 404, { error: 'not found', method: req.method, path: req.url.split('?', 1)[0] });
}

export function methodNotAllowed(res, allow) {
  sendJson(res, 405, { error: 'method not allowed', allow }, ['allow', allow]);
}

/** An error with an HTTP status; `body` (optional) replaces the default `{"error": message}`. */
export class HttpError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Read the whole request body (at most `limit` bytes). Rejects with HttpError
 * 413 when it is larger: immediately if Content-Length says so, else as soon
 * as the limit is crossed (the rest is discarded, and the connection closed
 * after the response).
 */
export function readBody(req, limit = MAX_BODY_BYTES) {
  return new Promise((resolve, reject) => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) {
      reject(new HttpError(413, 'request body too large', { error: 'request body too large', limit }));
      return;
    }
    const chunks = [];
    let size = 0;
    let settled = false;
    req.on('data', (chunk) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) {
        settled = true;
        chunks.length = 0;
        reject(new HttpError(413, 'request body too large', { error: 'request body too large', limit }));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      if (settled) return;
      settled = true;
      reject(err);
    });
  });
}

/** Read and parse a JSON body; HttpError 400 `{"error":"invalid JSON"}` when it does not parse (an empty body too). */
export async function readJson(req, limit = MAX_BODY_BYTES) {
  const buf = await readBody(req, limit);
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid JSON', { error: 'invalid JSON' });
  }
}

/** Answer an error thrown by an async handler (HttpError -> its status, anything else -> 500). */
export function sendError(res, err) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err instanceof HttpError) {
    // 413 leaves an unread body behind: close the connection after answering.
    const extra = err.status === 413 ? ['connection', 'close'] : undefined;
    sendJson(res, err.status, err.body ?? { error: err.message }, extra);
    return;
  }
  process.stderr.write(`internal error: ${err && err.stack ? err.stack : err}\n`);
  sendJson(res, 500, { error: 'internal error' });
}

// ---------------------------------------------------------------------------
// Server lifecycle

/**
 * Create the HTTP server and start listening on HOST (default 127.0.0.1) and
 * PORT (required; 0 = ephemeral), after START_DELAY_MS if set. Prints exactly
 * `listening on <host>:<port>` to stdout once accepting connections.
 *
 * SIGTERM/SIGINT: stop accepting, close idle keep-alive connections, answer
 * in-flight requests with `Connection: close`, exit 0 once all connections
 * are gone, or after 5 s regardless.
 */
export function serve(handler, { onListening, onShutdown } = {}) {
  const port = requirePort();
  const host = process.env.HOST || '127.0.0.1';
  const startDelay = envInt('START_DELAY_MS', 0);

  const server = http.createServer(handler);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
  server.on('error', (err) => {
    process.stderr.write(`server error: ${err.message}\n`);
    process.exit(1);
  });

  let startTimer = null;
  const listen = () => {
    startTimer = null;
    server.listen(port, host, () => {
      lifecycle.listeningSince = Date.now();
      const addr = server.address();
      process.stdout.write(`listening on ${addr.address}:${addr.port}\n`);
      if (onListening) onListening(addr);
    });
  };
  if (startDelay > 0) startTimer = setTimeout(listen, startDelay);
  else listen();

  const shutdown = (signal) => {
    if (lifecycle.shuttingDown) return;
    lifecycle.shuttingDown = true;
    if (startTimer) {
      // Never started listening: nothing to drain.
      process.stdout.write(`${signal} received before listening: exiting\n`);
      process.exit(0);
    }
    process.stdout.write(`${signal} received: draining\n`);
    if (onShutdown) onShutdown();
    const force = setTimeout(() => {
      process.stdout.write(`drain did not finish within ${DRAIN_LIMIT_MS} ms: exiting\n`);
      process.exit(0);
    }, DRAIN_LIMIT_MS);
    force.unref();
    server.close(() => {
      process.stdout.write('drained: exiting\n');
      process.exit(0);
    });
    server.closeIdleConnections();
    // A keep-alive connection whose response had already started before the
    // signal becomes idle only later; sweep those up until the server closes.
    setInterval(() => server.closeIdleConnections(), 50).unref();
  };
  // Repeated SIGTERMs are ignored (the drain is already bounded); a second
  // SIGINT (Ctrl-C twice by hand) exits at once.
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => {
    if (lifecycle.shuttingDown) process.exit(130);
    shutdown('SIGINT');
  });
  return server;
}
