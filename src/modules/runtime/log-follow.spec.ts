import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { rotateLog } from './drivers/process.driver.js';
import { FOLLOW_CHUNK, LogFollower } from './log-follow.js';

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
    expect(sut.read()).toEqual(['one']);
    fs.appendFileSync(file, 'o\nthree\n');
    expect(sut.read()).toEqual(['two', 'three']);
    expect(sut.read()).toEqual([]);
  });

  it('follows a file that does not exist yet from its start', () => {
    const sut = LogFollower.atEnd(file);
    expect(sut.read()).toEqual([]);
    fs.writeFileSync(file, 'first\n');
    expect(sut.read()).toEqual(['first']);
  });

  it('starts again at the beginning when the file is truncated in place', () => {
    fs.writeFileSync(file, 'a'.repeat(100) + '\n');
    const sut = LogFollower.atEnd(file);
    fs.truncateSync(file, 0);
    fs.appendFileSync(file, '[grid: log truncated]\nnew\n');
    expect(sut.read()).toEqual(['[grid: log truncated]', 'new']);
  });

  it('reads a flood in bounded chunks and passes an endless line on in pieces', () => {
    const sut = LogFollower.atEnd(file);
    fs.writeFileSync(file, 'x'.repeat(FOLLOW_CHUNK * 2 + 10));
    const first = sut.read();
    expect(first.join('').length).toBeLessThanOrEqual(FOLLOW_CHUNK);
    let total = first.join('').length;
    for (let i = 0; i < 5; i++) total += sut.read().join('').length;
    expect(total).toBe(FOLLOW_CHUNK * 2);
  });

  it.each([
    ['lines written before the rotation and not yet read come from the copy, then the new file', 'n1\nn2\n', 'n3\n', ['n1', 'n2', 'n3']],
    ['a line split by the rotation comes whole', 'n1\nhal', 'f\nn2\n', ['n1', 'half', 'n2']],
    ['the new file already longer than the old offset is still read from its start', 'n1\n', 'x'.repeat(300) + '\n', ['n1', 'x'.repeat(300)]],
  ])('across a rotation: %s', async (_name, before, after, want) => {
    fs.writeFileSync(file, 'seen\n');
    fs.writeFileSync(`${file}.1`, 'an older rotation\n');
    let rotations = 0;
    const sut = LogFollower.atEnd(file, () => rotations);
    fs.appendFileSync(file, before);
    await rotateLog(file, 3);
    rotations++;
    fs.appendFileSync(file, after);

    expect([...sut.read(), ...sut.read()]).toEqual(want);
    expect(fs.readFileSync(`${file}.1`, 'utf8')).toBe(`seen\n${before}`);
    expect(fs.readFileSync(`${file}.2`, 'utf8')).toBe('an older rotation\n');
  });

  it('follows two rotations in a row without repeating a line', async () => {
    fs.writeFileSync(file, '');
    let rotations = 0;
    const sut = LogFollower.atEnd(file, () => rotations);
    const got: string[] = [];
    for (let i = 0; i < 6; i++) {
      fs.appendFileSync(file, `line ${i}\n`);
      if (i % 2 === 1) (await rotateLog(file, 2), rotations++);
      got.push(...sut.read());
    }
    expect(got).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
    expect(fs.existsSync(`${file}.2`)).toBe(false);
  });

  it('reads two rotations between reads from .2, .1 and the new file, in order', async () => {
    fs.writeFileSync(file, 'seen\n');
    let rotations = 0;
    const sut = LogFollower.atEnd(file, () => rotations);
    for (const line of ['a', 'b', 'c']) {
      fs.appendFileSync(file, `${line}\n`);
      if (line !== 'c') (await rotateLog(file, 3), rotations++);
    }
    expect(sut.read()).toEqual(['a', 'b', 'c']);
  });

  it('more rotations between reads than files kept: goes on at the oldest copy left', async () => {
    fs.writeFileSync(file, 'seen\n');
    let rotations = 0;
    const sut = LogFollower.atEnd(file, () => rotations);
    for (const line of ['a', 'b', 'c', 'd']) {
      fs.appendFileSync(file, `${line}\n`);
      if (line !== 'd') (await rotateLog(file, 2), rotations++);
    }
    expect(sut.read()).toEqual(['c', 'd']);
  });
});
