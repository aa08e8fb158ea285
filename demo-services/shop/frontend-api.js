// Shop: frontend-api service, the user-facing API. Keeps users in memory (per
// process) and calls business-logic and data-ingest over HTTP, normally
// through Grid's gateway.
//
//   GET  /api/v1/users         {"users": [...], "count": n}
//   POST /api/v1/users         {username, email}: validated by business-logic -> 201 user | 400 | 409
//   POST /api/v1/data/ingest   forwarded to data-ingest POST /api/v1/ingest
//   POST /api/v1/orders        forwarded to business-logic POST /api/v1/process/order
//   GET  /api/v1/info, /health/live, /metrics
//   GET  /health/ready         200 only while both upstreams' /health/live answer 200
//
// Upstream base URLs: BUSINESS_LOGIC_URL / DATA_INGEST_URL, else
// ${GRID_URL}/gateway/<name>, else http://127.0.0.1:8080/gateway/<name>.
// The request path (/api/v1/...) is appended to the base.

import { startShopService, sendJson, sendBody, readJson, readBody, HttpError } from './common.js';

const SERVICE = 'frontend-api';
const UPSTREAM_TIMEOUT_MS = 2000;
const READY_CHECK_TIMEOUT_MS = 800; // below a probe's default 1 s timeout
const READY_CACHE_MS = 500;

function upstreamBase(name, envName) {
  const explicit = process.env[envName];
  if (explicit) return explicit.replace(/\/+$/, '');
  const grid = (process.env.GRID_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
  return `${grid}/gateway/${name}`;
}

const UPSTREAMS = {
  'business-logic': upstreamBase('business-logic', 'BUSINESS_LOGIC_URL'),
  'data-ingest': upstreamBase('data-ingest', 'DATA_INGEST_URL'),
};

function describeError(err) {
  if (err && err.name === 'TimeoutError') return `timed out after ${UPSTREAM_TIMEOUT_MS} ms`;
  const cause = err && err.cause;
  if (cause) return cause.code || cause.message || String(cause);
  return (err && err.message) || String(err);
}

/**
 * Call an upstream. Resolves {status, contentType, body: Buffer}; a network
 * error or timeout rejects with HttpError 502 `{"error":"<name> unavailable"}`.
 */
async function callUpstream(name, method, path, body, req, timeoutMs = UPSTREAM_TIMEOUT_MS) {
  const url = UPSTREAMS[name] + path;
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const requestId = req && req.headers['x-request-id'];
  if (requestId) headers['x-request-id'] = requestId;
  try {
    const r = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
    const buf = Buffer.from(await r.arrayBuffer());
    return { status: r.status, contentType: r.headers.get('content-type') || 'application/octet-stream', body: buf };
  } catch (err) {
    const detail = describeError(err);
    throw new HttpError(502, `${name} unavailable`, { error: `${name} unavailable`, detail, url });
  }
}

function parseOrNull(buf) {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    return null;
  }
}

/** Forward a JSON body to an upstream and answer with its status and body. */
async function forward(name, path, req, res) {
  const raw = await readBody(req);
  try {
    JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid JSON', { error: 'invalid JSON' });
  }
  const up = await callUpstream(name, 'POST', path, raw, req);
  sendBody(res, up.status, up.body, up.contentType);
}

// --- readiness: both upstreams' /health/live must answer 200 -----------------

let readyCache = null; // { at, result }
let readyInFlight = null;

async function checkUpstream(name) {
  try {
    const up = await callUpstream(name, 'GET', '/health/live', undefined, null, READY_CHECK_TIMEOUT_MS);
    return up.status === 200 ? { ok: true } : { ok: false, status: up.status };
  } catch (err) {
    return { ok: false, error: err.body ? err.body.detail : describeError(err) };
  }
}

async function readiness() {
  const now = Date.now();
  if (readyCache && now - readyCache.at < READY_CACHE_MS) return readyCache.result;
  if (!readyInFlight) {
    readyInFlight = (async () => {
      const [bl, di] = await Promise.all([checkUpstream('business-logic'), checkUpstream('data-ingest')]);
      const result = {
        ready: bl.ok && di.ok,
        dependencies: {
          'business-logic': { url: UPSTREAMS['business-logic'], ...bl },
          'data-ingest': { url: UPSTREAMS['data-ingest'], ...di },
        },
      };
      readyCache = { at: Date.now(), result };
      return result;
    })().finally(() => {
      readyInFlight = null;
    });
  }
  return readyInFlight;
}

// --- users -------------------------------------------------------------------

const users = new Map(); // username -> user
let nextUserId = 1;

async function createUser(req, res) {
  const body = await readJson(req);
  const check = await callUpstream('business-logic', 'POST', '/api/v1/validate/user', JSON.stringify(body), req);
  const verdict = parseOrNull(check.body);
  if (check.status === 400 && verdict && verdict.valid === false) {
    return sendJson(res, 400, { error: 'invalid user', errors: verdict.errors || [] });
  }
  if (check.status !== 200 || !verdict || verdict.valid !== true) {
    return sendJson(res, 502, {
      error: 'business-logic unavailable',
      detail: `validation answered ${check.status}`,
      url: UPSTREAMS['business-logic'],
    });
  }
  if (users.has(body.username)) {
    return sendJson(res, 409, { error: 'username already exists', username: body.username });
  }
  const user = { id: nextUserId++, username: body.username, email: body.email, created_at: new Date().toISOString() };
  users.set(user.username, user);
  sendJson(res, 201, user);
}

startShopService(
  SERVICE,
  {
    '/api/v1/users': {
      GET: (req, res) => {
        const list = [...users.values()];
        sendJson(res, 200, { users: list, count: list.length });
      },
      POST: createUser,
    },
    '/api/v1/data/ingest': { POST: (req, res) => forward('data-ingest', '/api/v1/ingest', req, res) },
    '/api/v1/orders': { POST: (req, res) => forward('business-logic', '/api/v1/process/order', req, res) },
  },
  { readiness },
);
