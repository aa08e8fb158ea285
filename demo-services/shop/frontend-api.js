// Shop: frontend-api service, the user-facing API. Keeps users in the store
// (collection "users", username unique) and calls business-logic, data-ingest
// and the store over HTTP, normally through Grid's gateway.
//
//   GET  /api/v1/users         {"users": [...], "count": n}
//   POST /api/v1/users         {username, email}: validated by business-logic -> 201 user | 400 | 409
//   POST /api/v1/data/ingest   forwarded to data-ingest POST /api/v1/ingest
//   POST /api/v1/orders        forwarded to business-logic POST /api/v1/process/order
//   GET  /api/v1/orders        forwarded to business-logic GET /api/v1/orders
//   GET  /api/v1/orders/<id>   forwarded to business-logic GET /api/v1/orders/<id>
//   GET  /api/v1/info, /health/live, /metrics
//   GET  /health/ready         200 only while every upstream's /health/live answers 200
//
// Upstream base URLs: BUSINESS_LOGIC_URL / DATA_INGEST_URL / STORE_URL, else
// ${GRID_URL}/gateway/<name>, else http://127.0.0.1:8080/gateway/<name>.
// The request path (/api/v1/..., /v1/...) is appended to the base.

import { startShopService, sendJson, sendBody, readJson, readBody, HttpError } from './common.js';
import { upstreams } from './upstream.js';

const SERVICE = 'frontend-api';

const up = upstreams(['business-logic', 'data-ingest', 'store']);

/** Forward a request (a JSON body for POST) to an upstream and answer with its status and body. */
async function forward(name, method, path, req, res) {
  let raw;
  if (method === 'POST') {
    raw = await readBody(req);
    try {
      JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpError(400, 'invalid JSON', { error: 'invalid JSON' });
    }
  }
  const answer = await up.call(name, method, path, raw, req);
  sendBody(res, answer.status, answer.body, answer.contentType);
}

// --- users -------------------------------------------------------------------

async function createUser(req, res) {
  const body = await readJson(req);
  const check = await up.call('business-logic', 'POST', '/api/v1/validate/user', JSON.stringify(body), req);
  const verdict = check.json;
  if (check.status === 400 && verdict && verdict.valid === false) {
    return sendJson(res, 400, { error: 'invalid user', errors: verdict.errors || [] });
  }
  if (check.status !== 200 || !verdict || verdict.valid !== true) {
    return sendJson(res, 502, {
      error: 'business-logic unavailable',
      detail: `validation answered ${check.status}`,
      url: up.urls['business-logic'],
    });
  }
  const user = { username: body.username, email: body.email, created_at: new Date().toISOString() };
  // The store checks the username and appends in one step, so two replicas cannot both create it.
  const stored = await up.expect('store', 'POST', '/v1/users?unique=username', JSON.stringify(user), req, [201, 409]);
  if (stored.status === 409) {
    return sendJson(res, 409, { error: 'username already exists', username: body.username });
  }
  sendJson(res, 201, stored.json);
}

startShopService(
  SERVICE,
  {
    '/api/v1/users': {
      GET: async (req, res) => {
        const all = await up.expect('store', 'GET', '/v1/users', undefined, req, [200]);
        sendJson(res, 200, { users: all.json.items, count: all.json.count });
      },
      POST: createUser,
    },
    '/api/v1/data/ingest': { POST: (req, res) => forward('data-ingest', 'POST', '/api/v1/ingest', req, res) },
    '/api/v1/orders': {
      POST: (req, res) => forward('business-logic', 'POST', '/api/v1/process/order', req, res),
      GET: (req, res) => forward('business-logic', 'GET', '/api/v1/orders', req, res),
    },
    '/api/v1/orders/:id': {
      GET: (req, res, query, params) => forward('business-logic', 'GET', `/api/v1/orders/${encodeURIComponent(params.id)}`, req, res),
    },
  },
  { readiness: up.readiness },
);
