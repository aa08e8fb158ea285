import { needsServer, parseSince, typeMatches, visibleEvents, NO_FILTER, type EventFilter } from './event-filter.js';
import type { GridEvent } from '../../common/api/types.js';

const ev = (id: number, type = 'pod.ready', service: string | null = 'web', time = id * 1000): GridEvent => ({
  id,
  time,
  type,
  service,
  pod: null,
  reason: 'R',
  message: `m${id}`,
  explain: `e${id}`,
});

describe(typeMatches.name, () => {
  it.each([
    ['pod.ready', '', true],
    ['pod.ready', 'pod.ready', true],
    ['pod.ready', 'pod.re', false],
    ['pod.ready', 'pod.*', true],
    ['rollout.aborted', 'pod.*', false],
    ['pod.ready', '*', true],
  ])('%s against %j → %s', (type, pattern, expected) => {
    expect(typeMatches(type, pattern)).toBe(expected);
  });
});

describe(parseSince.name, () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  it.each([
    ['', null],
    ['15m', now - 15 * 60_000],
    ['2h', now - 7_200_000],
    ['30s', now - 30_000],
    ['1d', now - 86_400_000],
    ['2026-01-01T11:00:00Z', now - 3_600_000],
    ['1767268800000', 1767268800000],
    ['yesterday-ish', null],
  ])('%j → %s', (input, expected) => {
    expect(parseSince(input, now)).toBe(expected);
  });
});

describe(needsServer.name, () => {
  const full = [ev(10), ev(11), ev(12)];
  it.each<[string, EventFilter, readonly GridEvent[], boolean]>([
    ['no filter: the store is enough', NO_FILTER, full, false],
    ['store not full: it holds everything since start', { ...NO_FILTER, service: 'web' }, full.slice(0, 2), false],
    ['full store, a service filter may miss older matches', { ...NO_FILTER, service: 'web' }, full, true],
    ['since inside the store', { ...NO_FILTER, since: 10_500 }, full, false],
    ['since before the oldest stored event', { ...NO_FILTER, since: 5_000 }, full, true],
  ])('%s', (_, f, live, expected) => {
    expect(needsServer(f, live, 3)).toBe(expected);
  });
});

describe(visibleEvents.name, () => {
  it('is newest first, capped, and filters', () => {
    const live = [ev(1), ev(2, 'rollout.started'), ev(3), ev(4, 'pod.killed', 'api'), ev(5)];
    expect(visibleEvents(live, [], NO_FILTER, 3).map((e) => e.id)).toEqual([5, 4, 3]);
    expect(visibleEvents(live, [], { ...NO_FILTER, type: 'pod.*', service: 'web' }, 10).map((e) => e.id)).toEqual([5, 3, 1]);
  });

  it('fills with older server events, each id once', () => {
    const live = [ev(8), ev(9)];
    const server = [ev(5), ev(6), ev(8), ev(9)];
    expect(visibleEvents(live, server, NO_FILTER, 10).map((e) => e.id)).toEqual([9, 8, 6, 5]);
    expect(visibleEvents(live, server, NO_FILTER, 3).map((e) => e.id)).toEqual([9, 8, 6]);
  });
});
