// What the gateway does with a client connection that is not being a good client:
// the limits (after Envoy's edge recommendations, nginx and Node's server) and the
// one decision the fast path's sweep makes per connection. No I/O: wire-proxy.ts
// feeds it what the socket looks like, node-path.ts and main.ts use the limits.

/**
 * A request head must arrive within this long of its first byte, else 408 (slowloris heads;
 * Node's headersTimeout, nginx's client_header_timeout). GRID_CLIENT_REQUEST_TIMEOUT_MS.
 */
export const CLIENT_HEAD_TIMEOUT_MS = 30_000;
/**
 * Once the head is in, the longest gap between two reads of body bytes (nginx's client_body_timeout):
 * a steady upload however slow is served, a stalled one gets 408. GRID_CLIENT_BODY_TIMEOUT_MS.
 */
export const CLIENT_BODY_TIMEOUT_MS = 30_000;
/**
 * A whole request, head and body, must arrive within this long of its first byte (Node's default
 * requestTimeout): what bounds a body dripped a byte just inside the body timeout, for hours.
 */
export const CLIENT_REQUEST_MAX_MS = 300_000;
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
 * that the pods' connections still find file descriptors (connectionBudget).
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
  /** Head deadline, from the request's first byte. */
  headTimeoutMs: number;
  /** Longest gap between body reads. */
  bodyTimeoutMs: number;
  /** Head and body deadline, from the request's first byte. */
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
  /** When body bytes of that request last arrived (or its head ended); 0 while its head is arriving. */
  bodyReadAt: number;
  /** When the last exchange ended (or the connection was accepted). */
  lastActive: number;
  /** Bytes written to the socket and not yet taken by the kernel. */
  unsent: number;
  /** Since when the socket's send buffer has been full without a 'drain'. */
  stalledSince: number;
}

export const KEEP = 0;
/** The whole request (head and body) took longer than requestTimeoutMs. */
export const REQUEST_TIMED_OUT = 1;
export const IDLE_TIMED_OUT = 2;
export const SEND_TIMED_OUT = 3;
/** The head took longer than headTimeoutMs (slowloris head). */
export const HEAD_TIMED_OUT = 4;
/** No body bytes for longer than bodyTimeoutMs (a stalled upload). */
export const BODY_TIMED_OUT = 5;
export type ClientVerdict = typeof KEEP | typeof REQUEST_TIMED_OUT | typeof IDLE_TIMED_OUT | typeof SEND_TIMED_OUT | typeof HEAD_TIMED_OUT | typeof BODY_TIMED_OUT;

/**
 * KEEP, or why a request still arriving ends now (408 and close): its head too slow, its body
 * stalled, or the whole of it too slow. `headSince` is its first byte, `bodyReadAt` when body bytes
 * last came (0 while the head is arriving). The node path's BodyWatch asks bodyStalled only:
 * node:http bounds the head and the whole request itself (headersTimeout, requestTimeout).
 */
export function requestVerdict(headSince: number, bodyReadAt: number, limits: ClientLimits, now: number): ClientVerdict {
  if (now - headSince > limits.requestTimeoutMs) return REQUEST_TIMED_OUT;
  if (bodyReadAt === 0) return now - headSince > limits.headTimeoutMs ? HEAD_TIMED_OUT : KEEP;
  return bodyStalled(bodyReadAt, now, limits.bodyTimeoutMs) ? BODY_TIMED_OUT : KEEP;
}

/** No body bytes since `bodyReadAt` for longer than the body timeout. */
export function bodyStalled(bodyReadAt: number, now: number, bodyTimeoutMs: number): boolean {
  return now - bodyReadAt > bodyTimeoutMs;
}

/**
 * KEEP, or why the connection ends now: a request arriving too slowly (requestVerdict; 408 and
 * close), an idle connection (closed), or a client that stopped reading what Grid sends (cut;
 * whatever was in flight is cancelled upstream). A stalled client is cut whatever else is going
 * on: it cannot read a 408 either.
 */
export function clientVerdict(c: ClientConnView, limits: ClientLimits, now: number): ClientVerdict {
  if (c.stalledSince > 0 && now - c.stalledSince > limits.sendTimeoutMs) return SEND_TIMED_OUT;
  if (c.inFlight) return KEEP;
  if (c.headSince > 0) return requestVerdict(c.headSince, c.bodyReadAt, limits, now);
  if (c.unsent === 0 && now - c.lastActive > limits.idleTimeoutMs) return IDLE_TIMED_OUT;
  return KEEP;
}

/** What the 408 says for a verdict of requestVerdict. */
export function timeoutMessage(verdict: ClientVerdict, limits: ClientLimits): string {
  if (verdict === HEAD_TIMED_OUT) return `request head not received within ${limits.headTimeoutMs} ms`;
  if (verdict === BODY_TIMED_OUT) return `request body stalled: no bytes for ${limits.bodyTimeoutMs} ms`;
  return `request head and body not received within ${limits.requestTimeoutMs} ms`;
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

/** How often, at most, a listener logs that it closed or refused connections at its cap. */
export const CAP_WARNING_PERIOD_MS = 60_000;

/** Connections a listener closed to make room, by rank (SHED_UNUSED, SHED_IDLE, SHED_RECEIVING), and newcomers it refused. */
export interface CapClosures {
  shed: readonly number[];
  refused: number;
}

/**
 * The warning a listener logs about the closures since its last one (`now` minus `before`),
 * or undefined if there were none. Names the cap and its setting, so the line says what to change.
 */
export function capWarning(listener: string, maxConnections: number, open: number, before: CapClosures, now: CapClosures): string | undefined {
  const shed = now.shed.map((n, i) => n - (before.shed[i] ?? 0));
  const refused = now.refused - before.refused;
  const closed = shed.reduce((a, b) => a + b, 0);
  if (closed === 0 && refused === 0) return undefined;
  const totalShed = now.shed.reduce((a, b) => a + b, 0);
  return (
    `${listener}: at or near its connection cap (GRID_MAX_CONNECTIONS=${maxConnections}, ${open} open): ` +
    `${closed} connections closed to make room (${shed[SHED_UNUSED]} never sent a byte, ${shed[SHED_IDLE]} idle keep-alive, ${shed[SHED_RECEIVING]} receiving a request) ` +
    `and ${refused} newcomers refused (every connection busy) since the last such line; ${totalShed} closed and ${now.refused} refused since start ` +
    `(grid_client_connections_shed_total, grid_client_connections_refused_total)`
  );
}

/** How long to wait before the next cap warning may be logged: 0 = now. */
export function capWarningDelay(lastWarnedAt: number | undefined, now: number): number {
  if (lastWarnedAt === undefined) return 0;
  return Math.max(0, lastWarnedAt + CAP_WARNING_PERIOD_MS - now);
}

/**
 * File descriptors Grid keeps for other than client connections: the database and its WAL, log
 * files, and per pod its stdout and stderr pipes, its log file and an upstream or probe connection.
 * An estimate to keep the cap reachable, not an accounting.
 */
export function reservedFds(maxPods: number): number {
  return 256 + 4 * maxPods;
}

export interface ConnectionBudget {
  /** The cap to use. */
  maxConnections: number;
  /** What to say at boot ('' = nothing), and whether it is a warning. */
  message: string;
  warn: boolean;
}

/**
 * Whether `listeners` × the cap plus `reserved` fits under the open-files soft limit (RLIMIT_NOFILE;
 * undefined = unknown). Past it, accept() fails with EMFILE before the cap is reached, so the cap never
 * sheds: a connection flood resets every newcomer (the API's too), and pods cannot be started. The
 * default cap is lowered to what fits (and the boot log says so); a cap the user set is kept, with a
 * warning naming both numbers: they may be about to raise the limit, and Grid does not override a setting.
 */
export function connectionBudget(maxConnections: number, explicit: boolean, listeners: number, reserved: number, softLimit: number | undefined): ConnectionBudget {
  if (softLimit === undefined) return { maxConnections, message: '', warn: false };
  const needed = maxConnections * listeners + reserved;
  if (needed <= softLimit) return { maxConnections, message: '', warn: false };
  const fits = Math.floor((softLimit - reserved) / listeners);
  const what = `${listeners === 1 ? 'one listener' : `${listeners} listeners`} × ${maxConnections} connections + ${reserved} for pods and files = ${needed} file descriptors, over the open-files limit of ${softLimit} (ulimit -n)`;
  if (explicit || fits < 1) {
    return { maxConnections, message: `GRID_MAX_CONNECTIONS=${maxConnections} cannot be reached: ${what}; at that limit accept() fails before the cap can close idle connections for newcomers. Raise ulimit -n or lower GRID_MAX_CONNECTIONS`, warn: true };
  }
  return { maxConnections: fits, message: `connection cap lowered to ${fits} per listener (GRID_MAX_CONNECTIONS default ${maxConnections}): ${what}. Raise ulimit -n or set GRID_MAX_CONNECTIONS`, warn: false };
}

/** The soft "Max open files" of /proc/<pid>/limits; undefined if absent or unlimited. */
export function openFilesSoftLimit(limits: string): number | undefined {
  const m = /^Max open files\s+(\S+)/m.exec(limits);
  if (m === null || m[1] === 'unlimited') return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
