// What the event log's retention deletes next: pure, so the rules are table-tested with a fake clock.

import type { EventsRetention } from '../../common/config/config.js';

/** The id and time of one stored event, oldest first. */
export interface StoredEventHead {
  id: number;
  time: number;
}

export interface PruneStep {
  /** Delete every event with id <= this (a prefix of the log); undefined: nothing to delete now. */
  throughId?: number;
  /** How many rows that is. */
  rows: number;
  /** For the log line: which limit asked for it. */
  because: 'count' | 'age' | 'count+age' | 'none';
}

const NOTHING: PruneStep = { rows: 0, because: 'none' };

/**
 * Given the oldest stored events (at most one batch of them, oldest first), how many rows the log
 * holds and the settings, returns the prefix to delete in this step. Only ever the oldest rows:
 * the ids that remain stay contiguous, so "no gap in event ids" holds across pruning.
 *
 * By count: everything beyond the newest `maxCount`. By age: the leading run of events older than
 * `now - maxAgeMs`. The age run stops at the first younger event, even when an older one follows
 * it (a wall clock stepped back): deleting past it would cut a hole in the ids. Each step deletes
 * at most `oldest.length` rows; the caller asks again until the answer is nothing.
 */
export function nextPruneStep(oldest: readonly StoredEventHead[], count: number, settings: EventsRetention, now: number): PruneStep {
  if (oldest.length === 0) return NOTHING;
  const byCount = settings.maxCount === undefined ? 0 : Math.max(0, count - settings.maxCount);
  let byAge = 0;
  if (settings.maxAgeMs !== undefined) {
    const cutoff = now - settings.maxAgeMs;
    while (byAge < oldest.length && oldest[byAge].time < cutoff) byAge++;
  }
  const rows = Math.min(Math.max(byCount, byAge), oldest.length);
  if (rows === 0) return NOTHING;
  return { throughId: oldest[rows - 1].id, rows, because: byCount > 0 && byAge > 0 ? 'count+age' : byCount > 0 ? 'count' : 'age' };
}
