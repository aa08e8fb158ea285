// The Kubernetes HPA algorithm, pure: desired = ceil(current × currentCPU / targetCPU)
// with a 0.1 tolerance, not-ready pods left out of the average, a scale-down
// stabilization window and a scale-up rate limit of max(100%, 4 pods) per 15 s.
import type { AutoscaleSpec } from '../specs/spec.types.js';

export const TOLERANCE = 0.1;
export const SCALE_UP_PERIOD_MS = 15_000;
export const SCALE_UP_PODS = 4;

export interface HpaState {
  /** Recommendations within the stabilization window (newest last). */
  recommendations: { at: number; replicas: number }[];
  /** Scale-ups within the last period, for the rate limit. */
  scaleUps: { at: number; from: number; to: number }[];
  lastDecisionAt?: number;
}

export interface HpaInput {
  spec: AutoscaleSpec;
  current: number;
  /** CPU % (of one core) of each Ready pod; not-ready pods are left out, as Kubernetes does. */
  readyCpu: number[];
  now: number;
  state: HpaState;
}

/** Why the autoscaler chose what it chose: shown with its numbers in GET /services/:name. */
export type HpaVerdict = 'ScaledUp' | 'ScaledDown' | 'WithinTolerance' | 'Stabilizing' | 'RateLimited' | 'AtMax' | 'AtMin' | 'OutOfBounds' | 'NoReadyPods' | 'Steady';

export interface HpaDecision {
  replicas: number;
  state: HpaState;
  verdict: HpaVerdict;
  /** One line with the numbers, for every decision (explain is only for changes worth an event). */
  message: string;
  /** Why, in words, with the numbers; undefined when nothing changed and nothing is worth saying. */
  explain?: string;
  averageCpu?: number;
}

export function emptyHpaState(): HpaState {
  return { recommendations: [], scaleUps: [] };
}

export function autoscale(input: HpaInput): HpaDecision {
  const { spec, current, readyCpu, now } = input;
  const windowMs = spec.scaleDownStabilizationSeconds * 1000;
  const state: HpaState = {
    recommendations: input.state.recommendations.filter((r) => now - r.at <= windowMs),
    scaleUps: input.state.scaleUps.filter((u) => now - u.at < SCALE_UP_PERIOD_MS),
    lastDecisionAt: now,
  };
  const clampToBounds = (n: number) => Math.max(spec.min, Math.min(spec.max, n));
  // A fresh autoscaler starts with its window holding the current size, so it does not scale a new service down before a full window has passed.
  if (input.state.lastDecisionAt === undefined) state.recommendations.push({ at: now, replicas: current });

  if (current < spec.min || current > spec.max) {
    const replicas = clampToBounds(current);
    const explain = `Scaled to ${replicas} because ${current} replicas is outside the autoscaler's bounds ${spec.min}..${spec.max}`;
    return { replicas, state, verdict: 'OutOfBounds', message: explain, explain };
  }
  if (readyCpu.length === 0) return { replicas: current, state, verdict: 'NoReadyPods', message: `no ready pods to measure CPU from: keeping ${current} replicas` };

  const avg = readyCpu.reduce((a, b) => a + b, 0) / readyCpu.length;
  const ratio = avg / spec.targetCPU;
  let raw = current;
  if (Math.abs(ratio - 1) > TOLERANCE) raw = Math.ceil(current * ratio);
  const recommended = clampToBounds(raw);
  state.recommendations.push({ at: now, replicas: recommended });

  let replicas = recommended;
  let limitNote = '';
  let held: HpaVerdict | undefined;
  let heldUntil = '';
  if (recommended < current) {
    // Scale down only to the highest recommendation of the window, so a dip does not drop pods a burst will need.
    const stabilized = Math.max(...state.recommendations.map((r) => r.replicas));
    if (stabilized > recommended) {
      // The window forgets the newest recommendation of that height last.
      const until = Math.max(...state.recommendations.filter((r) => r.replicas === stabilized).map((r) => r.at)) + windowMs;
      limitNote = ` (held at ${Math.min(stabilized, current)} by the ${spec.scaleDownStabilizationSeconds}s scale-down stabilization window)`;
      heldUntil = `; stabilizing until ${new Date(until).toISOString()} at the latest`;
      held = 'Stabilizing';
    }
    replicas = Math.min(current, stabilized);
  } else if (recommended > current) {
    const base = state.scaleUps.length > 0 ? state.scaleUps[0].from : current;
    const cap = Math.max(base * 2, base + SCALE_UP_PODS);
    if (recommended > cap) {
      limitNote = ` (limited from ${recommended} to ${cap}: at most max(100%, ${SCALE_UP_PODS} pods) per 15s)`;
      replicas = Math.max(current, cap);
      held = 'RateLimited';
    }
    if (replicas > current) state.scaleUps.push({ at: now, from: current, to: replicas });
  }

  const avgText = `${Math.round(avg * 10) / 10}%`;
  if (replicas === current) {
    const explain = limitNote ? `Kept ${current} replicas: average CPU ${avgText} vs target ${spec.targetCPU}% suggests ${recommended}${limitNote}` : undefined;
    let verdict: HpaVerdict = held ?? 'Steady';
    let message = explain ? explain + heldUntil : `average CPU ${avgText} vs target ${spec.targetCPU}% suggests ${raw}: keeping ${current}`;
    if (!held && raw === current) {
      verdict = 'WithinTolerance';
      message = `average CPU ${avgText} of ${readyCpu.length} ready pods is within ${TOLERANCE * 100}% of the ${spec.targetCPU}% target: keeping ${current}`;
    } else if (!held && raw > spec.max) {
      verdict = 'AtMax';
      message = `average CPU ${avgText} vs target ${spec.targetCPU}% asks for ${raw} replicas, but max is ${spec.max}`;
    } else if (!held && raw < spec.min) {
      verdict = 'AtMin';
      message = `average CPU ${avgText} vs target ${spec.targetCPU}% asks for ${raw} replicas, but min is ${spec.min}`;
    }
    return { replicas, state, averageCpu: avg, verdict, message, explain };
  }
  const explain = `Scaled ${current} → ${replicas} replicas because average CPU of ${readyCpu.length} ready pods is ${avgText} against a target of ${spec.targetCPU}% (ceil(${current} × ${avgText}/${spec.targetCPU}%) = ${raw}, bounds ${spec.min}..${spec.max})${limitNote}`;
  return {
    replicas,
    state,
    averageCpu: avg,
    verdict: replicas > current ? 'ScaledUp' : 'ScaledDown',
    message: explain,
    explain,
  };
}
