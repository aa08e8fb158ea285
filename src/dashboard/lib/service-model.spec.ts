import {
  formatAge,
  lastEventIds,
  formatCpu,
  formatMs,
  formatPct,
  formatRps,
  phaseGlyph,
  podNumbersText,
  phaseVar,
  revisionMix,
  rolloutText,
  sparkPath,
  specDiff,
  trafficModel,
  weightSegments,
  type RolloutStatus,
  type TrafficResponse,
} from './service-model.js';
import type { PodView } from '../../common/api/types.js';

function pod(id: string, over: Partial<PodView> = {}): PodView {
  return {
    id,
    service: 'web',
    revision: 2,
    version: 'v2',
    runtime: 'process',
    state: 'Ready',
    ready: true,
    restarts: 0,
    ageSeconds: 10,
    createdAt: '2026-01-01T00:00:00Z',
    cpu: 0,
    pid: 1,
    port: 1,
    backoffUntil: null,
    message: null,
    probeLatencyMs: 1,
    ...over,
  };
}

const spec = { replicas: 3, command: ['node', 'server.js'], env: [{ name: 'VERSION', value: 'v2' }] };

describe(specDiff.name, () => {
  it('is all ok when every pod runs the current revision and the count matches', () => {
    const sut = specDiff({ spec, revision: 2, version: 'v2', desired: 2, pods: [pod('a'), pod('b')], diff: [] });
    expect(sut.every((r) => r.ok)).toBe(true);
    expect(sut.find((r) => r.field === 'image/command')).toEqual({ field: 'image/command', desired: 'node server.js', actual: 'all 2 on rev 2', ok: true });
    expect(sut.find((r) => r.field === 'env')!.desired).toBe('VERSION=v2');
  });

  it('names the revisions still running when a rollout is half way', () => {
    const pods = [pod('a'), pod('b', { revision: 1, version: 'v1' }), pod('c', { revision: 1, version: 'v1' })];
    const sut = specDiff({ spec, revision: 2, version: 'v2', desired: 3, pods, diff: [] });
    const byField = Object.fromEntries(sut.map((r) => [r.field, r]));
    expect(byField['image/command']).toMatchObject({ ok: false, actual: '1 on rev 2 (v2) · 2 on rev 1 (v1)' });
    expect(byField.env.ok).toBe(false);
    expect(byField.version).toMatchObject({ desired: 'v2 (rev 2)', ok: false });
    expect(byField.replicas.ok).toBe(true);
  });

  it.each([
    ['too few pods', [pod('a')], 3, 'replicas', '3', '1'],
    ['not all ready', [pod('a'), pod('b', { ready: false, state: 'Unready' })], 2, 'ready', '2', '1'],
    ['terminating pods do not count', [pod('a'), pod('b', { state: 'Terminating' })], 2, 'replicas', '2', '1'],
  ])('%s', (_n, pods, desired, field, want, have) => {
    const sut = specDiff({ spec, revision: 2, version: 'v2', desired, pods, diff: [] });
    expect(sut.find((r) => r.field === field)).toEqual({ field, desired: want, actual: have, ok: false });
  });

  it("adds the server's rows it cannot derive, and not the ones it already shows", () => {
    const diff = [
      { field: 'replicas', desired: 3, actual: 1 },
      { field: 'pods', desired: 'all running', actual: ['web-a: CrashLoopBackOff'] },
    ];
    const sut = specDiff({ spec, revision: 2, version: 'v2', desired: 3, pods: [pod('a')], diff });
    expect(sut.filter((r) => r.field === 'replicas')).toHaveLength(1);
    expect(sut.find((r) => r.field === 'pods')).toEqual({ field: 'pods', desired: 'all running', actual: 'web-a: CrashLoopBackOff', ok: false });
  });

  it('shows an image before its command and says when there are no pods', () => {
    const sut = specDiff({ spec: { image: 'nginx:1', command: ['-g'] }, revision: 1, version: 'v1', desired: 1, pods: [], diff: [] });
    expect(sut[0]).toEqual({ field: 'image/command', desired: 'nginx:1 -g', actual: 'no pods', ok: true });
    expect(sut.find((r) => r.field === 'env')!.desired).toBe('(none)');
  });
});

describe(revisionMix.name, () => {
  it('lists newest revision first', () => {
    expect(revisionMix([pod('a', { revision: 1, version: 'v1' }), pod('b', { revision: 3, version: 'v3' }), pod('c', { revision: 1, version: 'v1' })])).toBe('1 on rev 3 (v3) · 2 on rev 1 (v1)');
  });
});

describe(weightSegments.name, () => {
  it.each([
    ['exact rollout weights', { weights: { v1: 75, v2: 25 } }, [['v1', 75, 'stable'], ['v2', 25, 'canary']]],
    ['gateway shares when no exact weights', { weights: null, traffic: [{ version: 'v1', weight: 2, share: 66.7 }, { version: 'v2', weight: 1, share: 33.3 }] }, [['v1', 66.7, 'stable'], ['v2', 33.3, 'canary']]],
    ['ready pods when the gateway has nothing', { pods: [pod('a', { version: 'v1' }), pod('b'), pod('c'), pod('d', { ready: false })] }, [['v1', 33.3, 'stable'], ['v2', 66.7, 'canary']]],
    ['nothing routed', { pods: [] }, []],
    ['all weight zero', { weights: { v1: 0, v2: 0 } }, [['v1', 0, 'stable'], ['v2', 0, 'canary']]],
  ])('%s', (_n, input, out) => {
    const sut = weightSegments(input as Parameters<typeof weightSegments>[0], { stable: 'v1', canary: 'v2' });
    expect(sut.map((s) => [s.version, s.pct, s.role])).toEqual(out);
  });

  it('orders stable, others, then canary; a completed rollout (stable = canary) is stable', () => {
    expect(weightSegments({ weights: { z: 10, a: 10, b: 80 } }, { stable: 'b', canary: 'a' }).map((s) => s.version)).toEqual(['b', 'z', 'a']);
    expect(weightSegments({ weights: { v1: 1 } }, { stable: 'v1', canary: 'v1' })[0].role).toBe('stable');
  });
});

describe(rolloutText.name, () => {
  const base: RolloutStatus = {
    service: 'web',
    strategy: 'Canary',
    phase: 'Paused',
    pauseReason: 'Step',
    step: { number: 4, of: 5, current: { pause: {} } },
    canaryWeight: 50,
    weights: { v1: 50, v2: 50 },
    stable: { revision: 1, version: 'v1' },
    canary: { revision: 2, version: 'v2' },
    abort: null,
    analysis: { failures: 1, runs: [{ at: '', version: 'v2', requests: 42, errorRate: 0.5, p99Ms: 12.5, result: 'Failed', message: '' }] },
  };
  it('says phase, step, and the last analysis run', () => {
    expect(rolloutText(base)).toEqual({
      phase: 'Paused (Step)',
      step: 'step 4/5 · pause until promoted · canary 50%',
      analysis: '1 runs · 1 failed · last Failed: 42 req, 50% 5xx, p99 13 ms',
      abort: null,
      chaos: null,
    });
  });
  it.each([
    [{ setWeight: 25 }, 'step 4/5 · setWeight 25% · canary 50%'],
    [{ pause: { duration: '20s' } }, 'step 4/5 · pause 20s · canary 50%'],
    [{ pause: { duration: 20 } }, 'step 4/5 · pause 20s · canary 50%'],
  ])('step %j', (current, text) => expect(rolloutText({ ...base, step: { number: 4, of: 5, current } })!.step).toBe(text));
  it('gives the abort reason', () => {
    expect(rolloutText({ ...base, phase: 'Aborted', pauseReason: null, abort: { at: 1, reason: 'AnalysisFailed', message: 'error rate 50% > 5%' } })).toMatchObject({ phase: 'Aborted', abort: 'AnalysisFailed: error rate 50% > 5%' });
  });
  it('is null without a status', () => expect(rolloutText(null)).toBeNull());
  it.each([
    [{ chaos: { kill: 1, recoverWithin: 60 } }, 'step 4/5 · chaos kill 1 · canary 50%'],
    [{ chaos: { pause: 1, seconds: 5, recoverWithin: 60 } }, 'step 4/5 · chaos pause 1 for 5 s · canary 50%'],
    [{ chaos: { faults: { delayMs: 200, delayPercent: 50, abortPercent: 0, abortStatus: 503 }, duration: 30 } }, 'step 4/5 · chaos faults (delay 200 ms on 50%) for 30 s · canary 50%'],
  ])('chaos step %j in words, not JSON', (current, text) => expect(rolloutText({ ...base, step: { number: 4, of: 5, current } })!.step).toBe(text));
  it('says what a running chaos step waits for, its time left counting down between reads', () => {
    const r: RolloutStatus = {
      ...base,
      phase: 'Progressing',
      pauseReason: null,
      step: { number: 3, of: 5, current: { chaos: { kill: 1, recoverWithin: 60 } } },
      chaos: { step: 3, kind: 'kill', phase: 'Running', pods: ['api-x7'], waitingFor: 'a Ready replacement for killed pod api-x7 (1/2 Ready)', secondsLeft: 42 },
    };
    expect(rolloutText(r)!.chaos).toBe('chaos kill 1 on v2 — waiting for a Ready replacement for killed pod api-x7 (1/2 Ready), 42 s left');
    expect(rolloutText(r, 2500)!.chaos).toMatch(/, 40 s left$/);
    expect(rolloutText(r, 60_000)!.chaos).toMatch(/, time is up$/);
    expect(rolloutText({ ...r, chaos: { ...r.chaos!, phase: 'Requested', waitingFor: 'the canary to have 2 available pods before the experiment starts', secondsLeft: null } })!.chaos).toBe(
      'chaos kill 1 on v2 — waiting for the canary to have 2 available pods before the experiment starts',
    );
  });
  it('says nothing about analysis before its first run', () => expect(rolloutText({ ...base, analysis: { failures: 0, runs: [] } })!.analysis).toBeNull());
});

describe('formatting', () => {
  it.each([
    [formatAge, 5, '5s'],
    [formatAge, 65, '1m05s'],
    [formatAge, 120, '2m'],
    [formatAge, 3 * 3600 + 5 * 60, '3h05m'],
    [formatAge, 2 * 86400 + 3600, '2d1h'],
    [formatAge, -1, '—'],
    [formatAge, null, '—'],
    [formatMs, 2.345, '2.3 ms'],
    [formatMs, 123.4, '123 ms'],
    [formatMs, 1234, '1.23 s'],
    [formatMs, null, '—'],
    [formatPct, 0, '0%'],
    [formatPct, 0.0004, '<0.1%'],
    [formatPct, 0.0523, '5.2%'],
    [formatPct, 0.5, '50%'],
    [formatCpu, 12.6, '13%'],
    [formatCpu, undefined, '—'],
    [formatRps, 0, '0/s'],
    [formatRps, 2.25, '2.3/s'],
    [formatRps, 42.4, '42/s'],
  ] as [(x: unknown) => string, unknown, string][])('%p(%p) = %p', (fn, input, out) => expect(fn(input)).toBe(out));

  it.each([
    ['Ready', '●', 'var(--phase-Ready)'],
    ['CrashLoopBackOff', '✖', 'var(--phase-CrashLoopBackOff)'],
    ['Weird', '?', 'var(--phase-Pending)'],
  ])('phase %s has a shape and a colour', (phase, glyph, colour) => {
    expect(phaseGlyph(phase)).toBe(glyph);
    expect(phaseVar(phase)).toBe(colour);
  });
});

describe(sparkPath.name, () => {
  it.each([
    [[], ''],
    [[5], 'M0.0,9.0'],
    [[0, 10], 'M0.0,9.0L10.0,1.0'],
    [[1, NaN, 1], 'M0.0,9.0L10.0,9.0'],
  ])('%j', (values, path) => expect(sparkPath(values, 10, 10)).toBe(path));
});

describe(trafficModel.name, () => {
  const t: TrafficResponse = {
    service: 'web',
    versions: [
      { version: 'v1', weight: 75, share: 75, pods: ['a', 'b'] },
      { version: 'v2', weight: 25, share: 25, pods: ['c'] },
    ],
    window: { seconds: 60, byVersion: [{ version: 'v1', requests: 120, errors5xx: 0, errorRate: 0, p50Ms: 2, p99Ms: 9 }, { version: 'v2', requests: 60, errors5xx: 6, errorRate: 0.1, p50Ms: 3, p99Ms: 30 }] },
    ejected: [{ service: 'web', podId: 'b', untilMs: 0, timesEjected: 1 }],
  };
  it('gives each version its share, rps, errors, p99, stroke and pods with ejections', () => {
    const sut = trafficModel(t, [pod('a', { version: 'v1' }), pod('b', { version: 'v1' }), pod('c'), pod('d', { ready: false, state: 'Starting' })]);
    expect(sut.map((v) => [v.version, v.share, v.rps, v.errorRate, v.p99Ms, v.stroke])).toEqual([
      ['v1', 75, 2, 0, 9, 9.4],
      ['v2', 25, 1, 0.1, 30, 4.1],
    ]);
    expect(sut[0].pods).toEqual([
      { id: 'a', phase: 'Ready', ejected: false, inRotation: true },
      { id: 'b', phase: 'Ready', ejected: true, inRotation: false },
    ]);
    expect(sut[1].pods.map((p) => [p.id, p.inRotation])).toEqual([['c', true], ['d', false]]);
  });
  it('shows versions that only have pods (nothing routed yet) with a hairline', () => {
    const sut = trafficModel(null, [pod('x', { version: 'v9', ready: false })]);
    expect(sut).toEqual([{ version: 'v9', share: 0, rps: 0, errorRate: 0, p99Ms: 0, stroke: 1, pods: [{ id: 'x', phase: 'Ready', ejected: false, inRotation: false }] }]);
  });
});

describe(lastEventIds.name, () => {
  it('gives the newest id per service and reuses its answer for the same array', () => {
    const events = [
      { id: 1, service: 'a' },
      { id: 2, service: null },
      { id: 3, service: 'b' },
      { id: 4, service: 'a' },
    ];
    const sut = lastEventIds(events);
    expect([...sut]).toEqual([
      ['a', 4],
      ['b', 3],
    ]);
    expect(lastEventIds(events)).toBe(sut);
    expect(lastEventIds([...events, { id: 5, service: 'b' }]).get('b')).toBe(5);
  });
});

describe(podNumbersText.name, () => {
  it.each([
    [0, '5s', '0%', '2.1 ms', '0 restarts, age 5s, CPU 0%, last probe 2.1 ms'],
    [1, '1m05s', '12%', '30 ms', '1 restart, age 1m05s, CPU 12%, last probe 30 ms'],
    [3, '—', '—', '—', '3 restarts, age not known, CPU not known, last probe not run yet'],
  ])('%d restarts, %s, %s, %s', (restarts, age, cpu, lat, want) => {
    expect(podNumbersText(restarts, age, cpu, lat)).toBe(want);
  });
});
