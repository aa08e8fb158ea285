// Shop: store service, the one place the shop keeps its data. Records live in
// collections (users, orders, records, ...) and are kept in memory and in an
// append-only JSON-lines file, store.jsonl, in $GRID_POD_DATA (the pod's
// directory from spec.storage: { persistent: true }), else $STORE_DIR.
//
// Every write is one line, appended and fsynced before the 2xx answer (writes
// that arrive together share one fsync), and becomes visible to readers only
// then. On start the file is replayed before listening; a torn last line (a
// crash mid-append) is cut off and reported, any other bad line refuses the start.
//
//   POST /v1/<collection>[?unique=<field>]  record | [records]  -> 201 record (with its id) | {items, count}
//   GET  /v1/<collection>[?limit=N&order=asc|desc]               -> {items, count, total}
//   GET  /v1/<collection>/<id>                                   -> record | 404
//   GET  /v1                                                     -> {collections: {name: count}}
//   GET  /api/v1/info, /health/live, /health/ready, /metrics

import fs from 'node:fs';
import path from 'node:path';
import { startShopService, sendJson, readJson, isPlainObject, HttpError } from './common.js';
import { label } from '../lib/runtime.js';

const SERVICE = 'store';
const FILE_NAME = 'store.jsonl';
// A shop request is at most 1 MiB; what a service adds to it (ids, timestamps) fits in the rest.
const MAX_BODY_BYTES = 2 * 1024 * 1024;
const MAX_BATCH = 1000;
const MAX_LIMIT = 10_000;
const NAME_RE = /^[a-z][a-z0-9_-]{0,63}$/;
const FIELD_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

function fatal(message) {
  process.stderr.write(`store: ${message}\n`);
  process.exit(1);
}

function dataDir() {
  const dir = process.env.GRID_POD_DATA || process.env.STORE_DIR;
  if (!dir) {
    fatal(
      'no data directory: GRID_POD_DATA is not set (give the service spec.storage: { persistent: true } ' +
        'so Grid gives each pod one) and neither is STORE_DIR; refusing to start with nowhere durable to write',
    );
  }
  return path.resolve(dir);
}

// --- the data in memory -------------------------------------------------------

/**
 * name -> { records: [] (id order), byId: Map, nextId (after the durable records), given (the next id
 * to hand out: above those of writes still on their way to the disk), indexes: Map<field, Map<valueKey, id>> }
 */
const collections = new Map();
/** `${collection}\0${field}\0${valueKey}` of unique values whose write is not durable yet. */
const pendingUnique = new Set();

function collection(name) {
  let c = collections.get(name);
  if (!c) {
    c = { records: [], byId: new Map(), nextId: 1, given: 1, indexes: new Map() };
    collections.set(name, c);
  }
  return c;
}

function valueKey(v) {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) ? JSON.stringify(v) : null;
}

/** field's unique index over the durable records of `c`, built on first use and kept up to date by apply(). */
function indexOf(c, field) {
  let index = c.indexes.get(field);
  if (!index) {
    index = new Map();
    for (const r of c.records) {
      const k = valueKey(r[field]);
      if (k !== null && !index.has(k)) index.set(k, r.id);
    }
    c.indexes.set(field, index);
  }
  return index;
}

/** Make a durable entry visible. */
function apply(entry) {
  const c = collection(entry.c);
  for (const r of entry.items) {
    c.records.push(r);
    c.byId.set(r.id, r);
    if (r.id >= c.nextId) c.nextId = r.id + 1;
    if (c.nextId > c.given) c.given = c.nextId;
    for (const [field, index] of c.indexes) {
      const k = valueKey(r[field]);
      if (k !== null && !index.has(k)) index.set(k, r.id);
    }
  }
}

// --- the file -------------------------------------------------------------------

/** A line is `{"c": collection, "items": [records with ids above the collection's last]}`. */
function validEntry(e) {
  if (!isPlainObject(e) || typeof e.c !== 'string' || !NAME_RE.test(e.c) || !Array.isArray(e.items) || e.items.length === 0) return false;
  let last = collections.get(e.c)?.nextId ?? 1;
  for (const r of e.items) {
    if (!isPlainObject(r) || !Number.isSafeInteger(r.id) || r.id < last) return false;
    last = r.id + 1;
  }
  return true;
}

/**
 * Replay `file` into memory. A last line that is unterminated or does not
 * parse is what a crash mid-append leaves: it is cut off (the file truncated
 * to the end of the last good line). A bad line with more after it is not a
 * torn write, and the start is refused rather than data silently dropped.
 */
function replay(file) {
  const started = Date.now();
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    if (err.code !== 'ENOENT') fatal(`cannot read ${file}: ${err.message}`);
    buf = Buffer.alloc(0);
  }
  let offset = 0;
  let lines = 0;
  while (offset < buf.length) {
    const nl = buf.indexOf(10, offset);
    const end = nl === -1 ? buf.length : nl;
    let entry = null;
    try {
      entry = JSON.parse(buf.toString('utf8', offset, end));
    } catch {}
    if (nl !== -1 && entry !== null && validEntry(entry)) {
      apply(entry);
      lines++;
      offset = nl + 1;
      continue;
    }
    if (nl !== -1 && nl + 1 < buf.length) {
      fatal(`${file}: line ${lines + 1} (byte ${offset}) is not a valid entry and more lines follow it: the file is damaged, not torn; refusing to start`);
    }
    fs.truncateSync(file, offset);
    const fd = fs.openSync(file, 'r+');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    process.stderr.write(`store: cut a torn last line off ${file} at byte ${offset} (${buf.length - offset} bytes of a write that never finished)\n`);
    break;
  }
  return { lines, bytes: offset, ms: Date.now() - started };
}

function openForAppend(dir, file) {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    fatal(`cannot create ${dir}: ${err.message}`);
  }
  const existed = fs.existsSync(file);
  let fd;
  try {
    fd = fs.openSync(file, 'a');
  } catch (err) {
    fatal(`cannot open ${file} for appending: ${err.message}`);
  }
  if (!existed) {
    // The new file's directory entry must be durable too, or a crash could lose the whole file.
    const dfd = fs.openSync(dir, 'r');
    fs.fsyncSync(dfd);
    fs.closeSync(dfd);
  }
  return fd;
}

const DIR = dataDir();
const FILE = path.join(DIR, FILE_NAME);
const replayed = replay(FILE);
const fd = openForAppend(DIR, FILE);
let fileBytes = replayed.bytes;
let appends = 0;
let fsyncs = 0;
let writeFailure = null;
{
  let records = 0;
  for (const c of collections.values()) records += c.records.length;
  process.stdout.write(`store: replayed ${replayed.lines} lines (${records} records in ${collections.size} collections) from ${FILE} in ${replayed.ms} ms\n`);
}

// --- the writer: group commit -----------------------------------------------------

let queue = []; // { line, entry, resolve, reject }
let writing = false;

function append(entry) {
  if (writeFailure) return Promise.reject(unavailable());
  return new Promise((resolve, reject) => {
    queue.push({ line: JSON.stringify(entry) + '\n', entry, resolve, reject });
    if (!writing) flush();
  });
}

function unavailable() {
  return new HttpError(503, 'store write failed', { error: 'store write failed', detail: writeFailure });
}

function writeAll(buf) {
  return new Promise((resolve, reject) => {
    const step = (off) => {
      fs.write(fd, buf, off, buf.length - off, null, (err, n) => {
        if (err) reject(err);
        else if (off + n < buf.length) step(off + n);
        else resolve();
      });
    };
    step(0);
  });
}

async function flush() {
  writing = true;
  while (queue.length > 0) {
    const batch = queue;
    queue = [];
    const buf = Buffer.from(batch.map((b) => b.line).join(''));
    try {
      await writeAll(buf);
      await new Promise((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
    } catch (err) {
      // What reached the file is unknown now (a partial line, data only in the page cache):
      // answer 503 and exit, so that Grid restarts the store and replay decides from the file.
      writeFailure = `${err.code || 'error'}: ${err.message}`;
      process.stderr.write(`store: appending to ${FILE} failed (${writeFailure}): exiting so that replay recovers\n`);
      for (const b of [...batch, ...queue]) b.reject(unavailable());
      queue = [];
      setTimeout(() => process.exit(1), 100);
      return;
    }
    fsyncs++;
    appends += batch.length;
    fileBytes += buf.length;
    for (const b of batch) {
      apply(b.entry);
      b.resolve();
    }
  }
  writing = false;
}

// --- the API -----------------------------------------------------------------------

function bad(message, extra) {
  return new HttpError(400, message, { error: message, ...extra });
}

function collectionName(params) {
  const name = params.collection;
  if (!NAME_RE.test(name)) throw bad('collection must be 1-64 characters: a lower-case letter, then lower-case letters, digits, - or _', { collection: name });
  return name;
}

async function create(req, res, query, params) {
  const name = collectionName(params);
  const unique = query.get('unique');
  if (unique !== null && !FIELD_RE.test(unique)) throw bad('unique must be a field name (letters, digits, _)', { unique });
  const body = await readJson(req, MAX_BODY_BYTES);
  const many = Array.isArray(body);
  const items = many ? body : [body];
  if (items.length === 0) throw bad('no records to store');
  if (items.length > MAX_BATCH) throw bad(`at most ${MAX_BATCH} records per request`, { count: items.length });
  items.forEach((r, i) => {
    if (!isPlainObject(r)) throw bad('each record must be a JSON object', { index: i });
    if (Object.hasOwn(r, 'id')) throw bad('id is given by the store', { index: i });
  });

  const c = collection(name);
  const reserved = [];
  if (unique !== null) {
    const index = indexOf(c, unique);
    for (const [i, r] of items.entries()) {
      const k = valueKey(r[unique]);
      if (k === null) throw bad(`${unique} must be a string or a number in every record (it is unique)`, { index: i });
      const key = `${name}\0${unique}\0${k}`;
      if (index.has(k) || pendingUnique.has(key) || reserved.includes(key)) {
        throw new HttpError(409, 'conflict', { error: 'conflict', field: unique, value: r[unique], id: index.get(k) ?? null });
      }
      reserved.push(key);
    }
  }
  for (const key of reserved) pendingUnique.add(key);
  const stored = items.map((r) => ({ id: c.given++, ...r }));
  try {
    await append({ c: name, items: stored });
  } finally {
    for (const key of reserved) pendingUnique.delete(key);
  }
  if (many) sendJson(res, 201, { items: stored, count: stored.length });
  else sendJson(res, 201, stored[0]);
}

function list(req, res, query, params) {
  const name = collectionName(params);
  const records = collections.get(name)?.records ?? [];
  const order = query.get('order') ?? 'asc';
  if (order !== 'asc' && order !== 'desc') throw bad('order must be asc or desc', { order });
  let limit = records.length;
  const raw = query.get('limit');
  if (raw !== null) {
    limit = Number(raw);
    if (raw === '' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw bad(`limit must be an integer 1..${MAX_LIMIT}`, { limit: raw });
  }
  // The newest `limit` records, in the order asked for.
  const items = records.slice(Math.max(0, records.length - limit));
  if (order === 'desc') items.reverse();
  sendJson(res, 200, { items, count: items.length, total: records.length });
}

function get(req, res, query, params) {
  const name = collectionName(params);
  const id = Number(params.id);
  if (!/^[1-9][0-9]{0,15}$/.test(params.id) || !Number.isSafeInteger(id)) throw bad('id must be a positive integer', { id: params.id });
  const record = collections.get(name)?.byId.get(id);
  if (!record) return sendJson(res, 404, { error: 'not found', collection: name, id });
  sendJson(res, 200, record);
}

function countOf() {
  let n = 0;
  for (const c of collections.values()) n += c.records.length;
  return n;
}

startShopService(
  SERVICE,
  {
    '/v1': {
      GET: (req, res) => {
        const counts = {};
        for (const [name, c] of collections) counts[name] = c.records.length;
        sendJson(res, 200, { collections: counts });
      },
    },
    '/v1/:collection': { GET: list, POST: create },
    '/v1/:collection/:id': { GET: get },
  },
  {
    // Replay is done before listening: the store is ready until a write fails.
    readiness: async () => ({
      ready: writeFailure === null,
      records: countOf(),
      file: FILE,
      ...(writeFailure ? { reason: `write failed: ${writeFailure}` } : {}),
    }),
    metrics: () => {
      let out =
        `# HELP shop_store_records Durable records, by collection.\n` +
        `# TYPE shop_store_records gauge\n`;
      for (const [name, c] of collections) out += `shop_store_records{collection="${label(name)}"} ${c.records.length}\n`;
      return (
        out +
        `# HELP shop_store_file_bytes Size of store.jsonl.\n# TYPE shop_store_file_bytes gauge\nshop_store_file_bytes ${fileBytes}\n` +
        `# HELP shop_store_appends_total Writes made durable.\n# TYPE shop_store_appends_total counter\nshop_store_appends_total ${appends}\n` +
        `# HELP shop_store_fsyncs_total fsync calls (writes that arrive together share one).\n# TYPE shop_store_fsyncs_total counter\nshop_store_fsyncs_total ${fsyncs}\n`
      );
    },
  },
);
