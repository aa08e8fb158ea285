import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configPath, normalizeUrl, parseConfig, readConfig, readSmallFile, resolveConnection, writeConfig } from './config.js';

describe('resolveConnection', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridctl-config-'));
    file = path.join(dir, 'config.yaml');
    await writeConfig(
      {
        currentContext: 'lab',
        contexts: [
          { name: 'lab', server: 'http://10.0.0.5:8080', apiKey: 'lab-key-0123456789' },
          { name: 'ops', server: '127.0.0.1:9090', user: 'ann', password: 'pw-ann' },
        ],
      },
      file,
    );
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['nothing: the default URL, no credentials', {}, {}, { url: 'http://127.0.0.1:8080', source: 'default' }],
    ['the current context', {}, { GRID_CONFIG: '@' }, { url: 'http://10.0.0.5:8080', apiKey: 'lab-key-0123456789', source: 'context lab' }],
    ['--context picks another, a bare host:port gets http://', { context: 'ops' }, { GRID_CONFIG: '@' }, { url: 'http://127.0.0.1:9090', user: 'ann', password: 'pw-ann', source: 'context ops' }],
    ["GRID_URL beats the context, and the context's key stays with its own server", {}, { GRID_CONFIG: '@', GRID_URL: 'http://localhost:1' }, { url: 'http://localhost:1', source: 'GRID_URL' }],
    ['--context with --server: the named context gives credentials for the server given', { context: 'lab', server: 'http://h:2' }, { GRID_CONFIG: '@' }, { url: 'http://h:2', apiKey: 'lab-key-0123456789', source: '--server' }],
    ['--server beats GRID_URL', { server: 'http://a:2' }, { GRID_URL: 'http://b:3' }, { url: 'http://a:2', source: '--server' }],
    ['GRID_API_KEY replaces the context credentials', {}, { GRID_CONFIG: '@', GRID_API_KEY: 'env-key' }, { url: 'http://10.0.0.5:8080', apiKey: 'env-key', source: 'context lab' }],
    ['GRID_USER=name:password', {}, { GRID_USER: 'bob:s3cret:x' }, { url: 'http://127.0.0.1:8080', user: 'bob', password: 's3cret:x', source: 'default' }],
    ['--user with GRID_PASSWORD', { user: 'cy' }, { GRID_PASSWORD: 'pw' }, { url: 'http://127.0.0.1:8080', user: 'cy', password: 'pw', source: 'default' }],
    ['a trailing slash is dropped', { server: 'http://h:1/' }, {}, { url: 'http://h:1', source: '--server' }],
  ])('%s', async (_name, opts, env, expected) => {
    const e = { ...env } as NodeJS.ProcessEnv;
    e.GRID_CONFIG = (env as NodeJS.ProcessEnv).GRID_CONFIG ? file : path.join(dir, 'none.yaml');
    const sut = await resolveConnection(opts, e);
    expect(sut).toEqual({ timeoutMs: 30_000, ...expected });
  });

  it.each([
    ['an unknown context', { context: 'nope' }, {}, /context "nope" not found in .*config\.yaml/],
    ['a user without a password', { user: 'x' }, {}, /a user needs a password/],
    ['a URL of another scheme', { server: 'ftp://h' }, {}, /--server: must be http:\/\/ or https:\/\//],
    ['a bad timeout', { requestTimeout: 'soon' }, {}, /--request-timeout: a duration like 30s/],
  ])('refuses %s with a usage error', async (_name, opts, env, message) => {
    await expect(resolveConnection(opts, { GRID_CONFIG: file, ...env } as NodeJS.ProcessEnv)).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(message) });
  });

  it('reads --request-timeout in ms, s and m', async () => {
    for (const [raw, ms] of [['500ms', 500], ['2s', 2000], ['1m', 60000], ['5', 5000]] as const) {
      expect((await resolveConnection({ requestTimeout: raw }, { GRID_CONFIG: path.join(dir, 'none') })).timeoutMs).toBe(ms);
    }
  });

  it('writes the file for its owner only', async () => {
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect((await readConfig(file)).contexts.map((c) => c.name)).toEqual(['lab', 'ops']);
  });

  it('does not read the file when --server or GRID_URL says where to go', async () => {
    fs.writeFileSync(file, 'contexts: [\n');
    await expect(resolveConnection({}, { GRID_CONFIG: file, GRID_URL: 'http://h:1' })).resolves.toMatchObject({ url: 'http://h:1' });
    await expect(resolveConnection({}, { GRID_CONFIG: file })).rejects.toThrow('not valid YAML');
  });

  it('names the file and the field of a bad config', async () => {
    fs.writeFileSync(file, 'contexts:\n  - name: x\n');
    await expect(readConfig(file)).rejects.toThrow(`${file}: contexts[0].server: required`);
    fs.writeFileSync(file, 'contexts: [\n');
    await expect(readConfig(file)).rejects.toThrow(`${file}: not valid YAML`);
    expect(() => parseConfig(['a'], 'f')).toThrow('f: must be a mapping');
  });
});

describe('configPath', () => {
  it.each([
    [{ GRID_CONFIG: '/x/c.yaml' }, '/x/c.yaml'],
    [{ XDG_CONFIG_HOME: '/xdg' }, '/xdg/grid/config.yaml'],
    [{}, path.join(os.homedir(), '.config', 'grid', 'config.yaml')],
  ])('%j → %s', (env, expected) => {
    expect(configPath(env as NodeJS.ProcessEnv)).toBe(expected);
  });
});

describe('normalizeUrl', () => {
  it('keeps a path prefix (Grid behind a proxy) without a trailing slash', () => {
    expect(normalizeUrl('https://example.com/grid/', 'x')).toBe('https://example.com/grid');
  });

  it('refuses a password in the URL, where every message naming the URL would print it', () => {
    expect(() => normalizeUrl('http://admin:pw@127.0.0.1:8080', 'GRID_URL')).toThrow('GRID_URL: no user or password in the URL');
  });
});

describe(readSmallFile.name, () => {
  it('refuses a device before reading a byte, and a file over the limit', () => {
    expect(() => readSmallFile('/dev/zero', 1024)).toThrow('/dev/zero: not a regular file');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridctl-read-'));
    try {
      const f = path.join(dir, 'big');
      fs.writeFileSync(f, 'x'.repeat(2048));
      expect(() => readSmallFile(f, 1024)).toThrow(`${f}: 2048 bytes, more than the 1024 gridctl reads`);
      expect(readSmallFile(f, 4096)).toHaveLength(2048);
      expect(() => readSmallFile(dir, 1024)).toThrow('not a regular file');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
