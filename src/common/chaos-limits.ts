// The limits of Grid's chaos experiments and the pure checks of their settings, in one place for
// the API (chaos, gateway) and /apply (a rollout's chaos step): a spec /apply accepts is one the
// chaos service will run, so no rollout aborts on settings that were accepted.

/** A share is given in percent with at most two decimals: the gateway counts it in basis points. */
const BP_PER_PERCENT = 100;

export const MAX_FAULT_DELAY_MS = 60_000;
export const MAX_FAULT_SECONDS = 3600;
export const DEFAULT_FAULT_SECONDS = 60;
export const DEFAULT_ABORT_STATUS = 503;

/** A pause lasts 1..PAUSE_MAX_SECONDS: long enough for any liveness probe to notice, short enough that a forgotten one ends. */
export const PAUSE_MAX_SECONDS = 600;

/** A canary gets at least this long to recover from a kill or pause: no pod is replaced and Ready sooner. */
export const MIN_RECOVER_SECONDS = 5;

/** The settings of a fault experiment, as the API and a rollout's chaos step give them (absent = default). */
export interface FaultSettings {
  abortPercent?: number;
  abortStatus?: number;
  delayMs?: number;
  delayPercent?: number;
  durationSeconds?: number;
}

export type CheckedFaultSettings = Required<FaultSettings>;

function percent(value: number | undefined, field: string): number | { path: string; message: string } {
  if (value === undefined) return 0;
  const bp = value * BP_PER_PERCENT;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100 || Math.abs(bp - Math.round(bp)) > 1e-6) {
    return { path: field, message: `must be a number 0..100 with at most two decimals (got ${String(value)})` };
  }
  return value;
}

function integer(value: number | undefined, field: string, min: number, max: number, def: number): number | { path: string; message: string } {
  if (value === undefined) return def;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) return { path: field, message: `must be an integer ${min}..${max} (got ${String(value)})` };
  return value;
}

/** Fills in the defaults and checks the ranges; a problem names the field. */
export function checkFaultSettings(s: FaultSettings): CheckedFaultSettings | { path: string; message: string } {
  const abortPercent = percent(s.abortPercent, 'abortPercent');
  if (typeof abortPercent !== 'number') return abortPercent;
  const delayPercent = percent(s.delayPercent, 'delayPercent');
  if (typeof delayPercent !== 'number') return delayPercent;
  if (abortPercent === 0 && delayPercent === 0) return { path: 'abortPercent', message: 'give abortPercent or delayPercent above 0 (a fault that touches no request is not an experiment)' };
  const abortStatus = integer(s.abortStatus, 'abortStatus', 400, 599, DEFAULT_ABORT_STATUS);
  if (typeof abortStatus !== 'number') return abortStatus;
  const delayMs = integer(s.delayMs, 'delayMs', delayPercent > 0 ? 1 : 0, MAX_FAULT_DELAY_MS, 0);
  if (typeof delayMs !== 'number') return delayMs;
  if (delayPercent > 0 && delayMs === 0) return { path: 'delayMs', message: `is required (1..${MAX_FAULT_DELAY_MS}) when delayPercent is above 0` };
  const durationSeconds = integer(s.durationSeconds, 'durationSeconds', 1, MAX_FAULT_SECONDS, DEFAULT_FAULT_SECONDS);
  if (typeof durationSeconds !== 'number') return durationSeconds;
  return { abortPercent, abortStatus, delayMs, delayPercent, durationSeconds };
}
