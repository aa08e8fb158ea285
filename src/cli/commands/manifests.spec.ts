import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CliError, UsageError } from '../errors.js';
import { deletionProblems, filesOf, mapFieldErrors, MAX_APPLY_BYTES, parseDocuments, readSources, renderDiff, resultLines, tooLarge, type SourceDoc } from './manifests.js';

const svc = (name: string) => ({ kind: 'Service', metadata: { name }, spec: { replicas: 1 } });
const group = (name: string) => ({ kind: 'FailoverGroup', metadata: { name }, spec: { targets: [{ service: 'api' }] } });
const doc = (source: string, document: number, value: unknown): SourceDoc => ({ source, document, value });

describe(parseDocuments.name, () => {
  const sut = parseDocuments;

  it.each([
    ['one document', 'kind: Service\n', false, [[1, { kind: 'Service' }]]],
    ['documents numbered as --- separates them, empty ones counted and skipped', 'a: 1\n---\n---\nb: 2\n', false, [[1, { a: 1 }], [3, { b: 2 }]]],
    ['a leading --- and comments start no document', '# header\n---\na: 1\n', false, [[1, { a: 1 }]]],
    ['a JSON file: its array is a list of documents', '[{"a": 1}, {"b": 2}]', true, [[1, { a: 1 }], [2, { b: 2 }]]],
    ['a JSON object is one document', '{"a": 1}', true, [[1, { a: 1 }]]],
    ['an empty file has none', '', false, []],
    ['a file of comments has none', '# nothing\n', false, []],
  ])('%s', (_what, text, json, expected) => {
    expect(sut(text, 'x.yaml', json).map((d) => [d.document, d.value])).toEqual(expected);
  });

  it.each([
    ['a repeated key, with its line', 'a: 1\na: 2\n', 'x.yaml: Map keys must be unique at line 2, column 1'],
    ['a repeated key in JSON too', '{"a": 1, "a": 2}', 'x.yaml: Map keys must be unique'],
    ['a syntax error in the second document names it', 'a: 1\n---\nb: [\n', 'x.yaml (document 2): '],
  ])('refuses %s', (_what, text, message) => {
    expect(() => sut(text, 'x.yaml', text.startsWith('{'))).toThrow(CliError);
    expect(() => sut(text, 'x.yaml', text.startsWith('{'))).toThrow(message);
  });
});

describe(mapFieldErrors.name, () => {
  const sut = mapFieldErrors;
  const docs = [doc('examples/a.yaml', 1, svc('a')), doc('examples/a.yaml', 2, svc('b')), doc('examples/b.yaml', 1, svc('c')), doc('(stdin)', 1, svc('d'))];

  it.each([
    ['[1].spec.replicas', 'must be an integer 0..1000 (got -1)', 'examples/a.yaml (document 2): spec.replicas: must be an integer 0..1000 (got -1)'],
    ['[0].metadata.name', 'duplicate', 'examples/a.yaml (document 1): metadata.name: duplicate'],
    ['[2].spec.env[0].value', 'bad', 'examples/b.yaml: spec.env[0].value: bad'],
    ['[3]', 'must be a mapping', '(stdin): must be a mapping'],
    ['[9].spec', 'out of range stays as Grid said it', '[9].spec: out of range stays as Grid said it'],
    ['(json)', 'not JSON', '(json): not JSON'],
  ])('%s', (p, message, expected) => {
    expect(sut([{ path: p, message }], docs)).toEqual([expected]);
  });

  it('maps the paths of a one-document request, which carry no index, to that document', () => {
    const one = [doc('examples/a.yaml', 2, svc('a'))];

    expect(sut([{ path: 'spec.replicas', message: 'bad' }, { path: '(root)', message: 'must be a mapping' }], one)).toEqual(['examples/a.yaml (document 2): spec.replicas: bad', 'examples/a.yaml (document 2): must be a mapping']);
  });
});

describe(resultLines.name, () => {
  const sut = resultLines;
  // Grid answers services first, then groups: the lines follow the documents.
  const docs = [doc('a.yaml', 1, group('shop')), doc('a.yaml', 2, svc('api')), doc('b.yaml', 1, svc('web'))];
  const applied = [
    { service: 'api', result: 'configured' },
    { service: 'web', result: 'unchanged' },
    { failoverGroup: 'shop', result: 'created' },
  ];

  it.each([
    [false, ['failovergroup/shop created', 'service/api configured', 'service/web unchanged']],
    [true, ['failovergroup/shop created (server dry run)', 'service/api configured (server dry run)', 'service/web unchanged (server dry run)']],
  ])('dry run %s', (dryRun, expected) => {
    expect(sut(docs, applied, dryRun)).toEqual(expected);
  });

  it('says what each imported object became, with what Grid ignored of it', () => {
    const k8s = [
      doc('k.yaml', 1, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api' } }),
      doc('k.yaml', 2, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api' }, spec: { ports: [] } }),
      doc('k.yaml', 3, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' } }),
      doc('c.yml', 1, { services: {} }),
      doc('g.yaml', 1, svc('web')),
    ];
    const imported = [
      { object: 'Deployment/api', became: 'service/api', ignored: ['spec.template.spec.nodeSelector'], index: 0 },
      { object: 'Service/api', became: 'service/api', ignored: [], index: 1 },
      { object: 'ConfigMap/cfg', ignored: ['the whole object'], index: 2 },
      { object: 'Compose', ignored: ['volumes'], index: 3 },
      { object: 'Compose/db', became: 'service/db', ignored: ['depends_on'], index: 3 },
    ];
    expect(sut(k8s, [{ service: 'api', result: 'configured' }, { service: 'db', result: 'created' }, { service: 'web', result: 'unchanged' }], false, imported)).toEqual([
      'deployment.apps/api → service/api configured (ignored: spec.template.spec.nodeSelector)',
      'service/api → service/api configured',
      'configmap/cfg (ignored: the whole object)',
      'compose (ignored: volumes)',
      'compose/db → service/db created (ignored: depends_on)',
      'service/web unchanged',
    ]);
  });

  it("says where a StatefulSet's data goes on Grid, before what it ignored", () => {
    const sts = [doc('s.yaml', 1, { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db' } })];
    const imported = [{ object: 'StatefulSet/db', became: 'service/db', ignored: ['spec.volumeClaimTemplates[0].spec.resources'], index: 0, storage: 'volumeClaimTemplates[0] data, mounted at /data → spec.storage.persistent: …' }];
    expect(sut(sts, [{ service: 'db', result: 'created' }], false, imported)).toEqual([
      'statefulset.apps/db → service/db created (storage: volumeClaimTemplates[0] data, mounted at /data → spec.storage.persistent: …) (ignored: spec.volumeClaimTemplates[0].spec.resources)',
    ]);
  });

  it('tells a service and a group of the same name apart', () => {
    expect(sut([doc('a.yaml', 1, group('x'))], [{ service: 'x', result: 'configured' }], false)).toEqual([]);
  });
});

describe(deletionProblems.name, () => {
  it.each([
    [svc('api'), undefined],
    [group('shop'), undefined],
    [{ kind: 'Pod', metadata: { name: 'p' } }, 'a.yaml (document 2): kind: must be Service or FailoverGroup to delete (got "Pod")'],
    [{ metadata: { name: 'p' } }, 'a.yaml (document 2): kind: must be Service or FailoverGroup to delete (got nothing)'],
    [{ kind: 'Service', metadata: {} }, 'a.yaml (document 2): metadata.name: is required'],
    [['a'], 'a.yaml (document 2): must be a mapping'],
  ])('%j', (value, expected) => {
    expect(deletionProblems([doc('a.yaml', 1, svc('first')), doc('a.yaml', 2, value)])).toEqual(expected ? [expected] : []);
  });
});

describe(renderDiff.name, () => {
  const sut = renderDiff;
  const live = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', labels: {} }, spec: { replicas: 1, image: 'local://demo@v1' } };

  it('is empty when nothing would change, whatever the key order', () => {
    expect(sut('service/api', live, { spec: { image: 'local://demo@v1', replicas: 1 }, metadata: { labels: {}, name: 'api' }, kind: 'Service', apiVersion: 'v1' })).toBe('');
  });

  it('is a unified diff with kubectl-like headers, keys sorted', () => {
    expect(sut('service/api', live, { ...live, spec: { ...live.spec, replicas: 3 } })).toBe(
      [
        '--- live/service/api',
        '+++ merged/service/api',
        '@@ -4,5 +4,5 @@',
        '   labels: {}',
        '   name: api',
        ' spec:',
        '   image: local://demo@v1',
        '-  replicas: 1',
        '+  replicas: 3',
        '',
      ].join('\n'),
    );
  });

  it('diffs a created object against nothing', () => {
    const patch = sut('failovergroup/shop', null, group('shop'));

    expect(patch.split('\n').slice(0, 3)).toEqual(['--- live/failovergroup/shop', '+++ merged/failovergroup/shop', '@@ -0,0 +1,6 @@']);
    expect(patch.split('\n').slice(3, -1).every((l) => l.startsWith('+'))).toBe(true);
  });
});

describe(tooLarge.name, () => {
  it.each([
    [MAX_APPLY_BYTES, false, undefined],
    [MAX_APPLY_BYTES + 1, false, `the 3 documents come to ${MAX_APPLY_BYTES + 1} bytes as JSON; Grid's POST /apply takes at most 1 MiB (1048576 bytes) in one request`],
    [10, true, 'and refused them (413)'],
  ])('%d bytes, refused %s', (bytes, refused, expected) => {
    const r = tooLarge(bytes, 3, refused);
    if (expected === undefined) expect(r).toBeUndefined();
    else expect(r).toContain(expected);
  });
});

describe(readSources.name, () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridctl-manifests-'));
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'b.yaml'), 'kind: Service\nmetadata: {name: b}\n---\nkind: Service\nmetadata: {name: b2}\n');
    fs.writeFileSync(path.join(dir, 'a.json'), '{"kind": "Service", "metadata": {"name": "a"}}');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a manifest');
    fs.writeFileSync(path.join(dir, 'sub', 'c.yml'), 'kind: Service\nmetadata: {name: c}\n');
    fs.mkdirSync(path.join(dir, 'empty'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const names = (docs: SourceDoc[]) => docs.map((d) => `${d.source === '(stdin)' ? d.source : path.relative(dir, d.source)}#${d.document}`);
  const noStdin = () => Promise.reject(new Error('stdin not expected'));

  it.each([
    [false, ['a.json#1', 'b.yaml#1', 'b.yaml#2']],
    [true, ['a.json#1', 'b.yaml#1', 'b.yaml#2', 'sub/c.yml#1']],
  ])('reads a directory sorted, recursive %s', async (recursive, expected) => {
    expect(filesOf(dir, recursive).map((f) => path.relative(dir, f))).toEqual(expected.filter((n) => n.endsWith('#1')).map((n) => n.split('#')[0]));
    expect(names(await readSources([dir], recursive, noStdin))).toEqual(expected);
  });

  it('reads files and stdin in the order given', async () => {
    expect(names(await readSources([path.join(dir, 'sub', 'c.yml'), '-'], false, async () => 'kind: Service\n'))).toEqual(['sub/c.yml#1', '(stdin)#1']);
  });

  it.each([
    [['/no/such.yaml'], '-f /no/such.yaml: no such file or directory'],
    [['EMPTY'], 'no documents in its *.yaml, *.yml or *.json files (-R reads its subdirectories)'],
    [['-', '-'], 'stdin can be read only once'],
    [[], '-f: give a file'],
  ])('%j is a usage error', async (args, message) => {
    const p = readSources(args.map((a) => (a === 'EMPTY' ? path.join(dir, 'empty') : a)), false, async () => '');
    await expect(p).rejects.toThrow(UsageError);
    await expect(readSources(args.map((a) => (a === 'EMPTY' ? path.join(dir, 'empty') : a)), false, async () => '')).rejects.toThrow(message);
  });

  it('names the empty file and empty stdin', async () => {
    fs.writeFileSync(path.join(dir, 'sub', 'empty.yaml'), '# nothing yet\n');
    await expect(readSources([path.join(dir, 'sub', 'empty.yaml')], false, noStdin)).rejects.toThrow(`-f ${path.join(dir, 'sub', 'empty.yaml')}: no documents in the file`);
    await expect(readSources(['-'], false, async () => '\n')).rejects.toThrow('-f -: no documents on stdin');
    fs.rmSync(path.join(dir, 'sub', 'empty.yaml'));
  });
});
