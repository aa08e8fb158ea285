// Shop: business-logic service. Validates users, processes orders and
// computes analytics. Orders are kept in the store (collection "orders"), so
// every replica answers the same and a restart loses nothing.
//
//   POST /api/v1/validate/user      {username, email} -> 200 {"valid":true} | 400 {"valid":false,"errors":[...]}
//   POST /api/v1/process/order      {user_id, amount} -> 201 {order_id, user_id, amount, status, tax, total}
//   GET  /api/v1/orders             {"orders": [...], "count": n}
//   GET  /api/v1/orders/<id>        the order | 404
//   GET  /api/v1/analytics/summary  {orders, revenue, average_order, ...}
//   GET  /api/v1/info, /health/live, /metrics
//   GET  /health/ready              200 only while the store's /health/live answers 200
//
// The store's base URL: STORE_URL, else ${GRID_URL}/gateway/store.

import { startShopService, sendJson, readJson, isPlainObject, cents, POD } from './common.js';
import { upstreams } from './upstream.js';

const SERVICE = 'business-logic';
const TAX_RATE = 0.08;
const USERNAME_RE = /^[A-Za-z0-9_]{3,50}$/;

function validateUser(body) {
  if (!isPlainObject(body)) return ['body must be a JSON object with username and email'];
  const errors = [];
  const { username, email } = body;
  if (username === undefined || username === null || username === '') {
    errors.push('username is required');
  } else if (typeof username !== 'string') {
    errors.push('username must be a string');
  } else if (username.length < 3 || username.length > 50) {
    errors.push('username must be 3-50 characters long');
  } else if (!USERNAME_RE.test(username)) {
    errors.push('username may only contain letters, digits and underscores');
  }
  if (email === undefined || email === null || email === '') {
    errors.push('email is required');
  } else if (typeof email !== 'string') {
    errors.push('email must be a string');
  } else if (!email.includes('@')) {
    errors.push('email must contain @');
  }
  return errors;
}

function validateOrder(body) {
  if (!isPlainObject(body)) return ['body must be a JSON object with user_id and amount'];
  const errors = [];
  if (!Number.isSafeInteger(body.user_id)) errors.push('user_id must be an integer');
  if (typeof body.amount !== 'number' || !Number.isFinite(body.amount) || body.amount <= 0) {
    errors.push('amount must be a number > 0');
  }
  return errors;
}

const up = upstreams(['store']);

/** A stored order as the API shows it: the store's id is the order_id. */
function orderOf(record) {
  const { id, ...rest } = record;
  return { order_id: id, ...rest };
}

startShopService(
  SERVICE,
  {
    '/api/v1/validate/user': {
      POST: async (req, res) => {
        const errors = validateUser(await readJson(req));
        if (errors.length === 0) sendJson(res, 200, { valid: true });
        else sendJson(res, 400, { valid: false, errors });
      },
    },
    '/api/v1/process/order': {
      POST: async (req, res) => {
        const body = await readJson(req);
        const errors = validateOrder(body);
        if (errors.length > 0) return sendJson(res, 400, { error: 'invalid order', errors });
        const amount = body.amount;
        const tax = cents(amount * TAX_RATE);
        const order = {
          user_id: body.user_id,
          amount,
          status: 'processed',
          tax,
          total: cents(amount + tax),
          processed_by: POD,
          processed_at: new Date().toISOString(),
        };
        const stored = await up.expect('store', 'POST', '/v1/orders', JSON.stringify(order), req, [201]);
        sendJson(res, 201, orderOf(stored.json));
      },
    },
    '/api/v1/orders': {
      GET: async (req, res) => {
        const all = await up.expect('store', 'GET', '/v1/orders', undefined, req, [200]);
        const orders = all.json.items.map(orderOf);
        sendJson(res, 200, { orders, count: orders.length });
      },
    },
    '/api/v1/orders/:id': {
      GET: async (req, res, query, params) => {
        if (!/^[1-9][0-9]{0,15}$/.test(params.id)) return sendJson(res, 400, { error: 'order id must be a positive integer', id: params.id });
        const one = await up.expect('store', 'GET', `/v1/orders/${params.id}`, undefined, req, [200, 404]);
        if (one.status === 404) return sendJson(res, 404, { error: 'order not found', order_id: Number(params.id) });
        sendJson(res, 200, orderOf(one.json));
      },
    },
    '/api/v1/analytics/summary': {
      GET: async (req, res) => {
        const all = await up.expect('store', 'GET', '/v1/orders', undefined, req, [200]);
        let revenueCents = 0;
        let taxCents = 0;
        for (const o of all.json.items) {
          revenueCents += Math.round(o.amount * 100);
          taxCents += Math.round(o.tax * 100);
        }
        const orders = all.json.items.length;
        const revenue = revenueCents / 100;
        const tax = taxCents / 100;
        sendJson(res, 200, {
          orders,
          revenue,
          tax_collected: tax,
          total_billed: cents(revenue + tax),
          average_order: orders === 0 ? 0 : cents(revenue / orders),
          pod: POD,
        });
      },
    },
  },
  { readiness: up.readiness },
);
