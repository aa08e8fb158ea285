import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import path from 'node:path';

// The data directories of persistent services (spec.storage.persistent): <data dir>/pods/<service>-<ordinal>,
// as a StatefulSet's PersistentVolumeClaims are named. They outlive their pods and their service; only a
// purge removes them.

/** A purged directory waits under this prefix for its removal: no service name starts with a dot. */
const TRASH_PREFIX = '.purge-';

export function volumesRoot(dataDir: string): string {
  return path.join(dataDir, 'pods');
}

export function volumeDir(dataDir: string, service: string, ordinal: number): string {
  return path.join(volumesRoot(dataDir), `${service}-${ordinal}`);
}

/**
 * The pods dir must be a real directory: were it a symlink, a purge would delete, and a new pod
 * would write, wherever it points. Undefined when it is one or does not exist yet; else why not.
 */
export function unsafeRoot(root: string): string | undefined {
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(root, { throwIfNoEntry: false });
  } catch (e) {
    return `${root} cannot be examined (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  if (!st || st.isDirectory()) return undefined;
  return `${root} is ${st.isSymbolicLink() ? 'a symlink' : 'not a directory'}; Grid neither creates nor removes pod data through it`;
}

/** Before the pod starts: its directory exists, readable by Grid's user only (the data may be anyone's secrets). */
export async function ensureVolume(dir: string): Promise<void> {
  const root = path.dirname(dir);
  const unsafe = unsafeRoot(root);
  if (unsafe) throw new Error(unsafe);
  await fs.promises.mkdir(root, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
  // Checked again: the mkdir above must not have found a symlink made in between.
  const after = unsafeRoot(root);
  if (after) throw new Error(after);
  await fs.promises.mkdir(dir, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
}

/** A refusal (`ok: false`) may still carry directories it moved aside before a rename failed: they are deleted all the same. */
export type Detached = { ok: true; names: string[]; trash: string[] } | { ok: false; reason: string; names: string[]; trash: string[] };

/**
 * Takes the service's directories away from their names at once: each `<service>-<n>` is renamed
 * to a hidden `.purge-<uuid>` in the same dir, synchronously, so a pod of the same service applied
 * again right after gets a fresh, empty directory while the old data is removed in the background
 * (removeDetached). A service name is a DNS label, so `<service>-<digits>` names exactly its own
 * (api's api-1 is not api-1's api-1-0). A rename moves a symlink, never its target.
 */
export function detachVolumes(dataDir: string, service: string): Detached {
  if (!/^[a-z0-9-]+$/.test(service)) throw new Error(`not a service name: ${JSON.stringify(service)}`);
  const root = volumesRoot(dataDir);
  const unsafe = unsafeRoot(root);
  if (unsafe) return { ok: false, reason: unsafe, names: [], trash: [] };
  const own = new RegExp(`^${service}-(0|[1-9][0-9]*)$`);
  let entries: string[];
  try {
    entries = fs.readdirSync(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, names: [], trash: [] };
    throw e;
  }
  const names = entries.filter((n) => own.test(n)).sort();
  const trash: string[] = [];
  for (const name of names) {
    const to = path.join(root, `${TRASH_PREFIX}${randomUUID()}`);
    try {
      fs.renameSync(path.join(root, name), to);
    } catch (e) {
      return { ok: false, reason: `cannot move ${name} aside: ${(e as Error).message}`, names: names.slice(0, trash.length), trash };
    }
    trash.push(to);
  }
  return { ok: true, names, trash };
}

/** Deletes detached directories. fs.rm unlinks a symlink (at the top or inside) without following it. */
export async function removeDetached(trash: readonly string[]): Promise<void> {
  for (const at of trash) await fs.promises.rm(at, { recursive: true, force: true });
}

/** What purges a previous Grid left half-done (it stopped before the background removal ended). */
export function leftoverTrash(dataDir: string): string[] {
  const root = volumesRoot(dataDir);
  if (unsafeRoot(root)) return [];
  try {
    return fs
      .readdirSync(root)
      .filter((n) => n.startsWith(TRASH_PREFIX))
      .map((n) => path.join(root, n));
  } catch {
    return [];
  }
}
