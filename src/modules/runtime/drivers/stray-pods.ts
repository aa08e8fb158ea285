import * as path from 'node:path';

/** A live process as /proc shows it: what it says it is (GRID_POD) and where its stdout goes. */
export interface ProcessSighting {
  pid: number;
  pgid: number;
  /** GRID_POD from its environment. */
  pod: string;
  /** The target of /proc/<pid>/fd/1. */
  stdout: string;
}

/**
 * The process groups of pods this Grid spawned but does not manage: Grid was killed after a
 * spawn and before the pod's record was written, so adoption never heard of them. A process
 * is this Grid's pod only if its stdout is that pod's log file under this Grid's log dir (an
 * environment alone can be copied; another Grid has another data dir). Groups of adopted pods
 * are kept. Pure.
 */
export function strayGroups(sightings: readonly ProcessSighting[], logDir: string, adoptedPids: ReadonlySet<number>): number[] {
  const stray = new Set<number>();
  for (const s of sightings) {
    if (adoptedPids.has(s.pgid)) continue;
    if (s.pod === '' || s.pod.includes('/') || s.stdout !== path.join(logDir, `${s.pod}.log`)) continue;
    stray.add(s.pgid);
  }
  return [...stray];
}
