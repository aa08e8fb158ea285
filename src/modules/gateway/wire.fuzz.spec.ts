// Differential property of wire.ts against llhttp (see wire.fuzz.ts): 50,000
// generated cases per run. FUZZ_SEED=<n> runs another seed, FUZZ_CASE=<n>
// replays one case a failure printed, FUZZ_PAIRS=<n> changes the count
// (bench/fuzz.js runs a million).
import { FRAME_CHUNKED, FRAME_CLOSE, FRAME_LENGTH, parseRequestHead, parseResponseHead } from './wire.js';
import { casesOf, checkRequestCase, checkResponseCase, describeDisagreement, fuzz, type WireParser } from './wire.fuzz.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20240901);
/** Case seeds per test; each gives one request case and one response case. */
const PAIRS = Number(process.env.FUZZ_PAIRS ?? 25_000);
const SLICES = 5;

describe('wire.ts against llhttp', () => {
  const replay = process.env.FUZZ_CASE;

  (replay === undefined ? it.skip : it)('replays the one case FUZZ_CASE names', () => {
    const { request, response } = casesOf(Number(replay));

    expect([checkRequestCase(request), checkResponseCase(response)]).toEqual(['', '']);
  });

  // Five slices of one seed's sequence, each its own seed, so jest reports progress and no test runs long.
  it.each(Array.from({ length: SLICES }, (_, i) => ({ slice: i + 1, seed: SEED + i })))(
    `slice $slice/${SLICES}: ${(2 * PAIRS) / SLICES} cases from seed $seed agree or decline`,
    ({ seed }) => {
      const sut = fuzz(seed, PAIRS / SLICES);

      expect(sut.disagreements.map((d) => describeDisagreement(d, seed))).toEqual([]);
      // The generator must reach both sides of each decision, or the property says nothing.
      const n = sut.cases / 2;
      expect(sut.requestsAccepted / n).toBeGreaterThan(0.2);
      expect(sut.requestsFellBack / n).toBeGreaterThan(0.2);
      expect(sut.responsesPassed / n).toBeGreaterThan(0.2);
      expect(sut.responsesRefused / n).toBeGreaterThan(0.2);
    },
  );

  // The harness must be able to fail: parsers with a planted bug are caught within a few thousand cases.
  const planted: Array<{ name: string; wire: WireParser }> = [
    {
      name: 'a request body one byte short',
      wire: {
        parseResponseHead,
        parseRequestHead: (buf, end) => {
          const r = parseRequestHead(buf, end);
          return typeof r === 'object' && r.contentLength > 0 ? { ...r, contentLength: r.contentLength - 1 } : r;
        },
      },
    },
    {
      name: 'the query dropped from the target',
      wire: {
        parseResponseHead,
        parseRequestHead: (buf, end) => {
          const r = parseRequestHead(buf, end);
          return typeof r === 'object' ? { ...r, target: r.target.split('?')[0] } : r;
        },
      },
    },
    {
      name: 'a 204 read as if it had a body',
      wire: {
        parseRequestHead,
        parseResponseHead: (buf, end, head) => {
          const r = parseResponseHead(buf, end, head);
          return r.status === 204 && r.contentLength > 0 ? { ...r, framing: FRAME_LENGTH, reusable: true } : r;
        },
      },
    },
    {
      name: 'chunked responses read to the close',
      wire: {
        parseRequestHead,
        parseResponseHead: (buf, end, head) => {
          const r = parseResponseHead(buf, end, head);
          return r.framing === FRAME_CHUNKED ? { ...r, framing: FRAME_CLOSE, reusable: false } : r;
        },
      },
    },
  ];

  it.each(planted)('catches a planted bug: $name', ({ wire }) => {
    const sut = fuzz(SEED, 5_000, 1, wire);

    expect(sut.disagreements).toHaveLength(1);
  });
});
