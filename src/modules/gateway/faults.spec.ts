import { checkFaultSettings, FAULT_ABORT, FAULT_DELAY, FaultTable, inShare, type FaultRule } from './faults.js';

function rule(over: Partial<FaultRule> = {}): FaultRule {
  return { id: 'faults-1', service: 'api', abortPercent: 0, abortStatus: 503, delayMs: 0, delayPercent: 0, ...over };
}

/** Sends `n` requests of `version` through the table; how many were aborted and delayed. */
function run(sut: FaultTable, n: number, version = 'v1', service = 'api'): { aborted: number; delayed: number; both: number } {
  let aborted = 0;
  let delayed = 0;
  let both = 0;
  for (let i = 0; i < n; i++) {
    const hit = sut.decide(service, version);
    if (hit === undefined) continue;
    if (hit.kind & FAULT_ABORT) aborted++;
    if (hit.kind & FAULT_DELAY) delayed++;
    if (hit.kind === (FAULT_ABORT | FAULT_DELAY)) both++;
  }
  return { aborted, delayed, both };
}

describe(FaultTable.name, () => {
  const percents = [0, 0.5, 1, 5, 12.5, 25, 33, 50, 66.67, 75, 99, 100];

  describe.each([100, 1000])('over N = %i requests', (n) => {
    it.each(percents)('aborts exactly floor(N·p/100) at abortPercent %p', (p) => {
      const sut = new FaultTable();
      sut.add(rule({ abortPercent: p, delayPercent: 10, delayMs: 5 }));

      expect(run(sut, n).aborted).toBe(Math.floor((n * Math.round(p * 100)) / 10000));
    });

    it.each(percents)('delays exactly floor(N·p/100) at delayPercent %p', (p) => {
      const sut = new FaultTable();
      sut.add(rule({ delayPercent: p, delayMs: 200, abortPercent: 10 }));

      expect(run(sut, n).delayed).toBe(Math.floor((n * Math.round(p * 100)) / 10000));
    });

    it.each([
      { scope: 'v2', other: 'v1' },
      { scope: 'canary-3', other: 'stable-2' },
    ])('a fault scoped to $scope touches only its requests, at its exact share', ({ scope, other }) => {
      const sut = new FaultTable();
      sut.add(rule({ version: scope, abortPercent: 25 }));

      expect(run(sut, n, other)).toEqual({ aborted: 0, delayed: 0, both: 0 });
      expect(run(sut, n, scope).aborted).toBe(n / 4);
      expect(sut.counts('faults-1')).toEqual({ seen: n, aborted: n / 4, delayed: 0 });
    });
  });

  it('spreads a share evenly: any 100 consecutive requests hold exactly p of them', () => {
    const sut = new FaultTable();
    sut.add(rule({ abortPercent: 25 }));
    const hits = Array.from({ length: 400 }, () => sut.decide('api', 'v1') !== undefined);

    for (let from = 0; from + 100 <= hits.length; from += 7) expect(hits.slice(from, from + 100).filter(Boolean).length).toBe(25);
  });

  it('decides abort and delay independently: one request can be delayed and then aborted', () => {
    const sut = new FaultTable();
    sut.add(rule({ abortPercent: 50, delayPercent: 50, delayMs: 10 }));

    expect(run(sut, 100)).toEqual({ aborted: 50, delayed: 50, both: 50 });
  });

  it('leaves other services alone', () => {
    const sut = new FaultTable();
    sut.add(rule({ abortPercent: 100 }));

    expect(run(sut, 10, 'v1', 'web')).toEqual({ aborted: 0, delayed: 0, both: 0 });
    expect(run(sut, 10, 'v1', 'api').aborted).toBe(10);
  });

  it.each([
    { name: 'a version-scoped rule wins over a service-wide one for its version', versionFirst: false },
    { name: 'whichever was added first', versionFirst: true },
  ])('$name', ({ versionFirst }) => {
    const sut = new FaultTable();
    const wide = rule({ id: 'wide', abortPercent: 100, abortStatus: 500 });
    const v2 = rule({ id: 'v2', version: 'v2', abortPercent: 100, abortStatus: 502 });
    for (const r of versionFirst ? [v2, wide] : [wide, v2]) sut.add(r);

    expect(sut.decide('api', 'v2')?.fault.rule.id).toBe('v2');
    expect(sut.decide('api', 'v1')?.fault.rule.id).toBe('wide');
    expect(sut.counts('wide')?.seen).toBe(1);
    expect(sut.counts('v2')?.seen).toBe(1);
  });

  it('lifts a rule with its final counts, and size follows the rules', () => {
    const sut = new FaultTable();
    sut.add(rule({ id: 'a', abortPercent: 50 }));
    sut.add(rule({ id: 'b', service: 'web', delayPercent: 50, delayMs: 1 }));
    expect(sut.size).toBe(2);
    run(sut, 10);

    expect(sut.remove('a')).toEqual({ seen: 10, aborted: 5, delayed: 0 });
    expect(sut.remove('a')).toBeUndefined();
    expect(sut.size).toBe(1);
    expect(sut.decide('api', 'v1')).toBeUndefined();
    sut.remove('b');
    expect(sut.size).toBe(0);
  });

  it('finds a rule by id without walking the others: counts for every one of 10,000 rules stays far under a second', () => {
    const sut = new FaultTable();
    const n = 10_000;
    for (let i = 0; i < n; i++) sut.add(rule({ id: `r${i}`, abortPercent: 50 }));
    run(sut, 2);

    const started = performance.now();
    for (let i = 0; i < n; i++) sut.counts(`r${i}`);
    const ms = performance.now() - started;

    // A scan per call (the O(N²) GET /chaos/faults) takes seconds here; a map lookup, a few ms.
    expect(ms).toBeLessThan(500);
    expect(sut.counts(`r${n - 1}`)).toEqual({ seen: 2, aborted: 1, delayed: 0 });
    expect(sut.counts('r0')).toEqual({ seen: 0, aborted: 0, delayed: 0 });
    expect(sut.remove('r0')).toEqual({ seen: 0, aborted: 0, delayed: 0 });
    expect(sut.counts('r0')).toBeUndefined();
    expect(sut.size).toBe(n - 1);
  });

  it('answers an abort with the status and a body that names the experiment', () => {
    const sut = new FaultTable();
    sut.add(rule({ id: 'faults-ab12', abortPercent: 100, abortStatus: 418 }));

    const hit = sut.decide('api', 'v1')!;
    expect(hit.fault.answer.status).toBe(418);
    expect(JSON.parse(hit.fault.answer.body)).toEqual({ statusCode: 418, error: "I'm a Teapot", message: 'fault injected by Grid (experiment faults-ab12)' });
  });
});

describe(inShare.name, () => {
  it.each([
    { n: 1, bp: 10000, in: true },
    { n: 1, bp: 2500, in: false },
    { n: 4, bp: 2500, in: true },
    { n: 200, bp: 50, in: true },
    { n: 199, bp: 50, in: false },
  ])('request $n at $bp basis points: $in', ({ n, bp, in: expected }) => {
    expect(inShare(n, bp)).toBe(expected);
  });
});

describe(checkFaultSettings.name, () => {
  it.each([
    { input: { abortPercent: 25 }, out: { abortPercent: 25, abortStatus: 503, delayMs: 0, delayPercent: 0, durationSeconds: 60 } },
    { input: { delayPercent: 50, delayMs: 200, durationSeconds: 3600 }, out: { abortPercent: 0, abortStatus: 503, delayMs: 200, delayPercent: 50, durationSeconds: 3600 } },
    { input: { abortPercent: 0.25, abortStatus: 400 }, out: { abortPercent: 0.25, abortStatus: 400, delayMs: 0, delayPercent: 0, durationSeconds: 60 } },
  ])('fills in defaults: $input', ({ input, out }) => {
    expect(checkFaultSettings(input)).toEqual(out);
  });

  it.each([
    { input: {}, path: 'abortPercent' },
    { input: { abortPercent: 0, delayPercent: 0 }, path: 'abortPercent' },
    { input: { abortPercent: 101 }, path: 'abortPercent' },
    { input: { abortPercent: -1 }, path: 'abortPercent' },
    { input: { abortPercent: 0.001 }, path: 'abortPercent' },
    { input: { abortPercent: NaN }, path: 'abortPercent' },
    { input: { delayPercent: 100.5, delayMs: 1 }, path: 'delayPercent' },
    { input: { abortPercent: 10, abortStatus: 399 }, path: 'abortStatus' },
    { input: { abortPercent: 10, abortStatus: 600 }, path: 'abortStatus' },
    { input: { abortPercent: 10, abortStatus: 503.5 }, path: 'abortStatus' },
    { input: { delayPercent: 50 }, path: 'delayMs' },
    { input: { delayPercent: 50, delayMs: 0 }, path: 'delayMs' },
    { input: { delayPercent: 50, delayMs: 60_001 }, path: 'delayMs' },
    { input: { abortPercent: 5, durationSeconds: 0 }, path: 'durationSeconds' },
    { input: { abortPercent: 5, durationSeconds: 3601 }, path: 'durationSeconds' },
    { input: { abortPercent: 5, durationSeconds: 1.5 }, path: 'durationSeconds' },
  ])('refuses $input naming $path', ({ input, path }) => {
    expect(checkFaultSettings(input)).toMatchObject({ path });
  });
});
