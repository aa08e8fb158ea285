import { FakeClock } from '../../common/clock/fake-clock.js';
import { LoginLimiter, type LimitDecision, type LoginLimiterOptions } from './login-limiter.js';

/**
 * fail: one attempt after another (begin, then settle as failed), want = the verdict after it;
 * begin: an attempt starts (a burst is several begins before any settles);
 * settle-fail / settle-ok / release: a running attempt ends.
 */
type Step = { at: number; do: 'fail' | 'begin' | 'settle-fail' | 'settle-ok' | 'release' | 'ok' | 'check'; ip?: string; want: number | 'allowed' };

/** Five free failures at `at`, from `ip`. */
const fiveFailures = (at = 0, ip?: string): Step[] => [0, 1, 2, 3, 4].map(() => ({ at, do: 'fail', ip, want: 'allowed' }));
const times = (n: number, s: Step): Step[] => Array.from({ length: n }, () => s);

const OPTS: LoginLimiterOptions = { freeFailures: 5, windowMs: 60_000, baseDelayMs: 1_000, maxDelayMs: 8_000, maxEntries: 3 };

function run(sut: LoginLimiter, s: Step, now: number): LimitDecision {
  const key = s.ip ?? '10.0.0.1';
  switch (s.do) {
    case 'fail': {
      const d = sut.begin(key, now);
      return d.allowed ? sut.settle(key, 'failed', now) : d;
    }
    case 'ok': {
      const d = sut.begin(key, now);
      return d.allowed ? sut.settle(key, 'ok', now) : d;
    }
    case 'begin':
      return sut.begin(key, now);
    case 'settle-fail':
      return sut.settle(key, 'failed', now);
    case 'settle-ok':
      return sut.settle(key, 'ok', now);
    case 'release':
      return sut.settle(key, 'released', now);
    case 'check':
      return sut.check(key, now);
  }
}

describe(LoginLimiter.name, () => {
  it.each<{ name: string; steps: Step[] }>([
    {
      name: 'five failures a minute are free; the sixth makes the IP wait 1 s',
      steps: [...[0, 1, 2, 3, 4].map((t): Step => ({ at: t * 1000, do: 'fail', want: 'allowed' })), { at: 5000, do: 'fail', want: 1000 }, { at: 5500, do: 'check', want: 500 }, { at: 6000, do: 'check', want: 'allowed' }],
    },
    {
      name: 'each further failure doubles the wait, up to the cap',
      steps: [
        ...fiveFailures(),
        { at: 0, do: 'fail', want: 1000 },
        { at: 1000, do: 'fail', want: 2000 },
        { at: 3000, do: 'fail', want: 4000 },
        { at: 7000, do: 'fail', want: 8000 },
        { at: 15000, do: 'fail', want: 8000 },
      ],
    },
    {
      name: 'a success resets the count',
      steps: [...fiveFailures(), { at: 0, do: 'ok', want: 'allowed' }, ...fiveFailures(), { at: 0, do: 'fail', want: 1000 }],
    },
    {
      name: 'a quiet window after the last failure starts the count afresh',
      steps: [...fiveFailures(), { at: 60_001, do: 'fail', want: 'allowed' }],
    },
    {
      name: 'the quiet window counts from the end of the wait, so long waits still grow',
      steps: [...fiveFailures(), { at: 0, do: 'fail', want: 1000 }, { at: 1000, do: 'fail', want: 2000 }, { at: 62_500, do: 'fail', want: 4000 }],
    },
    {
      name: 'IPs are counted apart',
      steps: [...fiveFailures(0, 'a'), { at: 0, do: 'fail', ip: 'a', want: 1000 }, { at: 0, do: 'check', ip: 'b', want: 'allowed' }],
    },
    {
      name: 'a burst: the attempts running count, so only freeFailures + 1 start; the rest are told to come back in 1 s',
      steps: [...times(6, { at: 0, do: 'begin', want: 'allowed' }), ...times(94, { at: 0, do: 'begin', want: 1000 })],
    },
    {
      name: 'a burst that fails: the wait starts with the sixth failure and doubles no further than the attempts that ran',
      steps: [...times(6, { at: 0, do: 'begin', want: 'allowed' }), { at: 0, do: 'begin', want: 1000 }, ...times(5, { at: 50, do: 'settle-fail', want: 1000 }), { at: 50, do: 'settle-fail', want: 1000 }, { at: 60, do: 'begin', want: 990 }, { at: 1050, do: 'check', want: 'allowed' }],
    },
    {
      name: 'a burst after four failures: two may start',
      steps: [...times(4, { at: 0, do: 'fail', want: 'allowed' }), ...times(2, { at: 0, do: 'begin', want: 'allowed' }), { at: 0, do: 'begin', want: 1000 }],
    },
    {
      name: 'an attempt that ends without a verdict gives its place back',
      steps: [...times(6, { at: 0, do: 'begin', want: 'allowed' }), { at: 0, do: 'release', want: 'allowed' }, { at: 0, do: 'begin', want: 'allowed' }, { at: 0, do: 'begin', want: 1000 }],
    },
    {
      name: 'a success among running attempts resets the failures, not the attempts still running',
      steps: [...fiveFailures(), { at: 0, do: 'begin', want: 'allowed' }, { at: 0, do: 'begin', want: 1000 }, { at: 10, do: 'settle-ok', want: 'allowed' }, ...times(6, { at: 10, do: 'begin', want: 'allowed' }), { at: 10, do: 'begin', want: 1000 }],
    },
    {
      name: 'attempts running on an old count do not keep stale failures alive',
      steps: [...fiveFailures(), { at: 0, do: 'begin', want: 'allowed' }, { at: 61_000, do: 'check', want: 'allowed' }, { at: 61_000, do: 'settle-fail', want: 'allowed' }],
    },
  ])('$name', ({ steps }) => {
    const clock = new FakeClock();
    const sut = new LoginLimiter(OPTS);
    for (const [i, s] of steps.entries()) {
      clock.set(s.at);
      const got = run(sut, s, clock.now());
      expect({ i, step: s, got: got.allowed ? 'allowed' : got.retryAfterMs }).toEqual({ i, step: s, got: s.want });
    }
  });

  it('remembers at most maxEntries keys, forgetting the least recently used', () => {
    const sut = new LoginLimiter(OPTS);
    const fail = (key: string) => (sut.begin(key, 0), sut.settle(key, 'failed', 0));
    for (let i = 0; i < 6; i++) fail('a');
    fail('b');
    fail('c');
    fail('a');
    fail('d');

    expect(sut.size).toBe(3);
    expect(sut.check('a', 0).allowed).toBe(false);
    expect(sut.check('b', 0).allowed).toBe(true);
  });

  it('prune forgets keys quiet for a window and keeps those still waiting or running', () => {
    const sut = new LoginLimiter({ ...OPTS, maxDelayMs: 120_000, baseDelayMs: 120_000 });
    for (let i = 0; i < 6; i++) (sut.begin('blocked', 0), sut.settle('blocked', 'failed', 0));
    sut.begin('idle', 0);
    sut.settle('idle', 'failed', 0);
    sut.begin('running', 0);

    sut.prune(61_000);

    expect(sut.size).toBe(2);
    expect(sut.check('blocked', 61_000)).toEqual({ allowed: false, retryAfterMs: 59_000 });
  });
});
