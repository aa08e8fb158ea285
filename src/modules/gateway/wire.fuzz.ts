// Differential fuzzing of wire.ts against llhttp, the parser Node's own HTTP
// server and client use. Shared by wire.fuzz.spec.ts (npm test) and
// bench/fuzz.js (a million cases); no Nest, no sockets.
//
// Requests: the fast path may hand a request to Node (FALLBACK) or wait for
// more bytes, but every request it parses must be the request llhttp parses
// from the same bytes (method, target, headers, body, where the message ends),
// and the bytes it sends upstream must parse (with llhttp, as the pod would) to
// that same request. Responses: wire.ts may refuse, but a response it passes on
// must end where llhttp says it ends, and the bytes the client gets must be
// framed the same way again by the client's llhttp.
//
// The reference is Node's internal HTTPParser binding (llhttp, the instance
// behind node:http) initialised as _http_server.js and _http_client.js do:
// maxHeaderSize 16 KiB, kLenientNone (insecureHTTPParser off).

import { METHODS } from 'node:http';
import { createRequire } from 'node:module';
import { forwardedFor, forwardedHeaderValue } from './http-semantics.js';
import {
  ChunkedScanner,
  FALLBACK,
  findHeadEnd,
  FRAME_CHUNKED,
  FRAME_CLOSE,
  FRAME_LENGTH,
  FRAME_NONE,
  INCOMPLETE,
  parseRequestHead,
  parseResponseHead,
  type RequestHead,
  type ResponseHead,
} from './wire.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const nodeRequire = createRequire(import.meta.url);
const common: Any = nodeRequire('_http_common');
const HTTPParser: Any = common.HTTPParser;
const MAX_HEADER_SIZE = 16 * 1024;

/** mulberry32: a tiny seeded PRNG, so a case is replayed from its seed. */
export function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

type Rand = (n: number) => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[r(xs.length)];
const chance = (r: Rand, p: number): boolean => r(1_000_000) < p * 1_000_000;

// ---------------------------------------------------------------------------
// llhttp reference

interface LlMessage {
  versionMajor: number;
  versionMinor: number;
  method: string;
  url: string;
  status: number;
  statusMessage: string;
  /** name, value, name, value... as llhttp reports them (raw names, trimmed values). */
  headers: string[];
  body: Buffer[];
  keepAlive: boolean;
}

/** One llhttp parser, re-initialised per use, recording each completed message. */
class Reference {
  private readonly parser: Any = new HTTPParser();
  messages: LlMessage[] = [];
  private cur: LlMessage | null = null;
  private pendingHeaders: string[] = [];
  private pendingUrl = '';
  /** HEAD semantics for responses: the client tells llhttp there is no body. */
  private skipBody = false;

  constructor() {
    const p = this.parser;
    p[HTTPParser.kOnMessageBegin] = () => {
      this.pendingHeaders = [];
      this.pendingUrl = '';
    };
    // llhttp flushes headers in batches of 32 pairs before headers-complete.
    p[HTTPParser.kOnHeaders] = (headers: string[], url: string) => {
      this.pendingHeaders.push(...headers);
      this.pendingUrl += url;
    };
    p[HTTPParser.kOnHeadersComplete] = (
      versionMajor: number,
      versionMinor: number,
      headers: string[],
      method: number,
      url: string,
      status: number,
      statusMessage: string,
      _upgrade: boolean,
      keepAlive: boolean,
    ) => {
      this.cur = {
        versionMajor,
        versionMinor,
        method: method === undefined ? '' : (llhttpMethods()[method] ?? `#${method}`),
        url: this.pendingUrl + (url ?? ''),
        status: status ?? 0,
        statusMessage: statusMessage ?? '',
        headers: [...this.pendingHeaders, ...headers],
        body: [],
        keepAlive,
      };
      // As _http_client.js: no body for a HEAD request or an informational response.
      return this.skipBody || (status >= 100 && status < 200) ? 1 : 0;
    };
    p[HTTPParser.kOnBody] = (b: Buffer) => {
      this.cur?.body.push(Buffer.from(b));
    };
    p[HTTPParser.kOnMessageComplete] = () => {
      if (this.cur !== null) this.messages.push(this.cur);
      this.cur = null;
    };
  }

  start(type: 'request' | 'response', skipBody = false, maxHeaderSize = MAX_HEADER_SIZE): void {
    this.messages = [];
    this.cur = null;
    this.pendingHeaders = [];
    this.pendingUrl = '';
    this.skipBody = skipBody;
    this.parser.initialize(type === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE, {}, maxHeaderSize, HTTPParser.kLenientNone);
  }

  /** '' when llhttp took every byte, else its error. */
  execute(buf: Buffer): string {
    if (buf.length === 0) return '';
    const r = this.parser.execute(buf);
    if (r instanceof Error) return `${(r as Any).code} ${(r as Any).reason}`;
    return r === buf.length ? '' : `stopped after ${r} of ${buf.length} bytes`;
  }

  finish(): string {
    const r = this.parser.finish();
    return r instanceof Error ? `${(r as Any).code} ${(r as Any).reason}` : '';
  }
}

let methodNames: string[] | undefined;
/**
 * llhttp's method numbers (its enum has gaps, so _http_common's dense list does
 * not index it): learnt by parsing one request per method Node knows.
 */
function llhttpMethods(): string[] {
  if (methodNames !== undefined) return methodNames;
  const names: string[] = [];
  const p = new HTTPParser();
  for (const name of METHODS) {
    p.initialize(HTTPParser.REQUEST, {}, MAX_HEADER_SIZE, HTTPParser.kLenientNone);
    p[HTTPParser.kOnHeadersComplete] = (_a: number, _b: number, _h: string[], method: number) => {
      names[method] = name;
      return 0;
    };
    p.execute(Buffer.from(`${name} / HTTP/1.1\r\nHost: x\r\n\r\n`, 'latin1'));
  }
  return (methodNames = names);
}

/** Header pairs from llhttp's flat list. */
function pairs(flat: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}

const valuesOf = (hs: Array<[string, string]>, name: string): string[] => hs.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
/** A list-valued header as its non-empty elements (RFC 9110 5.6.1: empty elements do not count). */
const listOf = (values: string[]): string[] =>
  values
    .join(',')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

// ---------------------------------------------------------------------------
// Request generator

// Each part of a request is usually one the fast path serves and sometimes one it must not,
// so that generated cases land on both sides of every decision.
const METHODS_SERVED = ['GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'PURGE', 'QUERY', 'M-SEARCH'];
const METHODS_ODD = ['get', 'CONNECT', 'FROB', 'PRI', 'G(T', ''];
const TARGETS_SERVED = ['/', '/', '/svc/a', '/svc/a?x=1&y=%20', '//x', '/a%zz', '/?q=\x22', "/a/b;c=d/e?f=g&h=i'j"];
const TARGETS_ODD = ['/a#frag', '/#', '*', 'http://h/x', 'h:443', '/a b', '/caf\x80', '/\xff', '/a\x01b', '/a\tb', '/\x7f', ''];
const VERSIONS_ODD = ['HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', '', 'http/1.1', 'HTTP/1.10', 'HTTP/11', 'HTTP/1.1 ', 'HTTP/1.1\t', 'HTTP/1.2', 'HTTP/1.1\r'];
const SEPARATORS_ODD = ['  ', '\t', '', ' \t'];
const CONTENT_LENGTHS = ['0', '5', '5', '3', '12', '5, 5', '5,5', '5, 6', '05', '+5', '-1', '5 5', '0x5', '', '99999999999999999', '70000', '1e3', '\x805'];
const TRANSFER_ENCODINGS = ['chunked', 'chunked', 'chunked ', 'gzip ,chunked', 'identity, chunked', 'chunked, identity', 'gzip, chunked', 'gzip', '', 'Chunked', 'chunked,', ',chunked', 'chunked, chunked', 'identity'];
const CONNECTIONS = ['keep-alive', 'close', 'Close', 'keep-alive, close', 'close, keep-alive', 'upgrade', 'close, te', '', ',', 'keep-alive,,close', 'x-drop-me', 'Keep-Alive'];

type HeaderGen = (r: Rand) => [string, string];
const REQUEST_HEADERS_SERVED: HeaderGen[] = [
  () => ['Accept', '*/*'],
  () => ['User-Agent', 'fuzz/1.0 (x; y)'],
  () => ['X-Custom', 'v'],
  () => ['X-Empty', ''],
  (r) => ['X-Forwarded-For', pick(r, ['10.0.0.1', '', '1.1.1.1, 2.2.2.2', ','])],
  (r) => ['X-Request-Id', pick(r, ['abc', '', 'id\x80'])],
  (r) => ['Connection', pick(r, ['keep-alive', 'close', 'Close', 'keep-alive, close', '', ','])],
  (r) => ['Content-Length', pick(r, ['0', '3', '5', '12'])],
  () => ['Keep-Alive', 'timeout=5'],
  () => ['TE', 'trailers'],
  () => ['Trailer', 'X-T'],
  () => ['Proxy-Connection', 'keep-alive'],
  () => ['Proxy-Authorization', 'Basic eDp5'],
  () => ['X-Forwarded-Host', 'evil'],
  () => ['X-Forwarded-Proto', 'https'],
  () => ['Idempotency-Key', 'k1'],
  (r) => ['X-Grid-Preview', pick(r, ['1', '1', '0', '', '1, 1'])],
  (r) => ['X-V', pick(r, ['a\x80b', '\xff', 'a\tb', '"q"', 'a:b', 'a,b'])],
  (r) => [pick(r, ['X_Forwarded_For', 'Content_Length', 'Host_', '_']), pick(r, ['6.6.6.6', '5'])],
  (r) => ['Forwarded', pick(r, ['for=6.6.6.6;host=evil', '', 'for="[::1]"'])],
];
const REQUEST_HEADERS_ODD: HeaderGen[] = [
  () => ['Host', 'example.com'],
  (r) => ['Host', pick(r, ['', 'a b', 'other', 'h:80', 'x\x80'])],
  () => ['Accept', '*/*'],
  () => ['User-Agent', 'fuzz/1.0 (x; y)'],
  () => ['X-Custom', 'v'],
  () => ['X-Empty', ''],
  (r) => ['X-Forwarded-For', pick(r, ['10.0.0.1', '', '1.1.1.1, 2.2.2.2', ','])],
  (r) => ['X-Request-Id', pick(r, ['abc', '', 'id\x80'])],
  (r) => ['Connection', pick(r, CONNECTIONS)],
  (r) => ['Content-Length', pick(r, CONTENT_LENGTHS)],
  (r) => ['Content-Length', pick(r, CONTENT_LENGTHS)],
  (r) => ['Transfer-Encoding', pick(r, TRANSFER_ENCODINGS)],
  () => ['Expect', '100-continue'],
  () => ['Upgrade', 'websocket'],
  () => ['Keep-Alive', 'timeout=5'],
  () => ['TE', 'trailers'],
  () => ['Trailer', 'X-T'],
  () => ['Proxy-Connection', 'keep-alive'],
  () => ['Proxy-Authorization', 'Basic eDp5'],
  () => ['X-Forwarded-Host', 'evil'],
  () => ['X-Forwarded-Proto', 'https'],
  () => ['X-Drop-Me', 'listed in Connection'],
  () => ['Idempotency-Key', 'k1'],
  (r) => ['X-Grid-Preview', pick(r, ['1', '1', '0', '', '1, 1'])],
  (r) => [pick(r, ['Host ', 'Content-Length ', 'Content-Length\t', '', 'X@Y', 'X\x01Y', 'X\x80', ' Host', '\tX-A', 'X Y']), 'v'],
  (r) => ['X-V', pick(r, ['a\x80b', '\xff', 'a\x00b', 'a\x7fb', 'a\x0bb', 'a\rb', 'a\nb', 'a\tb', '"q"', 'a:b'])],
];

function mutateCase(r: Rand, name: string): string {
  switch (r(4)) {
    case 0:
      return name.toLowerCase();
    case 1:
      return name.toUpperCase();
    case 2: {
      let s = '';
      for (const ch of name) s += r(2) === 0 ? ch.toLowerCase() : ch.toUpperCase();
      return s;
    }
    default:
      return name;
  }
}

const OWS = ['', ' ', ' ', ' ', '\t', '  ', ' \t '];
const EOLS = ['\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\n', '\r'];
const eol = (r: Rand): string => (chance(r, 0.99) ? '\r\n' : pick(r, EOLS));

function headerLine(r: Rand, [name, value]: [string, string]): string {
  return mutateCase(r, name) + ':' + (chance(r, 0.3) ? pick(r, OWS) : ' ') + value + (chance(r, 0.2) ? pick(r, OWS) : '') + eol(r);
}

function bodyBytes(r: Rand, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(chance(r, 0.8) ? 97 + r(26) : r(256));
  return s;
}

/** A chunked body, mostly valid: sizes in either case, extensions, BWS, trailers, the odd bare LF. */
function chunkedBody(r: Rand): string {
  let s = '';
  const n = r(4);
  for (let i = 0; i < n; i++) {
    const size = r(20) + 1;
    let hex = size.toString(16);
    if (chance(r, 0.2)) hex = hex.toUpperCase();
    if (chance(r, 0.1)) hex = '00' + hex;
    s += hex + chunkExt(r) + eol(r) + bodyBytes(r, size) + (chance(r, 0.97) ? '\r\n' : pick(r, ['\n', '', '\r', 'x\r\n']));
  }
  s += (chance(r, 0.05) ? '00' : '0') + chunkExt(r) + eol(r);
  const trailers = chance(r, 0.8) ? 0 : r(3) + 1;
  for (let i = 0; i < trailers; i++) {
    s += pick(r, ['X-T: v', 'Content-Length: 5', 'content-length: 0', 'Transfer-Encoding: chunked', 'Host: h', 'no colon', ' folded', ': empty', 'X T: v', 'X-T:\x80', 'X-T: \x00', 'Connection: close']) + eol(r);
  }
  return s + eol(r);
}

function chunkExt(r: Rand): string {
  return chance(r, 0.85) ? '' : pick(r, [';a=b', ';a="q;r"', ';a', ' ;a=b', '; a', '\t', ' ', '  ;x', ';\x80', ';a=\x01', ';a\tb']);
}

/** Content-Length when a header list declares exactly one valid length. */
function declaredLength(headers: Array<[string, string]>): number {
  const cls = headers.filter(([n]) => n.toLowerCase() === 'content-length').map(([, v]) => v);
  if (cls.length === 0) return 0;
  return /^[0-9]{1,4}$/.test(cls[0]) ? Number(cls[0]) : -1;
}

function oneRequest(r: Rand): string {
  const method = chance(r, 0.95) ? pick(r, METHODS_SERVED) : pick(r, METHODS_ODD);
  const target = chance(r, 0.93) ? pick(r, TARGETS_SERVED) : pick(r, TARGETS_ODD);
  const version = chance(r, 0.95) ? 'HTTP/1.1' : pick(r, VERSIONS_ODD);
  const sep = (): string => (chance(r, 0.97) ? ' ' : pick(r, SEPARATORS_ODD));
  let line = method + sep() + target + (version === '' ? '' : sep() + version);
  const headers: Array<[string, string]> = [];
  if (chance(r, 0.95)) headers.push(['Host', 'example.com']);
  const extra = r(6);
  for (let i = 0; i < extra; i++) {
    const gen = chance(r, 0.88) ? pick(r, REQUEST_HEADERS_SERVED) : pick(r, REQUEST_HEADERS_ODD);
    headers.splice(r(headers.length + 1), 0, gen(r));
  }
  if (chance(r, 0.003)) headers.push(['X-Big', 'b'.repeat(16_300 + r(200))]);
  line += eol(r);
  for (const h of headers) line += headerLine(r, h);
  line += eol(r);
  const te = headers.some(([n]) => n.toLowerCase() === 'transfer-encoding');
  const cl = declaredLength(headers);
  let body = '';
  if (te) body = chunkedBody(r);
  else if (cl > 0) body = bodyBytes(r, chance(r, 0.95) ? cl : Math.max(0, cl + r(3) - 1));
  else if (chance(r, 0.03)) body = bodyBytes(r, r(6));
  return line + body;
}

const INTERESTING = [0, 9, 10, 13, 32, 0x7f, 0x80, 0xff, 58, 35, 44, 59, 48, 1];

/** Flips, inserts or deletes a byte or two. */
function mutateBytes(r: Rand, s: string): string {
  const n = r(2) + 1;
  for (let i = 0; i < n && s.length > 0; i++) {
    const at = r(s.length);
    const b = String.fromCharCode(chance(r, 0.7) ? pick(r, INTERESTING) : r(256));
    switch (r(3)) {
      case 0:
        s = s.slice(0, at) + b + s.slice(at);
        break;
      case 1:
        s = s.slice(0, at) + b + s.slice(at + 1);
        break;
      default:
        s = s.slice(0, at) + s.slice(at + 1);
    }
  }
  return s;
}

/** The byte string's split points: how it arrives over TCP. */
function splitPoints(r: Rand, length: number): number[] {
  if (length < 2 || chance(r, 0.5)) return [length];
  const cuts = new Set<number>();
  const n = r(5) + 1;
  for (let i = 0; i < n; i++) cuts.add(r(length - 1) + 1);
  return [...[...cuts].sort((a, b) => a - b), length];
}

export interface RequestCase {
  bytes: Buffer;
  /** End offsets of the pieces the bytes arrive in. */
  cuts: number[];
}

export function generateRequestCase(r: Rand): RequestCase {
  let s = oneRequest(r);
  if (chance(r, 0.3)) {
    const more = r(3) + 1;
    for (let i = 0; i < more; i++) s += oneRequest(r);
  }
  if (chance(r, 0.1)) s = mutateBytes(r, s);
  const bytes = Buffer.from(s, 'latin1');
  return { bytes, cuts: splitPoints(r, bytes.length) };
}

// ---------------------------------------------------------------------------
// Requests: the fast path's loop (WireConn.next) and the comparison

interface WireRequest {
  head: RequestHead;
  start: number;
  end: number;
}

interface WireRequestRun {
  messages: WireRequest[];
  /** What the connection was doing when the bytes ran out. */
  outcome: 'fallback' | 'incomplete' | 'pending-body' | 'done' | 'closed';
  /** Offset of the first byte not in `messages`. */
  at: number;
}

/** The parser under test; the spec swaps in broken ones to show the harness catches them. */
export interface WireParser {
  parseRequestHead: typeof parseRequestHead;
  parseResponseHead: typeof parseResponseHead;
}
const WIRE: WireParser = { parseRequestHead, parseResponseHead };

/** Feeds the pieces to findHeadEnd/parseRequestHead as wire-proxy.ts's WireConn.next does. */
export function runWireRequests(c: RequestCase, wire: WireParser = WIRE): WireRequestRun {
  const messages: WireRequest[] = [];
  let buf: Buffer | null = null;
  let base = 0;
  let scanFrom = 0;
  let pending: RequestHead | null = null;
  let prev = 0;
  for (const cut of c.cuts) {
    const piece = c.bytes.subarray(prev, cut);
    prev = cut;
    buf = buf === null ? piece : Buffer.concat([buf, piece]);
    while (buf !== null) {
      let head: RequestHead | null = pending;
      if (head === null) {
        const parsed = wire.parseRequestHead(buf, findHeadEnd(buf, scanFrom));
        if (parsed === INCOMPLETE) {
          scanFrom = buf.length;
          break;
        }
        if (parsed === FALLBACK) return { messages, outcome: 'fallback', at: base };
        head = parsed;
      }
      const total = head.headEnd + head.contentLength;
      if (buf.length < total) {
        pending = head;
        break;
      }
      messages.push({ head, start: base, end: base + total });
      pending = null;
      scanFrom = 0;
      base += total;
      buf = buf.length > total ? buf.subarray(total) : null;
      // The fast path closes the connection after this exchange; what follows is never read.
      if (head.close) return { messages, outcome: 'closed', at: base };
    }
  }
  return { messages, outcome: buf === null ? 'done' : pending !== null ? 'pending-body' : 'incomplete', at: base };
}

/** Request headers the fast path does not pass on as they came (hop-by-hop, or rewritten). */
const REQUEST_NOT_FORWARDED = new Set([
  'host',
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'proxy-authorization',
  'proxy-authenticate',
  'proxy-connection',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-for',
  'x-request-id',
  'forwarded',
]);
const REMOTE = '127.0.0.9';

/** Request header names the fast path drops (DROP_UNDERSCORE_HEADER_NAMES) or rewrites. */
function notForwarded(name: string): boolean {
  return REQUEST_NOT_FORWARDED.has(name.toLowerCase()) || name.includes('_');
}

/** The request line and headers the fast path writes upstream (WireConn.start, Exchange). */
function upstreamRequest(head: RequestHead, body: Buffer): Buffer {
  const requestId = head.requestId === '' ? 'generated' : head.requestId;
  const xff = head.xff === '' ? REMOTE : head.xff + ', ' + REMOTE;
  const text =
    head.method +
    ' ' +
    head.target +
    ' HTTP/1.1\r\nHost: pod:1\r\n' +
    head.forwarded +
    'x-forwarded-for: ' +
    xff +
    '\r\nx-forwarded-proto: http\r\nx-request-id: ' +
    requestId +
    (head.host === '' ? '\r\n' : '\r\nx-forwarded-host: ' + head.host + '\r\n') +
    'forwarded: ' +
    forwardedHeaderValue(forwardedFor(REMOTE), head.host) +
    '\r\n\r\n';
  return Buffer.concat([Buffer.from(text, 'latin1'), body]);
}

/**
 * Parses bytes[start, end) as exactly one message: llhttp must not finish it
 * before the last byte, must finish it with the last byte, and must not fail.
 */
function exactlyOne(ref: Reference, bytes: Buffer, start: number, end: number, before: number, cuts: number[] = []): string {
  let err = executeInPieces(ref, bytes, start, end - 1, cuts);
  if (err !== '') return `llhttp refused bytes the fast path accepted: ${err}`;
  if (ref.messages.length !== before) return `llhttp ended a message before byte ${end - 1} where the fast path did not`;
  err = ref.execute(bytes.subarray(end - 1, end));
  if (err !== '') return `llhttp refused bytes the fast path accepted: ${err}`;
  if (ref.messages.length !== before + 1) return `llhttp did not end the message at byte ${end} where the fast path did`;
  return '';
}

/**
 * Feeds bytes[start, end) to llhttp cut where the case's bytes arrived cut,
 * as a real server or client parser gets them: a segment boundary must not
 * change llhttp's answer either.
 */
function executeInPieces(ref: Reference, bytes: Buffer, start: number, end: number, cuts: number[]): string {
  let from = start;
  for (const cut of cuts) {
    if (cut <= from) continue;
    if (cut >= end) break;
    const err = ref.execute(bytes.subarray(from, cut));
    if (err !== '') return err;
    from = cut;
  }
  return ref.execute(bytes.subarray(from, end));
}

function eq(what: string, got: unknown, want: unknown): string {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  return g === w ? '' : `${what}: fast path ${g}, llhttp ${w}`;
}

/** The first difference between the fast path and llhttp on this case, '' when they agree. */
export function checkRequestCase(c: RequestCase, wire: WireParser = WIRE, ref: Reference = sharedReference()): string {
  const run = runWireRequests(c, wire);
  for (let i = 0; i < run.messages.length; i++) {
    const { head, start, end } = run.messages[i];
    const at = `request ${i + 1} [${start}, ${end})`;
    ref.start('request');
    const err = exactlyOne(ref, c.bytes, start, end, 0, c.cuts);
    if (err !== '') return `${at}: ${err}`;
    const m = ref.messages[0];
    const hs = pairs(m.headers);
    const hosts = valuesOf(hs, 'host');
    const connection = listOf(valuesOf(hs, 'connection')).map((t) => t.toLowerCase());
    const previews = valuesOf(hs, 'x-grid-preview');
    const body = Buffer.concat(m.body);
    const diff =
      eq('version', '1.1', `${m.versionMajor}.${m.versionMinor}`) ||
      eq('method', head.method, m.method) ||
      eq('target', head.target, m.url) ||
      (hosts.length !== 1 ? `Host: llhttp sees ${hosts.length} Host headers; the fast path forwards one` : '') ||
      eq('host', head.host, hosts[0]) ||
      (connection.some((t) => t !== 'close' && t !== 'keep-alive') ? `Connection ${JSON.stringify(connection)} names headers the fast path keeps` : '') ||
      eq('close', head.close, !m.keepAlive) ||
      eq('x-forwarded-for', listOf([head.xff]), listOf(valuesOf(hs, 'x-forwarded-for'))) ||
      eq('x-request-id', head.requestId, valuesOf(hs, 'x-request-id').find((v) => v !== '') ?? '') ||
      eq('preview', head.preview, previews.length === 1 && previews[0] === '1') ||
      eq('idempotencyKey', head.idempotencyKey, valuesOf(hs, 'idempotency-key').length > 0) ||
      eq('body', c.bytes.toString('latin1', end - head.contentLength, end), body.toString('latin1'));
    if (diff !== '') return `${at}: ${diff}`;
    for (const name of ['transfer-encoding', 'upgrade', 'expect']) {
      if (valuesOf(hs, name).length > 0) return `${at}: the fast path forwarded a request with ${name}`;
    }
    // What the pod parses from the bytes the fast path writes.
    const forwardedBody = c.bytes.subarray(end - head.contentLength, end);
    const up = upstreamRequest(head, forwardedBody);
    // The X-Forwarded-* lines can take a head near 16 KiB over a pod's limit (as on the node:http path);
    // that is the pod's setting, not a parse difference, so the copy is read with room to spare.
    ref.start('request', false, 4 * MAX_HEADER_SIZE);
    const upErr = exactlyOne(ref, up, 0, up.length, 0);
    if (upErr !== '') return `${at}: upstream copy: ${upErr}`;
    const u = ref.messages[0];
    const upHeaders = pairs(u.headers).filter(([n]) => !notForwarded(n));
    const want = hs.filter(([n]) => !notForwarded(n));
    const upDiff =
      eq('upstream method', u.method, m.method) ||
      eq('upstream target', u.url, m.url) ||
      eq('upstream headers', upHeaders, want) ||
      eq('upstream body', Buffer.concat(u.body).toString('latin1'), body.toString('latin1'));
    if (upDiff !== '') return `${at}: ${upDiff}`;
  }
  if (run.outcome === 'incomplete') {
    // Waiting for more bytes is wrong when llhttp already has a whole request in them.
    ref.start('request');
    const err = ref.execute(c.bytes.subarray(run.at));
    if (err === '' && ref.messages.length > 0) return `the fast path waits for more bytes at ${run.at}, but llhttp has a whole request there`;
  }
  return '';
}

// ---------------------------------------------------------------------------
// Response generator

const STATUS_LINES = [
  'HTTP/1.1 200 OK',
  'HTTP/1.1 200 OK',
  'HTTP/1.1 200 OK',
  'HTTP/1.1 200 OK',
  'HTTP/1.1 201 Created',
  'HTTP/1.1 204 No Content',
  'HTTP/1.1 204 No Content',
  'HTTP/1.1 304 Not Modified',
  'HTTP/1.1 205 Reset Content',
  'HTTP/1.1 404 Not Found',
  'HTTP/1.1 500 Internal Server Error',
  'HTTP/1.0 200 OK',
  'HTTP/1.1 200',
  'HTTP/1.1 200 ',
  'HTTP/1.1 200 \x80K',
  'HTTP/1.1 101 Switching Protocols',
  'HTTP/1.1 2000 OK',
  'HTTP/2 200 OK',
  'http/1.1 200 OK',
  'HTTP/1.1  200 OK',
  'HTTP/1.1 099 X',
  'HTTP/1.1 600 X',
];
const INFORMATIONAL = ['HTTP/1.1 100 Continue', 'HTTP/1.1 103 Early Hints', 'HTTP/1.1 102 Processing'];

const RESPONSE_HEADERS: HeaderGen[] = [
  (r) => ['Content-Length', pick(r, CONTENT_LENGTHS)],
  (r) => ['Content-Length', pick(r, CONTENT_LENGTHS)],
  (r) => ['Transfer-Encoding', pick(r, TRANSFER_ENCODINGS)],
  (r) => ['Transfer-Encoding', pick(r, TRANSFER_ENCODINGS)],
  (r) => ['Connection', pick(r, CONNECTIONS)],
  (r) => ['Keep-Alive', pick(r, ['timeout=5', 'timeout=5, max=100', 'max=3', 'timeout=x'])],
  () => ['Content-Type', 'text/plain'],
  () => ['X-Request-Id', 'rid'],
  () => ['X-Drop-Me', 'listed in Connection'],
  () => ['Trailer', 'X-T'],
  () => ['Upgrade', 'h2c'],
  () => ['Proxy-Authenticate', 'Basic'],
  () => ['Set-Cookie', 'a=b; Path=/'],
  () => ['X-Empty', ''],
  (r) => [pick(r, ['Content-Length ', 'Transfer-Encoding ', '', 'X@Y', 'X\x01Y', ' X-Fold', 'X Y']), 'v'],
  (r) => ['X-V', pick(r, ['a\x80b', 'a\x00b', 'a\x7fb', 'a\rb', 'a\nb', 'a\tb'])],
];

export interface ResponseCase {
  bytes: Buffer;
  /** The request was HEAD. */
  head: boolean;
  /** End offsets of the pieces the bytes arrive in. */
  cuts: number[];
}

function oneResponseHead(r: Rand, statusLine: string): { text: string; headers: Array<[string, string]> } {
  const headers: Array<[string, string]> = [];
  const base = r(3);
  if (base === 0) headers.push(['Content-Length', pick(r, ['0', '5', '12'])]);
  else if (base === 1) headers.push(['Transfer-Encoding', 'chunked']);
  const extra = r(5);
  for (let i = 0; i < extra; i++) headers.splice(r(headers.length + 1), 0, pick(r, RESPONSE_HEADERS)(r));
  let text = statusLine + eol(r);
  for (const h of headers) text += headerLine(r, h);
  return { text: text + eol(r), headers };
}

export function generateResponseCase(r: Rand): ResponseCase {
  let s = '';
  if (chance(r, 0.1)) s += oneResponseHead(r, pick(r, INFORMATIONAL)).text;
  const { text, headers } = oneResponseHead(r, pick(r, STATUS_LINES));
  s += text;
  const te = headers.some(([n]) => n.toLowerCase() === 'transfer-encoding');
  const cl = declaredLength(headers);
  if (te) s += chunkedBody(r);
  else if (cl > 0) s += bodyBytes(r, chance(r, 0.95) ? cl : Math.max(0, cl + r(3) - 1));
  else if (chance(r, 0.3)) s += bodyBytes(r, r(8));
  // A next response on the same connection (or junk after the end).
  if (chance(r, 0.2)) s += 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n';
  if (chance(r, 0.15)) s = mutateBytes(r, s);
  const bytes = Buffer.from(s, 'latin1');
  return { bytes, head: chance(r, 0.1), cuts: splitPoints(r, bytes.length) };
}

// ---------------------------------------------------------------------------
// Responses: the fast path's Exchange.parseHead/respond/forwardBody and the comparison

interface WireResponseRun {
  /** Why the fast path refused (502 or a cut connection); '' when it passed the response on. */
  refused: string;
  res?: ResponseHead;
  /** Informational responses the fast path skipped. */
  informational: number;
  bodyStart: number;
  /** Offset just past the response; the whole input for FRAME_CLOSE. */
  end: number;
  /** The body bytes forwarded when they are not bytes[bodyStart..end] (a chunked body's trailer lines are dropped). */
  forwarded?: Buffer;
}

export function runWireResponse(c: ResponseCase, wire: WireParser = WIRE): WireResponseRun {
  const buf = c.bytes;
  let from = 0;
  let informational = 0;
  let res: ResponseHead;
  let end: number;
  for (;;) {
    end = findHeadEnd(buf, from);
    if (end < 0) return { refused: 'no end of the response head before the upstream closed', informational, bodyStart: 0, end: 0 };
    try {
      res = wire.parseResponseHead(buf.subarray(from), end - from, c.head);
    } catch (err) {
      return { refused: (err as Error).message, informational, bodyStart: 0, end: 0 };
    }
    if (res.status >= 200) break;
    if (res.status === 101) return { refused: 'unrequested protocol switch', informational, bodyStart: 0, end: 0 };
    informational++;
    from = end;
  }
  const bodyStart = end;
  const refused = (why: string): WireResponseRun => ({ refused: why, res, informational, bodyStart, end: 0 });
  switch (res.framing) {
    case FRAME_NONE:
      return { refused: '', res, informational, bodyStart, end: bodyStart };
    case FRAME_LENGTH:
      if (bodyStart + res.contentLength > buf.length) return refused('upstream closed before the end of the body');
      return { refused: '', res, informational, bodyStart, end: bodyStart + res.contentLength };
    case FRAME_CHUNKED: {
      // As Exchange.forwardBody: each piece up to the scanner's `keep`, and the final CRLF after dropped trailer lines.
      const scanner = new ChunkedScanner();
      const out: Buffer[] = [];
      let prev = bodyStart;
      for (const cut of c.cuts) {
        if (cut <= prev) continue;
        const piece = buf.subarray(prev, cut);
        let e: number;
        try {
          e = scanner.scan(piece, 0);
        } catch (err) {
          return refused((err as Error).message);
        }
        out.push(piece.subarray(0, scanner.keep));
        if (e >= 0) {
          if (scanner.endsTrailer) out.push(Buffer.from('\r\n'));
          return { refused: '', res, informational, bodyStart, end: prev + e, forwarded: Buffer.concat(out) };
        }
        prev = cut;
      }
      return refused('upstream closed before the end of the chunked body');
    }
    case FRAME_CLOSE:
      return { refused: '', res, informational, bodyStart, end: buf.length };
    default:
      throw new Error(`unknown framing ${res.framing}`);
  }
}

/** Response headers the fast path drops (hop-by-hop). */
const RESPONSE_NOT_FORWARDED = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'upgrade']);

/** The response head the fast path writes to the client (Exchange.respond). */
function clientResponse(res: ResponseHead, body: Buffer): Buffer {
  const close = res.framing === FRAME_CLOSE;
  const text =
    'HTTP/1.1 ' +
    res.statusText +
    '\r\n' +
    res.lines +
    'x-grid-pod: p-1\r\nx-grid-version: v1' +
    (res.hasRequestId ? '\r\n' : '\r\nx-request-id: r\r\n') +
    (close ? 'connection: close\r\n\r\n' : '\r\n');
  return Buffer.concat([Buffer.from(text, 'latin1'), body]);
}

/** Parses bytes as the final response of a stream: ends exactly at `end` (or at EOF for FRAME_CLOSE). */
function responseEndsAt(ref: Reference, bytes: Buffer, end: number, before: number, closeDelimited: boolean, cuts: number[] = []): string {
  if (!closeDelimited) return exactlyOne(ref, bytes, 0, end, before, cuts);
  const err = executeInPieces(ref, bytes, 0, bytes.length, cuts) || ref.finish();
  if (err !== '') return `llhttp refused a response the fast path passed on: ${err}`;
  if (ref.messages.length !== before + 1) return `llhttp ended the response before the connection closed; the fast path reads to the close`;
  return '';
}

export function checkResponseCase(c: ResponseCase, wire: WireParser = WIRE, ref: Reference = sharedReference()): string {
  const run = runWireResponse(c, wire);
  if (run.refused !== '') return '';
  const res = run.res!;
  const closeDelimited = res.framing === FRAME_CLOSE;
  ref.start('response', c.head);
  const err = responseEndsAt(ref, c.bytes, run.end, run.informational, closeDelimited, c.cuts);
  if (err !== '') return `upstream side: ${err}`;
  const m = ref.messages[run.informational];
  const hs = pairs(m.headers);
  const listed = new Set(listOf(valuesOf(hs, 'connection')).map((t) => t.toLowerCase()));
  listed.delete('content-length');
  listed.delete('transfer-encoding');
  const diff =
    eq('status', res.status, m.status) ||
    (m.versionMajor !== 1 ? `version: llhttp reads HTTP/${m.versionMajor}.${m.versionMinor}` : '') ||
    // (llhttp decides keep-alive before the client tells it a HEAD response has no body.)
    (res.reusable && !m.keepAlive && !c.head ? 'the fast path reuses an upstream connection llhttp says must close' : '');
  if (diff !== '') return `upstream side: ${diff}`;
  // 1xx and 204 reach the client without framing headers (they must not have any).
  const noFraming = m.status < 200 || m.status === 204;
  const want = hs.filter(([n]) => {
    const name = n.toLowerCase();
    return !RESPONSE_NOT_FORWARDED.has(name) && !listed.has(name) && !(noFraming && (name === 'content-length' || name === 'transfer-encoding'));
  });
  // What the client's parser makes of the bytes the fast path sends.
  const sent = clientResponse(res, run.forwarded ?? c.bytes.subarray(run.bodyStart, run.end));
  ref.start('response', c.head);
  const clientErr = responseEndsAt(ref, sent, sent.length, 0, closeDelimited);
  if (clientErr !== '') return `client side: ${clientErr}`;
  const cm = ref.messages[0];
  const got = pairs(cm.headers).filter(([n]) => !/^(x-grid-pod|x-grid-version|connection)$/i.test(n) && !(n === 'x-request-id' && !res.hasRequestId));
  return (
    eq('client status', cm.status, m.status) ||
    eq('client reason', cm.statusMessage, m.statusMessage) ||
    eq('client headers', got, want) ||
    eq('client body', Buffer.concat(cm.body).toString('latin1'), Buffer.concat(m.body).toString('latin1'))
  );
}

let shared: Reference | undefined;
function sharedReference(): Reference {
  return (shared ??= new Reference());
}

// ---------------------------------------------------------------------------
// Driver

export interface Disagreement {
  kind: 'request' | 'response';
  /** Replays the case alone: FUZZ_CASE=<caseSeed>. */
  caseSeed: number;
  /** The bytes as a JSON string (latin1: one char per byte). */
  bytes: string;
  head?: boolean;
  cuts: number[];
  why: string;
}

export interface FuzzResult {
  /** Cases run: one request case and one response case per case seed. */
  cases: number;
  /** Request cases in which the fast path parsed at least one request / handed the connection to Node. */
  requestsAccepted: number;
  requestsFellBack: number;
  /** Response cases the fast path passed on / refused. */
  responsesPassed: number;
  responsesRefused: number;
  disagreements: Disagreement[];
  ms: number;
}

/** The case seeds `fuzz(seed, ...)` runs, in order: each case replays from its own seed. */
export function caseSeeds(seed: number): () => number {
  const next = prng(seed);
  return () => next(0x7fffffff);
}

/** The request and the response case of one case seed. */
export function casesOf(caseSeed: number): { request: RequestCase; response: ResponseCase } {
  return { request: generateRequestCase(prng(caseSeed)), response: generateResponseCase(prng(caseSeed ^ 0x5bd1e995)) };
}

/** Runs `pairs` case seeds from `seed` (2 × pairs cases), stopping after `maxDisagreements`. */
export function fuzz(seed: number, pairs: number, maxDisagreements = 20, wire: WireParser = WIRE): FuzzResult {
  const t0 = performance.now();
  const ref = sharedReference();
  const result: FuzzResult = { cases: 0, requestsAccepted: 0, requestsFellBack: 0, responsesPassed: 0, responsesRefused: 0, disagreements: [], ms: 0 };
  const next = caseSeeds(seed);
  for (let i = 0; i < pairs && result.disagreements.length < maxDisagreements; i++) {
    const caseSeed = next();
    const { request, response } = casesOf(caseSeed);
    const why = checkRequestCase(request, wire, ref);
    if (why !== '') result.disagreements.push({ kind: 'request', caseSeed, bytes: JSON.stringify(request.bytes.toString('latin1')), cuts: request.cuts, why });
    const run = runWireRequests(request, wire);
    if (run.messages.length > 0) result.requestsAccepted++;
    if (run.outcome === 'fallback') result.requestsFellBack++;
    const whyRes = checkResponseCase(response, wire, ref);
    if (whyRes !== '') {
      result.disagreements.push({ kind: 'response', caseSeed, bytes: JSON.stringify(response.bytes.toString('latin1')), head: response.head, cuts: response.cuts, why: whyRes });
    }
    if (runWireResponse(response, wire).refused === '') result.responsesPassed++;
    else result.responsesRefused++;
    result.cases += 2;
  }
  result.ms = performance.now() - t0;
  return result;
}

/** A disagreement as the lines a failing test or the bench prints. */
export function describeDisagreement(d: Disagreement, seed: number): string {
  return [
    `${d.kind} disagreement: ${d.why}`,
    `  bytes: ${d.bytes}${d.head ? ' (answering HEAD)' : ''}`,
    `  arriving in pieces ending at ${JSON.stringify(d.cuts)}`,
    `  replay: FUZZ_SEED=${seed} (the run) or FUZZ_CASE=${d.caseSeed} (this case alone)`,
  ].join('\n');
}
