// The event log's filters, and how live events from the store merge with a page from GET /events.
import type { GridEvent } from '../../common/api/types.js';

export interface EventFilter {
  service: string;
  /** Exact type, or a prefix ending in * (pod.*), as GET /events takes it. */
  type: string;
  /** Epoch ms, or null for no lower bound. */
  since: number | null;
}

export const NO_FILTER: EventFilter = { service: '', type: '', since: null };

export function typeMatches(type: string, pattern: string): boolean {
  if (!pattern) return true;
  return pattern.endsWith('*') ? type.startsWith(pattern.slice(0, -1)) : type === pattern;
}

export function matches(e: GridEvent, f: EventFilter): boolean {
  return (!f.service || e.service === f.service) && typeMatches(e.type, f.type) && (f.since === null || e.time >= f.since);
}

/** "15m", "2h", "30s", "1d" back from now, or an ISO time / epoch ms; null when empty or unreadable. */
export function parseSince(input: string, now: number): number | null {
  const s = input.trim();
  if (!s) return null;
  const rel = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)$/i.exec(s);
  if (rel) return now - Number(rel[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2].toLowerCase() as 's' | 'm' | 'h' | 'd'];
  if (/^\d{10,}$/.test(s)) return Number(s);
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
}

/**
 * Does the filter reach past what the store holds? The store keeps the last `kept` events; when
 * it is full its oldest event is a horizon, and older matches are only on the server.
 */
export function needsServer(f: EventFilter, live: readonly GridEvent[], kept: number): boolean {
  const filtered = Boolean(f.service || f.type || f.since !== null);
  if (!filtered || live.length < kept) return false;
  const oldest = live[0]?.time ?? 0;
  return f.since === null || f.since < oldest;
}

/** Newest first, at most `max`, each id once: live events (oldest first) win over the server's copy. */
export function visibleEvents(live: readonly GridEvent[], server: readonly GridEvent[], f: EventFilter, max: number): GridEvent[] {
  const out: GridEvent[] = [];
  const seen = new Set<number>();
  for (let i = live.length - 1; i >= 0 && out.length < max; i--) {
    const e = live[i];
    if (matches(e, f) && !seen.has(e.id)) (seen.add(e.id), out.push(e));
  }
  if (out.length < max && server.length > 0) {
    const older = server.filter((e) => !seen.has(e.id) && matches(e, f)).sort((a, b) => b.id - a.id);
    for (const e of older) {
      if (out.length >= max) break;
      out.push(e);
    }
    out.sort((a, b) => b.id - a.id);
  }
  return out;
}
