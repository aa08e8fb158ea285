// Shop: business-logic service. Validates users, processes orders and keeps
// an in-memory analytics summary (per process: each replica has its own).
//
//   POST /api/v1/validate/user      {username, email} -> 200 {"valid":true} | 400 {"valid":false,"errors":[...]}
//   POST /api/v1/process/order      {user_id, amount} -> 201 {order_id, user_id, amount, status, tax, total}
//   GET  /api/v1/analytics/summary  {orders, revenue, average_order, ...}
//   GET  /api/v1/info, /health/live, /health/ready (no dependencies), /metrics

import { startShopService, sendJson, readJson, isPlainObject, cents, POD } from './common.js';

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

const summary = { orders: 0, revenueCents: 0, taxCents: 0 };
let nextOrderId = 1;

startShopService(SERVICE, {
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
      const total = cents(amount + tax);
      summary.orders++;
      summary.revenueCents += Math.round(amount * 100);
      summary.taxCents += Math.round(tax * 100);
      sendJson(res, 201, {
        order_id: nextOrderId++,
        user_id: body.user_id,
        amount,
        status: 'processed',
        tax,
        total,
        processed_by: POD,
        processed_at: new Date().toISOString(),
      });
    },
  },
  '/api/v1/analytics/summary': {
    GET: (req, res) => {
      const revenue = summary.revenueCents / 100;
      const tax = summary.taxCents / 100;
      sendJson(res, 200, {
        orders: summary.orders,
        revenue,
        tax_collected: tax,
        total_billed: cents(revenue + tax),
        average_order: summary.orders === 0 ? 0 : cents(revenue / summary.orders),
        pod: POD,
      });
    },
  },
});
