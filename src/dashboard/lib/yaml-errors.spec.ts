import { byLine, locateErrors, parseErrorPath, syntaxErrors, syntaxMessage } from './yaml-errors.js';

const TWO_DOCS = [
  'apiVersion: v1', // 1
  'kind: Service', // 2
  'metadata:', // 3
  '  name: a', // 4
  'spec:', // 5
  '  replicas: -1', // 6
  '  env:', // 7
  '    - { name: VERSION, value: v1 }', // 8
  '    - name: X', // 9
  '      value: 3', // 10
  '---', // 11
  'apiVersion: v1', // 12
  'kind: Service', // 13
  'metadata:', // 14
  '  name: b', // 15
  'spec:', // 16
  '  replicas: x', // 17
  '  readinessProbe:', // 18
  '    httpGet: { path: 3 }', // 19
].join('\n');

describe(parseErrorPath.name, () => {
  it.each([
    ['spec.replicas', 0, ['spec', 'replicas']],
    ['[1].spec.replicas', 1, ['spec', 'replicas']],
    ['[0].spec.env[1].value', 0, ['spec', 'env', 1, 'value']],
    ['spec.targets[2]', 0, ['spec', 'targets', 2]],
  ])('%s → document %d, %j', (path, doc, segments) => {
    expect(parseErrorPath(path)).toEqual({ doc, segments });
  });
});

describe(locateErrors.name, () => {
  it.each([
    ['spec.replicas', 6, true],
    ['[0].spec.replicas', 6, true],
    ['[1].spec.replicas', 17, true],
    ['[1].spec.readinessProbe.httpGet.path', 19, true],
    ['[0].spec.env[1].value', 10, true],
    ['[0].spec.env[0].value', 8, true],
    // A missing field points at its nearest parent that exists.
    ['[1].spec.livenessProbe.httpGet', 16, false],
    ['[0].spec.env[5].name', 7, false],
    // A document that is not there: the top of the text.
    ['[4].spec.replicas', 1, false],
  ])('%s → line %d (exact %s)', (path, line, exact) => {
    const [sut] = locateErrors(TWO_DOCS, [{ path, message: 'bad' }]);
    expect(sut).toEqual({ path, message: 'bad', line, exact });
  });

  it('keeps each error with its own message, in order', () => {
    const sut = locateErrors(TWO_DOCS, [
      { path: '[1].spec.replicas', message: 'must be an integer' },
      { path: '[0].spec.replicas', message: 'must be >= 0' },
    ]);
    expect(sut.map((e) => [e.line, e.message])).toEqual([
      [17, 'must be an integer'],
      [6, 'must be >= 0'],
    ]);
  });

  it('finds fields of a document after leading comments', () => {
    const [sut] = locateErrors('# comment\n\nkind: Service\nspec:\n  replicas: -1\n', [{ path: 'spec.replicas', message: 'm' }]);
    expect(sut.line).toBe(5);
  });
});

describe(syntaxMessage.name, () => {
  it.each([
    ['Flow sequence in block collection must end with a ] at line 3, column 1:\n\nb: [1, 2\n^\n', 'Flow sequence in block collection must end with a ]'],
    ['Missing closing "quote at line 2, column 1:', 'Missing closing "quote'],
    ['Tabs are not allowed:', 'Tabs are not allowed'],
    ['Plain message', 'Plain message'],
  ])('%j → %j', (raw, want) => {
    expect(syntaxMessage(raw)).toBe(want);
  });
});

describe(syntaxErrors.name, () => {
  it('names the line, with no document index and no dangling colon', () => {
    const sut = syntaxErrors('a: 1\nb: [1, 2\nc: 3');
    expect(sut.length).toBeGreaterThan(0);
    expect(sut[0]).toMatchObject({ path: '', line: 3, exact: true });
    expect(sut[0].message).not.toMatch(/:$|at line/);
  });

  it('is empty for valid YAML', () => {
    expect(syntaxErrors('a: 1\n---\nb: 2\n')).toEqual([]);
  });
});

describe(byLine.name, () => {
  it('lists located errors top to bottom whatever order the server sent them in', () => {
    const sut = byLine(locateErrors(TWO_DOCS, [
      { path: '[1].spec.replicas', message: 'must be a number' },
      { path: '[0].spec.replicas', message: 'must be ≥ 0' },
      { path: '[0].spec.env[1].value', message: 'must be a string' },
    ]));
    expect(sut.map((e) => e.line)).toEqual([6, 10, 17]);
  });
});
