import { expandVars } from './expand-vars.js';

// Rows follow Kubernetes' expansion tests (third_party/forked/golang/expansion/expand_test.go).
const VARS = { VAR_A: 'A', VAR_B: 'B', VAR_C: 'C', VAR_REF: '$(VAR_A)', VAR_EMPTY: '', PORT: '40123' };

describe(expandVars.name, () => {
  const sut = expandVars;

  it.each([
    { name: 'whole string', input: '$(VAR_A)', want: 'A' },
    { name: 'a port', input: '$(PORT)', want: '40123' },
    { name: 'inside text', input: '___$(VAR_B)___', want: '___B___' },
    { name: 'two in a row', input: '$(VAR_C)$(VAR_A)', want: 'CA' },
    { name: 'in a flag', input: '--port=$(PORT)', want: '--port=40123' },
    { name: 'empty value', input: 'x$(VAR_EMPTY)y', want: 'xy' },
    { name: 'a value is not expanded again', input: '$(VAR_REF)', want: '$(VAR_A)' },
    { name: 'escaped reference', input: '$$(VAR_B)', want: '$(VAR_B)' },
    { name: 'escape then reference', input: '$$$(VAR_B)', want: '$B' },
    { name: 'double escape then reference', input: '$$$$(VAR_B)', want: '$$(VAR_B)' },
    { name: 'escaped operator', input: '$$', want: '$' },
    { name: 'two escaped operators', input: '$$$$', want: '$$' },
    { name: 'unknown name stays literal', input: '$(VAR_DNE)', want: '$(VAR_DNE)' },
    { name: 'empty name stays literal', input: '$()', want: '$()' },
    { name: 'unclosed reference', input: '$(VAR_A', want: '$(VAR_A' },
    { name: 'unclosed after a good one', input: '$(VAR_A)$(VAR_B', want: 'A$(VAR_B' },
    { name: 'no parentheses', input: '$VAR_A', want: '$VAR_A' },
    { name: 'trailing operator', input: 'foo$', want: 'foo$' },
    { name: 'lone operator', input: '$', want: '$' },
    { name: 'operator before other characters', input: '$?_boo_$!', want: '$?_boo_$!' },
    { name: 'nested reference reads to the first )', input: '$(VAR_$(VAR_A))', want: '$(VAR_$(VAR_A))' },
    { name: 'no references', input: 'http.server', want: 'http.server' },
    { name: 'empty string', input: '', want: '' },
    { name: 'inherited object keys are not variables', input: '$(toString)', want: '$(toString)' },
  ])('$name: $input → $want', ({ input, want }) => {
    expect(sut(input, VARS)).toBe(want);
  });
});
