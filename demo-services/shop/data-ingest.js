// Shop: data-ingest service. Accepts records ({type, data, source}) one at a
// time, as an array, or as a batch, and keeps them in the store (collection
// "records", one durable write per request), so every replica answers the
// same and a restart loses nothing.
//
//   POST /api/v1/ingest          record | [records]   -> 201 {"ingested": n, "ids": [...]}
//   POST /api/v1/ingest/batch    {"records": [...]}   -> 201 {"ingested": n, "ids": [...]}
//   GET  /api/v1/ingest/stats    {"total", "by_type", "by_source"}
//   GET  /api/v1/ingest/recent?limit=N   newest first (default 10, max 100)
//   GET  /api/v1/info, /health/live, /metrics
//   GET  /health/ready           200 only while the store's /health/live answers 200
//
// The store's base URL: STORE_URL, else ${GRID_URL}/gateway/store.

import { startShopService, sendJson, readJson, isPlainObject, HttpError } from './common.js';
import { upstreams } from './upstream.js';

const SERVICE = 'data-ingest';
const RECENT_MAX = 100;
const MAX_RECORDS = 1000; // per request: the store's batch limit
const DEFAULT_SOURCE = 'api';

const up = upstreams(['store']);

function bad(message, index) {
  const body = { error: message };
  if (index !== undefined) body.index = index;
  return new HttpError(400, message, body);
}

/** Validate every record first, then store them in one write (all or nothing). */
async function ingest(records, req) {
  if (records.length === 0) throw bad('no records to ingest');
  if (records.length > MAX_RECORDS) throw bad(`at most ${MAX_RECORDS} records per request`);
  const clean = records.map((r, i) => {
    if (!isPlainObject(r)) throw bad('each record must be a JSON object', i);
    if (typeof r.type !== 'string' || r.type.trim() === '') throw bad('record type is required', i);
    if (r.source !== undefined && r.source !== null && typeof r.source !== 'string') {
      throw bad('record source must be a string', i);
    }
    return { type: r.type, source: r.source || DEFAULT_SOURCE, data: r.data === undefined ? null : r.data };
  });
  const now = new Date().toISOString();
  const body = JSON.stringify(clean.map((r) => ({ ...r, ingested_at: now })));
  const stored = await up.expect('store', 'POST', '/v1/records', body, req, [201]);
  const ids = stored.json.items.map((r) => r.id);
  return { ingested: ids.length, ids };
}

startShopService(
  SERVICE,
  {
    '/api/v1/ingest': {
      POST: async (req, res) => {
        const body = await readJson(req);
        const records = Array.isArray(body) ? body : [body];
        sendJson(res, 201, await ingest(records, req));
      },
    },
    '/api/v1/ingest/batch': {
      POST: async (req, res) => {
        const body = await readJson(req);
        if (!isPlainObject(body) || !Array.isArray(body.records)) throw bad('body must be {"records": [...]}');
        sendJson(res, 201, await ingest(body.records, req));
      },
    },
    '/api/v1/ingest/stats': {
      GET: async (req, res) => {
        const all = await up.expect('store', 'GET', '/v1/records', undefined, req, [200]);
        const byType = new Map();
        const bySource = new Map();
        for (const r of all.json.items) {
          byType.set(r.type, (byType.get(r.type) || 0) + 1);
          bySource.set(r.source, (bySource.get(r.source) || 0) + 1);
        }
        sendJson(res, 200, { total: all.json.total, by_type: Object.fromEntries(byType), by_source: Object.fromEntries(bySource) });
      },
    },
    '/api/v1/ingest/recent': {
      GET: async (req, res, query) => {
        const raw = query.get('limit');
        let limit = 10;
        if (raw !== null && raw !== '') {
          limit = Number(raw);
          if (!Number.isInteger(limit) || limit < 1) throw bad('limit must be an integer 1..100');
          limit = Math.min(limit, RECENT_MAX);
        }
        const newest = await up.expect('store', 'GET', `/v1/records?limit=${limit}&order=desc`, undefined, req, [200]);
        sendJson(res, 200, { records: newest.json.items, count: newest.json.count });
      },
    },
  },
  { readiness: up.readiness },
);
