import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
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
});
