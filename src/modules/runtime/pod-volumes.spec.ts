import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureVolume, purgeVolumes, volumeDir } from './pod-volumes.js';

describe(purgeVolumes.name, () => {
  let dataDir: string;
  let outside: string;
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'grid-volumes-'));
    outside = mkdtempSync(path.join(tmpdir(), 'grid-outside-'));
    writeFileSync(path.join(outside, 'keep.txt'), 'not Grid\'s');
  });
  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it('creates a directory 0700 and keeps what is in it when asked again', async () => {
    const dir = volumeDir(dataDir, 'db', 0);
    await ensureVolume(dir);
    writeFileSync(path.join(dir, 'data.txt'), 'x');

    await ensureVolume(dir);

    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(existsSync(path.join(dir, 'data.txt'))).toBe(true);
  });

  it.each<[string, string[], string[], string[]]>([
    ['its own ordinals only', ['db-0', 'db-1', 'db-10', 'db-x', 'db', 'dbx-0', 'db-1-0', 'db-01'], ['db-0', 'db-1', 'db-10'], ['db', 'db-01', 'db-1-0', 'db-x', 'dbx-0']],
    ['nothing when there is nothing', [], [], []],
  ])('removes %s', async (_name, present, removed, left) => {
    for (const n of present) mkdirSync(path.join(dataDir, 'pods', n), { recursive: true });

    const sut = await purgeVolumes(dataDir, 'db');

    expect(sut).toEqual(removed);
    expect(existsSync(path.join(dataDir, 'pods')) ? readdirSync(path.join(dataDir, 'pods')).sort() : []).toEqual(left);
  });

  it('never follows a symlink out of the pods dir', async () => {
    await ensureVolume(volumeDir(dataDir, 'db', 0));
    symlinkSync(outside, path.join(dataDir, 'pods', 'db-1'));
    symlinkSync(outside, path.join(volumeDir(dataDir, 'db', 0), 'escape'));

    const sut = await purgeVolumes(dataDir, 'db');

    expect(sut).toEqual(['db-0', 'db-1']);
    expect(readdirSync(outside)).toEqual(['keep.txt']);
  });

  it('answers nothing when no pods dir exists', async () => {
    await expect(purgeVolumes(dataDir, 'db')).resolves.toEqual([]);
  });
});
