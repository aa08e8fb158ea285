import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The `grid.instance` label of this Grid's containers, and the GRID_INSTANCE of its process pods (by
 * which a stray pod is told from a process that copies a pod's environment): random, made on first use and kept in the
 * data dir, so it survives restarts (adoption finds its containers) but is neither shared by two
 * Grids whose data dirs have the same path (every Grid image uses /data) nor guessable from outside.
 */
export function dockerInstanceId(dataDir: string): string {
  const file = path.join(dataDir, 'docker-instance');
  try {
    const id = fs.readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{16}$/.test(id)) return id;
  } catch {
    // First boot with the docker runtime: made below.
  }
  const id = randomBytes(8).toString('hex');
  fs.writeFileSync(file, id + '\n', { mode: 0o600 });
  return id;
}
