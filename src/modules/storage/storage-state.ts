// Whether Grid can write its data dir, and what follows from it: when to check again and what a
// mutation gets meanwhile. Pure: the storage service feeds it real write errors, probe results and
// the time, and does the I/O.

export type StorageState = 'Healthy' | 'ReadOnly' | 'Full';

/** A write error that says the data dir cannot take writes (as opposed to a bug or a constraint). */
export interface StorageFault {
  state: Exclude<StorageState, 'Healthy'>;
  /** errno or SQLite code, e.g. EROFS, SQLITE_FULL. */
  code: string;
}

export interface StorageStatus {
  state: StorageState;
  /** When the current state began (ms). */
  since: number;
  /** The code of the error that put Grid in this state; null while Healthy. */
  code: string | null;
}

/** While writable, a probe now and then catches a disk that filled or went read-only between writes. */
export const HEALTHY_PROBE_MS = 10_000;
/** While not, a probe every second: mutations work again within about a second of the disk recovering. */
export const DEGRADED_PROBE_MS = 1_000;
/**
 * What a refused mutation's Retry-After says while the disk is full: a few probes' time (room comes back
 * when someone deletes files, often within seconds). A read-only data dir gets none: a filesystem the
 * kernel made read-only stays so until an operator remounts it, so any figure would be a guess that keeps
 * retrying clients looping; a 503 without Retry-After says "unavailable, no idea for how long".
 */
export const RETRY_AFTER_S = 5;

const READ_ONLY_ERRNO = new Set(['EROFS', 'EACCES', 'EPERM', 'EIO']);
const FULL_ERRNO = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/**
 * The storage fault an error is, if any. SQLite reports ENOSPC as SQLITE_FULL and EROFS on a write
 * as SQLITE_IOERR_WRITE (or SQLITE_READONLY when it knew at open); an I/O error is counted as
 * read-only, which is what the kernel usually turns a failing disk into next.
 */
export function faultOf(e: unknown): StorageFault | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (FULL_ERRNO.has(code) || code === 'SQLITE_FULL') return { state: 'Full', code };
  if (READ_ONLY_ERRNO.has(code) || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_IOERR') || code === 'SQLITE_CANTOPEN') return { state: 'ReadOnly', code };
  return undefined;
}

export function initialStatus(now: number): StorageStatus {
  return { state: 'Healthy', since: now, code: null };
}

/** A write failed with a storage fault: the state follows the latest fault; `since` moves only when the state changes. */
export function onFault(s: StorageStatus, fault: StorageFault, now: number): StorageStatus {
  if (s.state === fault.state) return s.code === fault.code ? s : { ...s, code: fault.code };
  return { state: fault.state, since: now, code: fault.code };
}

/** A probe wrote, synced and committed: the data dir takes writes again. */
export function onProbeOk(s: StorageStatus, now: number): StorageStatus {
  return s.state === 'Healthy' ? s : initialStatus(now);
}

export function nextProbeInMs(s: StorageStatus): number {
  return s.state === 'Healthy' ? HEALTHY_PROBE_MS : DEGRADED_PROBE_MS;
}

/**
 * Why the data dir cannot be written, in the words a 503, an event, /state and /healthz use; undefined
 * while Healthy. Without dataDir the path is left out: /healthz answers anyone, and where Grid keeps
 * its data is not theirs to know.
 */
export function describeFault(s: StorageStatus, dataDir?: string): string | undefined {
  const dir = dataDir === undefined ? 'data dir' : `data dir ${dataDir}`;
  if (s.state === 'ReadOnly') return `${dir} is read-only (${s.code})`;
  if (s.state === 'Full') return `disk full: ${dir} has no space left (${s.code})`;
  return undefined;
}

export interface Refusal {
  message: string;
  /** Sent as Retry-After; undefined sends none (read-only: recovery needs an operator, see RETRY_AFTER_S). */
  retryAfterSeconds?: number;
}

/** What a refused client can do about each state; Grid still accepts changes again on its own on the first probe that writes. */
const REMEDY: Record<Exclude<StorageState, 'Healthy'>, { next: string; retryAfterSeconds?: number }> = {
  Full: { next: 'Grid accepts changes again on its own within about a second of the data dir having room', retryAfterSeconds: RETRY_AFTER_S },
  // The kernel's read-only remount after an I/O error lasts until unmount; a remount rw in place (rare) is noticed by the probe too.
  ReadOnly: { next: 'stop Grid, repair and remount the filesystem, then start Grid again' },
};

/** What a mutating request gets: undefined (go ahead) or a 503 saying why and what to do. */
export function mutationRefusal(s: StorageStatus, dataDir: string, now: number): Refusal | undefined {
  if (s.state === 'Healthy') return undefined;
  const forS = Math.max(0, Math.round((now - s.since) / 1000));
  const { next, retryAfterSeconds } = REMEDY[s.state];
  return { message: `${describeFault(s, dataDir)} since ${forS}s ago; nothing was changed. Grid keeps serving traffic and running pods; ${next}`, retryAfterSeconds };
}
