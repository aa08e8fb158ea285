// Shop: store service, the one place the shop keeps its data. Records live in
// collections (users, orders, records, ...) and are kept in memory and in an
// append-only JSON-lines file, store.jsonl, in $GRID_POD_DATA (the pod's
// directory from spec.storage: { persistent: true }), else $STORE_DIR.
//
// Every write is one line, appended and fsynced before the 2xx answer (writes
// that arrive together share one fsync), and becomes visible to readers only
// then. On start the file is replayed before listening, streamed chunk by chunk;
// a torn last line (a crash mid-append) is cut off and reported, any other bad
// line refuses the start.
//
// Quotas keep what anyone can write bounded (see the README for the memory
// this bounds): file bytes (507), records per collection (507), collections
// (507), bytes per record (413), nesting depth (400). A store that finds its
// file already over a quota still starts, and refuses only the writes.
//
//   POST /v1/<collection>[?unique=<field>]  record | [records]  -> 201 record (with its id) | {items, count}
//   GET  /v1/<collection>[?limit=N&order=asc|desc]               -> {items, count, total}
//   GET  /v1/<collection>/<id>                                   -> record | 404
//   GET  /v1                                                     -> {collections: {name: count}}
//   GET  /api/v1/info, /health/live, /health/ready, /metrics

import fs from 'node:fs';
import path from 'node:path';
import { startShopService, sendJson, sendBody, readJson, isPlainObject, HttpError } from './common.js';
import { label, envInt } from '../lib/runtime.js';

const SERVICE = 'store';
const FILE_NAME = 'store.jsonl';
// A shop request is at most 1 MiB; what a service adds to it (ids, timestamps) fits in the rest.
const MAX_BODY_BYTES = 2 * 1024 * 1024;
const MAX_BATCH = 1000;
const MAX_LIMIT = 10_000;
const MAX_BYTES = envInt('STORE_MAX_BYTES', 64 * 1024 * 1024, 1);
const MAX_RECORD_BYTES = envInt('STORE_MAX_RECORD_BYTES', 64 * 1024, 16, MAX_BODY_BYTES);
const MAX_RECORDS = envInt('STORE_MAX_RECORDS', 100_000, 1);
const MAX_COLLECTIONS = envInt('STORE_MAX_COLLECTIONS', 16, 1);
// Deep enough for any document a shop keeps; JSON.stringify overflows the stack near 4,500.
const MAX_DEPTH = 32;
// Each unique index holds an entry per record: a bounded number of them keeps that memory bounded.
const MAX_UNIQUE_FIELDS = 2;
// Replay gives up on a line longer than this rather than hold it: no store ever wrote one (a 2 MiB
// body serializes to at most ~11 MiB, numbers like 1e20 growing 5x), so it can only be damage.
const MAX_LINE_BYTES = 64 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;
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
 * name -> { texts: [] (the JSON text of each durable record, id order, each starting `{"id":<id>`),
 * nextId (after the durable records), given (the next id to hand out: above those of writes still
 * on their way to the disk), indexes: Map<field, Map<valueKey, id>> }.
 *
 * Records are kept as their JSON text, not as parsed objects: a string costs its characters (1 byte
 * each, 2 if any is beyond Latin-1) plus a small header, whatever the record's shape, where objects
 * cost tens of bytes per key or element and could make a small file fill the memory.
 */
const collections = new Map();
/** `${collection}\0${field}\0${valueKey}` of unique values whose write is not durable yet. */
const pendingUnique = new Set();

function collection(name) {
  let c = collections.get(name);
  if (!c) {
    c = { texts: [], nextId: 1, given: 1, indexes: new Map() };
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
    for (const text of c.texts) {
      const r = JSON.parse(text);
      const k = valueKey(r[field]);
      if (k !== null && !index.has(k)) index.set(k, r.id);
    }
    c.indexes.set(field, index);
  }
  return index;
}

/** Make durable records visible: `records` parsed (with their ids), `texts` their JSON, id first. */
function apply(name, records, texts) {
  const c = collection(name);
  for (let i = 0; i < records.length; i++) {
    const id = records[i].id;
    c.texts.push(texts[i]);
    if (id >= c.nextId) c.nextId = id + 1;
    for (const [field, index] of c.indexes) {
      const k = valueKey(records[i][field]);
      if (k !== null && !index.has(k)) index.set(k, id);
    }
  }
  if (c.nextId > c.given) c.given = c.nextId;
}

const ID_AT = '{"id":'.length;

/** The JSON text of record `id` in `c`, or undefined: a binary search on the ids the texts start with. */
function find(c, id) {
  let lo = 0;
  let hi = c.texts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = parseInt(c.texts[mid].slice(ID_AT, ID_AT + 17), 10);
    if (at === id) return c.texts[mid];
    if (at < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
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

/** Apply one whole line of the file; false if it is not a valid entry. */
function replayLine(text) {
  let entry;
  let texts;
  try {
    entry = JSON.parse(text);
    if (!validEntry(entry)) return false;
    // The id first, as create() writes it, whatever order a hand-edited line has.
    texts = entry.items.map((r) => JSON.stringify({ id: r.id, ...r }));
  } catch {
    return false;
  }
  apply(entry.c, entry.items, texts);
  return true;
}

/**
 * Replay `file` into memory, reading it a chunk at a time: memory holds the
 * records and at most one line, so any file the store wrote can be replayed,
 * whatever its size. A last line that is unterminated or does not parse is
 * what a crash mid-append leaves: it is cut off (the file truncated to the end
 * of the last good line). A bad line with more after it is not a torn write,
 * and the start is refused rather than data silently dropped.
 */
function replay(file) {
  const started = Date.now();
  let rfd;
  try {
    rfd = fs.openSync(file, 'r');
  } catch (err) {
    if (err.code !== 'ENOENT') fatal(`cannot read ${file}: ${err.message}`);
    return { lines: 0, bytes: 0, ms: Date.now() - started };
  }
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let pos = 0; // file offset of chunk[0]
  let lineStart = 0; // file offset of the line being read
  let parts = []; // its bytes so far, dropped once it is longer than MAX_LINE_BYTES
  let partBytes = 0;
  let badLine = -1; // file offset of a whole line that is not a valid entry
  let lines = 0;
  for (;;) {
    let n;
    try {
      n = fs.readSync(rfd, chunk, 0, CHUNK_BYTES, pos);
    } catch (err) {
      fatal(`cannot read ${file}: ${err.message}`);
    }
    if (n === 0) break;
    const data = chunk.subarray(0, n);
    for (let i = 0; i < n; ) {
      if (badLine !== -1) {
        fatal(`${file}: line ${lines + 1} (byte ${badLine}) is not a valid entry and more lines follow it: the file is damaged, not torn; refusing to start`);
      }
      const nl = data.indexOf(10, i);
      const end = nl === -1 ? n : nl;
      partBytes += end - i;
      if (partBytes <= MAX_LINE_BYTES) parts.push(Buffer.from(data.subarray(i, end)));
      else parts = [];
      if (nl === -1) break;
      if (partBytes <= MAX_LINE_BYTES && replayLine(Buffer.concat(parts).toString('utf8'))) lines++;
      else badLine = lineStart;
      lineStart = pos + nl + 1;
      parts = [];
      partBytes = 0;
      i = nl + 1;
    }
    pos += n;
  }
  fs.closeSync(rfd);
  const good = badLine !== -1 ? badLine : lineStart;
  if (good < pos) {
    fs.truncateSync(file, good);
    const wfd = fs.openSync(file, 'r+');
    fs.fsyncSync(wfd);
    fs.closeSync(wfd);
    process.stderr.write(`store: cut a torn last line off ${file} at byte ${good} (${pos - good} bytes of a write that never finished)\n`);
  }
  return { lines, bytes: good, ms: Date.now() - started };
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
let queuedBytes = 0; // of writes accepted but not yet durable: the byte quota counts them too
let appends = 0;
let fsyncs = 0;
let writeFailure = null;
process.stdout.write(`store: replayed ${replayed.lines} lines (${countOf()} records in ${collections.size} collections) from ${FILE} in ${replayed.ms} ms\n`);
if (fileBytes > MAX_BYTES) {
  // Refusing to start would be a crash loop that only a hand edit ends; reads still work.
  process.stderr.write(`store: ${FILE} holds ${fileBytes} bytes, over STORE_MAX_BYTES=${MAX_BYTES}: writes answer 507 until it is raised\n`);
}

// --- the writer: group commit -----------------------------------------------------

let queue = []; // { entry: { name, records, texts, line, bytes }, resolve, reject }
let writing = false;

function append(entry) {
  if (writeFailure) return Promise.reject(unavailable());
  return new Promise((resolve, reject) => {
    queuedBytes += entry.bytes;
    queue.push({ entry, resolve, reject });
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
    const buf = Buffer.from(batch.map((b) => b.entry.line).join(''));
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
    queuedBytes -= buf.length;
    for (const b of batch) {
      apply(b.entry.name, b.entry.records, b.entry.texts);
      b.resolve();
    }
  }
  writing = false;
}

// --- the API -----------------------------------------------------------------------

function bad(message, extra) {
  return new HttpError(400, message, { error: message, ...extra });
}

/** 507: storing this would take the store over `quota` (the env var that sets it). */
function full(quota, limit, extra) {
  return new HttpError(507, 'store full', { error: 'store full', quota, limit, ...extra });
}

function collectionName(params) {
  const name = params.collection;
  if (!NAME_RE.test(name)) throw bad('collection must be 1-64 characters: a lower-case letter, then lower-case letters, digits, - or _', { collection: name });
  return name;
}

/** Whether `v` nests objects/arrays more than `left` levels deep (stops looking there: no deep recursion). */
function deeper(v, left) {
  if (v === null || typeof v !== 'object') return false;
  if (left === 0) return true;
  for (const x of Array.isArray(v) ? v : Object.values(v)) if (deeper(x, left - 1)) return true;
  return false;
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
    if (deeper(r, MAX_DEPTH)) throw bad(`records nest at most ${MAX_DEPTH} levels deep`, { index: i, limit: MAX_DEPTH });
  });

  const c = collections.get(name);
  const first = c ? c.given : 1;
  const records = items.map((r, i) => ({ id: first + i, ...r }));
  const texts = records.map((r, i) => {
    const text = JSON.stringify(r);
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_RECORD_BYTES) {
      throw new HttpError(413, 'record too large', { error: 'record too large', quota: 'STORE_MAX_RECORD_BYTES', limit: MAX_RECORD_BYTES, bytes, index: i });
    }
    return text;
  });

  const reserved = [];
  if (unique !== null) {
    if (c && !c.indexes.has(unique) && c.indexes.size >= MAX_UNIQUE_FIELDS) {
      throw bad(`at most ${MAX_UNIQUE_FIELDS} different unique fields per collection`, { unique, fields: [...c.indexes.keys()] });
    }
    const index = c ? indexOf(c, unique) : new Map();
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

  const line = `{"c":"${name}","items":[${texts.join(',')}]}\n`;
  const bytes = Buffer.byteLength(line);
  if (!c && collections.size >= MAX_COLLECTIONS) throw full('STORE_MAX_COLLECTIONS', MAX_COLLECTIONS, { collections: collections.size });
  const held = c ? c.texts.length + (c.given - c.nextId) : 0;
  if (held + items.length > MAX_RECORDS) throw full('STORE_MAX_RECORDS', MAX_RECORDS, { collection: name, records: held, adding: items.length });
  if (fileBytes + queuedBytes + bytes > MAX_BYTES) throw full('STORE_MAX_BYTES', MAX_BYTES, { bytes: fileBytes + queuedBytes, adding: bytes });

  const target = collection(name);
  // The index exists from the collection's first unique write on, so the field counts against MAX_UNIQUE_FIELDS.
  if (unique !== null) indexOf(target, unique);
  target.given += items.length;
  for (const key of reserved) pendingUnique.add(key);
  try {
    await append({ name, records, texts, line, bytes });
  } finally {
    for (const key of reserved) pendingUnique.delete(key);
  }
  sendBody(res, 201, many ? `{"items":[${texts.join(',')}],"count":${texts.length}}` : texts[0], 'application/json');
}

function list(req, res, query, params) {
  const name = collectionName(params);
  const texts = collections.get(name)?.texts ?? [];
  const order = query.get('order') ?? 'asc';
  if (order !== 'asc' && order !== 'desc') throw bad('order must be asc or desc', { order });
  let limit = texts.length;
  const raw = query.get('limit');
  if (raw !== null) {
    limit = Number(raw);
    if (raw === '' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw bad(`limit must be an integer 1..${MAX_LIMIT}`, { limit: raw });
  }
  // The newest `limit` records, in the order asked for.
  const items = texts.slice(Math.max(0, texts.length - limit));
  if (order === 'desc') items.reverse();
  sendBody(res, 200, `{"items":[${items.join(',')}],"count":${items.length},"total":${texts.length}}`, 'application/json');
}

function get(req, res, query, params) {
  const name = collectionName(params);
  const id = Number(params.id);
  if (!/^[1-9][0-9]{0,15}$/.test(params.id) || !Number.isSafeInteger(id)) throw bad('id must be a positive integer', { id: params.id });
  const c = collections.get(name);
  const text = c && find(c, id);
  if (text === undefined) return sendJson(res, 404, { error: 'not found', collection: name, id });
  sendBody(res, 200, text, 'application/json');
}

function countOf() {
  let n = 0;
  for (const c of collections.values()) n += c.texts.length;
  return n;
}

startShopService(
  SERVICE,
  {
    '/v1': {
      GET: (req, res) => {
        const counts = {};
        for (const [name, c] of collections) counts[name] = c.texts.length;
        sendJson(res, 200, { collections: counts });
      },
    },
    '/v1/:collection': { GET: list, POST: create },
    '/v1/:collection/:id': { GET: get },
  },
  {
    // Replay is done before listening: the store is ready until a write fails. No file path here:
    // this answer is public (through the gateway); the path is in the log line printed at start.
    readiness: async () => ({
      ready: writeFailure === null,
      records: countOf(),
      bytes: fileBytes,
      max_bytes: MAX_BYTES,
      ...(writeFailure ? { reason: `write failed: ${writeFailure}` } : {}),
    }),
    metrics: () => {
      let out =
        `# HELP shop_store_records Durable records, by collection.\n` +
        `# TYPE shop_store_records gauge\n`;
      for (const [name, c] of collections) out += `shop_store_records{collection="${label(name)}"} ${c.texts.length}\n`;
      return (
        out +
        `# HELP shop_store_file_bytes Size of store.jsonl.\n# TYPE shop_store_file_bytes gauge\nshop_store_file_bytes ${fileBytes}\n` +
        `# HELP shop_store_max_bytes STORE_MAX_BYTES: writes that would take store.jsonl past it answer 507.\n# TYPE shop_store_max_bytes gauge\nshop_store_max_bytes ${MAX_BYTES}\n` +
        `# HELP shop_store_appends_total Writes made durable.\n# TYPE shop_store_appends_total counter\nshop_store_appends_total ${appends}\n` +
        `# HELP shop_store_fsyncs_total fsync calls (writes that arrive together share one).\n# TYPE shop_store_fsyncs_total counter\nshop_store_fsyncs_total ${fsyncs}\n`
      );
    },
  },
);
