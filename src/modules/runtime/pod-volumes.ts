import { promises as fs } from 'node:fs';
import path from 'node:path';

// The data directories of persistent services (spec.storage.persistent): <data dir>/pods/<service>-<ordinal>,
// as a StatefulSet's PersistentVolumeClaims are named. They outlive their pods and their service; only a
// purge removes them.

export function volumesRoot(dataDir: string): string {
  return path.join(dataDir, 'pods');
}

export function volumeDir(dataDir: string, service: string, ordinal: number): string {
  return path.join(volumesRoot(dataDir), `${service}-${ordinal}`);
}

/** Before the pod starts: its directory exists, readable by Grid's user only (the data may be anyone's secrets). */
export async function ensureVolume(dir: string): Promise<void> {
  await fs.mkdir(path.dirname(dir), { recursive: true, mode: 0o700 });
  await fs.mkdir(dir, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
}

/**
 * Removes the service's directories and returns their names. A service name is a DNS label, so
 * `<service>-<digits>` names exactly its own (api's api-1 is not api-1's api-1-0). An entry that is
 * a symlink is unlinked, never followed, and fs.rm removes links inside a directory without
 * following them, so nothing outside the pods dir is touched.
 */
export async function purgeVolumes(dataDir: string, service: string): Promise<string[]> {
  const root = volumesRoot(dataDir);
  if (!/^[a-z0-9-]+$/.test(service)) throw new Error(`not a service name: ${JSON.stringify(service)}`);
  const own = new RegExp(`^${service}-(0|[1-9][0-9]*)$`);
  let names: string[];
  try {
    names = await fs.readdir(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const removed: string[] = [];
  for (const name of names.filter((n) => own.test(n)).sort()) {
    const at = path.join(root, name);
    const st = await fs.lstat(at);
    if (st.isDirectory()) await fs.rm(at, { recursive: true, force: true });
    else await fs.unlink(at);
    removed.push(name);
  }
  return removed;
}
