// gridctl apply, delete, diff and config, run as the real CLI against one real Grid (with an
// API key, so that a context's credentials are seen to reach it).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gridctl, parseTable, type CliOptions } from '../utils/cli.js';
import { cleanupAll, expectEventually, json, startGrid, type GridHandle } from '../utils/grid.js';

const KEY = 'gridctl-apply-e2e-key-0123456789abcdef';

const service = (name: string, replicas = 1, version = 'v1') => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  image: local://demo@${version}
`;
const group = (name: string, target: string) => `kind: FailoverGroup
metadata:
  name: ${name}
spec:
  targets:
    - service: ${target}
`;

describe('gridctl apply, delete, diff, config', () => {
  let g: GridHandle;
  let dir: string;
  const run = (args: string[], opts: CliOptions = {}) => gridctl(args, { url: g.url, ...opts, env: { GRID_API_KEY: KEY, ...opts.env } });
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
    return path.join(dir, rel);
  };
  const stored = async () => {
    const r = await json<{ services: Array<{ name: string; desired: number }> }>(`${g.url}/services`, { headers: { 'x-api-key': KEY } });
    return Object.fromEntries(r.body.services.map((s) => [s.name, s.desired]));
  };

  beforeAll(async () => {
    g = await startGrid({ env: { GRID_API_KEYS: `ci:${KEY}` } });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridctl-apply-'));
  });
  afterAll(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await cleanupAll();
  });

  it('applies a directory in file and document order: created, then unchanged, then configured; -R reads subdirectories', async () => {
    const d = path.join(dir, 'app');
    write('app/a.yaml', `${service('web')}---\n${group('shop', 'web')}`);
    write('app/b.json', JSON.stringify([{ kind: 'Service', metadata: { name: 'api' }, spec: { replicas: 2, image: 'local://demo@v1' } }]));
    write('app/notes.txt', 'not read');
    write('app/sub/c.yaml', service('deep'));

    const created = await run(['apply', '-f', d]);
    expect([created.code, created.stderr]).toEqual([0, '']);
    // a.yaml before b.json, sorted; the group in its document's place although Grid answers services first.
    expect(created.stdout).toBe('service/web created\nfailovergroup/shop created\nservice/api created\n');
    expect(await stored()).toEqual({ api: 2, web: 1 });

    const again = await run(['apply', '-f', d, '-R']);
    expect(again.stdout).toBe('service/web unchanged\nfailovergroup/shop unchanged\nservice/api unchanged\nservice/deep created\n');

    write('app/b.json', JSON.stringify([{ kind: 'Service', metadata: { name: 'api' }, spec: { replicas: 3, image: 'local://demo@v1' } }]));
    const configured = await run(['apply', '-f', path.join(d, 'b.json')]);
    expect([configured.code, configured.stdout]).toEqual([0, 'service/api configured\n']);
    expect((await stored()).api).toBe(3);
  });

  it('applies stdin, and -o name / -o json', async () => {
    const r = await run(['apply', '-f', '-'], { input: `${service('stdin-a')}---\n${service('stdin-b')}` });
    expect([r.code, r.stdout]).toEqual([0, 'service/stdin-a created\nservice/stdin-b created\n']);

    const names = await run(['apply', '-f', '-', '-o', 'name'], { input: service('stdin-a') });
    expect(names.stdout).toBe('service/stdin-a\n');
    const data = await run(['apply', '-f', '-', '-o', 'json'], { input: service('stdin-a') });
    expect(JSON.parse(data.stdout)).toEqual({ applied: [{ service: 'stdin-a', result: 'unchanged', generation: 1, revision: 1, version: 'v1' }] });
  });

  it('applies nothing when one document is bad, and names the file and document of each error', async () => {
    const f = write('bad/x.yaml', `${service('good-one')}---\n${service('bad-one', -1)}---\n${service('bad-two').replace('replicas: 1', 'replicas: 1\n  port: 70000')}`);

    const r = await run(['apply', '-f', f]);

    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      `error: ${f} (document 2): spec.replicas: must be an integer 0..1000 (got -1)`,
      expect.stringMatching(new RegExp(`^error: ${f.replace(/[.]/g, '\\.')} \\(document 3\\): spec\\.port: `)),
    ]);
    expect(Object.keys(await stored())).not.toContain('good-one');
  });

  it('--dry-run=server says what would happen and stores nothing', async () => {
    const r = await run(['apply', '-f', '-', '--dry-run=server'], { input: `${service('dry-new')}---\n${service('web', 4)}` });

    expect([r.code, r.stdout]).toEqual([0, 'service/dry-new created (server dry run)\nservice/web configured (server dry run)\n']);
    const now = await stored();
    expect([now['dry-new'], now.web]).toEqual([undefined, 1]);
  });

  it.each([
    [['apply', '-f', '/no/such/file.yaml'], '-f /no/such/file.yaml: no such file or directory'],
    [['apply', '-f', 'EMPTY'], 'no documents in the file'],
    [['apply', '-f', '-'], '-f -: no documents on stdin'],
    [['apply'], '-f: give a file'],
    [['apply', '-f', '-', '--dry-run=client'], '--dry-run: only server'],
  ])('%j is a usage error (exit 2) that names the input', async (args, message) => {
    const empty = write('empty.yaml', '# nothing yet\n');
    const r = await run(args.map((a) => (a === 'EMPTY' ? empty : a)), { input: '' });

    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    if (args.includes('EMPTY')) expect(r.stderr).toContain(empty);
  });

  it('diff: exit 0 and nothing printed when in sync, 1 and a unified diff when not, 2 on an error', async () => {
    const f = write('diff/web.yaml', `${service('web')}---\n${group('shop', 'web')}`);
    const same = await run(['diff', '-f', f]);
    expect([same.code, same.stdout, same.stderr]).toEqual([0, '', '']);

    write('diff/web.yaml', `${service('web', 2)}---\n${group('shop', 'web')}---\n${service('diff-new')}`);
    const changed = await run(['diff', '-f', f]);
    expect(changed.code).toBe(1);
    const [web, created] = changed.stdout.split(/(?=^--- live\/)/m);
    expect(web).toMatch(/^--- live\/service\/web\n\+\+\+ merged\/service\/web\n@@ [^\n]+ @@\n/);
    expect(web.split('\n').filter((l) => /^[-+] /.test(l))).toEqual(['-  replicas: 1', '+  replicas: 2']);
    // A created object diffs against nothing: every line added, defaults filled as Grid would store them.
    expect(created).toMatch(/^--- live\/service\/diff-new\n\+\+\+ merged\/service\/diff-new\n@@ -0,0 \+1,\d+ @@\n/);
    expect(created).toContain('+  revisionHistoryLimit: 10\n');
    expect(created.split('\n').slice(3, -1).every((l) => l.startsWith('+'))).toBe(true);
    expect(await stored()).not.toHaveProperty('diff-new');

    const bad = await run(['diff', '-f', '-'], { input: service('web', -1) });
    expect([bad.code, bad.stdout, bad.stderr]).toEqual([2, '', 'error: (stdin): spec.replicas: must be an integer 0..1000 (got -1)\n']);
    expect((await run(['diff', '-f', '/no/such.yaml'])).code).toBe(2);
    expect((await run(['diff', '-f', f], { url: 'http://127.0.0.1:1' })).code).toBe(2);
  });

  it('delete by name and by -f; a missing one is exit 1 unless --ignore-not-found', async () => {
    await run(['apply', '-f', '-'], { input: `${service('del-a')}---\n${service('del-b')}---\n${service('del-c')}---\n${group('del-g', 'del-c')}` });

    const byName = await run(['delete', 'svc', 'del-a', 'nothere', 'del-b']);
    expect([byName.code, byName.stdout, byName.stderr]).toEqual([1, 'service "del-a" deleted\nservice "del-b" deleted\n', 'error: service "nothere" not found\n']);
    const ignored = await run(['delete', 'service', 'nothere', '--ignore-not-found']);
    expect([ignored.code, ignored.stdout, ignored.stderr]).toEqual([0, '', '']);

    const f = write('del/x.yaml', `${group('del-g', 'del-c')}---\n${service('del-c')}`);
    const byFile = await run(['delete', '-f', f]);
    expect([byFile.code, byFile.stdout]).toEqual([0, 'failovergroup "del-g" deleted\nservice "del-c" deleted\n']);
    expect(Object.keys(await stored()).filter((n) => n.startsWith('del-'))).toEqual([]);

    const other = await run(['delete', '-f', '-'], { input: `${service('web')}---\nkind: Pod\nmetadata: {name: p}\n` });
    expect([other.code, other.stderr]).toEqual([1, 'error: (stdin) (document 2): kind: must be Service or FailoverGroup to delete (got "Pod")\n']);
    expect(await stored()).toHaveProperty('web');
    expect((await run(['delete', 'pods', 'x'])).code).toBe(2);
  });

  it('delete says where a persistent service\'s data is kept; get volumes lists it; delete --purge removes what a deleted service left', async () => {
    const persistent = `${service('db2', 2)}  storage: { persistent: true }\n`;
    await run(['apply', '-f', '-'], { input: persistent });
    await expectEventually(() => fs.existsSync(path.join(g.dataDir, 'pods', 'db2-1')), 15000);

    const listed = await expectEventually(async () => {
      const rows = parseTable((await run(['get', 'volumes'])).stdout);
      if (rows.length !== 2 || rows.some((r) => r.STATUS !== 'Bound')) throw new Error(`not bound yet: ${JSON.stringify(rows)}`);
      return rows;
    }, 15000);
    expect(listed.map((r) => [r.NAME, r.SERVICE, r.ORDINAL, r.STATUS, r.SIZE])).toEqual([
      ['db2-0', 'db2', '0', 'Bound', '0B'],
      ['db2-1', 'db2', '1', 'Bound', '0B'],
    ]);

    const plain = await run(['delete', 'svc', 'db2']);
    expect([plain.code, plain.stdout, plain.stderr]).toEqual([0, 'service "db2" deleted (data kept in pods/db2-0, pods/db2-1; delete --purge removes it)\n', '']);
    await expectEventually(async () => parseTable((await run(['get', 'vol', '--service', 'db2'])).stdout).every((r) => r.STATUS === 'Released'), 15000);
    const again = await run(['delete', 'svc', 'db2']);
    expect([again.code, again.stderr]).toEqual([1, 'error: service "db2" not found; its data directories pods/db2-0, pods/db2-1 are kept (delete --purge removes them)\n']);

    const purged = await run(['delete', 'svc', 'db2', '--purge']);
    expect([purged.code, purged.stdout, purged.stderr]).toEqual([0, 'service "db2" was already deleted; its data pods/db2-0, pods/db2-1 is removed once its pods are gone\n', '']);
    await expectEventually(() => !fs.existsSync(path.join(g.dataDir, 'pods', 'db2-0')) && !fs.existsSync(path.join(g.dataDir, 'pods', 'db2-1')), 15000);
    expect((await run(['get', 'volumes'])).stdout).not.toContain('db2');
    const none = await run(['delete', 'svc', 'db2', '--purge']);
    expect([none.code, none.stderr]).toEqual([1, 'error: service "db2" not found\n']);
  });

  it('delete takes the TYPE/NAME lines get -o name prints, as `get … -o name | xargs gridctl delete`', async () => {
    await run(['apply', '-f', '-'], { input: `${service('tn-a')}---\n${service('tn-b')}---\n${group('tn-g', 'tn-a')}` });
    const names = (await run(['get', 'svc', '-o', 'name'])).stdout.split('\n').filter((l) => l.startsWith('service/tn-'));
    expect(names).toEqual(['service/tn-a', 'service/tn-b']);
    const r = await run(['delete', 'failovergroup/tn-g', ...names, 'fg/tn-none']);
    expect([r.code, r.stdout, r.stderr]).toEqual([1, 'failovergroup "tn-g" deleted\nservice "tn-a" deleted\nservice "tn-b" deleted\n', 'error: failovergroup "tn-none" not found\n']);
    expect(Object.keys(await stored()).filter((n) => n.startsWith('tn-'))).toEqual([]);
    const mixed = await run(['delete', 'svc', 'service/x']);
    expect([mixed.code, mixed.stderr]).toEqual([2, "error: 'service/x': give either TYPE NAME… or TYPE/NAME…, not both (e.g. 'service/x' alone)\n"]);
  });

  describe('config', () => {
    let cfgDir: string;
    let file: string;
    const cfg = (args: string[], env: Record<string, string | undefined> = {}) => gridctl(['config', ...args], { env: { GRID_CONFIG: file, ...env } });

    beforeAll(() => {
      cfgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridctl-config-'));
      file = path.join(cfgDir, 'grid', 'config.yaml');
    });
    afterAll(() => fs.rmSync(cfgDir, { recursive: true, force: true }));

    it('set-context, use-context, get-contexts, view redacted and --raw; the file is 0600', async () => {
      expect((await cfg(['set-context', 'here', '--server', g.url, '--api-key', KEY])).code).toBe(0);
      expect((await cfg(['set-context', 'other', '--server', 'http://127.0.0.1:1', '--user', 'ops', '--password', 'pw', '--current'])).code).toBe(0);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);

      expect(parseTable((await cfg(['get-contexts'])).stdout)).toEqual([
        { CURRENT: '', NAME: 'here', SERVER: g.url, AUTH: 'api-key' },
        { CURRENT: '*', NAME: 'other', SERVER: 'http://127.0.0.1:1', AUTH: 'user ops' },
      ]);
      const use = await cfg(['use-context', 'here']);
      expect([use.code, use.stdout]).toEqual([0, 'Switched to context "here".\n']);
      expect((await cfg(['current-context'])).stdout).toBe('here\n');

      const view = await cfg(['view']);
      expect(view.stdout).toContain('api-key: REDACTED');
      expect(view.stdout).toContain('password: REDACTED');
      expect(view.stdout).not.toContain(KEY);
      expect(JSON.parse((await cfg(['view', '--raw', '-o', 'json'])).stdout).contexts[0]).toEqual({ name: 'here', server: g.url, 'api-key': KEY });
    });

    it('a request goes to the current context with its API key, and fails without it', async () => {
      const viaContext = await gridctl(['apply', '-f', '-'], { input: service('ctx-svc'), env: { GRID_CONFIG: file } });
      expect([viaContext.code, viaContext.stdout]).toEqual([0, 'service/ctx-svc created\n']);
      expect(await stored()).toHaveProperty('ctx-svc');

      const other = await gridctl(['--context', 'other', 'delete', 'svc', 'ctx-svc'], { env: { GRID_CONFIG: file } });
      expect(other.code).toBe(1);
      expect(other.stderr).toContain('http://127.0.0.1:1');
    });

    it('errors name the file: a missing context, a bad file; XDG_CONFIG_HOME is read when GRID_CONFIG is not set', async () => {
      const missing = await cfg(['use-context', 'nope']);
      expect([missing.code, missing.stderr]).toEqual([1, `error: context "nope" is not in ${file} (gridctl config get-contexts lists them)\n`]);

      const xdg = await gridctl(['config', 'current-context'], { env: { XDG_CONFIG_HOME: cfgDir } });
      expect([xdg.code, xdg.stdout]).toEqual([0, 'here\n']);

      const deleted = await cfg(['delete-context', 'other']);
      expect([deleted.code, deleted.stdout]).toEqual([0, `deleted context other from ${file}\n`]);
      expect(parseTable((await cfg(['get-contexts'])).stdout).map((r) => r.NAME)).toEqual(['here']);

      fs.writeFileSync(file, 'contexts: 3\n');
      const bad = await cfg(['get-contexts']);
      expect([bad.code, bad.stderr]).toEqual([1, `error: ${file}: contexts: must be a list\n`]);
    });
  });
});
