// Shop: data-ingest service. Accepts records ({type, data, source}) one at a
// time, as an array, or as a batch, and keeps statistics plus the most recent
// records in memory (per process: each replica has its own).
//
//   POST /api/v1/ingest          record | [records]   -> 201 {"ingested": n, "ids": [...]}
//   POST /api/v1/ingest/batch    {"records": [...]}   -> 201 {"ingested": n, "ids": [...]}
//   GET  /api/v1/ingest/stats    {"total", "by_type", "by_source"}
//   GET  /api/v1/ingest/recent?limit=N   newest first (default 10, max 100)
//   GET  /api/v1/info, /health/live, /health/ready (no dependencies), /metrics

import { startShopService, sendJson, readJson, isPlainObject, HttpError } from './common.js';

const SERVICE = 'data-ingest';
const RECENT_MAX = 100;
const DEFAULT_SOURCE = 'api';

const stats = { total: 0, byType: new Map(), bySource: new Map() };
const recent = []; // newest last, at most RECENT_MAX
let nextId = 1;

function bad(message, index) {
  const body = { error: message };
  if (index !== undefined) body.index = index;
  return new HttpError(400, message, body);
}

/** Validate every record first (all or nothing), then store them. */
function ingest(records) {
  if (records.length === 0) throw bad('no records to ingest');
  const clean = records.map((r, i) => {
    if (!isPlainObject(r)) throw bad('each record must be a JSON object', i);
    if (typeof r.type !== 'string' || r.type.trim() === '') throw bad('record type is required', i);
    if (r.source !== undefined && r.source !== null && typeof r.source !== 'string') {
      throw bad('record source must be a string', i);
    }
    return { type: r.type, source: r.source || DEFAULT_SOURCE, data: r.data === undefined ? null : r.data };
  });
  const now = new Date().toISOString();
  const ids = [];
  for (const r of clean) {
    const record = { id: nextId++, type: r.type, source: r.source, data: r.data, ingested_at: now };
    ids.push(record.id);
    stats.total++;
    stats.byType.set(r.type, (stats.byType.get(r.type) || 0) + 1);
    stats.bySource.set(r.source, (stats.bySource.get(r.source) || 0) + 1);
    recent.push(record);
  }
  if (recent.length > RECENT_MAX) recent.splice(0, recent.length - RECENT_MAX);
  return { ingested: ids.length, ids };
}

startShopService(SERVICE, {
  '/api/v1/ingest': {
    POST: async (req, res) => {
      const body = await readJson(req);
      const records = Array.isArray(body) ? body : [body];
      sendJson(res, 201, ingest(records));
    },
  },
  '/api/v1/ingest/batch': {
    POST: async (req, res) => {
      const body = await readJson(req);
      if (!isPlainObject(body) || !Array.isArray(body.records)) throw bad('body must be {"records": [...]}');
      sendJson(res, 201, ingest(body.records));
    },
  },
  '/api/v1/ingest/stats': {
    GET: (req, res) => {
      sendJson(res, 200, {
        total: stats.total,
        by_type: Object.fromEntries(stats.byType),
        by_source: Object.fromEntries(stats.bySource),
      });
    },
  },
  '/api/v1/ingest/recent': {
    GET: (req, res, query) => {
      const raw = query.get('limit');
      let limit = 10;
      if (raw !== null && raw !== '') {
        limit = Number(raw);
        if (!Number.isInteger(limit) || limit < 1) throw bad('limit must be an integer 1..100');
        limit = Math.min(limit, RECENT_MAX);
      }
      const records = recent.slice(-limit).reverse();
      sendJson(res, 200, { records, count: records.length });
    },
  },
});
