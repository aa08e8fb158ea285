// Calls from one shop service to another (normally through Grid's gateway):
// base URLs from the environment, a JSON call with a timeout that turns a
// network failure into 502 "<name> unavailable", and a readiness check that
// needs every named upstream's /health/live to answer 200.
//
// Base URL of an upstream: its own env var (e.g. STORE_URL) if set, else
// ${GRID_URL}/gateway/<name>, else http://127.0.0.1:8080/gateway/<name>.

import { HttpError } from './common.js';

export const UPSTREAM_TIMEOUT_MS = 2000;
const READY_CHECK_TIMEOUT_MS = 800; // below a probe's default 1 s timeout
const READY_CACHE_MS = 500;

/** The env var that overrides an upstream's base URL: store -> STORE_URL, business-logic -> BUSINESS_LOGIC_URL. */
export function envNameOf(name) {
  return `${name.toUpperCase().replace(/-/g, '_')}_URL`;
}

function baseOf(name) {
  const explicit = process.env[envNameOf(name)];
  if (explicit) return explicit.replace(/\/+$/, '');
  const grid = (process.env.GRID_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
  return `${grid}/gateway/${name}`;
}

function describeError(err, timeoutMs) {
  if (err && err.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  const cause = err && err.cause;
  if (cause) return cause.code || cause.message || String(cause);
  return (err && err.message) || String(err);
}

export function parseOrNull(buf) {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    return null;
  }
}

/**
 * The upstreams a service talks to, by name. `call(name, method, path, body, req)`
 * resolves {status, contentType, body: Buffer, json}; a network error or timeout
 * rejects with HttpError 502 `{"error":"<name> unavailable","detail","url"}`.
 * `readiness()` is for startShopService: ready while every upstream's
 * /health/live answers 200 (checked with an 800 ms timeout, cached 500 ms).
 */
export function upstreams(names) {
  const urls = Object.fromEntries(names.map((n) => [n, baseOf(n)]));

  async function call(name, method, path, body, req, timeoutMs = UPSTREAM_TIMEOUT_MS) {
    const url = urls[name] + path;
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const requestId = req && req.headers['x-request-id'];
    if (requestId) headers['x-request-id'] = requestId;
    try {
      const r = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
      const buf = Buffer.from(await r.arrayBuffer());
      return { status: r.status, contentType: r.headers.get('content-type') || 'application/octet-stream', body: buf, json: parseOrNull(buf) };
    } catch (err) {
      const detail = describeError(err, timeoutMs);
      throw new HttpError(502, `${name} unavailable`, { error: `${name} unavailable`, detail, url });
    }
  }

  /** A call whose answer must have one of `expected` statuses; any other is a 502 naming the upstream. */
  async function expect(name, method, path, body, req, expected) {
    const up = await call(name, method, path, body, req);
    if (!expected.includes(up.status) || up.json === null) {
      throw new HttpError(502, `${name} unavailable`, {
        error: `${name} unavailable`,
        detail: `${method} ${path} answered ${up.status}`,
        url: urls[name],
      });
    }
    return up;
  }

  async function check(name) {
    try {
      const up = await call(name, 'GET', '/health/live', undefined, null, READY_CHECK_TIMEOUT_MS);
      return up.status === 200 ? { ok: true } : { ok: false, status: up.status };
    } catch (err) {
      return { ok: false, error: err.body ? err.body.detail : describeError(err, READY_CHECK_TIMEOUT_MS) };
    }
  }

  let cache = null; // { at, result }
  let inFlight = null;
  async function readiness() {
    if (cache && Date.now() - cache.at < READY_CACHE_MS) return cache.result;
    if (!inFlight) {
      inFlight = (async () => {
        const results = await Promise.all(names.map(check));
        const result = {
          ready: results.every((r) => r.ok),
          dependencies: Object.fromEntries(names.map((n, i) => [n, { url: urls[n], ...results[i] }])),
        };
        cache = { at: Date.now(), result };
        return result;
      })().finally(() => {
        inFlight = null;
      });
    }
    return inFlight;
  }

  return { urls, call, expect, readiness };
}
