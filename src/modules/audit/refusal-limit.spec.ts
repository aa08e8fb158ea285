import { FakeClock } from '../../common/clock/fake-clock.js';
import { RefusalLimiter, tallySummary, type Tally } from './refusal-limit.js';

const T0 = Date.UTC(2026, 0, 1);
const LIMITS = { perWindow: 2, windowMs: 1000, maxSources: 2 };

/** A refusal `after` ms after the one before, from ip with status; `expire` instead runs expire() then. */
type Step = { after: number; ip: string; status?: number } | { after: number; expire: true };
/** Per step: '+' recorded, '-' counted, then the tallies it returned as `ip:count{status:n,…}@sinceOffset`. */
type Seen = string;

function run(steps: Step[]): Seen[] {
  const clock = new FakeClock(T0);
  const sut = new RefusalLimiter(LIMITS);
  const fmt = (ts: Tally[]) => ts.map((t) => ` ${t.ip}:${t.count}{${[...t.byStatus].map(([s, n]) => `${s}:${n}`).join(',')}}@${t.since - T0}`).join('');
  return steps.map((step) => {
    clock.advance(step.after);
    if ('expire' in step) return `x${fmt(sut.expire(clock.now()))}`;
    const d = sut.admit(step.ip, step.status ?? 401, clock.now());
    return `${d.record ? '+' : '-'}${fmt(d.tallies)}`;
  });
}

const a = (after = 0, status?: number): Step => ({ after, ip: 'a', status });

describe(RefusalLimiter.name, () => {
  it.each<[string, Step[], Seen[]]>([
    ['records up to perWindow from one address, then counts', [a(), a(), a(), a(0, 429)], ['+', '+', '-', '-']],
    ['writes the tally on the first refusal after the window, which starts a new one', [a(), a(), a(), a(10, 429), a(990)], ['+', '+', '-', '-', '+ a:2{401:1,429:1}@0']],
    ['a window with nothing counted leaves no tally', [a(), a(), a(1000)], ['+', '+', '+']],
    ['counts each address apart', [a(), a(), a(), { after: 0, ip: 'b' }, { after: 0, ip: 'b' }, { after: 0, ip: 'b' }], ['+', '+', '-', '+', '+', '-']],
    ['expire() returns the tallies of ended windows and forgets them', [a(), a(), a(), { after: 999, expire: true }, { after: 1, expire: true }, a()], ['+', '+', '-', 'x', 'x a:1{401:1}@0', '+']],
    [
      'drops the least recently refused address for a new one past maxSources, with its tally',
      [a(), a(), a(), { after: 1, ip: 'b' }, a(1), { after: 1, ip: 'c' }],
      ['+', '+', '-', '+', '-', '+'],
    ],
    [
      'drops the least recent, not the first seen',
      [a(), a(), a(), { after: 1, ip: 'b' }, { after: 0, ip: 'b' }, { after: 0, ip: 'b', status: 403 }, a(1), { after: 1, ip: 'c' }],
      ['+', '+', '-', '+', '+', '-', '-', '+ b:1{403:1}@1'],
    ],
  ])('%s', (_, steps, seen) => {
    expect(run(steps)).toEqual(seen);
  });

  it('never tracks more than maxSources addresses', () => {
    const sut = new RefusalLimiter(LIMITS);
    const tallies: Tally[] = [];
    for (let i = 0; i < 100; i++) for (let j = 0; j < 3; j++) tallies.push(...sut.admit(`10.0.0.${i}`, 401, T0).tallies);
    expect(sut.size).toBe(2);
    expect(tallies).toHaveLength(98);
    expect(sut.drain().map((t) => t.ip)).toEqual(['10.0.0.98', '10.0.0.99']);
    expect(sut.size).toBe(0);
  });

  it.each([
    [{ ip: '10.0.0.9', since: T0, count: 4812, byStatus: new Map([[429, 12], [401, 4800]]) }, '… and 4,812 more refusals from 10.0.0.9 in the 60 s from 2026-01-01T00:00:00.000Z (401: 4,800, 429: 12)'],
    [{ ip: '::1', since: T0 + 1500, count: 1, byStatus: new Map([[403, 1]]) }, '… and 1 more refusal from ::1 in the 60 s from 2026-01-01T00:00:01.500Z (403: 1)'],
  ])('summarises a tally: %#', (t, text) => {
    expect(tallySummary(t, 60_000)).toBe(text);
  });
});
