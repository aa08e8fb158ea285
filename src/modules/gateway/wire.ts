// HTTP/1.1 message heads for the gateway's raw-socket fast path (wire-proxy.ts).
// Pure: bytes in, a description out; no I/O.
//
// The fast path serves only a strict subset of HTTP/1.1 and hands everything
// else to Node's own HTTP server (llhttp) on the same connection: a request the
// parser here is unsure about is never guessed at. So parseRequestHead answers
// FALLBACK for anything outside the subset (HTTP/1.0, absolute-form targets,
// Transfer-Encoding, Expect, Upgrade, obs-fold, bytes a strict parser refuses,
// repeated Content-Length or Host, Connection options other than keep-alive/close,
// more than MAX_REQUEST_HEADER_LINES header lines, bodies over the buffering
// limit), and Node decides what those mean.

import { METHODS } from 'node:http';
import {
  DROP_UNDERSCORE_HEADER_NAMES,
  MAX_REQUEST_HEADER_LINES,
  parseDecimal,
  REQUEST_HEADER_KIND,
  REQUEST_HEADER_LENGTH,
  RESPONSE_HEADER_KIND,
  RESPONSE_HEADER_LENGTH,
  RQ_CONNECTION,
  RQ_CONTENT_LENGTH,
  RQ_DROP,
  RQ_EXPECT,
  RQ_FORWARDED,
  RQ_HOST,
  RQ_IDEMPOTENCY_KEY,
  RQ_PREVIEW,
  RQ_REQUEST_ID,
  RQ_TRANSFER_ENCODING,
  RQ_UPGRADE,
  RQ_XFF,
  RS_CONNECTION,
  RS_CONTENT_LENGTH,
  RS_DROP,
  RS_KEEP_ALIVE,
  RS_REQUEST_ID,
  RS_TRANSFER_ENCODING,
} from './http-semantics.js';

export { parseDecimal };

/** Methods the fast path forwards: what Node's HTTP parser accepts, minus CONNECT. */
const PROXIED_METHODS: ReadonlySet<string> = new Set(METHODS.filter((m) => m !== 'CONNECT'));

/** Result of parseRequestHead when more bytes are needed. */
export const INCOMPLETE = 0;
/** Result of parseRequestHead when Node's HTTP server should take the request (and the connection). */
export const FALLBACK = 1;

export interface RequestHead {
  method: string;
  /** Origin-form request target as sent (path and query). */
  target: string;
  /** Offset just past the blank line that ends the head. */
  headEnd: number;
  /** Declared body length; 0 when there is none. */
  contentLength: number;
  /** Host header value ('' when absent). */
  host: string;
  /** Header lines passed upstream as they came, each ending CRLF (hop-by-hop, Host, Forwarded, X-Forwarded-*, X-Request-Id and names with '_' removed). */
  forwarded: string;
  /** X-Forwarded-For values joined with ', ' ('' when absent). */
  xff: string;
  /** The first X-Request-Id ('' when absent). */
  requestId: string;
  /** X-Grid-Preview: 1 was sent. */
  preview: boolean;
  idempotencyKey: boolean;
  /** The client asked to close the connection after this exchange. */
  close: boolean;
}

export interface ResponseHead {
  status: number;
  /** Status code and reason as sent, e.g. "200 OK". */
  statusText: string;
  headEnd: number;
  /** How the body is delimited. */
  framing: number;
  /** For FRAME_LENGTH: the body length. */
  contentLength: number;
  /** The upstream allows the connection to be reused afterwards. */
  reusable: boolean;
  /** Keep-Alive: timeout=N in ms, -1 when not given. */
  keepAliveMs: number;
  /** Header lines for the client, each ending CRLF: hop-by-hop headers and those Connection lists removed. */
  lines: string;
  hasRequestId: boolean;
}

export const FRAME_NONE = 0;
export const FRAME_LENGTH = 1;
export const FRAME_CHUNKED = 2;
/** Delimited by the upstream closing the connection. */
export const FRAME_CLOSE = 3;

/** Largest request head the fast path reads (Node's default maxHeaderSize); beyond it Node answers 431. */
export const MAX_REQUEST_HEAD = 16 * 1024;
/** Largest request body the fast path buffers before sending (nginx buffers request bodies too); larger ones stream through Node. */
export const MAX_BUFFERED_BODY = 64 * 1024;
export const MAX_RESPONSE_HEAD = 64 * 1024;

const CRLF2 = Buffer.from('\r\n\r\n');

/** Offset of the CRLFCRLF ending a head, searching from `from`; -1 when absent. */
export function findHeadEnd(buf: Buffer, from: number): number {
  const i = buf.indexOf(CRLF2, from > 3 ? from - 3 : 0);
  return i < 0 ? -1 : i + 4;
}

// Byte classes. TCHAR: RFC 9110 token characters. FIELD: bytes allowed in a
// header line between its CRLFs (visible ASCII, space, tab, obs-text).
const TCHAR = new Uint8Array(256);
const FIELD = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c);
  TCHAR[c] = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(ch) ? 1 : 0;
  FIELD[c] = c === 9 || (c >= 32 && c !== 127) ? 1 : 0;
}
/** Request header name bytes: 1 for a token character, 2 for '_' (a token character DROP_UNDERSCORE_HEADER_NAMES drops), 0 otherwise. */
const NAME = new Uint8Array(256);
for (let c = 0; c < 256; c++) NAME[c] = c === 95 ? (DROP_UNDERSCORE_HEADER_NAMES ? 2 : 1) : TCHAR[c];
/** Request-target characters: visible ASCII, no space, no obs-text (what llhttp accepts in strict mode, minus '#'). */
const TARGET = new Uint8Array(256);
for (let c = 33; c < 127; c++) TARGET[c] = c === 35 /* # */ ? 0 : 1;

/**
 * The Content-Length in s[from, to) (the bytes after the colon), -1 when it is
 * not plain digits. Leading OWS and trailing spaces are allowed, a trailing tab
 * is not: llhttp refuses "5\t", so a value it refuses is never framed here.
 */
function lengthField(s: string, from: number, to: number): number {
  let a = from;
  while (a < to && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  let b = to;
  while (b > a && s.charCodeAt(b - 1) === 32) b--;
  return parseDecimal(s.slice(a, b));
}

function hasTab(s: string, from: number, to: number): boolean {
  const t = s.indexOf('\t', from);
  return t >= 0 && t < to;
}

/** Optional whitespace around a field value removed (RFC 9110 5.5). */
function trimOws(s: string, from: number): string {
  let a = from;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return s.slice(a, b);
}

/**
 * Whether an unfinished head could still become one the fast path serves: a
 * method token first, then only bytes a head may hold. Junk (bare LF line ends,
 * a TLS handshake, binary) goes to Node at once, which answers 400, rather than
 * waiting for a blank line that never comes.
 */
function plausiblePrefix(buf: Buffer): boolean {
  if (buf.length === 0) return true;
  if (TCHAR[buf[0]] !== 1) return false;
  const n = buf.length;
  for (let i = 1; i < n; i++) {
    const c = buf[i];
    if (FIELD[c] === 1) continue;
    if (c === 13 && (i + 1 === n || buf[i + 1] === 10)) {
      i++;
      continue;
    }
    return false;
  }
  return true;
}

// States of scanHeadBytes: how much of the CRLFCRLF ending a head the bytes so far end with.
/** Nothing (or the last byte is a plain head byte). */
export const HS_NONE = 0;
export const HS_CR = 1;
export const HS_CRLF = 2;
export const HS_CRLFCR = 3;
/** scanHeadBytes: the head ends in these bytes. */
export const HS_END = 4;
/** scanHeadBytes: a byte no head may hold (a bare CR or LF, a control byte): this can never become a head the fast path serves. */
export const HS_INVALID = 5;

/**
 * Scans the next bytes of an unfinished head, `state` being what the bytes
 * before them left (HS_NONE at the start): the new state, HS_END or
 * HS_INVALID. Each byte is looked at once however the head is cut, so a head
 * dripped a byte at a time costs what one that came whole does.
 */
export function scanHeadBytes(buf: Buffer, from: number, state: number): number {
  for (let i = from; i < buf.length; i++) {
    const c = buf[i];
    if (c === 13) {
      if (state === HS_CR || state === HS_CRLFCR) return HS_INVALID;
      state = state === HS_CRLF ? HS_CRLFCR : HS_CR;
    } else if (c === 10) {
      if (state === HS_CR) state = HS_CRLF;
      else if (state === HS_CRLFCR) return HS_END;
      else return HS_INVALID;
    } else if (FIELD[c] === 1 && state !== HS_CR && state !== HS_CRLFCR) state = HS_NONE;
    else return HS_INVALID;
  }
  return state;
}

const HTTP1 = Buffer.from('HTTP/1.');

/**
 * Whether an unfinished response head (buf[start..]) could still become a
 * valid one: "HTTP/1.x " so far, and no bare LF or CR or control byte. A pod
 * that ends lines with LF alone would otherwise be waited on until it closes or
 * times out; it is answered 502 at once, as the node path does. `checked` is
 * how far an earlier call looked (the bytes from there on are new).
 */
export function responseHeadPrefixOk(buf: Buffer, start: number, checked: number): boolean {
  const n = buf.length;
  for (let i = start; i < n && i < start + 9; i++) {
    const k = i - start;
    const c = buf[i];
    if (k < 7 ? c !== HTTP1[k] : k === 7 ? c !== 48 && c !== 49 : c !== 32) return false;
  }
  // The old bytes passed; their last ones decide what the first new byte may be (LF after a CR, only).
  const from = checked > start ? checked : start;
  let state = HS_NONE;
  if (from > start) {
    const p = buf[from - 1];
    if (p === 13) state = from - 3 >= start && buf[from - 2] === 10 && buf[from - 3] === 13 ? HS_CRLFCR : HS_CR;
    else if (p === 10) state = HS_CRLF;
  }
  return scanHeadBytes(buf, from, state) !== HS_INVALID;
}

/** Checks every byte of a head line-by-line: token names, clean values, CRLF only as a line end. */
function headBytesOk(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (FIELD[c] === 1) continue;
    if (c === 13 && buf[i + 1] === 10) {
      i++;
      continue;
    }
    return false;
  }
  return true;
}

/**
 * The request at the start of `buf`: INCOMPLETE (need more bytes), FALLBACK
 * (Node's server must take it), or the parsed head. `headEnd` is the result of
 * findHeadEnd on the same buffer (or -1).
 */
export function parseRequestHead(buf: Buffer, headEnd: number): RequestHead | typeof INCOMPLETE | typeof FALLBACK {
  if (headEnd < 0) return buf.length > MAX_REQUEST_HEAD || !plausiblePrefix(buf) ? FALLBACK : INCOMPLETE;
  if (headEnd > MAX_REQUEST_HEAD) return FALLBACK;
  // Request line: METHOD SP origin-form SP HTTP/1.1 CRLF, nothing else.
  let i = 0;
  while (TCHAR[buf[i]] === 1) i++;
  if (i === 0 || buf[i] !== 32 || buf[i + 1] !== 47 /* / */) return FALLBACK;
  const methodEnd = i;
  i++;
  const targetStart = i;
  while (TARGET[buf[i]] === 1) i++;
  const targetEnd = i;
  // "HTTP/1.1\r\n" after one space.
  if (
    buf[i] !== 32 ||
    buf[i + 1] !== 72 ||
    buf[i + 2] !== 84 ||
    buf[i + 3] !== 84 ||
    buf[i + 4] !== 80 ||
    buf[i + 5] !== 47 ||
    buf[i + 6] !== 49 ||
    buf[i + 7] !== 46 ||
    buf[i + 8] !== 49 ||
    buf[i + 9] !== 13 ||
    buf[i + 10] !== 10
  ) {
    return FALLBACK;
  }
  const linesStart = i + 11;
  if (!headBytesOk(buf, linesStart, headEnd)) return FALLBACK;
  const head = buf.toString('latin1', 0, headEnd);
  // Only methods Node's parser knows (it refuses the others with 400), and never CONNECT (a tunnel).
  const method = head.slice(0, methodEnd);
  if (!PROXIED_METHODS.has(method)) return FALLBACK;

  let forwarded = '';
  let host = '';
  let hosts = 0;
  let xff = '';
  let requestId = '';
  let contentLength = -1;
  let preview = false;
  let previews = 0;
  let idempotencyKey = false;
  let close = false;
  let lines = 0;
  let pos = linesStart;
  const last = headEnd - 2;
  while (pos < last) {
    // Node would keep a prefix of a long list (maxHeadersCount): the whole request goes to it, to be refused.
    if (++lines > MAX_REQUEST_HEADER_LINES) return FALLBACK;
    const eol = head.indexOf('\r\n', pos);
    const colon = head.indexOf(':', pos);
    // obs-fold (a line starting with whitespace) and lines without a colon or with an empty name go to Node.
    if (colon <= pos || colon > eol) return FALLBACK;
    let nameClass = 1;
    for (let k = pos; k < colon; k++) {
      const c = NAME[head.charCodeAt(k)];
      if (c === 0) return FALLBACK;
      nameClass |= c;
    }
    if (nameClass !== 1) {
      // A name with '_': dropped (see DROP_UNDERSCORE_HEADER_NAMES).
      pos = eol + 2;
      continue;
    }
    const nameLength = colon - pos;
    const kind = REQUEST_HEADER_LENGTH[nameLength] === 1 ? REQUEST_HEADER_KIND.get(head.slice(pos, colon).toLowerCase()) : undefined;
    if (kind === undefined) {
      forwarded += head.slice(pos, eol + 2);
    } else {
      const value = trimOws(head.slice(colon + 1, eol), 0);
      switch (kind) {
        case RQ_HOST:
          host = value;
          hosts++;
          break;
        case RQ_CONNECTION:
          // llhttp does not see "close\t" as close: a tab leaves the connection's fate to Node.
          if (hasTab(head, colon, eol)) return FALLBACK;
          for (const token of value.split(',')) {
            const t = trimOws(token, 0).toLowerCase();
            if (t === 'close') close = true;
            else if (t !== 'keep-alive' && t !== '') return FALLBACK;
          }
          break;
        case RQ_DROP:
        case RQ_FORWARDED:
          break;
        case RQ_TRANSFER_ENCODING:
        case RQ_EXPECT:
        case RQ_UPGRADE:
          return FALLBACK;
        case RQ_XFF:
          xff = xff === '' ? value : xff + ', ' + value;
          break;
        case RQ_REQUEST_ID:
          if (requestId === '') requestId = value;
          break;
        case RQ_CONTENT_LENGTH: {
          const n = lengthField(head, colon + 1, eol);
          if (n < 0 || contentLength >= 0) return FALLBACK;
          contentLength = n;
          forwarded += head.slice(pos, eol + 2);
          break;
        }
        case RQ_IDEMPOTENCY_KEY:
          idempotencyKey = true;
          forwarded += head.slice(pos, eol + 2);
          break;
        case RQ_PREVIEW:
          // Repeated, it is a list (as Node joins it), which is not "1".
          preview = ++previews === 1 && value === '1';
          forwarded += head.slice(pos, eol + 2);
          break;
      }
    }
    pos = eol + 2;
  }
  // HTTP/1.1 requires exactly one Host (RFC 9112 3.2); Node decides about the others.
  if (hosts !== 1) return FALLBACK;
  if (contentLength > MAX_BUFFERED_BODY) return FALLBACK;
  return {
    method,
    target: head.slice(targetStart, targetEnd),
    headEnd,
    contentLength: contentLength < 0 ? 0 : contentLength,
    host,
    forwarded,
    xff,
    requestId,
    preview,
    idempotencyKey,
    close,
  };
}

/** Error from parseResponseHead: the upstream sent something that is not an HTTP/1.1 response. */
export class UpstreamProtocolError extends Error {
  readonly code = 'UPSTREAM_PROTOCOL';
}

/** Parses a Keep-Alive header's timeout parameter (seconds) into ms; -1 when absent. */
function keepAliveTimeout(value: string): number {
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim().toLowerCase() !== 'timeout') continue;
    const n = parseDecimal(part.slice(eq + 1).trim());
    if (n >= 0) return n * 1000;
  }
  return -1;
}

/**
 * The response head in `buf` (ending at `headEnd`, from findHeadEnd). `head`
 * tells whether the request was HEAD (no body whatever the headers say).
 * Throws UpstreamProtocolError for malformed responses.
 */
export function parseResponseHead(buf: Buffer, headEnd: number, head: boolean): ResponseHead {
  // "HTTP/1.x NNN"
  if (
    buf[0] !== 72 ||
    buf[1] !== 84 ||
    buf[2] !== 84 ||
    buf[3] !== 80 ||
    buf[4] !== 47 ||
    buf[5] !== 49 ||
    buf[6] !== 46 ||
    (buf[7] !== 49 && buf[7] !== 48) ||
    buf[8] !== 32
  ) {
    throw new UpstreamProtocolError('response does not start with HTTP/1.x');
  }
  const http10 = buf[7] === 48;
  const d0 = buf[9] - 48;
  const d1 = buf[10] - 48;
  const d2 = buf[11] - 48;
  if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9 || (buf[12] !== 32 && buf[12] !== 13)) {
    throw new UpstreamProtocolError('invalid status code');
  }
  const status = d0 * 100 + d1 * 10 + d2;
  // RFC 9110 8.6 / RFC 9112 6.1: 1xx and 204 have no body and must not declare one; the client gets them without.
  const noFraming = status < 200 || status === 204;
  if (!headBytesOk(buf, 9, headEnd)) throw new UpstreamProtocolError('invalid bytes in the response head');
  const text = buf.toString('latin1', 0, headEnd);
  const statusEol = text.indexOf('\r\n', 9);
  const statusText = text.slice(9, statusEol);

  let lines = '';
  let contentLength = -1;
  let chunked = false;
  let transferEncoding = false;
  let hasRequestId = false;
  let sawClose = false;
  let sawKeepAlive = false;
  let keepAliveMs = -1;
  let listed: string[] | undefined;
  let pos = statusEol + 2;
  const last = headEnd - 2;
  while (pos < last) {
    const eol = text.indexOf('\r\n', pos);
    const colon = text.indexOf(':', pos);
    if (colon <= pos || colon > eol) throw new UpstreamProtocolError('malformed response header line');
    for (let k = pos; k < colon; k++) if (TCHAR[text.charCodeAt(k)] !== 1) throw new UpstreamProtocolError('invalid response header name');
    const kind = RESPONSE_HEADER_LENGTH[colon - pos] === 1 ? RESPONSE_HEADER_KIND.get(text.slice(pos, colon).toLowerCase()) : undefined;
    if (kind === undefined) {
      lines += text.slice(pos, eol + 2);
    } else {
      const value = trimOws(text.slice(colon + 1, eol), 0);
      switch (kind) {
        case RS_CONNECTION:
          // llhttp does not see "keep-alive\t" as keep-alive: with a tab, the connection is not reused.
          if (hasTab(text, colon, eol)) sawClose = true;
          for (const token of value.split(',')) {
            const t = trimOws(token, 0).toLowerCase();
            if (t === 'close') sawClose = true;
            else if (t === 'keep-alive') sawKeepAlive = true;
            // The framing headers stay whatever Connection lists: the body is passed on with its framing.
            else if (t !== '' && t !== 'content-length' && t !== 'transfer-encoding') (listed ??= []).push(t);
          }
          break;
        case RS_KEEP_ALIVE:
          keepAliveMs = keepAliveTimeout(value);
          break;
        case RS_DROP:
          break;
        case RS_TRANSFER_ENCODING: {
          transferEncoding = true;
          chunked = finalCodingChunked(text, colon + 1, eol);
          if (!noFraming) lines += text.slice(pos, eol + 2);
          break;
        }
        case RS_CONTENT_LENGTH: {
          const n = lengthField(text, colon + 1, eol);
          if (n < 0) throw new UpstreamProtocolError('invalid Content-Length');
          // Even an identical repeat: llhttp (and so Node's client) refuses it.
          if (contentLength >= 0) throw new UpstreamProtocolError('repeated Content-Length');
          if (!noFraming) lines += text.slice(pos, eol + 2);
          contentLength = n;
          break;
        }
        case RS_REQUEST_ID:
          hasRequestId = true;
          lines += text.slice(pos, eol + 2);
          break;
      }
    }
    pos = eol + 2;
  }
  if (listed !== undefined) lines = dropListed(lines, listed);
  // HTTP/1.0 connections close unless kept alive explicitly; close wins over keep-alive.
  const connectionClose = sawClose || (http10 && !sawKeepAlive);
  // RFC 9112 6.3 lets Transfer-Encoding override Content-Length, but the pair is
  // a smuggling tell and llhttp refuses it whatever the status: so do we.
  if (transferEncoding && contentLength >= 0) throw new UpstreamProtocolError('both Transfer-Encoding and Content-Length');
  // The final response would follow on a connection llhttp already considers closed.
  if (status < 200 && connectionClose) throw new UpstreamProtocolError('informational response with Connection: close');

  // A response that must not have a body but declares one (HEAD, 204, 304 with a
  // length or a coding) may still send it, late: its connection is never reused,
  // or those bytes would become the next request's response.
  const mayTrail = status >= 200 && (head || noFraming || status === 304) && (contentLength > 0 || transferEncoding);
  // RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing: read it as chunked, then close.
  const faulty = http10 && transferEncoding;
  let framing: number;
  if (head || noFraming || status === 304) framing = FRAME_NONE;
  else if (transferEncoding) {
    // A response whose final coding is not chunked is delimited by the connection closing (RFC 9112 6.3).
    framing = chunked ? FRAME_CHUNKED : FRAME_CLOSE;
  } else if (contentLength >= 0) framing = FRAME_LENGTH;
  else framing = FRAME_CLOSE;
  return {
    status,
    statusText,
    headEnd,
    framing,
    contentLength: contentLength < 0 ? 0 : contentLength,
    reusable: !connectionClose && framing !== FRAME_CLOSE && !mayTrail && !faulty,
    keepAliveMs,
    lines,
    hasRequestId,
  };
}

/**
 * Whether the Transfer-Encoding value in s[from, to) ends in chunked. Throws
 * for values llhttp reads differently from the list they spell: an empty
 * element (an empty line after "chunked" leaves llhttp's chunked in force) or
 * a tab (llhttp does not see "chunked\t" as chunked). Elements are trimmed of
 * SP and HTAB only: String.trim also strips 0xa0, and llhttp does not see
 * "chunked\xa0" as chunked.
 */
function finalCodingChunked(s: string, from: number, to: number): boolean {
  const raw = s.slice(from, to);
  if (raw.includes('\t')) throw new UpstreamProtocolError('tab in Transfer-Encoding');
  const codings = raw.split(',');
  for (const c of codings) if (trimOws(c, 0) === '') throw new UpstreamProtocolError('empty Transfer-Encoding element');
  return trimOws(codings[codings.length - 1], 0).toLowerCase() === 'chunked';
}

/** Removes the header lines whose (lower-cased) names are in `names`. */
function dropListed(lines: string, names: string[]): string {
  let out = '';
  let pos = 0;
  while (pos < lines.length) {
    const eol = lines.indexOf('\r\n', pos);
    const colon = lines.indexOf(':', pos);
    if (!names.includes(lines.slice(pos, colon).toLowerCase())) out += lines.slice(pos, eol + 2);
    pos = eol + 2;
  }
  return out;
}

// Chunked body scanner states.
const C_SIZE = 0;
const C_EXT = 1;
const C_SIZE_LF = 2;
const C_DATA = 3;
const C_DATA_CR = 4;
const C_DATA_LF = 5;
const C_TRAILER_START = 6;
const C_TRAILER = 7;
const C_TRAILER_LF = 8;
const C_END_LF = 9;
const C_DONE = 10;
const C_EXT_NAME = 11;
const C_EXT_VALUE_START = 12;
const C_EXT_VALUE = 13;
const C_EXT_QUOTED = 14;
const C_EXT_QUOTED_PAIR = 15;
const C_EXT_QUOTED_END = 16;
const C_TRAILER_NAME = 17;

/** qdtext (RFC 9110 5.6.4): HTAB, SP, visible ASCII but '"' and backslash, obs-text. */
const QDTEXT = new Uint8Array(256);
for (let c = 0; c < 256; c++) QDTEXT[c] = c === 9 || c === 32 || (c >= 33 && c !== 34 && c !== 92 && c !== 127) ? 1 : 0;

/**
 * Finds where a chunked body ends without decoding it (the gateway passes the
 * chunked framing through unchanged). Feed it the body bytes in order.
 *
 * The grammar is llhttp's strict one or narrower, since the client parses these
 * bytes again: no whitespace around the size or inside extensions
 * (`;name[=token|"quoted"]`), trailer lines `name: value`.
 *
 * and no framing header (Content-Length, Transfer-Encoding) in the trailer.
 *
 * Trailer lines are checked but not forwarded, as on the node path (undici's
 * trailers are not passed on) and in nginx's proxy: `keep` says where this
 * buffer's forwarded bytes stop, and `endsTrailer` that the forwarded body needs
 * the final CRLF written after them.
 */
export class ChunkedScanner {
  private state = C_SIZE;
  private size = 0;
  private digits = 0;
  private remaining = 0;
  private lastSize = -1;
  /** The current trailer field's name (capped: only short names matter). */
  private trailerName = '';
  /** A trailer line began: from there on nothing more of the body is forwarded but its final CRLF. */
  private trailing = false;
  /** After scan(): forward the scanned buffer's bytes up to here (not past where its trailer lines began). */
  keep = 0;

  /**
   * Scans buf[from..]: the offset just past the body's end, -1 when the body
   * continues past this buffer. Throws UpstreamProtocolError on bad framing.
   */
  scan(buf: Buffer, from: number): number {
    const end = this.scanFrom(buf, from);
    if (!this.trailing) this.keep = end >= 0 ? end : buf.length;
    return end;
  }

  /** The body ended after trailer lines, which were not forwarded: write CRLF after the forwarded bytes to end it. */
  get endsTrailer(): boolean {
    return this.trailing && this.state === C_DONE;
  }

  private scanFrom(buf: Buffer, from: number): number {
    if (this.trailing) this.keep = from;
    let i = from;
    const n = buf.length;
    while (i < n) {
      switch (this.state) {
        case C_DATA: {
          const take = Math.min(this.remaining, n - i);
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = C_DATA_CR;
          continue;
        }
        case C_SIZE: {
          const c = buf[i];
          const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (v >= 0) {
            if (++this.digits > 12) throw new UpstreamProtocolError('chunk size too large');
            this.size = this.size * 16 + v;
          } else if (this.digits === 0) {
            throw new UpstreamProtocolError('invalid chunk size');
          } else if (c === 13) {
            this.state = C_SIZE_LF;
          } else if (c === 59 /* ; */) {
            this.state = C_EXT;
          } else {
            // Whitespace too: RFC 9112 allows BWS before ';', llhttp's strict mode does not.
            throw new UpstreamProtocolError('invalid chunk size');
          }
          break;
        }
        case C_EXT:
          if (TCHAR[buf[i]] !== 1) throw new UpstreamProtocolError('invalid chunk extension name');
          this.state = C_EXT_NAME;
          break;
        case C_EXT_NAME:
        case C_EXT_VALUE: {
          const c = buf[i];
          if (TCHAR[c] === 1) break;
          if (c === 59) this.state = C_EXT;
          else if (c === 13) this.state = C_SIZE_LF;
          else if (c === 61 /* = */ && this.state === C_EXT_NAME) this.state = C_EXT_VALUE_START;
          else throw new UpstreamProtocolError('invalid chunk extension');
          break;
        }
        case C_EXT_VALUE_START: {
          const c = buf[i];
          if (c === 34 /* " */) this.state = C_EXT_QUOTED;
          else if (TCHAR[c] === 1) this.state = C_EXT_VALUE;
          else throw new UpstreamProtocolError('invalid chunk extension value');
          break;
        }
        case C_EXT_QUOTED: {
          const c = buf[i];
          if (c === 34) this.state = C_EXT_QUOTED_END;
          else if (c === 92 /* \ */) this.state = C_EXT_QUOTED_PAIR;
          else if (QDTEXT[c] !== 1) throw new UpstreamProtocolError('invalid chunk extension value');
          break;
        }
        case C_EXT_QUOTED_PAIR:
          if (FIELD[buf[i]] !== 1) throw new UpstreamProtocolError('invalid chunk extension value');
          this.state = C_EXT_QUOTED;
          break;
        case C_EXT_QUOTED_END: {
          const c = buf[i];
          if (c === 59) this.state = C_EXT;
          else if (c === 13) this.state = C_SIZE_LF;
          else throw new UpstreamProtocolError('invalid chunk extension');
          break;
        }
        case C_SIZE_LF:
          if (buf[i] !== 10) throw new UpstreamProtocolError('chunk size line not ended by CRLF');
          this.lastSize = this.size;
          this.remaining = this.size;
          this.size = 0;
          this.digits = 0;
          this.state = this.lastSize === 0 ? C_TRAILER_START : C_DATA;
          break;
        case C_DATA_CR:
          if (buf[i] !== 13) throw new UpstreamProtocolError('chunk data not followed by CRLF');
          this.state = C_DATA_LF;
          break;
        case C_DATA_LF:
          if (buf[i] !== 10) throw new UpstreamProtocolError('chunk data not followed by CRLF');
          this.state = C_SIZE;
          break;
        case C_TRAILER_START: {
          const c = buf[i];
          if (c === 13) this.state = C_END_LF;
          else if (TCHAR[c] === 1) {
            if (!this.trailing) {
              this.trailing = true;
              this.keep = i;
            }
            this.trailerName = String.fromCharCode(c);
            this.state = C_TRAILER_NAME;
          } else throw new UpstreamProtocolError('invalid trailer');
          break;
        }
        case C_TRAILER_NAME: {
          const c = buf[i];
          if (TCHAR[c] === 1) {
            if (this.trailerName.length < 20) this.trailerName += String.fromCharCode(c);
          } else if (c === 58 /* : */) {
            const name = this.trailerName.toLowerCase();
            // llhttp refuses a framing header in a trailer (so does the node path's undici): a smuggling attempt, not dropped quietly.
            if (name === 'content-length' || name === 'transfer-encoding') throw new UpstreamProtocolError(`${name} in the trailer`);
            this.state = C_TRAILER;
          } else throw new UpstreamProtocolError('invalid trailer');
          break;
        }
        case C_TRAILER:
          if (buf[i] === 13) this.state = C_TRAILER_LF;
          else if (FIELD[buf[i]] !== 1) throw new UpstreamProtocolError('invalid trailer');
          break;
        case C_TRAILER_LF:
          if (buf[i] !== 10) throw new UpstreamProtocolError('trailer line not ended by CRLF');
          this.state = C_TRAILER_START;
          break;
        case C_END_LF:
          if (buf[i] !== 10) throw new UpstreamProtocolError('chunked body not ended by CRLF');
          this.state = C_DONE;
          return i + 1;
        default:
          throw new UpstreamProtocolError('data after the end of a chunked body');
      }
      i++;
    }
    return -1;
  }

  get done(): boolean {
    return this.state === C_DONE;
  }
}
