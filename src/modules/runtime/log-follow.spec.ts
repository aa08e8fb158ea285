import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROTATE_CARRY_MAX, rotateLog } from './drivers/process.driver.js';
import { FOLLOW_CHUNK, LogFollower, RotationLog } from './log-follow.js';

const BIG = 1024 * 1024;
/** Reads until the follower is at the end; the lines, and the bytes it reported skipped. */
function drain(sut: LogFollower): { lines: string[]; skipped: number } {
  const lines: string[] = [];
  let skipped = 0;
  for (;;) {
    const got = sut.read();
    lines.push(...got.lines);
    skipped += got.skipped;
    if (got.bytes === 0) return { lines, skipped };
  }
}

describe(LogFollower.name, () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grid-follow-'));
    file = path.join(dir, 'pod.log');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('returns only whole lines appended since the last read', () => {
    fs.writeFileSync(file, 'old line\n');
    const sut = LogFollower.atEnd(file);
    fs.appendFileSync(file, 'one\ntw');
    expect(sut.read().lines).toEqual(['one']);
    fs.appendFileSync(file, 'o\nthree\n');
    expect(sut.read().lines).toEqual(['two', 'three']);
    expect(sut.read().lines).toEqual([]);
  });

  it('follows a file that does not exist yet from its start', () => {
    const sut = LogFollower.atEnd(file);
    expect(sut.read().lines).toEqual([]);
    fs.writeFileSync(file, 'first\n');
    expect(sut.read().lines).toEqual(['first']);
  });

  it('starts again at the beginning when the file is truncated in place', () => {
    fs.writeFileSync(file, 'a'.repeat(100) + '\n');
    const sut = LogFollower.atEnd(file);
    fs.truncateSync(file, 0);
    fs.appendFileSync(file, '[grid: log truncated]\nnew\n');
    expect(sut.read().lines).toEqual(['[grid: log truncated]', 'new']);
  });

  it('reads a flood in bounded chunks and passes an endless line on in pieces', () => {
    const sut = LogFollower.atEnd(file);
    fs.writeFileSync(file, 'x'.repeat(FOLLOW_CHUNK * 2 + 10));
    const first = sut.read().lines;
    expect(first.join('').length).toBeLessThanOrEqual(FOLLOW_CHUNK);
    let total = first.join('').length;
    for (let i = 0; i < 5; i++) total += sut.read().lines.join('').length;
    expect(total).toBe(FOLLOW_CHUNK * 2);
  });

  it.each([
    ['lines written before the rotation and not yet read come from the copy, then the new file', 'n1\nn2\n', 'n3\n', ['n1', 'n2', 'n3']],
    ['a line split by the rotation comes whole', 'n1\nhal', 'f\nn2\n', ['n1', 'half', 'n2']],
    ['the new file already longer than the old offset is still read from its start', 'n1\n', 'x'.repeat(300) + '\n', ['n1', 'x'.repeat(300)]],
  ])('across a rotation: %s', async (_name, before, after, want) => {
    fs.writeFileSync(file, 'seen\n');
    fs.writeFileSync(`${file}.1`, 'an older rotation\n');
    const log = new RotationLog(2);
    const sut = LogFollower.atEnd(file, () => log);
    fs.appendFileSync(file, before);
    await rotateLog(file, { maxFiles: 3, maxBytes: BIG }, log);
    fs.appendFileSync(file, after);

    expect(drain(sut)).toEqual({ lines: want, skipped: 0 });
    expect(fs.readFileSync(`${file}.1`, 'utf8')).toBe(`seen\n${before}`);
    expect(fs.readFileSync(`${file}.2`, 'utf8')).toBe('an older rotation\n');
  });

  it('follows two rotations in a row without repeating a line', async () => {
    fs.writeFileSync(file, '');
    const log = new RotationLog(1);
    const sut = LogFollower.atEnd(file, () => log);
    const got: string[] = [];
    for (let i = 0; i < 6; i++) {
      fs.appendFileSync(file, `line ${i}\n`);
      if (i % 2 === 1) await rotateLog(file, { maxFiles: 2, maxBytes: BIG }, log);
      got.push(...drain(sut).lines);
    }
    expect(got).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
    expect(fs.existsSync(`${file}.2`)).toBe(false);
  });

  it('while a rotation copies, reads on in the live file, then in the copy from the same offset', async () => {
    fs.writeFileSync(file, 'seen\n');
    fs.writeFileSync(`${file}.1`, 'an older rotation\n');
    const log = new RotationLog(2);
    const sut = LogFollower.atEnd(file, () => log);
    fs.appendFileSync(file, 'a\n');
    const rotating = rotateLog(file, { maxFiles: 3, maxBytes: BIG }, log);
    // Renamed, not yet copied nor truncated: `.1` is new and empty, `.2` the older copy.
    expect(log).toMatchObject({ done: 0, shifted: 1 });
    expect(sut.read().lines).toEqual(['a']);
    fs.appendFileSync(file, 'b\n');
    await rotating;
    fs.appendFileSync(file, 'c\n');
    expect(drain(sut)).toEqual({ lines: ['b', 'c'], skipped: 0 });
  });

  it('reads two rotations between reads from .2, .1 and the new file, in order', async () => {
    fs.writeFileSync(file, 'seen\n');
    const log = new RotationLog(2);
    const sut = LogFollower.atEnd(file, () => log);
    for (const line of ['a', 'b', 'c']) {
      fs.appendFileSync(file, `${line}\n`);
      if (line !== 'c') await rotateLog(file, { maxFiles: 3, maxBytes: BIG }, log);
    }
    expect(drain(sut)).toEqual({ lines: ['a', 'b', 'c'], skipped: 0 });
  });

  it.each([
    ['one copy kept', 2, ['c', 'd'], 4],
    ['no copy kept (only truncated)', 1, ['d'], 6],
  ])('more rotations between reads than copies kept (%s): goes on at the oldest left and says how many bytes it skipped', async (_name, maxFiles, want, skipped) => {
    fs.writeFileSync(file, 'seen\n');
    const log = new RotationLog(maxFiles - 1);
    const sut = LogFollower.atEnd(file, () => log);
    for (const line of ['a', 'b', 'c', 'd']) {
      fs.appendFileSync(file, `${line}\n`);
      if (line !== 'd') await rotateLog(file, { maxFiles, maxBytes: BIG }, log);
    }
    expect(drain(sut)).toEqual({ lines: want, skipped });
  });

  it('a line cut in two by a dropped copy is not passed on in half; its bytes count as skipped', async () => {
    fs.writeFileSync(file, '');
    const log = new RotationLog(1);
    const sut = LogFollower.atEnd(file, () => log);
    fs.appendFileSync(file, 'whole\nhal');
    expect(sut.read().lines).toEqual(['whole']);
    fs.appendFileSync(file, 'f\n');
    await rotateLog(file, { maxFiles: 2, maxBytes: BIG }, log);
    fs.appendFileSync(file, 'lost\n');
    await rotateLog(file, { maxFiles: 2, maxBytes: BIG }, log);
    fs.appendFileSync(file, 'next\n');
    // The first copy is gone: 'hal' (held, 3 bytes) and 'f\n' (2) with it; the second copy is read.
    expect(drain(sut)).toEqual({ lines: ['lost', 'next'], skipped: 3 + 2 });
  });

  it('a copy cut short by a rotation that could not keep up ends with a marker; a follower past it repeats nothing', async () => {
    const limits = { maxFiles: 2, maxBytes: 4096 };
    fs.writeFileSync(file, '');
    const log = new RotationLog(1);
    const behind = LogFollower.atEnd(file, () => log);
    const line = 'y'.repeat(99) + '\n';
    fs.appendFileSync(file, line.repeat(20));
    expect(drain(behind).lines.length).toBe(20);
    const ahead = LogFollower.atEnd(file, () => log);
    // More than the copy takes (maxBytes) plus what a rotation carries over at once.
    fs.appendFileSync(file, line.repeat(Math.ceil((limits.maxBytes + ROTATE_CARRY_MAX) / line.length) + 100));
    const size = fs.statSync(file).size;
    expect(drain(ahead).lines.length).toBeGreaterThan(2000);
    await rotateLog(file, limits, log);

    const marker = `[grid: ${size - limits.maxBytes} bytes dropped: the pod wrote faster than its log could be rotated]`;
    const copy = fs.readFileSync(`${file}.1`, 'utf8');
    expect(copy.length).toBeLessThanOrEqual(limits.maxBytes + 200);
    expect(copy.endsWith(`\n${marker}\n`)).toBe(true);
    expect(fs.statSync(file).size).toBe(0);
    fs.appendFileSync(file, 'after\n');
    // The follower that was behind reads the copy to its marker, then the new file: the marker tells it what was lost.
    const b = drain(behind);
    expect(b.skipped).toBe(0);
    expect(b.lines.slice(-2)).toEqual([marker, 'after']);
    // The one that had read further than the copy reaches lost nothing: it goes on in the new file.
    expect(drain(ahead)).toEqual({ lines: ['after'], skipped: 0 });
  });

  it('carries what arrived during the copy over when it is little', async () => {
    fs.writeFileSync(file, 'z'.repeat(5000) + '\n');
    await rotateLog(file, { maxFiles: 2, maxBytes: 4096 }, new RotationLog(1));
    expect(fs.readFileSync(`${file}.1`, 'utf8')).toBe('z'.repeat(5000) + '\n');
  });
});
