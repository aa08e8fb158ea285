import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dockerInstanceId } from './docker-instance.js';

describe(dockerInstanceId.name, () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'grid-instance-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('is made once and read back the same after a restart', () => {
    const d = dir();
    const first = dockerInstanceId(d);
    expect(first).toMatch(/^[0-9a-f]{16}$/);
    expect(dockerInstanceId(d)).toBe(first);
  });

  it('differs between data dirs, even two at the same path in different containers (here: a dir wiped and made again)', () => {
    const d = dir();
    const first = dockerInstanceId(d);
    fs.rmSync(path.join(d, 'docker-instance'));
    expect(dockerInstanceId(d)).not.toBe(first);
    expect(dockerInstanceId(dir())).not.toBe(dockerInstanceId(d));
  });

  it('replaces a damaged file', () => {
    const d = dir();
    fs.writeFileSync(path.join(d, 'docker-instance'), 'not an id');
    expect(dockerInstanceId(d)).toMatch(/^[0-9a-f]{16}$/);
  });
});
