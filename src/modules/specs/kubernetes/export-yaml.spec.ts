import { parse, parseAllDocuments } from 'yaml';
import { kubernetesYaml } from './export.controller.js';

describe(kubernetesYaml.name, () => {
  const sut = kubernetesYaml;

  it.each([
    ['U+2029 (a line break to Go YAML parsers)', 'x\u2029          securityContext:\u2029            privileged: true', '\\P'],
    ['U+2028', 'a\u2028b', '\\L'],
    ['NEL (\\x85)', '/h\u0085---\u0085kind: Pod', '\\N'],
    ['another C1 control', 'a\u009bb', '\\x9b'],
  ])('keeps a value with %s one double-quoted, escaped string', (_name, value, escape) => {
    const text = sut({ env: [{ name: 'A', value }] });
    expect(text).not.toMatch(/[\u0080-\u009f\u2028\u2029]/);
    expect(text).toContain(escape);
    // Read back (as YAML 1.1 and 1.2 both), the value is exactly what was exported, and nothing else appeared.
    for (const version of ['1.1', '1.2'] as const) {
      expect(parse(text, { version })).toEqual({ env: [{ name: 'A', value }] });
      expect(parseAllDocuments(text, { version })).toHaveLength(1);
    }
  });

  it('quotes the strings YAML 1.1 (Kubernetes) would read as bools or numbers', () => {
    const labels = { a: 'yes', b: 'on', c: 'NO', d: 'y', e: '1:20', f: '1_000', g: 'plain' };
    const text = sut({ metadata: { labels } });
    expect(parse(text, { version: '1.1' })).toEqual({ metadata: { labels } });
    expect(text).toContain('g: plain');
  });

  it('writes shared objects out, without anchors and aliases', () => {
    const labels = { app: 'api' };
    const text = sut({ metadata: { labels }, spec: { selector: { matchLabels: labels } } });
    expect(text).not.toMatch(/[&*]a\d/);
    expect(parse(text)).toEqual({ metadata: { labels }, spec: { selector: { matchLabels: labels } } });
  });
});
