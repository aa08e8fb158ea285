// A pod spawned by a Grid killed before it recorded the pod is stopped at the next boot; a process
// that only looks like one (a log opened read-only as its stdout, another data dir's instance id)
// is left alone. The table of guards is in src/modules/runtime/drivers/stray-pods.spec.ts; this
// checks what Grid reads from /proc for it.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cleanupAll, expectEventually, json, startGrid, tempDataDir } from '../utils/grid.js';

const INSTANCE = '0123456789abcdef';
const children: ChildProcess[] = [];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A detached process (its own group, as Grid spawns pods) with the given environment and stdout. */
function lookalike(env: Record<string, string>, stdout: number): number {
  const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', stdout, stdout], detached: true });
  fs.closeSync(stdout);
  children.push(c);
  return c.pid!;
}

describe('stray pods at boot', () => {
  afterAll(async () => {
    for (const c of children) if (c.pid && alive(c.pid)) process.kill(-c.pid, 'SIGKILL');
    await cleanupAll();
  });

  it('stops an unrecorded pod of this data dir and records it; leaves lookalikes running', async () => {
    const dataDir = tempDataDir();
    const logs = path.join(dataDir, 'logs');
    fs.mkdirSync(logs, { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'docker-instance'), `${INSTANCE}\n`);
    const log = (pod: string) => path.join(logs, `${pod}.log`);
    for (const pod of ['api-stray', 'api-readonly', 'api-other']) fs.writeFileSync(log(pod), '');

    const stray = lookalike({ GRID_POD: 'api-stray', GRID_INSTANCE: INSTANCE }, fs.openSync(log('api-stray'), 'a'));
    const readOnly = lookalike({ GRID_POD: 'api-readonly', GRID_INSTANCE: INSTANCE }, fs.openSync(log('api-readonly'), 'r'));
    const otherInstance = lookalike({ GRID_POD: 'api-other', GRID_INSTANCE: 'fedcba9876543210' }, fs.openSync(log('api-other'), 'a'));
    const noInstance = lookalike({ GRID_POD: 'api-other' }, fs.openSync(log('api-other'), 'a'));

    const g = await startGrid({ dataDir });

    const events = await expectEventually(async () => {
      const e = (await json(`${g.url}/events?type=pod.strayStopped`)).body.events as { pod: string; message: string }[];
      return e.length > 0 && e;
    }, 15000);
    expect(events).toEqual([expect.objectContaining({ pod: 'api-stray', message: expect.stringContaining(`process group ${stray} `) })]);
    await expectEventually(() => !alive(stray), 10000);
    expect([readOnly, otherInstance, noInstance].filter(alive)).toEqual([readOnly, otherInstance, noInstance]);
  });
});
