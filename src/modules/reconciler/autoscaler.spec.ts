import type { AutoscaleSpec } from '../specs/spec.types.js';
import { autoscale, emptyHpaState, type HpaDecision, type HpaState } from './autoscaler.js';

const T0 = 1_000_000;
const S = 1000;

function spec(overrides: Partial<AutoscaleSpec> = {}): AutoscaleSpec {
  return { targetCPU: 50, min: 1, max: 10, scaleDownStabilizationSeconds: 300, ...overrides };
}

/** A state as left by an earlier decision long ago: nothing in the window, no recent scale-up. */
function settledState(): HpaState {
  return { recommendations: [], scaleUps: [], lastDecisionAt: T0 - 3_600 * S };
}

const cpu = (n: number, pct: number): number[] => Array.from({ length: n }, () => pct);

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

describe(autoscale.name, () => {
  const sut = autoscale;

  describe('one decision', () => {
    it.each([
      { name: 'desired = ceil(current × avg/target): 3 × 90/50 → 6', current: 3, readyCpu: cpu(3, 90), spec: {}, want: 6 },
      { name: 'inside the 0.1 tolerance above (54 vs 50) stays', current: 3, readyCpu: cpu(3, 54), spec: {}, want: 3 },
      { name: 'outside the tolerance above (56 vs 50) scales: ceil(3 × 1.12)', current: 3, readyCpu: cpu(3, 56), spec: {}, want: 4 },
      { name: 'inside the tolerance below (46 vs 50) stays', current: 10, readyCpu: cpu(10, 46), spec: {}, want: 10 },
      { name: 'outside the tolerance below (44 vs 50) scales down: ceil(10 × 0.88)', current: 10, readyCpu: cpu(10, 44), spec: {}, want: 9 },
      { name: 'exactly on target stays', current: 4, readyCpu: cpu(4, 50), spec: {}, want: 4 },
      { name: 'the average is over the ready pods passed in only (2 ready of 4 at 100%)', current: 4, readyCpu: [100, 100], spec: {}, want: 8 },
      { name: 'uneven pods use the mean: (20+80+110)/3 = 70 → ceil(3 × 1.4)', current: 3, readyCpu: [20, 80, 110], spec: {}, want: 5 },
      { name: 'clamped to max', current: 3, readyCpu: cpu(3, 90), spec: { max: 5 }, want: 5 },
      { name: 'clamped to min', current: 3, readyCpu: cpu(3, 5), spec: { min: 2 }, want: 2 },
      { name: 'scale-up limit: 1 → wants 20 → 5 (+4 beats 2×)', current: 1, readyCpu: [1000], spec: { max: 100 }, want: 5 },
      { name: 'scale-up limit: 10 → wants 40 → 20 (2× beats +4)', current: 10, readyCpu: cpu(10, 200), spec: { max: 100 }, want: 20 },
      { name: 'scale-up limit: 3 → wants 12 → 7 (+4 beats 2×)', current: 3, readyCpu: cpu(3, 200), spec: { max: 100 }, want: 7 },
      { name: 'scale-up within the limit is not limited: 4 → 8', current: 4, readyCpu: cpu(4, 100), spec: { max: 100 }, want: 8 },
    ])('$name', ({ current, readyCpu, spec: overrides, want }) => {
      const result = sut({ spec: spec(overrides), current, readyCpu, now: T0, state: settledState() });

      expect(result.replicas).toBe(want);
      expect(result.averageCpu).toBeCloseTo(readyCpu.reduce((a, b) => a + b, 0) / readyCpu.length, 9);
      expect(result.state.lastDecisionAt).toBe(T0);
    });

    it('keeps the current size and says nothing when no pod is ready (no CPU numbers)', () => {
      const result = sut({ spec: spec(), current: 3, readyCpu: [], now: T0, state: settledState() });

      expect(result).toEqual({ replicas: 3, state: { recommendations: [], scaleUps: [], lastDecisionAt: T0 }, verdict: 'NoReadyPods', message: 'no ready pods to measure CPU from: keeping 3 replicas' });
    });

    it('says nothing when the size does not change for a reason worth telling (inside the tolerance)', () => {
      const result = sut({ spec: spec(), current: 3, readyCpu: cpu(3, 54), now: T0, state: settledState() });

      expect(result.explain).toBeUndefined();
      expect(result.averageCpu).toBe(54);
    });

    it('explains a scale-up with the average CPU, the target, the formula and the bounds', () => {
      const result = sut({ spec: spec(), current: 3, readyCpu: cpu(3, 90), now: T0, state: settledState() });

      expect(result.explain).toBe('Scaled 3 → 6 replicas because average CPU of 3 ready pods is 90% against a target of 50% (ceil(3 × 90%/50%) = 6, bounds 1..10)');
    });

    it('explains a clamped decision with the unclamped number and the bounds', () => {
      const result = sut({ spec: spec({ max: 5 }), current: 3, readyCpu: cpu(3, 90), now: T0, state: settledState() });

      expect(result.explain).toBe('Scaled 3 → 5 replicas because average CPU of 3 ready pods is 90% against a target of 50% (ceil(3 × 90%/50%) = 6, bounds 1..5)');
    });

    it('rounds the average CPU in the explanation to one decimal', () => {
      const result = sut({ spec: spec(), current: 3, readyCpu: [30, 33, 34], now: T0, state: settledState() });

      expect(result.replicas).toBe(2);
      expect(result.explain).toContain('average CPU of 3 ready pods is 32.3% against a target of 50%');
    });

    it('explains a rate-limited scale-up with the limit', () => {
      const result = sut({ spec: spec({ max: 100 }), current: 1, readyCpu: [1000], now: T0, state: settledState() });

      expect(result.explain).toBe(
        'Scaled 1 → 5 replicas because average CPU of 1 ready pods is 1000% against a target of 50% (ceil(1 × 1000%/50%) = 20, bounds 1..100) (limited from 20 to 5: at most max(100%, 4 pods) per 15s)',
      );
      expect(result.state.scaleUps).toEqual([{ at: T0, from: 1, to: 5 }]);
    });

    it.each([
      { name: 'above max', current: 12, bounds: { min: 1, max: 10 }, want: 10 },
      { name: 'below min', current: 0, bounds: { min: 2, max: 10 }, want: 2 },
    ])('moves a size $name into the bounds with an explanation, whatever the CPU says', ({ current, bounds, want }) => {
      const result = sut({ spec: spec(bounds), current, readyCpu: cpu(3, 50), now: T0, state: emptyHpaState() });

      expect(result.replicas).toBe(want);
      expect(result.explain).toBe(`Scaled to ${want} because ${current} replicas is outside the autoscaler's bounds ${bounds.min}..${bounds.max}`);
      expect(result.averageCpu).toBeUndefined();
    });

    it('moves into the bounds even when no pod is ready', () => {
      const result = sut({ spec: spec({ min: 2 }), current: 0, readyCpu: [], now: T0, state: emptyHpaState() });

      expect(result.replicas).toBe(2);
    });

    it('does not change the state it was given', () => {
      const state = deepFreeze<HpaState>({ recommendations: [{ at: T0 - 10 * S, replicas: 6 }], scaleUps: [{ at: T0 - 5 * S, from: 3, to: 6 }], lastDecisionAt: T0 - 5 * S });

      expect(() => sut({ spec: spec(), current: 6, readyCpu: cpu(6, 10), now: T0, state })).not.toThrow();
      expect(state.recommendations).toHaveLength(1);
    });
  });

  describe(emptyHpaState.name, () => {
    it('starts with no recommendations, no scale-ups and no decision yet', () => {
      expect(emptyHpaState()).toEqual({ recommendations: [], scaleUps: [] });
    });
  });

  /** Runs the decisions in order, feeding back the state and the replica count each one returns. */
  function run(s: AutoscaleSpec, start: number, rows: { t: number; cpu: number[] }[]): HpaDecision[] {
    let state = emptyHpaState();
    let current = start;
    return rows.map(({ t, cpu: readyCpu }) => {
      const d = sut({ spec: s, current, readyCpu, now: T0 + t * S, state });
      state = d.state;
      current = d.replicas;
      return d;
    });
  }

  describe('scale-down stabilization over time (window 300s)', () => {
    // t in seconds; the CPU list has one entry per pod of the size the previous row decided.
    const rows = [
      { t: 0, cpu: cpu(4, 25), want: 4, why: 'the first decision never scales down: the window starts holding the current size' },
      { t: 100, cpu: cpu(4, 50), want: 4, why: 'on target' },
      { t: 200, cpu: cpu(4, 100), want: 8, why: 'scale-up is immediate (no scale-up window)' },
      { t: 210, cpu: cpu(8, 25), want: 8, why: 'a dip is held at the max recommendation of the window (8 at t=200)' },
      { t: 401, cpu: cpu(8, 25), want: 8, why: 't=0 and t=100 left the window; t=200 (8) is still in it' },
      { t: 501, cpu: cpu(8, 25), want: 4, why: 't=200 left the window; only 4s remain' },
      { t: 502, cpu: cpu(4, 10), want: 4, why: 'the 4s of t=210..501 hold the new dip (wants 1)' },
    ];

    it.each(rows.map((r, i) => ({ ...r, i })))('t=$t s → $want replicas ($why)', ({ i, want }) => {
      const decisions = run(spec({ max: 20 }), 4, rows);

      expect(decisions[i].replicas).toBe(want);
    });

    it('explains a held scale-down with the window and the number it was held at', () => {
      const [first, , , held] = run(spec({ max: 20 }), 4, rows);

      expect(first.explain).toBe('Kept 4 replicas: average CPU 25% vs target 50% suggests 2 (held at 4 by the 300s scale-down stabilization window)');
      expect(held.explain).toBe('Kept 8 replicas: average CPU 25% vs target 50% suggests 4 (held at 8 by the 300s scale-down stabilization window)');
    });

    it('explains the scale-down once the window passed', () => {
      const decisions = run(spec({ max: 20 }), 4, rows);

      expect(decisions[5].explain).toBe('Scaled 8 → 4 replicas because average CPU of 8 ready pods is 25% against a target of 50% (ceil(8 × 25%/50%) = 4, bounds 1..20)');
    });

    it('forgets recommendations older than the window', () => {
      const decisions = run(spec({ max: 20 }), 4, rows);

      expect(decisions[5].state.recommendations).toEqual([
        { at: T0 + 210 * S, replicas: 4 },
        { at: T0 + 401 * S, replicas: 4 },
        { at: T0 + 501 * S, replicas: 4 },
      ]);
    });

    it('scales down at once with a zero-second window (after the first decision)', () => {
      const decisions = run(spec({ scaleDownStabilizationSeconds: 0 }), 4, [
        { t: 0, cpu: cpu(4, 25) },
        { t: 15, cpu: cpu(4, 25) },
      ]);

      expect(decisions.map((d) => d.replicas)).toEqual([4, 2]);
    });
  });

  describe('scale-up rate limit over time: max(2×, +4) per 15s', () => {
    const rows = [
      { t: 0, cpu: [1000], want: 5, why: '1 wants 20: 1 + 4' },
      { t: 5, cpu: cpu(5, 200), want: 5, why: 'still the period that started at 1 pod: cap 5' },
      { t: 14.999, cpu: cpu(5, 200), want: 5, why: 'still inside the 15s period' },
      { t: 15, cpu: cpu(5, 200), want: 10, why: 'a new period based on 5: 2 × 5' },
      { t: 20, cpu: cpu(10, 100), want: 10, why: 'the period that started at 5 caps at 10' },
      { t: 30, cpu: cpu(10, 100), want: 20, why: 'a new period based on 10: 2 × 10' },
      { t: 31, cpu: cpu(20, 50), want: 20, why: 'on target' },
    ];

    it.each(rows.map((r, i) => ({ ...r, i })))('t=$t s → $want replicas ($why)', ({ i, want }) => {
      const decisions = run(spec({ max: 100 }), 1, rows);

      expect(decisions[i].replicas).toBe(want);
    });

    it('explains a decision held by the limit', () => {
      const decisions = run(spec({ max: 100 }), 1, rows);

      expect(decisions[1].explain).toBe('Kept 5 replicas: average CPU 200% vs target 50% suggests 20 (limited from 20 to 5: at most max(100%, 4 pods) per 15s)');
    });

    it('counts a period from the base of its first scale-up: 2 → 4 then 4 → 6 within 15s (cap max(4, 6) from 2)', () => {
      const decisions = run(spec({ max: 100 }), 2, [
        { t: 0, cpu: cpu(2, 100) },
        { t: 5, cpu: cpu(4, 100) },
        { t: 10, cpu: cpu(6, 100) },
      ]);

      expect(decisions.map((d) => d.replicas)).toEqual([4, 6, 6]);
    });
  });
});

describe('autoscale verdicts', () => {
  const spec = { targetCPU: 50, min: 2, max: 5, scaleDownStabilizationSeconds: 300 };
  const first = (current: number, readyCpu: number[], state = emptyHpaState()) => autoscale({ spec, current, readyCpu, now: 1_000_000, state });

  it.each([
    { why: 'inside the 10% tolerance', current: 3, cpu: [52, 52, 52], verdict: 'WithinTolerance', message: 'average CPU 52% of 3 ready pods is within 10% of the 50% target: keeping 3' },
    { why: 'asking for more than max', current: 5, cpu: [90, 90, 90, 90, 90], verdict: 'AtMax', message: 'average CPU 90% vs target 50% asks for 9 replicas, but max is 5' },
    { why: 'asking for fewer than min', current: 2, cpu: [5, 5], verdict: 'AtMin', message: 'average CPU 5% vs target 50% asks for 1 replicas, but min is 2' },
    { why: 'no ready pod', current: 3, cpu: [], verdict: 'NoReadyPods', message: 'no ready pods to measure CPU from: keeping 3 replicas' },
    { why: 'a scale-up', current: 2, cpu: [90, 90], verdict: 'ScaledUp', message: 'Scaled 2 → 4 replicas because average CPU of 2 ready pods is 90% against a target of 50% (ceil(2 × 90%/50%) = 4, bounds 2..5)' },
  ])('$why → $verdict', ({ current, cpu, verdict, message }) => {
    const sut = first(current, cpu);

    expect([sut.verdict, sut.message]).toEqual([verdict, message]);
  });

  it('says until when a held scale-down may happen', () => {
    const sut = first(4, [10, 10, 10, 10]);

    expect(sut.verdict).toBe('Stabilizing');
    expect(sut.message).toBe(
      `Kept 4 replicas: average CPU 10% vs target 50% suggests 2 (held at 4 by the 300s scale-down stabilization window); stabilizing until ${new Date(1_000_000 + 300_000).toISOString()} at the latest`,
    );
  });
});
