import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { detachVolumes, ensureVolume, leftoverTrash, removeDetached, volumeDir, volumesRoot } from './pod-volumes.js';

async function purge(dataDir: string, service: string): Promise<string[]> {
  const d = detachVolumes(dataDir, service);
  if (!d.ok) throw new Error(d.reason);
  await removeDetached(d.trash);
  return d.names;
}

describe(detachVolumes.name, () => {
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
    expect(statSync(volumesRoot(dataDir)).mode & 0o777).toBe(0o700);
    expect(existsSync(path.join(dir, 'data.txt'))).toBe(true);
  });

  it.each<[string, string[], string[], string[]]>([
    ['its own ordinals only', ['db-0', 'db-1', 'db-10', 'db-x', 'db', 'dbx-0', 'db-1-0', 'db-01'], ['db-0', 'db-1', 'db-10'], ['db', 'db-01', 'db-1-0', 'db-x', 'dbx-0']],
    ['nothing when there is nothing', [], [], []],
  ])('removes %s', async (_name, present, removed, left) => {
    for (const n of present) mkdirSync(path.join(dataDir, 'pods', n), { recursive: true });

    const sut = await purge(dataDir, 'db');

    expect(sut).toEqual(removed);
    expect(existsSync(path.join(dataDir, 'pods')) ? readdirSync(path.join(dataDir, 'pods')).sort() : []).toEqual(left);
  });

  it('never follows a symlink out of the pods dir', async () => {
    await ensureVolume(volumeDir(dataDir, 'db', 0));
    symlinkSync(outside, path.join(dataDir, 'pods', 'db-1'));
    symlinkSync(outside, path.join(volumeDir(dataDir, 'db', 0), 'escape'));

    const sut = await purge(dataDir, 'db');

    expect(sut).toEqual(['db-0', 'db-1']);
    expect(readdirSync(outside)).toEqual(['keep.txt']);
  });

  it('answers nothing when no pods dir exists', async () => {
    await expect(purge(dataDir, 'db')).resolves.toEqual([]);
  });

  it('frees the names before it returns: a pod of the service applied again gets a new, empty directory that the removal leaves alone', async () => {
    const dir = volumeDir(dataDir, 'db', 0);
    await ensureVolume(dir);
    for (let i = 0; i < 2000; i++) writeFileSync(path.join(dir, `f${i}`), 'old');
    mkdirSync(path.join(dir, 'sub', 'deeper'), { recursive: true });

    const sut = detachVolumes(dataDir, 'db');
    if (!sut.ok) throw new Error(sut.reason);
    const removal = removeDetached(sut.trash);
    await ensureVolume(dir);
    writeFileSync(path.join(dir, 'new.txt'), 'new');
    await removal;

    expect(readdirSync(dir)).toEqual(['new.txt']);
    expect(readdirSync(volumesRoot(dataDir))).toEqual(['db-0']);
  });

  it('finds what an interrupted purge left, and only that', async () => {
    await ensureVolume(volumeDir(dataDir, 'db', 0));
    await ensureVolume(volumeDir(dataDir, 'db', 1));
    const d = detachVolumes(dataDir, 'db');
    if (!d.ok) throw new Error(d.reason);
    await ensureVolume(volumeDir(dataDir, 'db', 0));

    const sut = leftoverTrash(dataDir);

    expect(sut.sort()).toEqual([...d.trash].sort());
    await removeDetached(sut);
    expect(readdirSync(volumesRoot(dataDir))).toEqual(['db-0']);
  });

  describe('a pods dir that is not a real directory', () => {
    it.each<[string, (root: string) => void]>([
      ['a symlink to a directory elsewhere', (root) => {
        mkdirSync(path.join(outside, 'db-0'));
        writeFileSync(path.join(outside, 'db-0', 'theirs.txt'), 'x');
        symlinkSync(outside, root);
      }],
      ['a file', (root) => writeFileSync(root, 'x')],
      ['a dangling symlink', (root) => symlinkSync(path.join(outside, 'nowhere'), root)],
    ])('%s: purge refuses and deletes nothing, no data dir is made through it', async (_name, make) => {
      const root = volumesRoot(dataDir);
      make(root);
      const before = readdirSync(outside).sort();

      const sut = detachVolumes(dataDir, 'db');

      expect(sut).toEqual({ ok: false, reason: expect.stringMatching(/pods is (a symlink|not a directory)/), names: [], trash: [] });
      await expect(ensureVolume(volumeDir(dataDir, 'db', 1))).rejects.toThrow(/pods is (a symlink|not a directory)/);
      expect(readdirSync(outside).sort()).toEqual(before);
      expect(existsSync(path.join(outside, 'db-0', 'theirs.txt'))).toBe(before.includes('db-0'));
      expect(leftoverTrash(dataDir)).toEqual([]);
    });

    it('the attack as reported: pods moved aside and replaced by a link', async () => {
      await ensureVolume(volumeDir(dataDir, 'r', 0));
      mkdirSync(path.join(outside, 'r-0'));
      renameSync(volumesRoot(dataDir), `${volumesRoot(dataDir)}.real`);
      symlinkSync(outside, volumesRoot(dataDir));

      expect(detachVolumes(dataDir, 'r').ok).toBe(false);
      expect(existsSync(path.join(outside, 'r-0'))).toBe(true);
    });
  });
});
