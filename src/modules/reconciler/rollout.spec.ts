import { podFixture, specFixture } from '../../../test/utils/fixtures.js';
import type { Pod } from '../runtime/pod.types.js';
import type { AnalysisSpec, RolloutSpec, ServiceSpec } from '../specs/spec.types.js';
import {
  canaryReplicas,
  command,
  startRollout,
  stepRollout,
  type PodSet,
  type RolloutCommand,
  type RolloutDecision,
  type RolloutState,
  type TemplateRef,
  type WindowNumbers,
} from './rollout.js';

const T0 = 1_000_000;
const S = 1000;

const STABLE: TemplateRef = { revision: 1, templateHash: 'h1', version: 'v1' };
const CANARY: TemplateRef = { revision: 2, templateHash: 'h2', version: 'v2' };
const NEXT: TemplateRef = { revision: 3, templateHash: 'h3', version: 'v3' };

const CANARY_STEPS: RolloutSpec['steps'] = [{ setWeight: 25 }, { pause: { duration: 10 } }, { setWeight: 50 }, { pause: {} }, { setWeight: 100 }];
const ANALYSIS: AnalysisSpec = { intervalSeconds: 10, minRequests: 20, maxErrorRate: 0.05, maxP99LatencyMs: 500, failureLimit: 2 };

function spec(rollout: Partial<RolloutSpec> = {}, overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  return specFixture({ image: 'local://demo@v2', ...overrides }, rollout);
}

function pod(t: TemplateRef, id: string, overrides: Partial<Pod> = {}): Pod {
  return podFixture({ createdAt: T0 - 120 * S, readySince: T0 - 100 * S }, { id, revision: t.revision, templateHash: t.templateHash, version: t.version, ...overrides });
}

const NO_TRAFFIC: WindowNumbers = { requests: 0, errors5xx: 0, errorRate: 0, p99Ms: 0 };

function win(requests: number, errors5xx: number, p99Ms: number): WindowNumbers {
  return { requests, errors5xx, errorRate: requests > 0 ? errors5xx / requests : 0, p99Ms };
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/**
 * A fake runtime and gateway around the pure state machine: it calls stepRollout at `now`,
 * keeps the returned state, and makes the pods match target + keep when asked to.
 */
class Sim {
  now = T0;
  pods: Pod[];
  state: RolloutState;
  /** What window() answers, by version; the calls are recorded. */
  windows: Record<string, WindowNumbers> = {};
  windowCalls: [string, number][] = [];
  ejected: Record<string, number> = {};
  private seq = 0;

  constructor(
    readonly spec: ServiceSpec,
    stablePods = spec.replicas,
  ) {
    this.pods = Array.from({ length: stablePods }, (_, i) => pod(STABLE, `v1-${i}`));
    this.state = startRollout(undefined, spec, CANARY, this.pods, T0);
  }

  /** Moves the fake clock to T0 + seconds. */
  at(seconds: number): this {
    this.now = T0 + seconds * S;
    return this;
  }

  step(): RolloutDecision {
    const d = stepRollout(this.state, {
      spec: this.spec,
      replicas: this.spec.replicas,
      current: CANARY,
      pods: this.pods,
      now: this.now,
      window: (version, sinceMs) => {
        this.windowCalls.push([version, sinceMs]);
        return this.windows[version] ?? NO_TRAFFIC;
      },
      ejections: (version) => this.ejected[version] ?? 0,
    });
    this.state = d.state;
    return d;
  }

  cmd(c: RolloutCommand): string {
    const r = command(this.state, c, this.now);
    if ('error' in r) throw new Error(r.error);
    this.state = r.state;
    return r.message;
  }

  /** The runtime converges: pods of other templates go, each set gets its exact count; new pods are ready now (or not yet). */
  apply(d: RolloutDecision, opts: { ready?: boolean } = {}): this {
    const ready = opts.ready ?? true;
    const sets = new Map<string, PodSet>([[d.target.template.templateHash, d.target]]);
    for (const k of d.keep) if (!sets.has(k.template.templateHash)) sets.set(k.template.templateHash, k);
    this.pods = this.pods.filter((p) => sets.has(p.templateHash));
    for (const set of sets.values()) {
      const have = this.pods.filter((p) => p.templateHash === set.template.templateHash);
      if (have.length > set.replicas) {
        const gone = new Set(have.slice(set.replicas).map((p) => p.id));
        this.pods = this.pods.filter((p) => !gone.has(p.id));
      }
      for (let i = have.length; i < set.replicas; i++) {
        this.pods.push(
          pod(set.template, `${set.template.version}-new-${this.seq++}`, {
            createdAt: this.now,
            startedAt: this.now,
            phase: ready ? 'Ready' : 'Running',
            ready,
            readySince: ready ? this.now : undefined,
          }),
        );
      }
    }
    return this;
  }

  /** Marks up to n not-ready pods ready as of now. */
  markReady(n = Infinity): this {
    for (const p of this.pods) {
      if (n <= 0) break;
      if (!p.ready) {
        Object.assign(p, { ready: true, phase: 'Ready', readySince: this.now });
        n--;
      }
    }
    return this;
  }

  count(t: TemplateRef): number {
    return this.pods.filter((p) => p.templateHash === t.templateHash).length;
  }
}

/** A Canary sim advanced to its first setWeight with the canary pod available (weight 25, pause 10s running). */
function canaryAt25(rollout: Partial<RolloutSpec> = {}): Sim {
  const sim = new Sim(spec({ strategy: 'Canary', steps: CANARY_STEPS, ...rollout }));
  sim.apply(sim.step());
  sim.at(1).step();
  expect(sim.state.weight).toBe(25);
  return sim;
}

describe(startRollout.name, () => {
  const sut = startRollout;

  it('completes at once on the first apply (no pods): stable = canary = the applied template', () => {
    const result = sut(undefined, spec(), CANARY, [], T0);

    expect(result).toEqual({
      strategy: 'Rolling',
      stable: CANARY,
      canary: CANARY,
      phase: 'Completed',
      stepIndex: 0,
      weight: 100,
      stepStartedAt: T0,
      startedAt: T0,
      lastProgressAt: T0,
      progressMark: 0,
      analysis: { lastAt: T0, failures: 0, ejections: -1, runs: [] },
      completedAt: T0,
    });
  });

  it('starts Progressing from the running v1 pods to the new v2 template', () => {
    const pods = [pod(STABLE, 'a'), pod(STABLE, 'b'), pod(STABLE, 'c')];

    const result = sut(undefined, spec({ strategy: 'Canary' }), CANARY, pods, T0);

    expect(result).toEqual({
      strategy: 'Canary',
      stable: STABLE,
      canary: CANARY,
      phase: 'Progressing',
      stepIndex: 0,
      weight: 0,
      stepStartedAt: T0,
      startedAt: T0,
      lastProgressAt: T0,
      progressMark: 0,
      analysis: { lastAt: T0, failures: 0, ejections: -1, runs: [] },
    });
  });

  it('takes the dominant template of live pods as stable (ready counts double, terminating pods not at all)', () => {
    const pods = [
      pod(STABLE, 'a'),
      pod(STABLE, 'b'),
      pod(CANARY, 'c', { ready: false, phase: 'Running' }),
      pod(CANARY, 'd', { ready: false, phase: 'Running' }),
      pod(CANARY, 'e', { ready: false, phase: 'Running' }),
      pod(CANARY, 'f', { phase: 'Terminating' }),
    ];

    expect(sut(undefined, spec(), NEXT, pods, T0).stable).toEqual(STABLE);
  });

  it.each<{ name: string; prev: Partial<RolloutState>; current: TemplateRef; phase: RolloutState['phase']; stable: TemplateRef }>([
    { name: 're-applying the stable template during a rollout (a revert) completes at once', prev: { phase: 'Progressing' }, current: STABLE, phase: 'Completed', stable: STABLE },
    { name: 're-applying the stable template while paused completes at once', prev: { phase: 'Paused', pauseReason: 'Step' }, current: STABLE, phase: 'Completed', stable: STABLE },
    { name: 'a new template during an in-progress canary keeps the original stable', prev: { phase: 'Progressing', weight: 50, stepIndex: 3 }, current: NEXT, phase: 'Progressing', stable: STABLE },
    { name: 'a new template after an abort keeps the stable that serves traffic', prev: { phase: 'Aborted' }, current: NEXT, phase: 'Progressing', stable: STABLE },
    { name: 'a new template after a completed rollout rolls from the completed one', prev: { phase: 'Completed', stable: CANARY }, current: NEXT, phase: 'Progressing', stable: CANARY },
  ])('$name', ({ prev, current, phase, stable }) => {
    const before = { ...sut(undefined, spec({ strategy: 'Canary' }), CANARY, [pod(STABLE, 'a')], T0 - 60 * S), ...prev };
    const later = T0 + 60 * S;

    const result = sut(before, spec({ strategy: 'Canary' }), current, [pod(STABLE, 'a'), pod(CANARY, 'b')], later);

    expect(result.phase).toBe(phase);
    expect(result.stable).toEqual(stable);
    expect(result.canary).toEqual(current);
    expect(result.stepIndex).toBe(0);
    expect(result.startedAt).toBe(later);
    expect(result.analysis).toEqual({ lastAt: later, failures: 0, ejections: -1, runs: [] });
  });
});

describe(canaryReplicas.name, () => {
  const sut = canaryReplicas;

  it.each([
    { replicas: 3, weight: 0, want: 1 },
    { replicas: 3, weight: 25, want: 1 },
    { replicas: 3, weight: 50, want: 2 },
    { replicas: 3, weight: 100, want: 3 },
    { replicas: 10, weight: 1, want: 1 },
    { replicas: 10, weight: 99, want: 10 },
    { replicas: 4, weight: 50, want: 2 },
    { replicas: 4, weight: 51, want: 3 },
    { replicas: 1, weight: 0, want: 1 },
    { replicas: 0, weight: 0, want: 0 },
    { replicas: 0, weight: 50, want: 0 },
    { replicas: 0, weight: 100, want: 0 },
  ])('($replicas, $weight) → $want', ({ replicas, weight, want }) => {
    expect(sut(replicas, weight)).toBe(want);
  });
});

describe(stepRollout.name, () => {
  const sut = stepRollout;

  it('does not change the state it was given', () => {
    const sim = new Sim(spec({ strategy: 'Canary', steps: CANARY_STEPS, analysis: ANALYSIS }));
    sim.apply(sim.step());
    const frozen = deepFreeze(structuredClone(sim.state));

    const d = sut(frozen, { spec: sim.spec, replicas: 3, current: CANARY, pods: sim.pods, now: T0 + 20 * S, window: () => win(100, 0, 10), ejections: () => 0 });

    expect(d.state.weight).toBe(25);
    expect(frozen.weight).toBe(0);
  });

  it('on a completed rollout targets the template at full size with proportional weights and says nothing', () => {
    const state = startRollout(undefined, spec(), CANARY, [], T0);

    const d = sut(state, { spec: spec(), replicas: 3, current: CANARY, pods: [], now: T0 + S, window: () => NO_TRAFFIC, ejections: () => 0 });

    expect(d).toEqual({ state, target: { template: CANARY, replicas: 3 }, keep: [], hold: false, events: [] });
    expect(d.state).toBe(state);
  });

  describe('Canary with steps [setWeight 25, pause 10s, setWeight 50, pause, setWeight 100]', () => {
    it('walks every step to completion against a simulated runtime', () => {
      const sim = new Sim(spec({ strategy: 'Canary', steps: CANARY_STEPS }));

      // 1. One canary pod beside the full stable set; no traffic for it until it is available.
      let d = sim.step();
      expect(d).toMatchObject({ target: { template: STABLE, replicas: 3 }, keep: [{ template: CANARY, replicas: 1 }], hold: false, weights: { v1: 100, v2: 0 }, events: [] });
      expect(d.requeueAfterMs).toBeUndefined();
      sim.apply(d, { ready: false });
      expect(sim.count(CANARY)).toBe(1);

      d = sim.at(1).step();
      expect(d.weights).toEqual({ v1: 100, v2: 0 });
      expect(sim.state.stepIndex).toBe(0);

      // 2. The canary pod is available: 25% of traffic, then the 10s pause starts.
      sim.at(2).markReady();
      d = sim.step();
      expect(d.weights).toEqual({ v1: 75, v2: 25 });
      expect(d.keep).toEqual([{ template: CANARY, replicas: 1 }]);
      expect(d.target).toEqual({ template: STABLE, replicas: 3 });
      expect(d.events).toEqual([
        {
          type: 'rollout.weightSet',
          reason: 'SetWeight',
          message: 'canary v2 weight 0% → 25% (step 1/5)',
          explain: 'The gateway now sends exactly 25% of requests to v2 and 75% to v1',
        },
      ]);
      expect(d.requeueAfterMs).toBe(10 * S);
      expect(sim.state).toMatchObject({ phase: 'Progressing', stepIndex: 1, weight: 25, stepStartedAt: T0 + 2 * S });

      // 3. Mid-pause: wait for the remainder.
      d = sim.at(7).step();
      expect(d.requeueAfterMs).toBe(5 * S);
      expect(d.events).toEqual([]);
      expect(d.weights).toEqual({ v1: 75, v2: 25 });
      expect(sim.state.stepIndex).toBe(1);

      // 4. Pause over: 50% needs ceil(1.5) = 2 canary pods; traffic stays at 25% until the second is available.
      d = sim.at(12).step();
      expect(d.keep).toEqual([{ template: CANARY, replicas: 2 }]);
      expect(d.weights).toEqual({ v1: 75, v2: 25 });
      expect(d.events).toEqual([]);
      expect(sim.state.stepIndex).toBe(2);
      sim.apply(d);
      expect(sim.count(CANARY)).toBe(2);

      // 5. 50%, then the indefinite pause.
      d = sim.at(13).step();
      expect(d.weights).toEqual({ v1: 50, v2: 50 });
      expect(d.keep).toEqual([{ template: CANARY, replicas: 2 }]);
      expect(d.events.map((e) => e.type)).toEqual(['rollout.weightSet', 'rollout.paused']);
      expect(d.events[0].message).toBe('canary v2 weight 25% → 50% (step 3/5)');
      expect(d.events[1]).toEqual({
        type: 'rollout.paused',
        reason: 'PausedAtStep',
        message: 'paused at step 4/5 with 50% on v2',
        explain: 'The canary waits here until someone promotes it (POST /services/<name>/rollout/promote)',
      });
      expect(d.requeueAfterMs).toBeUndefined();
      expect(sim.state).toMatchObject({ phase: 'Paused', pauseReason: 'Step', stepIndex: 3, weight: 50 });

      // 6. Paused indefinitely: nothing moves, nothing is said again.
      d = sim.at(1000).step();
      expect(d.events).toEqual([]);
      expect(d.weights).toEqual({ v1: 50, v2: 50 });
      expect(sim.state).toMatchObject({ phase: 'Paused', stepIndex: 3 });

      // 7. Promote: on to setWeight 100, which needs all 3 canary pods first.
      expect(sim.at(1001).cmd('promote')).toBe('moving to step 5');
      d = sim.step();
      expect(d.keep).toEqual([{ template: CANARY, replicas: 3 }]);
      expect(d.target).toEqual({ template: STABLE, replicas: 3 });
      expect(d.weights).toEqual({ v1: 50, v2: 50 });
      sim.apply(d);

      // 8. 100%, then full promotion: the canary becomes the target at full size.
      d = sim.at(1002).step();
      expect(d.events.map((e) => e.type)).toEqual(['rollout.weightSet']);
      expect(d.events[0].message).toBe('canary v2 weight 50% → 100% (step 5/5)');
      expect(d.target).toEqual({ template: CANARY, replicas: 3 });
      expect(d.keep).toEqual([]);
      expect(d.weights).toEqual({ v1: 0, v2: 100 });
      expect(sim.state.phase).toBe('Progressing');
      sim.apply(d);
      expect(sim.count(STABLE)).toBe(0);

      // 9. Only canary pods remain, all available: completed.
      d = sim.at(1003).step();
      expect(d.events).toEqual([
        {
          type: 'rollout.completed',
          reason: 'RolloutCompleted',
          message: 'revision 2 (v2) is now stable',
          explain: 'The rollout from v1 to v2 finished: every step passed and 3 pods of v2 take all traffic',
        },
      ]);
      expect(d.target).toEqual({ template: CANARY, replicas: 3 });
      expect(d.keep).toEqual([]);
      expect(d.weights).toBeUndefined();
      expect(sim.state).toMatchObject({ phase: 'Completed', stable: CANARY, canary: CANARY, weight: 100, completedAt: T0 + 1003 * S });
      expect(sim.state.pauseReason).toBeUndefined();

      // 10. Completed stays quiet.
      d = sim.at(2000).step();
      expect(d.events).toEqual([]);
      expect(d.weights).toBeUndefined();
    });

    it('does not complete the full promotion while stable pods remain', () => {
      const sim = new Sim(spec({ strategy: 'Canary', steps: [{ setWeight: 100 }] }));
      sim.apply(sim.step());

      const d = sim.at(1).step();

      expect(d.target).toEqual({ template: CANARY, replicas: 3 });
      expect(sim.count(STABLE)).toBe(3);
      expect(sim.state.phase).toBe('Progressing');
    });

    it('resume from the step pause moves past the pause, like promote', () => {
      const sim = canaryAt25({ steps: [{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }] });
      expect(sim.state).toMatchObject({ phase: 'Paused', pauseReason: 'Step', stepIndex: 1 });

      expect(sim.at(5).cmd('resume')).toBe('resumed');
      const d = sim.step();

      expect(sim.state.stepIndex).toBe(2);
      expect(d.keep).toEqual([{ template: CANARY, replicas: 2 }]);
    });

    it('a manual pause freezes the weight and the canary size, even past a timed pause', () => {
      const sim = canaryAt25();
      sim.at(3).cmd('pause');

      const d = sim.at(60).step();

      expect(d.weights).toEqual({ v1: 75, v2: 25 });
      expect(d.keep).toEqual([{ template: CANARY, replicas: 1 }]);
      expect(d.target).toEqual({ template: STABLE, replicas: 3 });
      expect(d.events).toEqual([]);
      expect(sim.state).toMatchObject({ phase: 'Paused', pauseReason: 'Manual', stepIndex: 1 });
    });

    it('a manual pause during the full promotion holds the canary as the target (does not roll back to stable)', () => {
      const sim = new Sim(spec({ strategy: 'Canary', steps: [{ setWeight: 100 }] }));
      sim.apply(sim.step());
      expect(sim.at(1).step().target).toEqual({ template: CANARY, replicas: 3 });
      expect(sim.count(STABLE)).toBe(3);
      sim.cmd('pause');

      const d = sim.at(2).step();

      expect(d.target).toEqual({ template: CANARY, replicas: 3 });
      expect(d.keep).toEqual([]);
      expect(d.hold).toBe(true);
      expect(d.weights).toEqual({ v1: 0, v2: 100 });
    });

    it('promoteFull skips the remaining steps', () => {
      const sim = canaryAt25();

      expect(sim.at(3).cmd('promoteFull')).toBe('promoting v2 fully');
      // The canary grows to full size beside stable first; traffic stays at 25% until it is all available.
      let d = sim.step();
      expect(d.target).toEqual({ template: STABLE, replicas: 3 });
      expect(d.keep).toEqual([{ template: CANARY, replicas: 3 }]);
      expect(d.weights).toEqual({ v1: 75, v2: 25 });
      sim.apply(d);
      d = sim.at(4).step();
      expect(d.target).toEqual({ template: CANARY, replicas: 3 });
      expect(d.keep).toEqual([]);
      expect(d.weights).toEqual({ v1: 0, v2: 100 });
      expect(d.events.map((e) => e.type)).toEqual(['rollout.weightSet']);
      sim.apply(d);
      d = sim.at(5).step();

      expect(sim.state.phase).toBe('Completed');
      expect(d.events.map((e) => e.type)).toEqual(['rollout.completed']);
    });

    it('respects minReadySeconds: a ready canary pod carries no traffic until it has been ready that long', () => {
      const sim = new Sim(spec({ strategy: 'Canary', steps: CANARY_STEPS, minReadySeconds: 5 }));
      sim.apply(sim.step());

      expect(sim.at(4.999).step().weights).toEqual({ v1: 100, v2: 0 });
      expect(sim.at(5).step().weights).toEqual({ v1: 75, v2: 25 });
    });

    it('a canary without steps is promoted fully right away, switching traffic once it is all up', () => {
      const sim = new Sim(spec({ strategy: 'Canary', steps: [] }));

      let d = sim.step();
      expect(d.target).toEqual({ template: STABLE, replicas: 3 });
      expect(d.keep).toEqual([{ template: CANARY, replicas: 3 }]);
      expect(d.weights).toEqual({ v1: 100, v2: 0 });
      sim.apply(d);
      d = sim.at(1).step();
      expect(d.target).toEqual({ template: CANARY, replicas: 3 });
      expect(d.keep).toEqual([]);
      expect(d.weights).toEqual({ v1: 0, v2: 100 });
    });
  });

  describe('analysis (interval 10s, minRequests 20, maxErrorRate 5%, p99 500 ms, failureLimit 2)', () => {
    const steps: RolloutSpec['steps'] = [{ setWeight: 25 }, { pause: {} }];
    const canaryUnderAnalysis = () => canaryAt25({ steps, analysis: ANALYSIS });

    it('does not analyse before the canary takes traffic', () => {
      const sim = new Sim(spec({ strategy: 'Canary', steps, analysis: ANALYSIS }));
      sim.apply(sim.step(), { ready: false });
      sim.windows.v2 = win(100, 100, 900);

      const d = sim.at(30).step();

      expect(sim.windowCalls).toEqual([]);
      expect(sim.state.analysis.runs).toEqual([]);
      expect(d.requeueAfterMs).toBeUndefined();
    });

    it('asks for the window since the last analysis once per interval, and requeues for the next', () => {
      const sim = canaryUnderAnalysis();
      sim.windows.v2 = win(100, 0, 100);

      expect(sim.at(5).step().requeueAfterMs).toBe(5 * S);
      expect(sim.windowCalls).toEqual([]);
      expect(sim.at(10).step().requeueAfterMs).toBe(10 * S);
      expect(sim.at(15).step().requeueAfterMs).toBe(5 * S);
      expect(sim.at(20).step().requeueAfterMs).toBe(10 * S);

      // Each window starts after the second that held the previous check, so no second counts twice.
      expect(sim.windowCalls).toEqual([
        ['v2', T0 + 1 * S],
        ['v2', T0 + 11 * S],
      ]);
    });

    it.each([
      {
        name: 'below minRequests is Inconclusive and no failure',
        window: win(19, 19, 900),
        run: { requests: 19, errorRate: 1, p99Ms: 900, result: 'Inconclusive', message: '19 requests < minRequests 20' },
        failures: 0,
      },
      {
        name: 'exactly minRequests is judged',
        window: win(20, 0, 100),
        run: { requests: 20, errorRate: 0, p99Ms: 100, result: 'Successful', message: '5xx 0%, p99 100 ms over 20 requests' },
        failures: 0,
      },
      {
        name: 'a passing window is Successful',
        window: win(100, 1, 120),
        run: { requests: 100, errorRate: 0.01, p99Ms: 120, result: 'Successful', message: '5xx 1%, p99 120 ms over 100 requests' },
        failures: 0,
      },
      {
        name: 'exactly at the limits passes',
        window: win(100, 5, 500),
        run: { requests: 100, errorRate: 0.05, p99Ms: 500, result: 'Successful', message: '5xx 5%, p99 500 ms over 100 requests' },
        failures: 0,
      },
      {
        name: 'too many 5xx fails',
        window: win(100, 20, 100),
        run: { requests: 100, errorRate: 0.2, p99Ms: 100, result: 'Failed', message: '5xx 20% > 5%' },
        failures: 1,
      },
      {
        name: 'a p99 over the limit fails',
        window: win(100, 0, 900),
        run: { requests: 100, errorRate: 0, p99Ms: 900, result: 'Failed', message: 'p99 900 ms > 500 ms' },
        failures: 1,
      },
    ])('$name', ({ window, run, failures }) => {
      const sim = canaryUnderAnalysis();
      sim.windows.v2 = window;

      sim.at(10).step();

      expect(sim.state.analysis.runs).toEqual([{ at: T0 + 10 * S, version: 'v2', ...run }]);
      expect(sim.state.analysis.failures).toBe(failures);
      expect(sim.state.phase).toBe('Paused');
    });

    it('aborts on the third failed window (failures > failureLimit) with the numbers', () => {
      const sim = canaryUnderAnalysis();
      const windows = [win(100, 10, 100), win(100, 20, 100), win(200, 16, 100)];
      let d: RolloutDecision | undefined;
      windows.forEach((w, i) => {
        sim.windows.v2 = w;
        d = sim.at(10 * (i + 1)).step();
        if (i < 2) expect(sim.state.phase).toBe('Paused');
      });
      const message = 'canary v2 5xx 11.5% > 5% over 3 failed intervals (failureLimit 2), 400 requests';

      expect(sim.state.phase).toBe('Aborted');
      expect(sim.state.pauseReason).toBeUndefined();
      expect(sim.state.abort).toEqual({ at: T0 + 30 * S, reason: 'AnalysisFailed', message });
      expect(d).toMatchObject({
        target: { template: STABLE, replicas: 3 },
        keep: [],
        weights: { v1: 100 },
        degraded: { status: 'True', reason: 'RolloutAborted', message },
        progressing: { status: 'False', reason: 'AnalysisFailed', message },
      });
      expect(d!.preview).toBeUndefined();
      expect(d!.events).toEqual([
        {
          type: 'rollout.aborted',
          reason: 'AnalysisFailed',
          message,
          explain: `Rolled back to v1: ${message}. All traffic goes to v1 and the v2 pods are removed; retry or apply a new spec to try again`,
        },
      ]);
    });

    it('stays rolled back on the next steps, without new events', () => {
      const sim = canaryUnderAnalysis();
      sim.windows.v2 = win(100, 50, 100);
      for (const t of [10, 20, 30]) sim.at(t).step();
      expect(sim.state.phase).toBe('Aborted');

      const d = sim.at(40).step();

      expect(d).toMatchObject({ target: { template: STABLE, replicas: 3 }, keep: [], weights: { v1: 100 }, events: [], degraded: { status: 'True', reason: 'RolloutAborted' } });
      expect(d.progressing).toEqual({
        status: 'False',
        reason: 'RolloutAborted',
        message: 'revision 2 (v2) was aborted; v1 serves all traffic. Retry, undo, or apply a new spec.',
      });
      expect(sim.windowCalls).toHaveLength(3);
    });

    it('aborts on p99 alone with the latency in the message', () => {
      const sim = canaryUnderAnalysis();
      sim.windows.v2 = win(100, 0, 900);

      for (const t of [10, 20, 30]) sim.at(t).step();

      expect(sim.state.abort?.message).toBe('canary v2 p99 900 ms > 500 ms over 3 failed intervals (failureLimit 2), 300 requests');
    });

    it('counts inconclusive and passing windows as no failure between failing ones', () => {
      const sim = canaryUnderAnalysis();
      const windows = [win(100, 20, 100), win(5, 5, 100), win(100, 0, 100), win(100, 20, 100)];
      windows.forEach((w, i) => {
        sim.windows.v2 = w;
        sim.at(10 * (i + 1)).step();
      });

      expect(sim.state.analysis.runs.map((r) => r.result)).toEqual(['Failed', 'Inconclusive', 'Successful', 'Failed']);
      expect(sim.state.analysis.failures).toBe(2);
      expect(sim.state.phase).toBe('Paused');
    });

    it('counts each new passive ejection of a canary pod as a failure, between intervals too', () => {
      const sim = canaryUnderAnalysis();

      sim.ejected.v2 = 1;
      sim.at(3).step();
      expect(sim.state.analysis).toMatchObject({ failures: 1, ejections: 1 });
      expect(sim.state.analysis.runs).toEqual([
        { at: T0 + 3 * S, version: 'v2', requests: 0, errorRate: 0, p99Ms: 0, result: 'Failed', message: 'the gateway ejected a v2 pod for failing requests' },
      ]);

      sim.at(4).step();
      expect(sim.state.analysis.failures).toBe(1);

      sim.ejected.v2 = 3;
      const d = sim.at(5).step();
      expect(sim.state.phase).toBe('Aborted');
      expect(d.weights).toEqual({ v1: 100 });
      expect(sim.state.abort?.message).toBe('canary v2 failed analysis 3 times (failureLimit 2): the gateway ejected a v2 pod for failing requests');
    });

    it('retry starts over with no failures and remembers the ejections already counted', () => {
      const sim = canaryUnderAnalysis();
      sim.ejected.v2 = 3;
      sim.apply(sim.at(3).step());
      expect(sim.state.phase).toBe('Aborted');
      expect(sim.count(CANARY)).toBe(0);

      sim.at(4).cmd('retry');
      const d = sim.step();

      expect(sim.state).toMatchObject({ phase: 'Progressing', stepIndex: 0, weight: 0 });
      expect(sim.state.analysis).toEqual({ lastAt: T0 + 4 * S, failures: 0, ejections: 3, runs: [] });
      expect(d.keep).toEqual([{ template: CANARY, replicas: 1 }]);
    });
  });

  describe('BlueGreen', () => {
    const blueGreen = (rollout: Partial<RolloutSpec> = {}) => new Sim(spec({ strategy: 'BlueGreen', ...rollout }));

    it('before promotion: blue serves everything, green comes up at full size behind the preview', () => {
      const sim = blueGreen();

      const d = sim.step();

      expect(d).toEqual({
        state: sim.state,
        target: { template: STABLE, replicas: 3 },
        keep: [{ template: CANARY, replicas: 3 }],
        hold: false,
        weights: { v1: 100 },
        preview: 'v2',
        events: [],
      });
    });

    it('promotes once all preview pods are available, keeps blue for scaleDownDelaySeconds, then completes', () => {
      const sim = blueGreen();
      sim.apply(sim.step(), { ready: false });

      sim.at(1).markReady(2);
      let d = sim.step();
      expect(d.weights).toEqual({ v1: 100 });
      expect(d.events).toEqual([]);

      sim.at(2).markReady();
      d = sim.step();
      expect(d.events.map((e) => e.type)).toEqual(['rollout.previewReady', 'rollout.promoted']);
      expect(d.events[1]).toEqual({
        type: 'rollout.promoted',
        reason: 'Promoted',
        message: 'switched traffic from v1 to v2',
        explain: 'All traffic now goes to v2; v1 stays up for 30s so the switch can be undone instantly',
      });
      expect(d.target).toEqual({ template: CANARY, replicas: 3 });
      expect(d.keep).toEqual([{ template: STABLE, replicas: 3 }]);
      expect(d.weights).toEqual({ v2: 100 });
      expect(d.preview).toBeUndefined();
      expect(d.requeueAfterMs).toBe(30 * S);
      expect(sim.state).toMatchObject({ phase: 'Progressing', promotedAt: T0 + 2 * S, previewReadyAt: T0 + 2 * S, weight: 100 });
      sim.apply(d);

      d = sim.at(31).step();
      expect(d.keep).toEqual([{ template: STABLE, replicas: 3 }]);
      expect(d.weights).toEqual({ v2: 100 });
      expect(d.requeueAfterMs).toBe(1 * S);
      expect(d.events).toEqual([]);

      d = sim.at(32).step();
      expect(d.events).toEqual([
        {
          type: 'rollout.completed',
          reason: 'RolloutCompleted',
          message: 'revision 2 (v2) is now stable',
          explain: 'The rollout from v1 to v2 finished: traffic switched to v2 and v1 was scaled down after 30s',
        },
      ]);
      expect(d.target).toEqual({ template: CANARY, replicas: 3 });
      expect(d.keep).toEqual([]);
      expect(d.weights).toBeUndefined();
      expect(sim.state).toMatchObject({ phase: 'Completed', stable: CANARY });
    });

    it('autoPromotionSeconds delays the switch', () => {
      const sim = blueGreen({ autoPromotionSeconds: 60 });
      sim.apply(sim.step());

      let d = sim.at(1).step();
      expect(d.events.map((e) => e.type)).toEqual(['rollout.previewReady']);
      expect(d.weights).toEqual({ v1: 100 });
      expect(d.requeueAfterMs).toBe(60 * S);
      expect(sim.state.phase).toBe('Progressing');

      d = sim.at(60.5).step();
      expect(d.weights).toEqual({ v1: 100 });
      expect(d.requeueAfterMs).toBe(500);

      d = sim.at(61).step();
      expect(d.events.map((e) => e.type)).toEqual(['rollout.promoted']);
      expect(d.weights).toEqual({ v2: 100 });
    });

    it('autoPromotionEnabled false waits Paused/AwaitingPromotion for promote', () => {
      const sim = blueGreen({ autoPromotionEnabled: false });
      sim.apply(sim.step());

      let d = sim.at(1).step();
      expect(sim.state).toMatchObject({ phase: 'Paused', pauseReason: 'AwaitingPromotion' });
      expect(d.weights).toEqual({ v1: 100 });
      expect(d.preview).toBe('v2');

      d = sim.at(3600).step();
      expect(sim.state.phase).toBe('Paused');
      expect(d.weights).toEqual({ v1: 100 });
      expect(d.events).toEqual([]);

      expect(sim.cmd('promote')).toBe('promoting v2 fully');
      d = sim.step();
      expect(d.events.map((e) => e.type)).toEqual(['rollout.promoted']);
      expect(d.weights).toEqual({ v2: 100 });
      expect(sim.state).toMatchObject({ phase: 'Progressing', promotedAt: T0 + 3600 * S });
      expect(sim.state.pauseReason).toBeUndefined();
    });

    it('promote before the preview is ready switches as soon as it is (skipping autoPromotionSeconds)', () => {
      const sim = blueGreen({ autoPromotionSeconds: 600 });
      sim.apply(sim.step(), { ready: false });
      sim.cmd('promote');

      expect(sim.at(1).step().weights).toEqual({ v1: 100 });
      sim.markReady();
      expect(sim.at(2).step().weights).toEqual({ v2: 100 });
    });

    it('analyses the new version after the switch and switches back on failure', () => {
      const sim = blueGreen({ analysis: ANALYSIS, scaleDownDelaySeconds: 300 });
      sim.apply(sim.step());
      sim.apply(sim.at(1).step());
      sim.windows.v2 = win(100, 100, 100);

      for (const t of [11, 21]) sim.at(t).step();
      const d = sim.at(31).step();

      expect(sim.windowCalls).toEqual([
        ['v2', T0 + 2 * S],
        ['v2', T0 + 12 * S],
        ['v2', T0 + 22 * S],
      ]);
      expect(sim.state.abort?.message).toBe('new version v2 5xx 100% > 5% over 3 failed intervals (failureLimit 2), 300 requests');
      expect(d).toMatchObject({ target: { template: STABLE, replicas: 3 }, keep: [], weights: { v1: 100 } });
    });
  });

  describe('Rolling', () => {
    it('targets the new template at full size with proportional weights', () => {
      const sim = new Sim(spec());

      expect(sim.step()).toEqual({ state: sim.state, target: { template: CANARY, replicas: 3 }, keep: [], hold: false, events: [] });
    });

    it('holds while paused by command, and lets go on resume', () => {
      const sim = new Sim(spec());
      sim.cmd('pause');

      let d = sim.at(1).step();
      expect(d.hold).toBe(true);
      expect(d.target).toEqual({ template: CANARY, replicas: 3 });

      sim.at(2).cmd('resume');
      d = sim.step();
      expect(d.hold).toBe(false);
    });

    it('completes only when only new pods remain and all are available', () => {
      const sim = new Sim(spec());
      let d = sim.step();
      sim.pods.push(...[0, 1, 2].map((i) => pod(CANARY, `v2-${i}`, { readySince: T0 })));

      d = sim.at(1).step();
      expect(sim.state.phase).toBe('Progressing');
      expect(d.events).toEqual([]);

      sim.pods = sim.pods.filter((p) => p.templateHash === CANARY.templateHash);
      sim.pods[2] = { ...sim.pods[2], ready: false, phase: 'Running', readySince: undefined };
      d = sim.at(2).step();
      expect(sim.state.phase).toBe('Progressing');

      sim.markReady();
      d = sim.at(3).step();
      expect(sim.state.phase).toBe('Completed');
      expect(d.events).toEqual([
        {
          type: 'rollout.completed',
          reason: 'RolloutCompleted',
          message: 'revision 2 (v2) is now stable',
          explain: 'The rollout from v1 to v2 finished: all 3 pods run the new revision',
        },
      ]);
      expect(d.weights).toBeUndefined();
    });

    it('ignores terminating old pods when deciding it is complete', () => {
      const sim = new Sim(spec());
      sim.pods = [pod(STABLE, 'old', { phase: 'Terminating', ready: false }), ...[0, 1, 2].map((i) => pod(CANARY, `v2-${i}`))];

      sim.at(1).step();

      expect(sim.state.phase).toBe('Completed');
    });
  });

  describe('progress deadline (600s)', () => {
    /** A Rolling update whose new pods never become ready. */
    function stuck(rollout: Partial<RolloutSpec> = {}): Sim {
      const sim = new Sim(spec(rollout));
      sim.apply(sim.step(), { ready: false });
      return sim;
    }
    const message = 'no progress for 600s: 0 of the wanted pods of revision 2 (v2) became available';

    it.each([
      { t: 600, phase: 'Progressing' },
      { t: 600.001, phase: 'Aborted' },
    ])('at t=$t s with no available new pod → $phase', ({ t, phase }) => {
      const sim = stuck();

      sim.at(t).step();

      expect(sim.state.phase).toBe(phase);
    });

    it('aborts with ProgressDeadlineExceeded and the numbers when progressDeadlineAbort is true', () => {
      const sim = stuck();

      const d = sim.at(601).step();

      expect(sim.state.abort).toEqual({ at: T0 + 601 * S, reason: 'ProgressDeadlineExceeded', message });
      expect(d).toMatchObject({
        target: { template: STABLE, replicas: 3 },
        keep: [],
        weights: { v1: 100 },
        progressing: { status: 'False', reason: 'ProgressDeadlineExceeded', message },
        degraded: { status: 'True', reason: 'RolloutAborted', message },
      });
      expect(d.events.map((e) => [e.type, e.reason])).toEqual([['rollout.aborted', 'ProgressDeadlineExceeded']]);
    });

    it('only reports (Progressing False, one rollout.stalled event) when progressDeadlineAbort is false', () => {
      const sim = stuck({ progressDeadlineAbort: false });

      let d = sim.at(601).step();
      expect(sim.state.phase).toBe('Progressing');
      expect(d.progressing).toEqual({ status: 'False', reason: 'ProgressDeadlineExceeded', message });
      expect(d.degraded).toBeUndefined();
      expect(d.target).toEqual({ template: CANARY, replicas: 3 });
      expect(d.events).toEqual([
        {
          type: 'rollout.stalled',
          reason: 'ProgressDeadlineExceeded',
          message,
          explain: 'The rollout of v2 made no progress within its deadline; it is left running because progressDeadlineAbort is false',
        },
      ]);

      d = sim.at(700).step();
      expect(d.events).toEqual([]);
      expect(d.progressing).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    });

    it('a newly available pod restarts the clock', () => {
      const sim = stuck();
      sim.at(500).markReady(1);
      sim.step();

      expect(sim.at(1100).step().state.phase).toBe('Progressing');
      expect(sim.at(1100.001).step().state.phase).toBe('Aborted');
      expect(sim.state.abort?.message).toBe('no progress for 600s: 1 of the wanted pods of revision 2 (v2) became available');
    });

    it('paused time does not count', () => {
      const sim = stuck();
      sim.at(100).cmd('pause');
      sim.at(5000).step();
      expect(sim.state.phase).toBe('Paused');

      sim.at(5000).cmd('resume');
      expect(sim.at(5600).step().state.phase).toBe('Progressing');
      expect(sim.at(5600.001).step().state.phase).toBe('Aborted');
    });

    it('an indefinite canary pause step does not count, even with no reconcile during it', () => {
      const sim = canaryAt25({ steps: [{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }] });
      expect(sim.state.phase).toBe('Paused');

      sim.at(10_000).cmd('promote');
      sim.apply(sim.step(), { ready: false });

      expect(sim.at(10_600).step().state.phase).toBe('Progressing');
      expect(sim.at(10_600.001).step().state.phase).toBe('Aborted');
    });

    it('a timed canary pause longer than the deadline does not count', () => {
      const sim = canaryAt25({ steps: [{ setWeight: 25 }, { pause: { duration: 900 } }, { setWeight: 50 }] });
      expect(sim.step().requeueAfterMs).toBe(900 * S);

      const d = sim.at(901).step();

      expect(sim.state.phase).toBe('Progressing');
      expect(sim.state.stepIndex).toBe(2);
      expect(d.keep).toEqual([{ template: CANARY, replicas: 2 }]);
    });

    it('a BlueGreen waiting out autoPromotionSeconds and scaleDownDelaySeconds longer than the deadline is not stalled', () => {
      const sim = new Sim(spec({ strategy: 'BlueGreen', autoPromotionSeconds: 700, scaleDownDelaySeconds: 700 }));
      sim.apply(sim.step());
      sim.at(1).step();

      let d = sim.at(701).step();
      expect(d.events.map((e) => e.type)).toEqual(['rollout.promoted']);
      sim.apply(d);

      d = sim.at(1401).step();
      expect(d.events.map((e) => e.type)).toEqual(['rollout.completed']);
    });
  });

  describe('command → next step', () => {
    it('abort puts all traffic back on stable on the next step', () => {
      const sim = canaryAt25();

      expect(sim.at(3).cmd('abort')).toBe('aborted: all traffic back to v1');
      const d = sim.step();

      expect(d).toMatchObject({
        target: { template: STABLE, replicas: 3 },
        keep: [],
        weights: { v1: 100 },
        degraded: { status: 'True', reason: 'RolloutAborted', message: 'aborted by request (POST /rollout/abort)' },
      });
    });
  });
});

describe(command.name, () => {
  const sut = command;
  const NOW = T0 + 500 * S;

  function state(overrides: Partial<RolloutState> = {}): RolloutState {
    return {
      ...startRollout(undefined, spec({ strategy: overrides.strategy ?? 'Canary' }), CANARY, [pod(STABLE, 'a')], T0),
      stepIndex: 3,
      weight: 50,
      analysis: { lastAt: T0 + 100 * S, failures: 2, ejections: 4, runs: [] },
      ...overrides,
    };
  }

  it('refuses without a rollout', () => {
    expect(sut(undefined, 'promote', NOW)).toEqual({ error: 'no rollout has run for this service yet' });
  });

  it.each<{ strategy?: RolloutState['strategy']; phase: RolloutState['phase']; pauseReason?: RolloutState['pauseReason']; cmd: RolloutCommand; error: string }>([
    { phase: 'Completed', cmd: 'promote', error: 'the rollout is Completed; nothing to promote' },
    { phase: 'Aborted', cmd: 'promote', error: 'the rollout is Aborted; nothing to promote' },
    { phase: 'Completed', cmd: 'promoteFull', error: 'the rollout is Completed; nothing to promote' },
    { strategy: 'Rolling', phase: 'Progressing', cmd: 'promote', error: 'Rolling updates have no steps to promote; use pause/resume' },
    { phase: 'Completed', cmd: 'abort', error: 'the rollout is Completed; nothing to abort' },
    { phase: 'Aborted', cmd: 'abort', error: 'the rollout is Aborted; nothing to abort' },
    { phase: 'Progressing', cmd: 'retry', error: 'only an aborted rollout can be retried (it is Progressing)' },
    { phase: 'Paused', pauseReason: 'Step', cmd: 'retry', error: 'only an aborted rollout can be retried (it is Paused)' },
    { phase: 'Completed', cmd: 'retry', error: 'only an aborted rollout can be retried (it is Completed)' },
    { phase: 'Completed', cmd: 'pause', error: 'the rollout is Completed; nothing to pause' },
    { phase: 'Aborted', cmd: 'pause', error: 'the rollout is Aborted; nothing to pause' },
    { phase: 'Progressing', cmd: 'resume', error: 'the rollout is Progressing, not paused' },
    { phase: 'Aborted', cmd: 'resume', error: 'the rollout is Aborted, not paused' },
  ])('$cmd on $phase → "$error"', ({ strategy, phase, pauseReason, cmd, error }) => {
    expect(sut(state({ strategy: strategy ?? 'Canary', phase, pauseReason }), cmd, NOW)).toEqual({ error });
  });

  it.each<{ name: string; from: Partial<RolloutState>; cmd: RolloutCommand; message: string; want: Partial<RolloutState> }>([
    {
      name: 'promote on a Canary step pause moves one step on',
      from: { phase: 'Paused', pauseReason: 'Step' },
      cmd: 'promote',
      message: 'moving to step 5',
      want: { phase: 'Progressing', pauseReason: undefined, stepIndex: 4, stepStartedAt: NOW, lastProgressAt: NOW },
    },
    {
      name: 'promoteFull on a Canary skips all steps',
      from: { phase: 'Progressing' },
      cmd: 'promoteFull',
      message: 'promoting v2 fully',
      want: { phase: 'Progressing', fullPromote: true, stepIndex: 3, stepStartedAt: NOW, lastProgressAt: NOW },
    },
    {
      name: 'promote on a BlueGreen awaiting promotion switches fully',
      from: { strategy: 'BlueGreen', phase: 'Paused', pauseReason: 'AwaitingPromotion' },
      cmd: 'promote',
      message: 'promoting v2 fully',
      want: { phase: 'Progressing', pauseReason: undefined, fullPromote: true, stepStartedAt: NOW, lastProgressAt: NOW },
    },
    {
      name: 'abort on Progressing',
      from: { phase: 'Progressing' },
      cmd: 'abort',
      message: 'aborted: all traffic back to v1',
      want: { phase: 'Aborted', weight: 0, abort: { at: NOW, reason: 'AbortedByUser', message: 'aborted by request (POST /rollout/abort)' } },
    },
    {
      name: 'abort on Paused',
      from: { phase: 'Paused', pauseReason: 'Step' },
      cmd: 'abort',
      message: 'aborted: all traffic back to v1',
      want: { phase: 'Aborted', pauseReason: undefined, weight: 0, abort: { at: NOW, reason: 'AbortedByUser', message: 'aborted by request (POST /rollout/abort)' } },
    },
    {
      name: 'pause on Progressing',
      from: { phase: 'Progressing' },
      cmd: 'pause',
      message: 'paused',
      want: { phase: 'Paused', pauseReason: 'Manual', stepIndex: 3 },
    },
    {
      name: 'resume from a Step pause moves past the pause',
      from: { phase: 'Paused', pauseReason: 'Step' },
      cmd: 'resume',
      message: 'resumed',
      want: { phase: 'Progressing', pauseReason: undefined, stepIndex: 4, stepStartedAt: NOW, lastProgressAt: NOW },
    },
    {
      name: 'resume from a manual pause stays on the step',
      from: { phase: 'Paused', pauseReason: 'Manual' },
      cmd: 'resume',
      message: 'resumed',
      want: { phase: 'Progressing', pauseReason: undefined, stepIndex: 3, stepStartedAt: NOW, lastProgressAt: NOW },
    },
    {
      name: 'retry from Aborted starts from the first step with no failures',
      from: { phase: 'Aborted', pauseReason: 'Manual', fullPromote: true, promotedAt: T0, previewReadyAt: T0, deadlineExceeded: true, progressMark: 2, abort: { at: T0, reason: 'AnalysisFailed', message: 'x' } },
      cmd: 'retry',
      message: 'retrying the rollout of v2 from the first step',
      want: {
        phase: 'Progressing',
        pauseReason: undefined,
        abort: undefined,
        stepIndex: 0,
        weight: 0,
        fullPromote: undefined,
        promotedAt: undefined,
        previewReadyAt: undefined,
        deadlineExceeded: undefined,
        progressMark: 0,
        startedAt: NOW,
        stepStartedAt: NOW,
        lastProgressAt: NOW,
        analysis: { lastAt: NOW, failures: 0, ejections: 4, runs: [] },
      },
    },
  ])('$name', ({ from, cmd, message, want }) => {
    const before = deepFreeze(state(from));

    const result = sut(before, cmd, NOW);

    expect(result).toEqual({ state: { ...before, ...want }, message });
  });
});
