// What the gateway does with a client connection that is not being a good client:
// the limits (after Envoy's edge recommendations, nginx and Node's server) and the
// one decision the fast path's sweep makes per connection. No I/O: wire-proxy.ts
// feeds it what the socket looks like, node-path.ts and main.ts use the limits.

// The request timeout (a head and body must arrive within it of their first byte, else 408) is http-semantics' REQUEST_TIMEOUT_MS.
/**
 * A connection with no request in progress (including one that never sent a byte) is closed after
 * this long: Grid's keep-alive, longer than typical client pools keep theirs (60 s), so a pool never
 * sends on a connection Grid is closing.
 */
export const CLIENT_IDLE_TIMEOUT_MS = 65_000;
/**
 * A response the client does not read: once the socket's send buffer is full, the client
 * must take some of it within this long or the connection is cut (nginx's send_timeout, 60 s;
 * Envoy's stream_idle_timeout does the same after 5 min). Meanwhile the pod's connection is
 * paused, so Grid holds at most one read (64 KiB) plus the socket buffers per such client.
 */
export const CLIENT_SEND_TIMEOUT_MS = 60_000;
/**
 * Connections one listener keeps open (Envoy's overload manager, global_downstream_max_connections).
 * A connection over it is closed as it is accepted; open ones keep being served. Below `ulimit -n`
 * so that the pods' connections still find file descriptors.
 */
export const MAX_CLIENT_CONNECTIONS = 10_000;

export interface ClientLimits {
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  sendTimeoutMs: number;
}

/** What the sweep saw of one fast-path client connection. Times are performance.now() milliseconds; 0 = not so. */
export interface ClientConnView {
  /** A request is being proxied (its own upstream timeouts apply). */
  inFlight: boolean;
  /** When the first byte of a request still arriving came. */
  headSince: number;
  /** When the last exchange ended (or the connection was accepted). */
  lastActive: number;
  /** Bytes written to the socket and not yet taken by the kernel. */
  unsent: number;
  /** Since when the socket's send buffer has been full without a 'drain'. */
  stalledSince: number;
}

export const KEEP = 0;
export const REQUEST_TIMED_OUT = 1;
export const IDLE_TIMED_OUT = 2;
export const SEND_TIMED_OUT = 3;
export type ClientVerdict = typeof KEEP | typeof REQUEST_TIMED_OUT | typeof IDLE_TIMED_OUT | typeof SEND_TIMED_OUT;

/**
 * KEEP, or why the connection ends now: a request arriving too slowly (408 and close), an idle
 * connection (closed), or a client that stopped reading what Grid sends (cut; whatever was
 * in flight is cancelled upstream). A stalled client is cut whatever else is going on: it cannot
 * read a 408 either.
 */
export function clientVerdict(c: ClientConnView, limits: ClientLimits, now: number): ClientVerdict {
  if (c.stalledSince > 0 && now - c.stalledSince > limits.sendTimeoutMs) return SEND_TIMED_OUT;
  if (c.inFlight) return KEEP;
  if (c.headSince > 0) return now - c.headSince > limits.requestTimeoutMs ? REQUEST_TIMED_OUT : KEEP;
  if (c.unsent === 0 && now - c.lastActive > limits.idleTimeoutMs) return IDLE_TIMED_OUT;
  return KEEP;
}
