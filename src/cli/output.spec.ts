import { age, paint, parseOutput, sanitize, table, terminalSafe, useColor } from './output.js';

describe('age', () => {
  // kubectl's HumanDuration table (k8s.io/apimachinery/pkg/util/duration).
  it.each([
    [0, '0s'],
    [119, '119s'],
    [120, '2m'],
    [121, '2m1s'],
    [599, '9m59s'],
    [600, '10m'],
    [179 * 60, '179m'],
    [3 * 3600, '3h'],
    [3 * 3600 + 60, '3h1m'],
    [8 * 3600, '8h'],
    [47 * 3600, '47h'],
    [48 * 3600, '2d'],
    [49 * 3600, '2d1h'],
    [8 * 86400, '8d'],
    [729 * 86400, '729d'],
    [730 * 86400, '2y'],
    [731 * 86400, '2y1d'],
    [8 * 365 * 86400, '8y'],
    [-1, '<unknown>'],
    [Number.NaN, '<unknown>'],
  ])('%d s → %s', (seconds, expected) => {
    expect(age(seconds)).toBe(expected);
  });
});

describe('table', () => {
  it('aligns columns three spaces apart under upper-case headers, <none> for empty cells', () => {
    const sut = table(['name', 'ready', 'age'], [
      ['web', '3/3', '5m'],
      ['business-logic', '', '10s'],
    ]);
    expect(sut.split('\n')).toEqual(['NAME             READY    AGE', 'web              3/3      5m', 'business-logic   <none>   10s']);
  });

  it('measures cells before colouring them', () => {
    const sut = table(['a', 'b'], [['x', 'y'], ['long', 'z']], (_r, c, t) => (c === 0 ? `<${t}>` : t));
    // The brackets stand in for invisible escape codes: without them, the columns line up.
    expect(sut.replace(/[<>]/g, '').split('\n')).toEqual(['A      B', 'x      y', 'long   z']);
  });

  it('escapes control characters so a message cannot drive the terminal', () => {
    expect(sanitize('ok\u001b[2Jgone\u0007')).toBe('ok\\x1b[2Jgone\\x07');
    expect(table(['m'], [['a\u001bb']])).toContain('a\\x1bb');
  });
});

describe('useColor', () => {
  const tty = { isTTY: true } as NodeJS.WriteStream;
  const pipe = { isTTY: false } as NodeJS.WriteStream;
  it.each([
    ['a terminal', tty, {}, true],
    ['a pipe', pipe, {}, false],
    ['NO_COLOR=1', tty, { NO_COLOR: '1' }, false],
    ['NO_COLOR empty (the spec: only a non-empty value counts)', tty, { NO_COLOR: '' }, true],
    ['TERM=dumb', tty, { TERM: 'dumb' }, false],
  ])('%s', (_name, stream, env, expected) => {
    expect(useColor(stream, env as NodeJS.ProcessEnv)).toBe(expected);
  });
});

describe('parseOutput', () => {
  it('accepts the listed formats and names the flag otherwise', () => {
    expect(parseOutput(undefined)).toBe('table');
    expect(parseOutput('json')).toBe('json');
    expect(() => parseOutput('xml')).toThrow("-o: one of wide|json|yaml|name (got 'xml')");
    expect(() => parseOutput('wide', ['json'])).toThrow('-o: one of json');
  });
});

describe('terminalSafe', () => {
  it.each([
    ['a title (OSC)', 'x\u001b]0;PWNED\u0007y', 'x\\x1b]0;PWNED\\x07y'],
    ['a screen clear (CSI)', '\u001b[2J', '\\x1b[2J'],
    ['a C1 CSI', 'a\u009b31m', 'a\\x9b31m'],
    ['a carriage return that would overwrite the line', 'ok\rfake', 'ok\\x0dfake'],
    ['newlines and tabs', 'a\tb\nc', 'a\tb\nc'],
  ])('escapes %s', (_name, input, want) => {
    expect(terminalSafe(input)).toBe(want);
  });

  it("keeps gridctl's own colours", () => {
    const red = paint('error:', 'red', true);
    expect(terminalSafe(red)).toBe(red);
  });
});
