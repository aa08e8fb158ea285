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
 * Connections one listener keeps open (Envoy's global_downstream_max_connections). At the cap a
 * newcomer is not refused: the open connection cheapest to lose is closed instead (shedOrder), and
 * the newcomer is refused only when every connection has a request in flight. Below `ulimit -n` so
 * that the pods' connections still find file descriptors.
 */
export const MAX_CLIENT_CONNECTIONS = 10_000;
/** Above this share of the cap, connections that never sent a byte get a shorter idle timeout (Envoy's reduce_timeouts). */
export const PRESSURE_THRESHOLD = 0.8;
/**
 * What a connection gets to send its first byte: its idle timeout at a full cap, and how long a
 * connection that has not spoken yet is treated as one whose request is arriving (a client sends its
 * request within a round trip of connecting, so this is generous on any network).
 */
export const FIRST_BYTE_GRACE_MS = 1_000;

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

/** How cheap a connection is to lose, cheapest first. */
export const SHED_UNUSED = 0;
export const SHED_IDLE = 1;
export const SHED_RECEIVING = 2;
export const SHED_BUSY = 3;
export type ShedRank = typeof SHED_UNUSED | typeof SHED_IDLE | typeof SHED_RECEIVING | typeof SHED_BUSY;

/**
 * Where the code serving a connection (the fast path's ClientConn, node:http's ConnectionGuard)
 * tells the connection cap what the connection is doing, as a property of its socket.
 */
export const kActivity = Symbol('grid.connActivity');
export interface ConnActivity {
  /** A request is being served (its response not finished), other than one whose head or body is still arriving. */
  busy(): boolean;
  /** performance.now() of the first byte of a request still arriving (head, or body not yet all in); 0 if none. */
  receivingSince(): number;
  /** performance.now() when the last exchange ended, or the connection was taken. */
  idleSince(): number;
}

/** What the cap sees of one connection. Times are performance.now() milliseconds. */
export interface ShedInput {
  /** Bytes the client has sent on the connection (socket.bytesRead). */
  bytesRead: number;
  /** Response bytes written and not yet taken by the kernel. */
  unsent: number;
  acceptedAt: number;
  /** undefined: nothing serves the connection yet that can say; it is kept. */
  activity: ConnActivity | undefined;
}

export interface ShedView {
  rank: ShedRank;
  /** Since when it has been so: the oldest of a rank goes first. */
  since: number;
}

/**
 * Envoy's overload order: a connection that never sent a byte costs nothing to lose; an idle
 * keep-alive one costs its client a reconnect; one whose request is still arriving (slowloris, or a
 * slow upload) costs that request; one with a request in flight, or a response still leaving, is
 * never closed for a newcomer. A connection younger than FIRST_BYTE_GRACE_MS that has not spoken yet
 * ranks as one receiving since it was accepted: a client that connected a moment ago is not
 * closed before it could send its request, however fast an attacker reconnects behind it.
 */
export function shedView(c: ShedInput, now: number): ShedView {
  const a = c.activity;
  if (a === undefined || c.unsent > 0) return { rank: SHED_BUSY, since: 0 };
  const receiving = a.receivingSince();
  if (receiving > 0) return { rank: SHED_RECEIVING, since: receiving };
  if (a.busy()) return { rank: SHED_BUSY, since: 0 };
  if (c.bytesRead === 0) return now - c.acceptedAt < FIRST_BYTE_GRACE_MS ? { rank: SHED_RECEIVING, since: c.acceptedAt } : { rank: SHED_UNUSED, since: c.acceptedAt };
  return { rank: SHED_IDLE, since: a.idleSince() };
}

/**
 * Which connections to close for newcomers at the cap: up to `max` of the cheapest rank present,
 * oldest first (indices into `views`); none when every connection is busy (then the newcomer is refused).
 */
export function shedOrder(views: readonly ShedView[], max: number): number[] {
  let best: ShedRank = SHED_BUSY;
  for (const v of views) if (v.rank < best) best = v.rank;
  if (best === SHED_BUSY) return [];
  const picked: number[] = [];
  for (let i = 0; i < views.length; i++) if (views[i].rank === best) picked.push(i);
  // Stable: equal times keep accept order.
  picked.sort((a, b) => views[a].since - views[b].since);
  return picked.length > max ? picked.slice(0, max) : picked;
}

/**
 * How many victims one look over the connections picks: with a large cap, a newcomer per accept
 * must not cost a pass over all of them (a reconnecting attacker would make every accept O(cap)).
 * Each is checked again when its turn comes.
 */
export function shedBatch(maxConnections: number): number {
  return Math.max(1, Math.min(64, Math.floor(maxConnections / 100)));
}

/**
 * The idle timeout of a connection that never sent a byte, given the listener's load (Envoy's
 * reduce_timeouts): the full idle timeout up to PRESSURE_THRESHOLD of the cap, then down in a straight
 * line to FIRST_BYTE_GRACE_MS (or the idle timeout, if shorter) at the cap.
 */
export function unusedTimeoutMs(idleTimeoutMs: number, open: number, maxConnections: number): number {
  const load = open / maxConnections;
  const floor = Math.min(idleTimeoutMs, FIRST_BYTE_GRACE_MS);
  if (load <= PRESSURE_THRESHOLD) return idleTimeoutMs;
  if (load >= 1) return floor;
  return Math.round(idleTimeoutMs - ((idleTimeoutMs - floor) * (load - PRESSURE_THRESHOLD)) / (1 - PRESSURE_THRESHOLD));
}
