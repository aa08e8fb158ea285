/** The state letter of a /proc/<pid>/stat line (field 3): R running, S sleeping, T stopped by a signal, t stopped by a tracer, Z zombie, … */
export function procStateOf(stat: string): string | undefined {
  // comm (field 2) may contain spaces and parentheses: the state follows the last ')'.
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const state = stat.slice(close + 2, close + 3);
  return /^[A-Za-z]$/.test(state) ? state : undefined;
}

/**
 * Whether a pod process is frozen: stopped by a signal (T), as POST /chaos/pause leaves it. At adoption such
 * a process was paused by a Grid killed before the pause ended, and nothing else would ever continue it, so
 * it is resumed. A tracer's stop (t) belongs to a debugger attached on purpose and is not ours to end.
 */
export function isFrozenState(state: string | undefined): boolean {
  return state === 'T';
}
