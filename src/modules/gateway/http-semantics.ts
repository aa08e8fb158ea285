// HTTP semantics both gateway paths share: the undici path behind Node's http
// server (node-path.ts) and the raw-socket fast path (wire.ts, wire-*.ts). Which
// headers are hop-by-hop, how a Content-Length reads, which ways an upstream
// attempt can fail and what the gateway answers then are decided here once, so
// the two paths cannot drift apart. Tables are built once at load; the hot
// loops only index them.
import { STATUS_CODES } from 'node:http';

/**
 * Hop-by-hop headers (RFC 9110 7.6.1, with the obsolete Proxy-Connection and the
 * proxy auth pair): they describe one connection and are never forwarded as
 * they came. Transfer-Encoding is one too, but each path frames bodies its own
 * way, so it has a kind of its own in the tables below.
 */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'upgrade'] as const;

// Request header kinds; names not in REQUEST_HEADER_KIND are forwarded as they came.
/** Dropped: hop-by-hop, or set by the gateway itself (X-Forwarded-Proto, X-Forwarded-Host). */
export const RQ_DROP = 1;
export const RQ_CONNECTION = 2;
export const RQ_HOST = 3;
export const RQ_XFF = 4;
export const RQ_REQUEST_ID = 5;
export const RQ_CONTENT_LENGTH = 6;
export const RQ_TRANSFER_ENCODING = 7;
export const RQ_EXPECT = 8;
export const RQ_UPGRADE = 9;
export const RQ_IDEMPOTENCY_KEY = 10;
export const RQ_PREVIEW = 11;
/**
 * Forwarded (RFC 7239): a client's own is dropped, and the gateway sends its
 * own (forwardedHeaderValue) as it rewrites X-Forwarded-*: a pod that trusts
 * it must only ever see what the gateway saw.
 */
export const RQ_FORWARDED = 12;

/** Kind of each request header name (lower-case) the gateway acts on; later entries override the hop-by-hop default. */
export const REQUEST_HEADER_KIND: ReadonlyMap<string, number> = new Map([
  ...HOP_BY_HOP.map((name): [string, number] => [name, RQ_DROP]),
  ['connection', RQ_CONNECTION],
  ['upgrade', RQ_UPGRADE],
  ['transfer-encoding', RQ_TRANSFER_ENCODING],
  ['expect', RQ_EXPECT],
  ['host', RQ_HOST],
  ['x-forwarded-for', RQ_XFF],
  ['x-forwarded-proto', RQ_DROP],
  ['x-forwarded-host', RQ_DROP],
  ['x-request-id', RQ_REQUEST_ID],
  ['content-length', RQ_CONTENT_LENGTH],
  ['idempotency-key', RQ_IDEMPOTENCY_KEY],
  ['x-grid-preview', RQ_PREVIEW],
  ['forwarded', RQ_FORWARDED],
]);
/** 1 at the lengths of the names in REQUEST_HEADER_KIND: other names are forwarded without being lower-cased. */
export const REQUEST_HEADER_LENGTH: Uint8Array = lengthTable(REQUEST_HEADER_KIND.keys());

/**
 * Request header names with '_' are dropped, as nginx does by default
 * (underscores_in_headers off): CGI/WSGI back ends turn '-' and '_' alike into
 * '_' (HTTP_X_FORWARDED_FOR), so `X_Forwarded_For` would reach them as the
 * header the gateway rewrites.
 */
export const DROP_UNDERSCORE_HEADER_NAMES = true;

/** Whether a request header name is one DROP_UNDERSCORE_HEADER_NAMES drops. */
export function isUnderscoreHeaderName(name: string): boolean {
  return name.includes('_');
}

/**
 * Most request header lines a request may carry. Node's server keeps 2,000
 * (maxHeadersCount) and silently drops the rest, which made a Content-Length
 * past the cut vanish; browsers send about 20, and nginx's default buffers
 * (4 x 8 KiB) hold about 100 typical lines. Above this the fast path hands the
 * request to the node path, which refuses it with 431; nothing truncated is
 * ever forwarded.
 */
/**
 * On Grid's main port a pod's pages share an origin with the dashboard and the API. Sent with
 * every proxied response there, this puts the page in a unique opaque origin: its scripts run, but
 * they cannot read the dashboard's storage, register a service worker over the whole site, or call
 * the API as the same origin (their requests carry Origin: null, which mutations refuse). The
 * dedicated gateway port is an origin of its own and does not need it.
 */
export const MAIN_PORT_SANDBOX = 'sandbox allow-scripts allow-forms allow-popups allow-popups-to-escape-sandbox allow-modals allow-downloads';
export const MAIN_PORT_SANDBOX_LINE = 'content-security-policy: ' + MAIN_PORT_SANDBOX + '\r\n';

export const MAX_REQUEST_HEADER_LINES = 100;

/** Whether a value may be written into an HTTP head as it is: no CR, LF, NUL or other control byte (HTAB aside), nothing outside latin1. */
export function isSafeHeaderValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127 || c > 255) return false;
  }
  return true;
}

const FORWARDED_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** An RFC 7239 forwarded-pair value: a token as it is, anything else quoted (with '"' and '\\' escaped). */
function forwardedValue(value: string): string {
  return FORWARDED_TOKEN.test(value) ? value : '"' + value.replace(/["\\]/g, '\\$&') + '"';
}

/** The `for=` value of a Forwarded header: an IPv6 address in brackets and quotes (RFC 7239 6). */
export function forwardedFor(remoteAddress: string): string {
  return remoteAddress.includes(':') ? '"[' + remoteAddress + ']"' : forwardedValue(remoteAddress === '' ? 'unknown' : remoteAddress);
}

/** The Forwarded header value the gateway sends upstream; `forValue` from forwardedFor, `host` '' when the request had none. */
export function forwardedHeaderValue(forValue: string, host: string): string {
  return 'for=' + forValue + ';proto=http' + (host === '' ? '' : ';host=' + forwardedValue(host));
}

// Response header kinds; names not in RESPONSE_HEADER_KIND go to the client as they came.
export const RS_DROP = 1;
export const RS_CONNECTION = 2;
export const RS_KEEP_ALIVE = 3;
export const RS_TRANSFER_ENCODING = 4;
export const RS_CONTENT_LENGTH = 5;
export const RS_REQUEST_ID = 6;

/** Kind of each response header name (lower-case) the gateway acts on; later entries override the hop-by-hop default. */
export const RESPONSE_HEADER_KIND: ReadonlyMap<string, number> = new Map([
  ...HOP_BY_HOP.map((name): [string, number] => [name, RS_DROP]),
  ['connection', RS_CONNECTION],
  ['keep-alive', RS_KEEP_ALIVE],
  ['transfer-encoding', RS_TRANSFER_ENCODING],
  ['content-length', RS_CONTENT_LENGTH],
  ['x-request-id', RS_REQUEST_ID],
]);
/** 1 at the lengths of the names in RESPONSE_HEADER_KIND. */
export const RESPONSE_HEADER_LENGTH: Uint8Array = lengthTable(RESPONSE_HEADER_KIND.keys());

function lengthTable(names: Iterable<string>): Uint8Array {
  const t = new Uint8Array(256);
  for (const n of names) t[n.length] = 1;
  return t;
}

/**
 * A Content-Length (or other decimal field) value as a number; -1 unless it is
 * 1 to 15 digits and nothing else (RFC 9110 8.6: no sign, no spaces, no list).
 */
export function parseDecimal(s: string): number {
  if (s.length === 0 || s.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

// How one upstream attempt failed. Ordered: from F_TIMEOUT on, the failure counts against the pod.
/** The client went away: never the pod's fault. */
export const F_CLIENT_GONE = 0;
/** The request itself could not be sent as it is (node path: undici refused it). */
export const F_BAD_REQUEST = 1;
/** Grid's own upstream pool was closed or destroyed under the request. */
export const F_LOCAL = 2;
export const F_TIMEOUT = 3;
/** Refused, reset or unreachable: safe to retry an idempotent request on another pod. */
export const F_CONNECT = 4;
/** Anything else the upstream did wrong (e.g. a malformed response). */
export const F_UPSTREAM = 5;

/** Statuses the gateway answers with itself, and their reason phrases (also the `error` field of the body). */
const REASON = { 400: 'Bad Request', 404: 'Not Found', 408: 'Request Timeout', 431: 'Request Header Fields Too Large', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' } as const;
export type GatewayErrorStatus = keyof typeof REASON;

export function reasonPhrase(status: GatewayErrorStatus): string {
  return REASON[status];
}

/** The JSON body of an answer of the gateway's own, in the shape Nest's errors have. */
export function errorBody(status: GatewayErrorStatus, message: string): string {
  return JSON.stringify({ statusCode: status, error: REASON[status], message });
}

/** An abort a fault experiment injects: any status 400..599, the body in the shape of the gateway's own answers. */
export interface FaultAnswer {
  status: number;
  reason: string;
  body: string;
}

export function faultAnswer(status: number, message: string): FaultAnswer {
  const reason = STATUS_CODES[status] ?? (status < 500 ? 'Client Error' : 'Server Error');
  return { status, reason, body: JSON.stringify({ statusCode: status, error: reason, message }) };
}

/** Content type of the answers above (and of the answers for simulated pods). */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** The 404 message for a service name the gateway has no route for. */
export function serviceNotFound(service: string): string {
  return service === '' ? 'no service named in the request: use /gateway/<service>/<path> (or /<service>/<path> and Host: <service>.<domain> on the dedicated listener)' : `service '${service}' not found`;
}

/** The 503 message for a service with no Ready pod. */
export function noReadyPods(service: string): string {
  return `no ready pods for service '${service}'`;
}

/** The answer to an attempt that failed before any response byte came: 504 after a timeout, 502 otherwise. */
export function upstreamFailure(kind: number, service: string, podId: string, code: string, retried: boolean, timeoutMs: number): { status: 502 | 504; message: string } {
  if (kind === F_TIMEOUT) return { status: 504, message: `pod '${podId}' of service '${service}' sent no response within ${timeoutMs} ms` };
  return { status: 502, message: `upstream error from pod '${podId}' of service '${service}': ${code}${retried ? ' (after a retry)' : ''}` };
}

