import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Pod } from './pod.types.js';
import { volumesRoot } from './pod-volumes.js';

// What `GET /volumes` shows, as `kubectl get pvc`: each data directory of a persistent service
// under <data dir>/pods, whether a pod holds it, how large it is. Directories outlive their
// pods and their service, so this is where data left behind is found.

/** A data directory on disk. */
export interface VolumeDir {
  /** `<service>-<ordinal>`, the directory's name under `<data dir>/pods`. */
  name: string;
  service: string;
  ordinal: number;
  bytes: number;
  /** Its birth time where the filesystem records one, else its last status change. */
  createdAt: number;
}

export interface VolumeView extends Omit<VolumeDir, 'createdAt'> {
  /** `pods/<name>`, as events and gridctl name it. */
  path: string;
  /** Bound: a pod (running or stopping) holds the ordinal; Released: none does. */
  status: 'Bound' | 'Released';
  pod: string | null;
  /** Whether a service of that name is applied (a Released directory of a deleted one is left-over data). */
  serviceExists: boolean;
  createdAt: string;
}

/** `<service>-<ordinal>` as purgeVolumes matches it; anything else under pods/ (a purge's temporary name) is not a volume. */
const VOLUME_NAME = /^([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)-(0|[1-9][0-9]{0,5})$/;

export function parseVolumeName(name: string): { service: string; ordinal: number } | undefined {
  const m = VOLUME_NAME.exec(name);
  return m && m[1].length <= 63 ? { service: m[1], ordinal: Number(m[2]) } : undefined;
}

/** Bytes of the regular files under dir; links are not followed, so a symlink out of the data dir counts as nothing. */
async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const at = path.join(dir, e.name);
    if (e.isDirectory()) total += await sizeOf(at);
    else if (e.isFile()) total += await fs.lstat(at).then((s) => s.size, () => 0);
  }
  return total;
}

/** Every data directory under `<data dir>/pods`, by service and ordinal; none when the directory does not exist. Entries that vanish while read (a purge) are left out. Without sizes nothing below the directories is read. */
export async function readVolumes(dataDir: string, sizes = true): Promise<VolumeDir[]> {
  const root = volumesRoot(dataDir);
  let names: string[];
  try {
    names = await fs.readdir(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: VolumeDir[] = [];
  for (const name of names) {
    const parsed = parseVolumeName(name);
    if (!parsed) continue;
    const st = await fs.lstat(path.join(root, name)).catch(() => undefined);
    if (!st?.isDirectory()) continue;
    out.push({ name, ...parsed, bytes: sizes ? await sizeOf(path.join(root, name)) : 0, createdAt: st.birthtimeMs > 0 ? st.birthtimeMs : st.ctimeMs });
  }
  return out.sort((a, b) => (a.service === b.service ? a.ordinal - b.ordinal : a.service < b.service ? -1 : 1));
}

/** Joins directories with the pods that hold their ordinals. Pure. */
export function volumeViews(dirs: readonly VolumeDir[], pods: readonly Pod[], serviceExists: (service: string) => boolean): VolumeView[] {
  return dirs.map((d) => {
    const holder = pods.find((p) => p.service === d.service && p.ordinal === d.ordinal);
    return { name: d.name, path: `pods/${d.name}`, service: d.service, ordinal: d.ordinal, bytes: d.bytes, status: holder ? 'Bound' : 'Released', pod: holder?.id ?? null, serviceExists: serviceExists(d.service), createdAt: new Date(d.createdAt).toISOString() };
  });
}
