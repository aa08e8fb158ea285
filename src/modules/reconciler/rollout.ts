// Rollout strategies as one pure state machine (Rolling, BlueGreen, Canary), in the
// manner of Argo Rollouts but fed by the gateway's own per-version numbers. No I/O:
// the reconciler passes pods, stats and `now`, and applies what comes back.
import type { AnalysisSpec, ChaosFaults, ChaosStep, ServiceSpec } from '../specs/spec.types.js';
import type { Pod } from '../runtime/pod.types.js';
import { isAvailable } from './plan.js';

export interface TemplateRef {
  revision: number;
  templateHash: string;
  version: string;
}

export type RolloutPhase = 'Progressing' | 'Paused' | 'Aborted' | 'Completed';

export interface AnalysisRun {
  at: number;
  version: string;
  requests: number;
  errorRate: number;
  p99Ms: number;
  result: 'Successful' | 'Failed' | 'Inconclusive';
  message: string;
}

/**
 * A Canary chaos step in progress, persisted with the rollout so a Grid restart resumes it: asked for
 * (requestedAt), then in effect (startedAt, with the pods it hit and their restart counts then).
 */
export interface ChaosStepState {
  /** The stepIndex of the chaos step this belongs to. */
  step: number;
  kind: 'kill' | 'pause' | 'faults';
  requestedAt: number;
  /** When the experiment took effect: the recovery (or duration) clock starts here. */
  startedAt?: number;
  pods?: { id: string; restarts: number }[];
  /** Why the experiment could not be carried out. */
  error?: string;
}

/** What the machine asks the reconciler to do on the canary version only; `step` ties the answer back to the step. */
export type ChaosAction =
  | { kind: 'kill'; step: number; version: string; count: number }
  | { kind: 'pause'; step: number; version: string; count: number; seconds: number }
  | { kind: 'faults'; step: number; version: string; faults: ChaosFaults; seconds: number };

/** How the reconciler carries out a ChaosAction (ChaosService underneath); each answers the pods it hit. */
export interface ChaosPort {
  kill(version: string, count: number): Promise<string[]>;
  pause(version: string, count: number, seconds: number): Promise<string[]>;
  faults(version: string, f: ChaosFaults, seconds: number): Promise<void>;
}

export async function runChaos(port: ChaosPort, a: ChaosAction): Promise<string[]> {
  if (a.kind === 'kill') return port.kill(a.version, a.count);
  if (a.kind === 'pause') return port.pause(a.version, a.count, a.seconds);
  await port.faults(a.version, a.faults, a.seconds);
  return [];
}

/** The port must answer within this; an answer lost (a restart in between) is asked again, see chaosLost. */
export const CHAOS_START_TIMEOUT_MS = 30_000;

export interface RolloutState {
  strategy: ServiceSpec['rollout']['strategy'];
  /** What served traffic before this rollout; traffic returns here on abort. */
  stable: TemplateRef;
  /** The revision being rolled out (equal to stable once completed). */
  canary: TemplateRef;
  phase: RolloutPhase;
  pauseReason?: 'Step' | 'Manual' | 'AwaitingPromotion';
  stepIndex: number;
  /** Exact share of traffic for the canary (Canary), or 0/100 for BlueGreen's active switch. */
  weight: number;
  stepStartedAt: number;
  startedAt: number;
  lastProgressAt: number;
  /** Progress marker: available canary pods at the last check. */
  progressMark: number;
  previewReadyAt?: number;
  promotedAt?: number;
  /** Set by promote?full=true: skip the remaining steps. */
  fullPromote?: boolean;
  analysis: { lastAt: number; failures: number; ejections: number; runs: AnalysisRun[] };
  abort?: { at: number; reason: string; message: string };
  deadlineExceeded?: boolean;
  completedAt?: number;
  chaos?: ChaosStepState;
}

export interface WindowNumbers {
  requests: number;
  errors5xx: number;
  errorRate: number;
  p99Ms: number;
}

export interface RolloutInput {
  spec: ServiceSpec;
  replicas: number;
  current: TemplateRef;
  pods: Pod[];
  now: number;
  /** Gateway numbers of one version since a time. */
  window: (version: string, sinceMs: number) => WindowNumbers;
  /** How many times pods of this version were passively ejected so far. */
  ejections: (version: string) => number;
}

export interface PodSet {
  template: TemplateRef;
  replicas: number;
}

export interface RolloutEvent {
  type: string;
  reason: string;
  message: string;
  explain: string;
}

export interface RolloutDecision {
  state: RolloutState;
  /** The set the rolling algorithm converges to; pods of other templates (not in keep) are removed within maxSurge/maxUnavailable. */
  target: PodSet;
  /** Extra sets held at an exact size beside the target (the canary, or blue/green's other colour). */
  keep: PodSet[];
  /** Hold the rolling steps (a paused Rolling update). */
  hold: boolean;
  /** Traffic weights by version; undefined = proportional to Ready pods. */
  weights?: Record<string, number>;
  /** Version reachable at <service>--preview. */
  preview?: string;
  events: RolloutEvent[];
  /** When the reconciler should come back (pause or analysis interval). */
  requeueAfterMs?: number;
  progressing?: { status: 'True' | 'False'; reason: string; message: string };
  degraded?: { status: 'True' | 'False'; reason: string; message: string };
  /** Start this experiment now (the state already records that it was asked for). */
  chaos?: ChaosAction;
}

const HISTORY = 20;

function pct(x: number): string {
  return `${Math.round(x * 1000) / 10}%`;
}

export function canaryReplicas(replicas: number, weight: number): number {
  if (replicas <= 0) return 0;
  if (weight <= 0) return 1;
  return Math.max(1, Math.min(replicas, Math.ceil((replicas * weight) / 100)));
}

/** A new template was applied: start (or restart) a rollout from what runs now. */
export function startRollout(prev: RolloutState | undefined, spec: ServiceSpec, current: TemplateRef, pods: Pod[], now: number): RolloutState {
  let stable: TemplateRef;
  if (prev && prev.phase !== 'Completed' && prev.stable.templateHash !== current.templateHash) stable = prev.stable;
  else if (prev) stable = prev.phase === 'Completed' ? prev.canary : prev.stable;
  else stable = dominantTemplate(pods) ?? current;
  const base: RolloutState = {
    strategy: spec.rollout.strategy,
    stable,
    canary: current,
    phase: 'Progressing',
    stepIndex: 0,
    weight: 0,
    stepStartedAt: now,
    startedAt: now,
    lastProgressAt: now,
    progressMark: 0,
    // -1: take the gateway's running ejection count as the baseline on the first analysis, so older ejections are not blamed on this rollout.
    analysis: { lastAt: now, failures: 0, ejections: -1, runs: [] },
  };
  // Nothing to roll from (first apply), or the new template is what already runs (a revert): done at once.
  if (stable.templateHash === current.templateHash) return { ...base, stable: current, phase: 'Completed', weight: 100, completedAt: now };
  return base;
}

function dominantTemplate(pods: Pod[]): TemplateRef | undefined {
  const counts = new Map<string, { ref: TemplateRef; n: number }>();
  for (const p of pods) {
    if (p.phase === 'Terminating') continue;
    const c = counts.get(p.templateHash) ?? { ref: { revision: p.revision, templateHash: p.templateHash, version: p.version }, n: 0 };
    c.n += p.ready ? 2 : 1;
    counts.set(p.templateHash, c);
  }
  let best: { ref: TemplateRef; n: number } | undefined;
  for (const c of counts.values()) if (!best || c.n > best.n) best = c;
  return best?.ref;
}

function availableOf(pods: Pod[], t: TemplateRef, minReady: number, now: number): number {
  let n = 0;
  for (const p of pods) if (p.templateHash === t.templateHash && p.phase !== 'Terminating' && isAvailable(p, minReady, now)) n++;
  return n;
}

function settled(state: RolloutState, target: TemplateRef, replicas: number): PodSet {
  return { template: target, replicas };
}

/** One reconcile's worth of rollout: decide sets, weights, and maybe move one step. */
export function stepRollout(state: RolloutState, input: RolloutInput): RolloutDecision {
  const { spec, replicas, now } = input;
  // The steady state of every service: nothing to decide, and the same object back tells the caller nothing changed.
  if (state.phase === 'Completed') return { state, target: { template: state.canary, replicas }, keep: [], hold: false, events: [] };
  const s: RolloutState = { ...state, analysis: { ...state.analysis, runs: [...state.analysis.runs] } };
  const events: RolloutEvent[] = [];
  const d: RolloutDecision = { state: s, target: settled(s, s.canary, replicas), keep: [], hold: false, events };
  const minReady = spec.rollout.minReadySeconds;
  const canaryAvail = availableOf(input.pods, s.canary, minReady, now);
  if (s.analysis.ejections < 0) s.analysis.ejections = input.ejections(s.canary.version);
  const wake = (ms: number) => {
    const v = Math.max(1, ms);
    d.requeueAfterMs = d.requeueAfterMs === undefined ? v : Math.min(d.requeueAfterMs, v);
  };

  if (s.phase === 'Aborted') {
    d.target = { template: s.stable, replicas };
    d.weights = { [s.stable.version]: 100 };
    d.degraded = { status: 'True', reason: 'RolloutAborted', message: s.abort?.message ?? 'rollout aborted' };
    d.progressing = { status: 'False', reason: 'RolloutAborted', message: `revision ${s.canary.revision} (${s.canary.version}) was aborted; ${s.stable.version} serves all traffic. Retry, undo, or apply a new spec.` };
    return d;
  }

  // Progress deadline: time without any new available canary pod or step, while not paused.
  if (canaryAvail > s.progressMark) {
    s.progressMark = canaryAvail;
    s.lastProgressAt = now;
    s.deadlineExceeded = undefined;
  }
  // Paused, or waiting out a timer (a timed pause step; BlueGreen's autoPromotionSeconds/scaleDownDelaySeconds with green fully up), is not a stall.
  const steps = spec.rollout.steps;
  const timedWait =
    // A chaos step is bounded by its own recoverWithin / duration.
    (s.strategy === 'Canary' && !s.fullPromote && s.stepIndex < steps.length && ('pause' in steps[s.stepIndex] || 'chaos' in steps[s.stepIndex])) ||
    (s.strategy === 'BlueGreen' && s.previewReadyAt !== undefined && canaryAvail >= replicas);
  if (s.phase === 'Paused' || timedWait) s.lastProgressAt = now;
  const deadlineMs = spec.rollout.progressDeadlineSeconds * 1000;
  if (s.phase === 'Progressing' && now - s.lastProgressAt > deadlineMs) {
    const msg = `no progress for ${spec.rollout.progressDeadlineSeconds}s: ${canaryAvail} of the wanted pods of revision ${s.canary.revision} (${s.canary.version}) became available`;
    if (spec.rollout.progressDeadlineAbort) return abortNow(s, input, 'ProgressDeadlineExceeded', msg, d);
    if (!s.deadlineExceeded) {
      s.deadlineExceeded = true;
      events.push({ type: 'rollout.stalled', reason: 'ProgressDeadlineExceeded', message: msg, explain: `The rollout of ${s.canary.version} made no progress within its deadline; it is left running because progressDeadlineAbort is false` });
    }
    d.progressing = { status: 'False', reason: 'ProgressDeadlineExceeded', message: msg };
  }

  // Automatic analysis of whichever new version is taking traffic.
  const analysis = spec.rollout.analysis;
  const underTest = s.strategy === 'Canary' ? s.weight > 0 : s.strategy === 'BlueGreen' ? s.promotedAt !== undefined : canaryAvail > 0;
  if (analysis && underTest) {
    const verdict = analyse(s, analysis, input);
    if (verdict) return abortNow(s, input, 'AnalysisFailed', verdict, d);
    wake(s.analysis.lastAt + analysis.intervalSeconds * 1000 - now);
  }

  if (s.strategy === 'Rolling') return rolling(s, input, d, canaryAvail);
  if (s.strategy === 'BlueGreen') return blueGreen(s, input, d, canaryAvail, wake);
  return canary(s, input, d, canaryAvail, wake);
}

function analyse(s: RolloutState, a: AnalysisSpec, input: RolloutInput): string | undefined {
  const { now } = input;
  const ej = input.ejections(s.canary.version);
  if (ej > s.analysis.ejections) {
    const n = ej - s.analysis.ejections;
    s.analysis.ejections = ej;
    s.analysis.failures += n;
    s.analysis.runs.push({ at: now, version: s.canary.version, requests: 0, errorRate: 0, p99Ms: 0, result: 'Failed', message: `the gateway ejected a ${s.canary.version} pod for failing requests` });
  }
  if (now - s.analysis.lastAt >= a.intervalSeconds * 1000) {
    // Windows count whole seconds; start after the second that held the last check so no second counts twice.
    const w = input.window(s.canary.version, (Math.floor(s.analysis.lastAt / 1000) + 1) * 1000);
    let run: AnalysisRun;
    if (w.requests < a.minRequests) {
      run = { at: now, version: s.canary.version, requests: w.requests, errorRate: w.errorRate, p99Ms: w.p99Ms, result: 'Inconclusive', message: `${w.requests} requests < minRequests ${a.minRequests}` };
    } else if (w.errorRate > a.maxErrorRate || w.p99Ms > a.maxP99LatencyMs) {
      const why = w.errorRate > a.maxErrorRate ? `5xx ${pct(w.errorRate)} > ${pct(a.maxErrorRate)}` : `p99 ${w.p99Ms} ms > ${a.maxP99LatencyMs} ms`;
      run = { at: now, version: s.canary.version, requests: w.requests, errorRate: w.errorRate, p99Ms: w.p99Ms, result: 'Failed', message: why };
      s.analysis.failures++;
    } else {
      run = { at: now, version: s.canary.version, requests: w.requests, errorRate: w.errorRate, p99Ms: w.p99Ms, result: 'Successful', message: `5xx ${pct(w.errorRate)}, p99 ${w.p99Ms} ms over ${w.requests} requests` };
    }
    s.analysis.runs.push(run);
    s.analysis.lastAt = now;
  }
  if (s.analysis.runs.length > HISTORY) s.analysis.runs.splice(0, s.analysis.runs.length - HISTORY);
  if (s.analysis.failures > a.failureLimit) {
    const failed = s.analysis.runs.filter((r) => r.result === 'Failed');
    const requests = failed.reduce((n, r) => n + r.requests, 0);
    const errors = failed.reduce((n, r) => n + r.errorRate * r.requests, 0);
    const rate = requests > 0 ? errors / requests : 0;
    const last = failed[failed.length - 1];
    const who = `${s.strategy === 'Canary' ? 'canary' : 'new version'} ${s.canary.version}`;
    if (requests === 0) return `${who} failed analysis ${s.analysis.failures} times (failureLimit ${a.failureLimit}): ${last?.message ?? 'failures'}`;
    const what = rate > a.maxErrorRate ? `5xx ${pct(rate)} > ${pct(a.maxErrorRate)}` : (last?.message ?? 'failures');
    return `${who} ${what} over ${s.analysis.failures} failed intervals (failureLimit ${a.failureLimit}), ${requests} requests`;
  }
  return undefined;
}

function abortNow(s: RolloutState, input: RolloutInput, reason: string, message: string, d: RolloutDecision): RolloutDecision {
  s.phase = 'Aborted';
  s.pauseReason = undefined;
  s.weight = 0;
  s.abort = { at: input.now, reason, message };
  d.events.push({
    type: 'rollout.aborted',
    reason,
    message,
    explain: `Rolled back to ${s.stable.version}: ${message}. All traffic goes to ${s.stable.version} and the ${s.canary.version} pods are removed; retry or apply a new spec to try again`,
  });
  d.target = { template: s.stable, replicas: input.replicas };
  d.keep = [];
  d.weights = { [s.stable.version]: 100 };
  d.preview = undefined;
  d.degraded = { status: 'True', reason: 'RolloutAborted', message };
  d.progressing = { status: 'False', reason, message };
  return d;
}

function complete(s: RolloutState, input: RolloutInput, d: RolloutDecision, how: string): RolloutDecision {
  d.events.push({
    type: 'rollout.completed',
    reason: 'RolloutCompleted',
    message: `revision ${s.canary.revision} (${s.canary.version}) is now stable`,
    explain: `The rollout from ${s.stable.version} to ${s.canary.version} finished: ${how}`,
  });
  s.phase = 'Completed';
  s.completedAt = input.now;
  s.stable = s.canary;
  s.weight = 100;
  s.pauseReason = undefined;
  d.target = { template: s.canary, replicas: input.replicas };
  d.keep = [];
  d.weights = undefined;
  return d;
}

function rolling(s: RolloutState, input: RolloutInput, d: RolloutDecision, canaryAvail: number): RolloutDecision {
  d.target = { template: s.canary, replicas: input.replicas };
  d.hold = s.phase === 'Paused';
  const others = input.pods.some((p) => p.phase !== 'Terminating' && p.templateHash !== s.canary.templateHash);
  if (!others && canaryAvail >= input.replicas) return complete(s, input, d, `all ${input.replicas} pods run the new revision`);
  return d;
}

function blueGreen(s: RolloutState, input: RolloutInput, d: RolloutDecision, previewAvail: number, wake: (ms: number) => void): RolloutDecision {
  const { spec, replicas, now } = input;
  if (s.promotedAt === undefined) {
    // Blue (active) serves everything; green comes up beside it at full size.
    d.target = { template: s.stable, replicas };
    d.keep = [{ template: s.canary, replicas }];
    d.weights = { [s.stable.version]: 100 };
    d.preview = s.canary.version;
    if (previewAvail < replicas) return d;
    if (s.previewReadyAt === undefined) {
      s.previewReadyAt = now;
      d.events.push({ type: 'rollout.previewReady', reason: 'PreviewReady', message: `${replicas} ${s.canary.version} pods are ready at <service>--preview`, explain: `The new version ${s.canary.version} is fully up beside ${s.stable.version} and reachable for testing at /gateway/<service>--preview/ or with X-Grid-Preview: 1` });
    }
    const manual = !spec.rollout.autoPromotionEnabled || s.phase === 'Paused';
    if (manual && !s.fullPromote) {
      s.phase = 'Paused';
      s.pauseReason ??= 'AwaitingPromotion';
      return d;
    }
    const due = s.previewReadyAt + (spec.rollout.autoPromotionSeconds ?? 0) * 1000;
    if (!s.fullPromote && now < due) {
      wake(due - now);
      return d;
    }
    s.promotedAt = now;
    s.phase = 'Progressing';
    s.pauseReason = undefined;
    s.weight = 100;
    s.analysis = { ...s.analysis, lastAt: now };
    d.events.push({ type: 'rollout.promoted', reason: 'Promoted', message: `switched traffic from ${s.stable.version} to ${s.canary.version}`, explain: `All traffic now goes to ${s.canary.version}; ${s.stable.version} stays up for ${spec.rollout.scaleDownDelaySeconds}s so the switch can be undone instantly` });
  }
  // Green is active; blue waits scaleDownDelaySeconds, then goes.
  d.target = { template: s.canary, replicas };
  d.keep = [{ template: s.stable, replicas }];
  d.weights = { [s.canary.version]: 100 };
  d.preview = undefined;
  const downAt = s.promotedAt + spec.rollout.scaleDownDelaySeconds * 1000;
  if (s.phase === 'Paused') return d;
  if (now < downAt) {
    wake(downAt - now);
    return d;
  }
  return complete(s, input, d, `traffic switched to ${s.canary.version} and ${s.stable.version} was scaled down after ${spec.rollout.scaleDownDelaySeconds}s`);
}

function canary(s: RolloutState, input: RolloutInput, d: RolloutDecision, canaryAvail: number, wake: (ms: number) => void): RolloutDecision {
  const { spec, replicas, now } = input;
  const steps = spec.rollout.steps;
  d.target = { template: s.stable, replicas };
  const stableW = (w: number) => ({ [s.stable.version]: 100 - w, [s.canary.version]: w });

  if (s.fullPromote) s.stepIndex = steps.length;
  // Promoted past a chaos step, or its answer came for a step that is over: it no longer holds anything.
  if (s.chaos && s.chaos.step !== s.stepIndex) s.chaos = undefined;
  if (s.phase === 'Paused' && s.pauseReason === 'Manual') {
    if (s.stepIndex < steps.length) d.keep = [{ template: s.canary, replicas: canaryReplicas(replicas, s.weight) }];
    else {
      // Paused during the full promotion: freeze the replacement where it is; never turn back to stable.
      d.target = { template: s.canary, replicas };
      d.hold = true;
    }
    d.weights = stableW(s.weight);
    return d;
  }
  // Walk the steps; each loop iteration either waits (returns) or moves one step on.
  for (let guard = 0; guard <= steps.length + 1; guard++) {
    if (s.stepIndex >= steps.length) {
      // Full promotion: the canary grows to the whole service; traffic moves to 100% only once it is all
      // available (as Argo does), and then the old pods go.
      d.target = { template: s.canary, replicas };
      d.keep = [];
      if (canaryAvail < replicas) {
        // Keep stable at full size until then, so a half-started canary never carries everything.
        d.target = { template: s.stable, replicas };
        d.keep = [{ template: s.canary, replicas }];
        d.weights = stableW(s.weight);
        return d;
      }
      if (s.weight !== 100) {
        d.events.push({ type: 'rollout.weightSet', reason: 'SetWeight', message: `canary ${s.canary.version} weight ${s.weight}% → 100% (full promotion)`, explain: `All ${replicas} pods of ${s.canary.version} are available, so the gateway now sends it all traffic` });
        s.weight = 100;
      }
      d.weights = stableW(100);
      if (input.pods.some((p) => p.phase !== 'Terminating' && p.templateHash !== s.canary.templateHash)) return d;
      return complete(s, input, d, `every step passed and ${replicas} pods of ${s.canary.version} take all traffic`);
    }
    const step = steps[s.stepIndex];
    if ('setWeight' in step) {
      const want = canaryReplicas(replicas, step.setWeight);
      d.keep = [{ template: s.canary, replicas: want }];
      // Traffic moves only once the canary pods for that weight are available.
      if (canaryAvail < want) {
        d.weights = stableW(s.weight);
        return d;
      }
      if (s.weight !== step.setWeight) {
        d.events.push({
          type: 'rollout.weightSet',
          reason: 'SetWeight',
          message: `canary ${s.canary.version} weight ${s.weight}% → ${step.setWeight}% (step ${s.stepIndex + 1}/${steps.length})`,
          explain: `The gateway now sends exactly ${step.setWeight}% of requests to ${s.canary.version} and ${100 - step.setWeight}% to ${s.stable.version}`,
        });
        s.weight = step.setWeight;
      }
      s.lastProgressAt = now;
      s.stepIndex++;
      s.stepStartedAt = now;
      d.weights = stableW(s.weight);
      continue;
    }
    d.keep = [{ template: s.canary, replicas: canaryReplicas(replicas, s.weight) }];
    d.weights = stableW(s.weight);
    if ('chaos' in step) {
      const passed = chaosStep(s, input, d, step.chaos, wake);
      if (!passed) return d;
      s.chaos = undefined;
      s.stepIndex++;
      s.stepStartedAt = now;
      s.lastProgressAt = now;
      continue;
    }
    if (step.pause.duration === undefined || s.phase === 'Paused') {
      if (s.phase !== 'Paused') {
        s.phase = 'Paused';
        s.pauseReason = 'Step';
        d.events.push({ type: 'rollout.paused', reason: 'PausedAtStep', message: `paused at step ${s.stepIndex + 1}/${steps.length} with ${s.weight}% on ${s.canary.version}`, explain: `The canary waits here until someone promotes it (POST /services/<name>/rollout/promote)` });
      }
      return d;
    }
    const due = s.stepStartedAt + step.pause.duration * 1000;
    if (now < due) {
      wake(due - now);
      return d;
    }
    s.stepIndex++;
    s.stepStartedAt = now;
    s.lastProgressAt = now;
  }
  return d;
}

const KIND_WORDS = { kill: 'killed', pause: 'paused', faults: 'faults' } as const;

function chaosKind(c: ChaosStep): ChaosStepState['kind'] {
  return 'kill' in c ? 'kill' : 'pause' in c ? 'pause' : 'faults';
}

function podList(ids: string[]): string {
  return `pod${ids.length === 1 ? '' : 's'} ${ids.join(', ')}`;
}

function secs(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/**
 * One Canary chaos step: ask for the experiment once the canary is at its size, wait for it to take
 * effect, then hold until the canary recovered (or the faults ran their time). True once it passed;
 * otherwise d says what to do (wait, start the experiment, or abort). Analysis keeps running around it.
 */
function chaosStep(s: RolloutState, input: RolloutInput, d: RolloutDecision, c: ChaosStep, wake: (ms: number) => void): boolean {
  const { spec, replicas, now } = input;
  const stepNo = s.stepIndex + 1;
  const at = `step ${stepNo}`;
  const want = canaryReplicas(replicas, s.weight);
  const cur = s.chaos;
  if (!cur) {
    // Rehearse on a canary that is whole: a failure injected while it is still coming up proves nothing.
    if (availableOf(input.pods, s.canary, spec.rollout.minReadySeconds, now) < want) return false;
    const count = 'kill' in c ? c.kill : 'pause' in c ? c.pause : 0;
    if (count > want) {
      const msg = `chaos ${chaosKind(c)} ${count} at ${at}: the canary ${s.canary.version} has only ${want} pod${want === 1 ? '' : 's'} at weight ${s.weight}%`;
      chaosResult(s, d, 'ChaosStepInvalid', msg, false);
      abortNow(s, input, 'ChaosStepFailed', msg, d);
      return false;
    }
    const action: ChaosAction =
      'kill' in c
        ? { kind: 'kill', step: s.stepIndex, version: s.canary.version, count: c.kill }
        : 'pause' in c
          ? { kind: 'pause', step: s.stepIndex, version: s.canary.version, count: c.pause, seconds: c.seconds }
          : { kind: 'faults', step: s.stepIndex, version: s.canary.version, faults: c.faults, seconds: c.duration };
    s.chaos = { step: s.stepIndex, kind: action.kind, requestedAt: now };
    d.chaos = action;
    wake(CHAOS_START_TIMEOUT_MS);
    return false;
  }
  if (cur.error !== undefined || (cur.startedAt === undefined && now - cur.requestedAt >= CHAOS_START_TIMEOUT_MS)) {
    const msg = `chaos ${cur.kind} at ${at} could not be carried out: ${cur.error ?? `no answer within ${CHAOS_START_TIMEOUT_MS / 1000} s`}`;
    chaosResult(s, d, 'ChaosStepFailed', msg, false);
    abortNow(s, input, 'ChaosStepFailed', msg, d);
    return false;
  }
  if (cur.startedAt === undefined) {
    wake(cur.requestedAt + CHAOS_START_TIMEOUT_MS - now);
    return false;
  }
  const elapsed = now - cur.startedAt;
  if ('faults' in c) {
    const due = cur.startedAt + c.duration * 1000;
    if (now < due) {
      wake(due - now);
      return false;
    }
    chaosResult(s, d, 'ChaosStepPassed', `canary ${s.canary.version} went through ${c.duration} s of injected faults at ${at} within its analysis thresholds`, true);
    return true;
  }
  const ids = (cur.pods ?? []).map((p) => p.id);
  const what = `canary ${podList(ids)} ${KIND_WORDS[cur.kind]}${'pause' in c ? ` ${c.seconds} s` : ''}`;
  if ('pause' in c && !spec.livenessProbe) {
    const msg = `${what} was not restarted: no liveness probe`;
    chaosResult(s, d, 'ChaosNotRecovered', msg, false);
    abortNow(s, input, 'ChaosNotRecovered', msg, d);
    return false;
  }
  const r = recovery(s.canary, input.pods, spec.rollout.minReadySeconds, now, cur, want);
  if (r.recovered) {
    const how = cur.kind === 'kill' ? `replaced by a Ready pod` : `restarted by its liveness probe and Ready again`;
    chaosResult(s, d, 'ChaosStepPassed', `${what} at ${at} was ${how} in ${secs(elapsed)} (${r.ready}/${want} Ready)`, true);
    return true;
  }
  const deadline = cur.startedAt + c.recoverWithin * 1000;
  if (now < deadline) {
    wake(deadline - now);
    return false;
  }
  const msg =
    cur.kind === 'kill'
      ? `${what} at ${at} was not replaced by a Ready pod within ${c.recoverWithin} s (${r.ready}/${want} Ready)`
      : `${what} at ${at} was not restarted by its liveness probe and Ready within ${c.recoverWithin} s (${r.ready}/${want} Ready)`;
  chaosResult(s, d, 'ChaosNotRecovered', msg, false);
  abortNow(s, input, 'ChaosNotRecovered', msg, d);
  return false;
}

/**
 * Recovered: every pod hit is gone (kill) or has restarted since (pause) — a paused pod replaced
 * outright counts too — and the canary has its `want` available pods, none of them one still down.
 */
function recovery(canary: TemplateRef, pods: Pod[], minReady: number, now: number, cur: ChaosStepState, want: number): { recovered: boolean; ready: number } {
  const hit = new Map((cur.pods ?? []).map((p) => [p.id, p.restarts]));
  let ready = 0;
  let pending = false;
  for (const p of pods) {
    if (p.templateHash !== canary.templateHash || p.phase === 'Terminating') continue;
    const before = hit.get(p.id);
    const back = before === undefined || (cur.kind === 'pause' && p.restarts > before);
    if (!back) pending = true;
    else if (isAvailable(p, minReady, now)) ready++;
  }
  return { recovered: !pending && ready >= want, ready };
}

function chaosResult(s: RolloutState, d: RolloutDecision, reason: string, message: string, passed: boolean): void {
  d.events.push({
    type: 'rollout.chaos',
    reason,
    message,
    explain: passed
      ? `The canary ${s.canary.version} survived the rehearsed failure, so the rollout goes on to its next step`
      : `The canary ${s.canary.version} did not get through the rehearsed failure, so it is not promoted: the rollout is aborted and ${s.stable.version} takes all traffic`,
  });
}

/** An answer counts only for the step that asked and still waits for it (not one promoted past, retried or aborted). */
function answerable(state: RolloutState | undefined, a: ChaosAction): state is RolloutState & { chaos: ChaosStepState } {
  return state !== undefined && state.phase === 'Progressing' && state.stepIndex === a.step && state.chaos?.step === a.step && state.chaos.startedAt === undefined && state.chaos.error === undefined;
}

/** The port answered: the experiment is in effect on these pods (with their restart counts now). Undefined when the step is over already. */
export function chaosStarted(state: RolloutState | undefined, a: ChaosAction, pods: { id: string; restarts: number }[], now: number): { state: RolloutState; event: RolloutEvent } | undefined {
  if (!answerable(state, a)) return undefined;
  const ids = pods.map((p) => p.id);
  const target = ids.length > 0 ? `canary ${podList(ids)}` : `canary ${a.version}`;
  const what =
    a.kind === 'kill'
      ? `killed ${target}`
      : a.kind === 'pause'
        ? `paused ${target} for ${a.seconds} s`
        : `injecting faults into ${a.version}'s requests for ${a.seconds} s (${faultWords(a.faults)})`;
  const waits =
    a.kind === 'kill'
      ? 'The rollout holds until a replacement is Ready'
      : a.kind === 'pause'
        ? 'The rollout holds until its liveness probe restarts it and it is Ready again'
        : 'Analysis judges the requests that were not faulted; the rollout goes on when the faults end';
  return {
    state: { ...state, chaos: { ...state.chaos, startedAt: now, pods } },
    event: { type: 'rollout.chaos', reason: 'ChaosStepStarted', message: `step ${a.step + 1}: ${what}`, explain: `A chaos step rehearses a failure on the canary before it is promoted. ${waits}` },
  };
}

/** The port refused or failed; the next pass aborts with this. */
export function chaosFailed(state: RolloutState | undefined, a: ChaosAction, error: string): RolloutState | undefined {
  if (!answerable(state, a)) return undefined;
  return { ...state, chaos: { ...state.chaos, error } };
}

/**
 * After a restart: an experiment asked for but never answered may or may not have happened, and
 * no answer will come; forgetting the request makes the step ask again, so it is rehearsed, never skipped.
 * One already in effect keeps its pods and its clock.
 */
export function chaosLost(state: RolloutState): RolloutState {
  const c = state.chaos;
  if (!c || c.startedAt !== undefined || c.error !== undefined) return state;
  return { ...state, chaos: undefined };
}

/**
 * Which of the experiments this rollout started may still run: those on its canary version, and only while
 * the rollout stands on the chaos step that asked for them (started `since` it asked). Anything else ends them at once (`why` says what
 * happened): a faults experiment must not go on failing requests of a canary that was rolled back, nor a
 * paused pod stay frozen after the step that froze it is over.
 */
export function rolloutChaosKept(state: RolloutState | undefined): { version?: string; since?: number; why: string } {
  if (!state) return { why: 'the service was deleted' };
  if (state.phase === 'Aborted') return { why: `the rollout of ${state.canary.version} was aborted` };
  if (state.phase === 'Completed') return { why: `the rollout of ${state.canary.version} completed` };
  const c = state.chaos;
  // Started since this step asked: an experiment of an earlier chaos step on the same version (one step passed, the next began in the same pass) ends.
  if (c && c.step === state.stepIndex && c.error === undefined) return { version: state.canary.version, since: c.requestedAt, why: `the rollout of ${state.canary.version} is past the chaos step that started it` };
  return { why: `the rollout of ${state.canary.version} is past the chaos step that started it` };
}

function faultWords(f: ChaosFaults): string {
  const parts: string[] = [];
  if (f.delayPercent > 0 && f.delayMs > 0) parts.push(`${f.delayMs} ms delay on ${f.delayPercent}%`);
  if (f.abortPercent > 0) parts.push(`${f.abortStatus} on ${f.abortPercent}%`);
  return parts.join(', ');
}

/** The current chaos step as GET /services/:name/rollout shows it, with what it waits for. */
export function describeChaos(state: RolloutState | undefined, spec: ServiceSpec, pods: Pod[], replicas: number, now: number): { step: number; kind: string; phase: 'Requested' | 'Running'; pods: string[]; waitingFor: string; secondsLeft: number | null } | null {
  if (!state || state.strategy !== 'Canary' || state.phase === 'Completed' || state.phase === 'Aborted') return null;
  const step = spec.rollout.steps[state.stepIndex];
  if (!step || !('chaos' in step)) return null;
  const c = step.chaos;
  const cur = state.chaos?.step === state.stepIndex ? state.chaos : undefined;
  const want = canaryReplicas(replicas, state.weight);
  const base = { step: state.stepIndex + 1, kind: chaosKind(c) };
  if (!cur) return { ...base, phase: 'Requested', pods: [], waitingFor: `the canary to have ${want} available pod${want === 1 ? '' : 's'} before the experiment starts`, secondsLeft: null };
  if (cur.startedAt === undefined) return { ...base, phase: 'Requested', pods: [], waitingFor: 'the experiment to take effect', secondsLeft: Math.max(0, Math.ceil((cur.requestedAt + CHAOS_START_TIMEOUT_MS - now) / 1000)) };
  const ids = (cur.pods ?? []).map((p) => p.id);
  const endsAt = cur.startedAt + ('faults' in c ? c.duration : c.recoverWithin) * 1000;
  const secondsLeft = Math.max(0, Math.ceil((endsAt - now) / 1000));
  if ('faults' in c) return { ...base, phase: 'Running', pods: ids, waitingFor: `the faults to end (${faultWords(c.faults)}) while analysis keeps judging the other requests`, secondsLeft };
  const r = recovery(state.canary, pods, spec.rollout.minReadySeconds, now, cur, want);
  const what = 'kill' in c ? `a Ready replacement for killed ${podList(ids)}` : `${podList(ids)} to be restarted by its liveness probe and Ready`;
  return { ...base, phase: 'Running', pods: ids, waitingFor: `${what} (${r.ready}/${want} Ready)`, secondsLeft };
}

export type RolloutCommand = 'promote' | 'promoteFull' | 'abort' | 'retry' | 'pause' | 'resume';

/** Operator commands; returns the new state or an error sentence for a 409. */
export function command(state: RolloutState | undefined, cmd: RolloutCommand, now: number): { state: RolloutState; message: string } | { error: string } {
  if (!state) return { error: 'no rollout has run for this service yet' };
  const s: RolloutState = { ...state };
  switch (cmd) {
    case 'promote':
    case 'promoteFull': {
      if (s.phase === 'Completed' || s.phase === 'Aborted') return { error: `the rollout is ${s.phase}; nothing to promote` };
      if (s.strategy === 'Rolling') return { error: 'Rolling updates have no steps to promote; use pause/resume' };
      // BlueGreen has one step (the switch); a Canary moves past its current step (a pause, usually).
      if (cmd === 'promoteFull' || s.strategy === 'BlueGreen') s.fullPromote = true;
      else s.stepIndex++;
      s.phase = 'Progressing';
      s.pauseReason = undefined;
      s.stepStartedAt = now;
      s.lastProgressAt = now;
      return { state: s, message: cmd === 'promoteFull' || s.strategy === 'BlueGreen' ? `promoting ${s.canary.version} fully` : `moving to step ${s.stepIndex + 1}` };
    }
    case 'abort':
      if (s.phase === 'Completed' || s.phase === 'Aborted') return { error: `the rollout is ${s.phase}; nothing to abort` };
      s.phase = 'Aborted';
      s.pauseReason = undefined;
      s.weight = 0;
      s.abort = { at: now, reason: 'AbortedByUser', message: 'aborted by request (POST /rollout/abort)' };
      return { state: s, message: `aborted: all traffic back to ${s.stable.version}` };
    case 'retry':
      if (s.phase !== 'Aborted') return { error: `only an aborted rollout can be retried (it is ${s.phase})` };
      return {
        state: { ...s, phase: 'Progressing', pauseReason: undefined, abort: undefined, chaos: undefined, stepIndex: 0, weight: 0, fullPromote: undefined, promotedAt: undefined, previewReadyAt: undefined, deadlineExceeded: undefined, stepStartedAt: now, startedAt: now, lastProgressAt: now, progressMark: 0, analysis: { lastAt: now, failures: 0, ejections: s.analysis.ejections, runs: [] } },
        message: `retrying the rollout of ${s.canary.version} from the first step`,
      };
    case 'pause':
      if (s.phase === 'Completed' || s.phase === 'Aborted') return { error: `the rollout is ${s.phase}; nothing to pause` };
      s.phase = 'Paused';
      s.pauseReason = 'Manual';
      return { state: s, message: 'paused' };
    case 'resume':
      if (s.phase !== 'Paused') return { error: `the rollout is ${s.phase}, not paused` };
      if (s.pauseReason === 'Step') s.stepIndex++;
      s.phase = 'Progressing';
      s.pauseReason = undefined;
      s.stepStartedAt = now;
      s.lastProgressAt = now;
      return { state: s, message: 'resumed' };
  }
}
