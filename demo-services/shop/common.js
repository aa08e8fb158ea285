// Shared pieces of the shop services: identity (/api/v1/info), a tiny
// path+method router with the routes every service has (/, /health/live,
// /health/ready, /api/v1/info, /metrics), and small validation helpers.

import {
  serve,
  lifecycle,
  POD,
  sendJson,
  sendError,
  notFound,
  methodNotAllowed,
  renderMetrics,
  countStatus,
  label,
} from '../lib/runtime.js';

export { sendJson, sendBody, readJson, readBody, HttpError, POD } from '../lib/runtime.js';

export const REGION = process.env.REGION || 'local';
export const VERSION = process.env.VERSION || '1.0.0';

export function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Round to cents (half away from zero, tolerant of binary fractions such as 1.005). */
export function cents(x) {
  return Math.sign(x) * Math.round((Math.abs(x) + Number.EPSILON) * 100) / 100;
}

/**
 * Start a shop service.
 *
 * `routes` maps a path to `{ METHOD: handler }`; a handler is
 * `(req, res, query: URLSearchParams, params) => void | Promise<void>` and
 * sends its own response; a thrown/rejected HttpError becomes its status and
 * body. A path segment `:name` matches any one non-empty segment, handed over
 * (URL-decoded) as `params.name`; exact paths win over patterns.
 *
 * `readiness` (optional) is `() => Promise<{ ready: boolean, ...details }>`;
 * without it the service is ready as soon as it listens (until SIGTERM).
 * `metrics` (optional) returns more pre-rendered Prometheus families.
 */
export function startShopService(service, routes, { readiness, metrics } = {}) {
  const info = { service, version: VERSION, pod: POD, region: REGION };
  const infoRoute = { GET: (req, res) => sendJson(res, 200, info) };

  const table = {
    '/': infoRoute,
    '/api/v1/info': infoRoute,
    '/health/live': { GET: (req, res) => sendJson(res, 200, { status: 'alive', service }) },
    '/health/ready': {
      GET: async (req, res) => {
        if (lifecycle.shuttingDown) {
          return sendJson(res, 503, { status: 'not ready', service, reason: 'shutting down' });
        }
        if (!readiness) return sendJson(res, 200, { status: 'ready', service });
        const { ready, ...details } = await readiness();
        sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', service, ...details });
      },
    },
    '/metrics': {
      GET: (req, res) => {
        countStatus(200);
        const extra =
          `# HELP shop_info Static information about this process.\n` +
          `# TYPE shop_info gauge\n` +
          `shop_info{service="${label(service)}",version="${label(VERSION)}",pod="${label(POD)}",region="${label(REGION)}"} 1\n` +
          (metrics ? metrics() : '');
        const body = Buffer.from(renderMetrics('shop', extra));
        const h = ['content-type', 'text/plain; version=0.0.4; charset=utf-8', 'content-length', String(body.length)];
        if (lifecycle.shuttingDown) h.push('connection', 'close');
        res.writeHead(200, h);
        res.end(body);
      },
    },
    ...routes,
  };

  for (const route of Object.values(table)) {
    if (route.GET && !route.HEAD) route.HEAD = route.GET;
  }
  const allowed = new Map(Object.entries(table).map(([p, r]) => [p, Object.keys(r).join(', ')]));
  const patterns = Object.keys(table)
    .filter((p) => p.includes('/:'))
    .map((p) => ({ key: p, segments: p.split('/') }));

  /** The route for `path` and its params, or null. */
  function match(path) {
    if (Object.hasOwn(table, path)) return { key: path, params: {} };
    const segments = path.split('/');
    for (const pattern of patterns) {
      if (pattern.segments.length !== segments.length) continue;
      const params = {};
      let ok = true;
      for (let i = 0; i < segments.length && ok; i++) {
        const want = pattern.segments[i];
        if (want.startsWith(':')) {
          try {
            params[want.slice(1)] = decodeURIComponent(segments[i]);
          } catch {
            ok = false;
          }
          ok = ok && segments[i] !== '';
        } else ok = want === segments[i];
      }
      if (ok) return { key: pattern.key, params };
    }
    return null;
  }

  function handler(req, res) {
    const url = req.url;
    const q = url.indexOf('?');
    let path = q === -1 ? url : url.slice(0, q);
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    const found = match(path);
    if (found === null) return notFound(req, res);
    const fn = table[found.key][req.method];
    if (fn === undefined) return methodNotAllowed(res, allowed.get(found.key));
    try {
      const p = fn(req, res, new URLSearchParams(q === -1 ? '' : url.slice(q + 1)), found.params);
      if (p && typeof p.then === 'function') p.catch((err) => sendError(res, err));
    } catch (err) {
      sendError(res, err);
    }
  }

  return serve(handler);
}
