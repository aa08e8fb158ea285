import { OutlierDetector } from './outlier.js';

class FakeClock {
  ms = 1_000_000;
  advance(ms: number): number {
    this.ms += ms;
    return this.ms;
  }
}

function failTimes(sut: OutlierDetector, podId: string, n: number, total: number, now: number) {
  let last = sut.recordFailure('api', podId, total, now);
  for (let i = 1; i < n; i++) last = sut.recordFailure('api', podId, total, now);
  return last;
}

describe(OutlierDetector.name, () => {
  let clock: FakeClock;

  beforeEach(() => {
    clock = new FakeClock();
  });

  it('ejects after 5 consecutive failures, not before', () => {
    const sut = new OutlierDetector();

    expect(failTimes(sut, 'p1', 4, 3, clock.ms)).toEqual({ ejected: false });
    expect(sut.isEjected('p1', clock.ms)).toBe(false);
    expect(sut.recordFailure('api', 'p1', 3, clock.ms)).toEqual({ ejected: true, untilMs: clock.ms + 30_000, timesEjected: 1 });
    expect(sut.isEjected('p1', clock.ms)).toBe(true);
    expect(sut.ejected(clock.ms)).toEqual([{ service: 'api', podId: 'p1', untilMs: clock.ms + 30_000, timesEjected: 1 }]);
  });

  it('a success resets the consecutive count', () => {
    const sut = new OutlierDetector();
    failTimes(sut, 'p1', 4, 3, clock.ms);
    sut.recordSuccess('api', 'p1');

    expect(failTimes(sut, 'p1', 4, 3, clock.ms)).toEqual({ ejected: false });
    expect(sut.recordFailure('api', 'p1', 3, clock.ms).ejected).toBe(true);
  });

  it('returns the pod when the ejection time is up, reporting it once', () => {
    const sut = new OutlierDetector();
    failTimes(sut, 'p1', 5, 3, clock.ms);

    expect(sut.expire(clock.advance(29_999))).toEqual([]);
    expect(sut.isEjected('p1', clock.advance(1))).toBe(false);
    expect(sut.expire(clock.ms)).toEqual([{ service: 'api', podId: 'p1', untilMs: clock.ms, timesEjected: 1 }]);
    expect(sut.expire(clock.ms)).toEqual([]);
    expect(sut.activeCount).toBe(0);
  });

  it('ejects longer on each repeat (base x times ejected) up to the cap', () => {
    const sut = new OutlierDetector({ baseEjectionMs: 30_000, maxEjectionMs: 100_000 });
    const durations: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = failTimes(sut, 'p1', 5, 3, clock.ms);
      durations.push(r.untilMs! - clock.ms);
      clock.advance(r.untilMs! - clock.ms);
    }

    expect(durations).toEqual([30_000, 60_000, 90_000, 100_000, 100_000]);
  });

  it('forgives one ejection per healthy interval', () => {
    const sut = new OutlierDetector({ intervalMs: 10_000 });
    failTimes(sut, 'p1', 5, 3, clock.ms);
    clock.advance(30_000);
    failTimes(sut, 'p1', 5, 3, clock.ms);
    clock.advance(60_000 + 20_000);

    expect(failTimes(sut, 'p1', 5, 3, clock.ms)).toEqual({ ejected: true, untilMs: clock.ms + 30_000, timesEjected: 1 });
  });

  it.each([
    { total: 1, pods: ['p1'], want: [false] },
    { total: 2, pods: ['p1', 'p2'], want: [true, false] },
    { total: 3, pods: ['p1', 'p2', 'p3'], want: [true, false, false] },
    { total: 10, pods: ['p1', 'p2'], want: [true, false] },
    { total: 20, pods: ['p1', 'p2', 'p3'], want: [true, true, false] },
  ])('with $total pods and 10 %, ejects at least one but never the last: $want', ({ total, pods, want }) => {
    const sut = new OutlierDetector();

    expect(pods.map((p) => failTimes(sut, p, 5, total, clock.ms).ejected)).toEqual(want);
  });

  it('respects a higher maxEjectionPercent but still keeps one pod', () => {
    const sut = new OutlierDetector({ maxEjectionPercent: 100 });

    expect(['p1', 'p2', 'p3'].map((p) => failTimes(sut, p, 5, 3, clock.ms).ejected)).toEqual([true, true, false]);
  });

  it('ejects a pod held back by the cap once another pod returned', () => {
    const sut = new OutlierDetector();
    failTimes(sut, 'p1', 5, 2, clock.ms);
    expect(failTimes(sut, 'p2', 5, 2, clock.ms).ejected).toBe(false);
    clock.advance(30_000);
    sut.expire(clock.ms);

    expect(sut.recordFailure('api', 'p2', 2, clock.ms).ejected).toBe(true);
  });

  it('counts the cap per service', () => {
    const sut = new OutlierDetector();
    failTimes(sut, 'p1', 5, 2, clock.ms);

    expect(sut.recordFailure('web', 'w1', 2, clock.ms).ejected).toBe(false);
    for (let i = 0; i < 4; i++) sut.recordFailure('web', 'w1', 2, clock.ms);
    expect(sut.isEjected('w1', clock.ms)).toBe(true);
  });

  it('probePassed returns an ejected pod at once but keeps the backoff', () => {
    const sut = new OutlierDetector();
    failTimes(sut, 'p1', 5, 3, clock.ms);

    expect(sut.probePassed('p1')).toEqual({ service: 'api', podId: 'p1', untilMs: clock.ms + 30_000, timesEjected: 1 });
    expect(sut.isEjected('p1', clock.ms)).toBe(false);
    expect(sut.probePassed('p1')).toBeUndefined();
    expect(sut.expire(clock.advance(30_000))).toEqual([]);
    expect(failTimes(sut, 'p1', 5, 3, clock.ms)).toEqual({ ejected: true, untilMs: clock.ms + 60_000, timesEjected: 2 });
  });

  it('forget and retain drop pod state', () => {
    const sut = new OutlierDetector();
    failTimes(sut, 'p1', 5, 3, clock.ms);
    failTimes(sut, 'p2', 4, 3, clock.ms);
    sut.forget('p1');
    sut.retain(new Set());

    expect(sut.isEjected('p1', clock.ms)).toBe(false);
    expect(sut.activeCount).toBe(0);
    expect(sut.recordFailure('api', 'p2', 3, clock.ms).ejected).toBe(false);
  });
});
