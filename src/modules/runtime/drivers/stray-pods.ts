import * as path from 'node:path';

/** A live process as /proc shows it: who runs it, what it says it is, and where its stdout goes. */
export interface ProcessSighting {
  pid: number;
  pgid: number;
  /** Real and effective uid (/proc/<pid>/status). */
  uids: readonly number[];
  /** GRID_POD from its environment. */
  pod: string;
  /** GRID_INSTANCE from its environment ('' when it has none). */
  instance: string;
  /** The target of /proc/<pid>/fd/1. */
  stdout: string;
  /** The open flags of fd 1 (/proc/<pid>/fdinfo/1, octal there). */
  stdoutFlags: number;
}

/** Who is asking: the Grid whose pods these would be. */
export interface StrayOwner {
  logDir: string;
  /** This data dir's random instance id (docker-instance.ts), given to its process pods as GRID_INSTANCE. */
  instance: string;
  uid: number;
  /** Grid's own process group: never signalled (in a container Grid is pid 1, and -1 means every process). */
  pgid: number;
}

export interface StrayPod {
  pid: number;
  pod: string;
}

const O_ACCMODE = 0o3;
const O_WRONLY = 0o1;
const O_APPEND = 0o2000;

/**
 * The pods this Grid spawned but does not manage: Grid was killed after a spawn and before the
 * pod's record was written, so adoption never heard of them. Grid (often root) signals their whole
 * process group, so a process counts only if everything Grid gave it agrees: it runs as Grid's
 * user; it leads its own group, as Grid spawns every pod (so a pod's helpers are not strays of
 * their own, and another process's group is never signalled through one of its members); its
 * environment carries this data dir's GRID_INSTANCE and a GRID_POD whose log file under this
 * Grid's log dir is its stdout, opened for appending (anyone may open a readable log as fd 1);
 * its group is neither Grid's nor ≤ 1. Groups of adopted pods are kept. Pure.
 */
export function strayGroups(sightings: readonly ProcessSighting[], owner: StrayOwner, adoptedPids: ReadonlySet<number>): StrayPod[] {
  const stray: StrayPod[] = [];
  for (const s of sightings) {
    if (s.pgid !== s.pid || s.pgid <= 1 || s.pgid === owner.pgid || adoptedPids.has(s.pgid)) continue;
    if (s.uids.length === 0 || s.uids.some((u) => u !== owner.uid)) continue;
    if (owner.instance === '' || s.instance !== owner.instance) continue;
    if (s.pod === '' || s.pod.includes('/') || s.stdout !== path.join(owner.logDir, `${s.pod}.log`)) continue;
    if ((s.stdoutFlags & O_ACCMODE) !== O_WRONLY || (s.stdoutFlags & O_APPEND) === 0) continue;
    stray.push({ pid: s.pid, pod: s.pod });
  }
  return stray;
}
