// Property-based tests of parseManifests (pure, so thousands of bodies a second): whatever the body,
// it answers ok or field errors and never throws; what it accepts it accepts again unchanged.
// Rerun a failure with GRID_FUZZ_SEED=<seed> (printed), run longer with GRID_FUZZ_RUNS=<n>.
import fc from 'fast-check';
import type { FieldError } from './spec.types.js';
import { parseManifests, specHash, type ParseResult } from './spec-validator.js';
import { fuzzSettings, mutatedDocuments, rawBody, validDocuments, yamlOf } from '../../../test/utils/spec-arbitraries.js';

const ALLOWED = 'http://127.0.0.1:9';
const OPTIONS = { failoverUrlAllowlist: [ALLOWED] };
const { seed, runs } = fuzzSettings('spec-validator fuzz');
const params = (n: number) => ({ seed, numRuns: runs(n) });

/** An error names a field (`spec.env[0].value`, `[1].metadata.name`) or the body as a whole, briefly. */
function expectWellFormed(errors: FieldError[]): void {
  expect(errors.length).toBeGreaterThan(0);
  for (const e of errors) {
    const ok =
      typeof e.path === 'string' &&
      typeof e.message === 'string' &&
      e.path.length > 0 &&
      e.message.length > 0 &&
      // An error quotes what it refuses, cut short: a 200 KB value must not come back whole.
      e.path.length <= 600 &&
      e.message.length <= 1000;
    if (!ok) throw new Error(`malformed error: ${JSON.stringify(e).slice(0, 400)} (${String(e.path).length}/${String(e.message).length} chars)`);
  }
}

function parse(body: unknown, contentType?: string): ParseResult {
  return parseManifests(body, contentType, OPTIONS);
}

/** What the validator makes of a body it accepted must be accepted again as the same manifests. */
function expectFixedPoint(r: Extract<ParseResult, { ok: true }>): void {
  const again = parse([...r.manifests, ...r.groups]);
  if (!again.ok) throw new Error(`accepted output refused on re-validation: ${JSON.stringify(again.errors)}`);
  expect(again.manifests).toEqual(r.manifests);
  expect(again.groups).toEqual(r.groups);
  expect(again.manifests.map((m) => specHash(m.spec))).toEqual(r.manifests.map((m) => specHash(m.spec)));
}

describe('parseManifests (property-based)', () => {
  it('accepts every valid body (Grid specs, FailoverGroups, Kubernetes, Compose) as objects, JSON and YAML, and its output is a fixed point', () => {
    fc.assert(
      fc.property(validDocuments({}, ALLOWED), (docs) => {
        const asObjects = parse(docs);
        if (!asObjects.ok) throw new Error(`valid body refused: ${JSON.stringify(asObjects.errors)}`);
        expectFixedPoint(asObjects);
        const asJson = parse(JSON.stringify(docs), 'application/json');
        const asYaml = parse(docs.map(yamlOf).join('---\n'), 'application/yaml');
        expect(asJson).toEqual(asObjects);
        expect(asYaml).toEqual(asObjects);
      }),
      params(150),
    );
  });

  it('answers a mutated body with field errors or a valid result, never a throw', () => {
    fc.assert(
      fc.property(mutatedDocuments({}, ALLOWED), ({ docs }) => {
        const r = parse(docs);
        if (r.ok) expectFixedPoint(r);
        else expectWellFormed(r.errors);
      }),
      params(600),
    );
  });

  it('answers a mutated body sent as JSON or YAML text the same way', () => {
    fc.assert(
      fc.property(mutatedDocuments({}, ALLOWED), fc.boolean(), ({ docs }, asJson) => {
        const text = asJson ? JSON.stringify(docs) : docs.map(yamlOf).join('---\n');
        const r = parse(text, asJson ? 'application/json' : 'application/yaml');
        if (r.ok) expectFixedPoint(r);
        else expectWellFormed(r.errors);
      }),
      params(200),
    );
  });

  it('answers raw bytes (YAML tricks, JSON junk, BOMs, CRLF, invalid UTF-8) with field errors or a valid result', () => {
    fc.assert(
      fc.property(rawBody(), fc.constantFrom(undefined, 'application/yaml', 'application/json', 'text/plain', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/x-yaml; charset=latin1'), ({ bytes }, contentType) => {
        const r = parse(bytes, contentType);
        if (r.ok) expectFixedPoint(r);
        else expectWellFormed(r.errors);
      }),
      params(300),
    );
  });
});
