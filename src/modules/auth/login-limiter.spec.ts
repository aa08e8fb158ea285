import { FakeClock } from '../../common/clock/fake-clock.js';
import { LoginLimiter, type LoginLimiterOptions } from './login-limiter.js';

/** Five free failures at `at`, from `ip`. */
const fiveFailures = (at = 0, ip?: string): Step[] => [0, 1, 2, 3, 4].map(() => ({ at, do: 'fail', ip, want: 'allowed' }));

const OPTS: LoginLimiterOptions = { freeFailures: 5, windowMs: 60_000, baseDelayMs: 1_000, maxDelayMs: 8_000, maxEntries: 3 };

type Step = { at: number; do: 'fail' | 'ok' | 'check'; ip?: string; want: number | 'allowed' };

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
      steps: [...fiveFailures(), { at: 0, do: 'ok', want: 'allowed' }, { at: 0, do: 'fail', want: 'allowed' }],
    },
    {
      name: 'a quiet window after the last failure starts the count afresh',
      steps: [...fiveFailures(), { at: 60_001, do: 'fail', want: 'allowed' }],
    },
    {
      name: 'the quiet window counts from the end of the wait, so long waits still grow',
      steps: [
        ...fiveFailures(),
        { at: 0, do: 'fail', want: 1000 },
        { at: 1000, do: 'fail', want: 2000 },
        { at: 62_500, do: 'fail', want: 4000 },
      ],
    },
    {
      name: 'IPs are counted apart',
      steps: [...fiveFailures(0, 'a'), { at: 0, do: 'fail', ip: 'a', want: 1000 }, { at: 0, do: 'check', ip: 'b', want: 'allowed' }],
    },
  ])('$name', ({ steps }) => {
    const clock = new FakeClock();
    const sut = new LoginLimiter(OPTS);
    for (const s of steps) {
      clock.set(s.at);
      const ip = s.ip ?? '10.0.0.1';
      const got = s.do === 'fail' ? sut.failure(ip, clock.now()) : s.do === 'check' ? sut.check(ip, clock.now()) : (sut.success(ip), sut.check(ip, clock.now()));
      expect({ step: s, got: got.allowed ? 'allowed' : got.retryAfterMs }).toEqual({ step: s, got: s.want });
    }
  });

  it('remembers at most maxEntries IPs, forgetting the least recently failed', () => {
    const sut = new LoginLimiter(OPTS);
    for (let i = 0; i < 6; i++) sut.failure('a', 0);
    sut.failure('b', 0);
    sut.failure('c', 0);
    sut.failure('a', 0);
    sut.failure('d', 0);

    expect(sut.size).toBe(3);
    expect(sut.check('a', 0).allowed).toBe(false);
  });

  it('prune forgets IPs quiet for a window and keeps those still waiting', () => {
    const sut = new LoginLimiter({ ...OPTS, maxDelayMs: 120_000, baseDelayMs: 120_000 });
    for (let i = 0; i < 6; i++) sut.failure('blocked', 0);
    sut.failure('idle', 0);

    sut.prune(61_000);

    expect(sut.size).toBe(1);
    expect(sut.check('blocked', 61_000)).toEqual({ allowed: false, retryAfterMs: 59_000 });
  });
});
