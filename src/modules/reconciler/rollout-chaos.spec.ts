import { podFixture, specFixture } from '../../../test/utils/fixtures.js';
import type { Pod } from '../runtime/pod.types.js';
import type { AnalysisSpec, CanaryStep, ServiceSpec } from '../specs/spec.types.js';
import {
  CHAOS_START_TIMEOUT_MS,
  chaosFailed,
  chaosLost,
  chaosStarted,
  command,
  describeChaos,
  rolloutChaosKept,
  startRollout,
  stepRollout,
  type RolloutDecision,
  type RolloutState,
  type TemplateRef,
  type WindowNumbers,
} from './rollout.js';

const T0 = 1_000_000;
const S = 1000;
const STABLE: TemplateRef = { revision: 1, templateHash: 'h1', version: 'v1' };
const CANARY: TemplateRef = { revision: 2, templateHash: 'h2', version: 'v2' };
const LIVENESS = { httpGet: { path: '/health/live' }, initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 };

function spec(chaos: CanaryStep, overrides: Partial<ServiceSpec> = {}, analysis?: AnalysisSpec): ServiceSpec {
  // 4 replicas at 50 %: a canary of 2 pods, so "1/2 Ready" can be told from "0/1".
  return specFixture({ replicas: 4, image: 'local://demo@v2', ...overrides }, { strategy: 'Canary', steps: [{ setWeight: 50 }, chaos, { setWeight: 100 }], analysis });
}

function pod(t: TemplateRef, id: string, at: number, overrides: Partial<Pod> = {}): Pod {
  return podFixture({ createdAt: at, readySince: at }, { id, revision: t.revision, templateHash: t.templateHash, version: t.version, ...overrides });
}

/** A fake runtime around the pure machine, on a fake clock; `wire` is the reconciler's part (JSON: what SQLite keeps). */
class Sim {
  now = T0;
  pods: Pod[] = Array.from({ length: 4 }, (_, i) => pod(STABLE, `v1-${i}`, T0 - 100 * S));
  state: RolloutState;
  window: WindowNumbers = { requests: 0, errors5xx: 0, errorRate: 0, p99Ms: 0 };
  private seq = 0;

  constructor(readonly spec: ServiceSpec) {
    this.state = startRollout(undefined, spec, CANARY, this.pods, T0);
  }

  at(seconds: number): this {
    this.now = T0 + seconds * S;
    return this;
  }

  step(): RolloutDecision {
    const d = stepRollout(this.state, { spec: this.spec, replicas: 4, current: CANARY, pods: this.pods, now: this.now, window: () => this.window, ejections: () => 0 });
    this.state = d.state;
    return d;
  }

  /** The runtime converges on the decision: missing canary pods start (Ready at once unless told). */
  converge(d: RolloutDecision, ready = true): this {
    const want = d.keep.find((k) => k.template.templateHash === CANARY.templateHash)?.replicas ?? (d.target.template.templateHash === CANARY.templateHash ? d.target.replicas : 0);
    const have = this.pods.filter((p) => p.templateHash === CANARY.templateHash).length;
    for (let i = have; i < want; i++) this.pods.push(pod(CANARY, `v2-${this.seq++}`, this.now, ready ? {} : { ready: false, phase: 'Running', readySince: undefined }));
    return this;
  }

  /** What the reconciler does with d.chaos: the port hits the oldest canary pods, and the answer is recorded. */
  carryOut(d: RolloutDecision, hit: (p: Pod) => void): string[] {
    const a = d.chaos!;
    const count = a.kind === 'faults' ? 0 : a.count;
    const victims = this.pods.filter((p) => p.templateHash === CANARY.templateHash && p.ready).slice(0, count);
    const recorded = victims.map((p) => ({ id: p.id, restarts: p.restarts }));
    for (const p of victims) hit(p);
    const r = chaosStarted(this.state, a, recorded, this.now);
    this.state = r!.state;
    return victims.map((p) => p.id);
  }

  kill(id: string): void {
    this.pods = this.pods.filter((p) => p.id !== id);
  }

  /** Grid restarted: only what was persisted survives, then bootstrap's chaosLost. */
  restart(): void {
    this.state = chaosLost(JSON.parse(JSON.stringify(this.state)) as RolloutState);
  }
}

/** A Canary at its chaos step (step 2): weight 50, two Ready canary pods, the experiment asked for. */
function atChaosStep(chaos: CanaryStep, overrides: Partial<ServiceSpec> = {}, analysis?: AnalysisSpec): { sim: Sim; d: RolloutDecision } {
  const sim = new Sim(spec(chaos, overrides, analysis));
  sim.converge(sim.step());
  const d = sim.at(1).step();
  expect(sim.state.weight).toBe(50);
  return { sim, d };
}

const chaosEvents = (d: RolloutDecision) => d.events.filter((e) => e.type === 'rollout.chaos').map((e) => `${e.reason}: ${e.message}`);

describe('Canary chaos step', () => {
  it('asks for the experiment on the canary version only, once the canary is at its size', () => {
    const sim = new Sim(spec({ chaos: { kill: 1, recoverWithin: 60 } }));
    sim.converge(sim.step(), false);
    const waiting = sim.at(1).step();
    expect(waiting.chaos).toBeUndefined();

    for (const p of sim.pods) Object.assign(p, { ready: true, phase: 'Ready', readySince: sim.now });
    const d = sim.at(2).step();

    expect(d.chaos).toEqual({ kind: 'kill', step: 1, version: 'v2', count: 1 });
    expect(sim.state.chaos).toEqual({ step: 1, kind: 'kill', requestedAt: T0 + 2 * S });
    expect(d.weights).toEqual({ v1: 50, v2: 50 });
    expect(sim.step().chaos).toBeUndefined();
  });

  describe.each([
    {
      name: 'kill, replaced in time',
      chaos: { chaos: { kill: 1, recoverWithin: 60 } } as CanaryStep,
      overrides: {},
      hit: (sim: Sim, p: Pod) => sim.kill(p.id),
      recover: (sim: Sim, d: RolloutDecision) => sim.converge(d),
      passed: /^ChaosStepPassed: canary pod v2-0 killed at step 2 was replaced by a Ready pod in 5 s \(2\/2 Ready\)$/,
      failed: 'ChaosNotRecovered: canary pod v2-0 killed at step 2 was not replaced by a Ready pod within 60 s (1/2 Ready)',
    },
    {
      name: 'pause, restarted by its liveness probe',
      chaos: { chaos: { pause: 1, seconds: 10, recoverWithin: 60 } } as CanaryStep,
      overrides: { livenessProbe: LIVENESS },
      hit: (_sim: Sim, p: Pod) => Object.assign(p, { ready: false, phase: 'Running', readySince: undefined }),
      recover: (sim: Sim) => Object.assign(sim.pods.find((p) => p.id === 'v2-0')!, { restarts: 1, ready: true, phase: 'Ready', readySince: sim.now }),
      passed: /^ChaosStepPassed: canary pod v2-0 paused 10 s at step 2 was restarted by its liveness probe and Ready again in 5 s \(2\/2 Ready\)$/,
      failed: 'ChaosNotRecovered: canary pod v2-0 paused 10 s at step 2 was not restarted by its liveness probe and Ready within 60 s (1/2 Ready)',
    },
  ])('$name', ({ chaos, overrides, hit, recover, passed, failed }) => {
    it('passes once the canary recovered, and goes on to the next step', () => {
      const { sim, d } = atChaosStep(chaos, overrides);
      expect(sim.carryOut(d, (p) => hit(sim, p))).toEqual(['v2-0']);
      const held = sim.at(3).step();
      expect(held.state.stepIndex).toBe(1);
      expect(held.requeueAfterMs).toBe(58 * S);
      expect(describeChaos(sim.state, sim.spec, sim.pods, 4, sim.now)).toMatchObject({ step: 2, phase: 'Running', pods: ['v2-0'], secondsLeft: 58, waitingFor: expect.stringContaining('(1/2 Ready)') });

      recover(sim, held);
      const done = sim.at(6).step();

      expect(chaosEvents(done)).toEqual([expect.stringMatching(passed)]);
      expect(done.state.stepIndex).toBe(2);
      expect(done.state.chaos).toBeUndefined();
      expect(done.keep).toEqual([{ template: CANARY, replicas: 4 }]);
    });

    it('aborts with the numbers when the canary did not recover within recoverWithin', () => {
      const { sim, d } = atChaosStep(chaos, overrides);
      sim.carryOut(d, (p) => hit(sim, p));
      sim.converge(sim.at(2).step(), false);
      expect(sim.at(60.9).step().state.phase).toBe('Progressing');

      const aborted = sim.at(61).step();

      expect(chaosEvents(aborted)).toEqual([failed]);
      expect(aborted.state.phase).toBe('Aborted');
      expect(aborted.state.abort).toEqual({ at: T0 + 61 * S, reason: 'ChaosNotRecovered', message: failed.replace('ChaosNotRecovered: ', '') });
      expect(aborted.weights).toEqual({ v1: 100 });
    });

    it('resumes after a Grid restart mid-step with the same clock, and passes', () => {
      const { sim, d } = atChaosStep(chaos, overrides);
      sim.carryOut(d, (p) => hit(sim, p));
      sim.at(30).restart();
      const held = sim.step();
      expect(held.chaos).toBeUndefined();
      expect(held.requeueAfterMs).toBe(31 * S);

      recover(sim, held);

      expect(chaosEvents(sim.at(31).step())).toEqual([expect.stringContaining('ChaosStepPassed')]);
    });

    it('resumes after a Grid restart mid-step with the same deadline, and aborts', () => {
      const { sim, d } = atChaosStep(chaos, overrides);
      sim.carryOut(d, (p) => hit(sim, p));
      sim.at(30).restart();
      expect(sim.step().state.phase).toBe('Progressing');

      expect(sim.at(61).step().state.abort?.reason).toBe('ChaosNotRecovered');
    });
  });

  it('aborts at once a pause on a canary with no liveness probe: nothing would ever restart it', () => {
    const { sim, d } = atChaosStep({ chaos: { pause: 1, seconds: 10, recoverWithin: 60 } });
    sim.carryOut(d, (p) => Object.assign(p, { ready: false }));

    const aborted = sim.step();

    expect(aborted.state.abort?.message).toBe('canary pod v2-0 paused 10 s was not restarted: no liveness probe');
    expect(aborted.state.phase).toBe('Aborted');
  });

  it('faults: holds for their duration, then passes', () => {
    const { sim, d } = atChaosStep({ chaos: { faults: { delayMs: 200, delayPercent: 50, abortPercent: 0, abortStatus: 503 }, duration: 30 } });
    expect(d.chaos).toEqual({ kind: 'faults', step: 1, version: 'v2', faults: { delayMs: 200, delayPercent: 50, abortPercent: 0, abortStatus: 503 }, seconds: 30 });
    sim.carryOut(d, () => undefined);
    expect(sim.at(30.9).step().state.stepIndex).toBe(1);

    const done = sim.at(31).step();

    expect(chaosEvents(done)).toEqual(['ChaosStepPassed: canary v2 went through 30 s of injected faults at step 2 within its analysis thresholds']);
    expect(done.state.stepIndex).toBe(2);
  });

  it('faults: analysis keeps running, and a failed analysis aborts as without chaos', () => {
    const analysis: AnalysisSpec = { intervalSeconds: 10, minRequests: 20, maxErrorRate: 0.05, maxP99LatencyMs: 500, failureLimit: 0 };
    const { sim, d } = atChaosStep({ chaos: { faults: { delayMs: 0, delayPercent: 0, abortPercent: 50, abortStatus: 503 }, duration: 30 } }, {}, analysis);
    sim.carryOut(d, () => undefined);
    sim.window = { requests: 100, errors5xx: 20, errorRate: 0.2, p99Ms: 10 };

    const aborted = sim.at(12).step();

    expect(aborted.state.abort?.reason).toBe('AnalysisFailed');
  });

  it('a restart between asking and the answer asks again: the rehearsal is repeated, never skipped', () => {
    const { sim, d } = atChaosStep({ chaos: { kill: 1, recoverWithin: 60 } });
    expect(d.chaos).toBeDefined();
    sim.at(5).restart();

    const again = sim.step();

    expect(again.chaos).toEqual({ kind: 'kill', step: 1, version: 'v2', count: 1 });
    expect(sim.state.chaos?.requestedAt).toBe(T0 + 5 * S);
  });

  it('aborts when the port fails, with its reason', () => {
    const { sim, d } = atChaosStep({ chaos: { kill: 1, recoverWithin: 60 } });
    sim.state = chaosFailed(sim.state, d.chaos!, 'chaos.kill: asks for 1 Ready v2 pods of api, 0 are Ready')!;

    expect(sim.step().state.abort?.message).toBe('chaos kill at step 2 could not be carried out: chaos.kill: asks for 1 Ready v2 pods of api, 0 are Ready');
  });

  it(`aborts when the port never answers within ${CHAOS_START_TIMEOUT_MS / 1000} s`, () => {
    const { sim } = atChaosStep({ chaos: { kill: 1, recoverWithin: 60 } });
    expect(sim.at(30.9).step().state.phase).toBe('Progressing');

    expect(sim.at(31).step().state.abort?.message).toBe('chaos kill at step 2 could not be carried out: no answer within 30 s');
  });

  it('aborts a step that asks for more pods than the canary has (checked when it runs, not at apply)', () => {
    const sim = new Sim(spec({ chaos: { kill: 3, recoverWithin: 60 } }));
    sim.converge(sim.step());
    const d = sim.at(1).step();

    expect(d.chaos).toBeUndefined();
    expect(sim.state.abort?.message).toBe('chaos kill 3 at step 2: the canary v2 has only 2 pods at weight 50%');
  });

  it('ignores an answer for a step the operator promoted past', () => {
    const { sim, d } = atChaosStep({ chaos: { kill: 1, recoverWithin: 60 } });
    const r = command(sim.state, 'promote', sim.now);
    if ('error' in r) throw new Error(r.error);
    sim.state = r.state;

    expect(chaosStarted(sim.state, d.chaos!, [{ id: 'v2-0', restarts: 0 }], sim.now)).toBeUndefined();
    expect(sim.step().state.chaos).toBeUndefined();
  });

  it('holds without tripping the progress deadline (the step has its own bound)', () => {
    const { sim, d } = atChaosStep({ chaos: { kill: 1, recoverWithin: 3600 } }, {});
    sim.carryOut(d, (p) => sim.kill(p.id));

    expect(sim.at(601 + 1).step().state.phase).toBe('Progressing');
  });

  describe(rolloutChaosKept.name, () => {
    const kept = (f: (sim: Sim) => RolloutState | undefined) => {
      const { sim, d } = atChaosStep({ chaos: { faults: { delayMs: 0, delayPercent: 0, abortPercent: 50, abortStatus: 503 }, duration: 30 } });
      sim.carryOut(d, () => undefined);
      return rolloutChaosKept(f(sim));
    };
    const cmd = (sim: Sim, c: 'abort' | 'promote' | 'promoteFull' | 'pause') => {
      const r = command(sim.state, c, sim.now);
      if ('error' in r) throw new Error(r.error);
      return r.state;
    };
    const PAST = 'the rollout of v2 is past the chaos step that started it';
    it.each([
      { name: 'while its step runs', f: (sim: Sim) => sim.at(10).step().state, want: { version: 'v2', since: T0 + S, why: PAST } },
      { name: 'while asked for but not answered yet', f: () => atChaosStep({ chaos: { kill: 1, recoverWithin: 60 } }).sim.state, want: { version: 'v2', since: T0 + S, why: PAST } },
      { name: 'paused by an operator on the step', f: (sim: Sim) => cmd(sim, 'pause'), want: { version: 'v2', since: T0 + S, why: PAST } },
      { name: 'the step passed', f: (sim: Sim) => sim.at(31).step().state, want: { why: 'the rollout of v2 is past the chaos step that started it' } },
      { name: 'promoted past the step', f: (sim: Sim) => cmd(sim, 'promote'), want: { why: 'the rollout of v2 is past the chaos step that started it' } },
      { name: 'promoted fully', f: (sim: Sim) => ((sim.state = cmd(sim, 'promoteFull')), sim.step().state), want: { why: 'the rollout of v2 is past the chaos step that started it' } },
      { name: 'aborted by an operator', f: (sim: Sim) => cmd(sim, 'abort'), want: { why: 'the rollout of v2 was aborted' } },
      { name: 'aborted by analysis', f: (sim: Sim) => ({ ...sim.state, phase: 'Aborted' as const }), want: { why: 'the rollout of v2 was aborted' } },
      { name: 'completed', f: (sim: Sim) => ({ ...sim.state, phase: 'Completed' as const }), want: { why: 'the rollout of v2 completed' } },
      { name: 'the port failed', f: (sim: Sim) => ({ ...sim.state, chaos: { ...sim.state.chaos!, error: 'x' } }), want: { why: 'the rollout of v2 is past the chaos step that started it' } },
      { name: 'the service deleted', f: () => undefined, want: { why: 'the service was deleted' } },
    ])('keeps the rollout\'s experiments only on its chaos step: $name', ({ f, want }) => {
      expect(kept(f)).toEqual(want);
    });
  });
});
