// How many requests a traffic generator owes at a moment: a steady `rps` since it started,
// whatever the timer's jitter. Pure, so the pacing is table-tested with plain numbers.

export const MAX_RPS = 100;
export const MAX_SECONDS = 300;
/** Requests in flight per generator at most: a slow service is not buried under a backlog. */
export const MAX_IN_FLIGHT = 32;

export function requestsDue(elapsedMs: number, rps: number, sent: number, inFlight: number): number {
  const owed = Math.floor((Math.max(0, elapsedMs) * rps) / 1000) - sent;
  return Math.max(0, Math.min(owed, MAX_IN_FLIGHT - inFlight));
}
