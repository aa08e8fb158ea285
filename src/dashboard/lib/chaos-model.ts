// Pure shaping for the chaos views: what an experiment does in words, its time left as a
// countdown that runs on this page's clock, and a chaos step of a rollout. No DOM, no fetch.

/** One entry of GET /chaos/experiments. */
export interface ExperimentView {
  id: string;
  kind: string;
  service: string;
  version?: string;
  pods?: string[];
  params: Record<string, number | string>;
  startedAt: number;
  endsAt: number;
  secondsLeft: number;
  origin: 'api' | 'rollout';
}

/**
 * Seconds left now, from the server's `secondsLeft` and when the page received it (performance.now()
 * at the answer): the countdown never depends on the browser's wall clock agreeing with Grid's.
 */
export function secondsLeftNow(secondsLeft: number, receivedAt: number, now: number): number {
  return Math.max(0, Math.ceil(secondsLeft - Math.max(0, now - receivedAt) / 1000));
}

/** "42 s", "1 min 05 s", "1 h 00 min"; "ending…" at 0 (the end event is on its way). */
export function countdownText(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return 'ending…';
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : 0);

/** What the gateway does to the requests: "abort 25% with 503, delay 200 ms on 50%". */
export function faultWords(p: Record<string, unknown>): string {
  const parts: string[] = [];
  if (num(p.abortPercent) > 0) parts.push(`abort ${num(p.abortPercent)}% with ${num(p.abortStatus) || 503}`);
  if (num(p.delayPercent) > 0 && num(p.delayMs) > 0) parts.push(`delay ${num(p.delayMs)} ms on ${num(p.delayPercent)}%`);
  return parts.join(', ') || 'no fault';
}

const SHOWN_ELSEWHERE = new Set(['service', 'version']);

/** An experiment's settings in words: the fault shares, or how many pods for how long. */
export function experimentSettings(e: Pick<ExperimentView, 'kind' | 'params' | 'pods'>): string {
  if (e.kind === 'faults') return faultWords(e.params);
  if (e.kind === 'pause') {
    const n = e.pods?.length ?? num(e.params.count);
    return `${n} pod${n === 1 ? '' : 's'} frozen for ${num(e.params.seconds)} s`;
  }
  return Object.entries(e.params)
    .filter(([k]) => !SHOWN_ELSEWHERE.has(k))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

/** A canary's chaos step as the spec holds it (normalised by Grid). */
export interface ChaosStepSpec {
  kill?: number;
  pause?: number;
  seconds?: number;
  recoverWithin?: number;
  faults?: Record<string, unknown>;
  duration?: number;
}

/** "chaos kill 1", "chaos pause 1 for 5 s", "chaos faults (delay 200 ms on 50%) for 30 s". */
export function chaosStepWords(c: ChaosStepSpec): string {
  if (typeof c.kill === 'number') return `chaos kill ${c.kill}`;
  if (typeof c.pause === 'number') return `chaos pause ${c.pause}${typeof c.seconds === 'number' ? ` for ${c.seconds} s` : ''}`;
  if (c.faults && typeof c.faults === 'object') return `chaos faults (${faultWords(c.faults)})${typeof c.duration === 'number' ? ` for ${c.duration} s` : ''}`;
  return 'chaos';
}

/** GET /services/:name/rollout's `chaos`: the current chaos step and what it waits for. */
export interface RolloutChaos {
  step: number;
  kind: string;
  phase: string;
  pods: string[];
  waitingFor: string;
  secondsLeft: number | null;
}

/** "chaos kill 1 on v2 — waiting for a Ready replacement for killed pod api-x7 (1/2 Ready), 42 s left". */
export function rolloutChaosText(step: ChaosStepSpec | null, chaos: RolloutChaos, canaryVersion: string | null, secondsLeft: number | null): string {
  const what = step ? chaosStepWords(step) : `chaos ${chaos.kind}`;
  const on = canaryVersion ? ` on ${canaryVersion}` : '';
  const left = secondsLeft === null ? '' : `, ${secondsLeft > 0 ? `${countdownText(secondsLeft)} left` : 'time is up'}`;
  return `${what}${on} — waiting for ${chaos.waitingFor}${left}`;
}
