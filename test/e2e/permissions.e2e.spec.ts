// Under umask 022 what Grid writes must still be its user's alone: the database (spec env values,
// password hashes, the audit log), the logs dir and every pod log (a pod's output), rotated copies too.
import fs from 'node:fs';
import path from 'node:path';
import { applyYaml, cleanupAll, expectEventually, json, startGrid, tempDataDir } from '../utils/grid.js';

const mode = (f: string) => (fs.statSync(f).mode & 0o777).toString(8);

describe('file permissions under umask 022', () => {
  let umask: number;
  beforeAll(() => {
    umask = process.umask(0o022);
  });
  afterAll(async () => {
    process.umask(umask);
    await cleanupAll();
  });

  it('makes the data dir, the logs dir and the database its own, and pod logs (and their rotated copies) 0600', async () => {
    const dataDir = path.join(tempDataDir(), 'made-by-grid');
    const g = await startGrid({ dataDir, env: { GRID_POD_LOG_MAX_BYTES: '1024', GRID_POD_LOG_MAX_FILES: '2' } });
    expect((await applyYaml(g, `apiVersion: v1
kind: Service
metadata: { name: chatty }
spec:
  replicas: 1
  command: ["node", "-e", "setInterval(() => console.log('x'.repeat(200)), 20)"]
`)).status).toBe(200);
    const pod = await expectEventually(async () => ((await json(`${g.url}/state`)).body.pods as { id: string; service: string }[]).find((p) => p.service === 'chatty'), 15000);
    const log = path.join(dataDir, 'logs', `${pod!.id}.log`);
    await expectEventually(() => fs.existsSync(`${log}.1`), 15000);

    expect({
      dataDir: mode(dataDir),
      logs: mode(path.join(dataDir, 'logs')),
      db: mode(path.join(dataDir, 'grid.db')),
      wal: mode(path.join(dataDir, 'grid.db-wal')),
      shm: mode(path.join(dataDir, 'grid.db-shm')),
      log: mode(log),
      rotated: mode(`${log}.1`),
    }).toEqual({ dataDir: '700', logs: '700', db: '600', wal: '600', shm: '600', log: '600', rotated: '600' });
    expect(g.output()).not.toContain('chmod 700');
  });

  it('narrows its own files from before, and warns about a data dir the user made open to others without changing it', async () => {
    const dataDir = tempDataDir();
    fs.chmodSync(dataDir, 0o755);
    fs.mkdirSync(path.join(dataDir, 'logs'), { mode: 0o755 });
    fs.writeFileSync(path.join(dataDir, 'grid.db'), '', { mode: 0o644 });

    const g = await startGrid({ dataDir });

    expect(g.output()).toContain(`data dir ${dataDir} is mode 0755`);
    expect({ dataDir: mode(dataDir), logs: mode(path.join(dataDir, 'logs')), db: mode(path.join(dataDir, 'grid.db')) }).toEqual({ dataDir: '755', logs: '700', db: '600' });
  });
});
