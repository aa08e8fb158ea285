import { EventEmitter2 } from '@nestjs/event-emitter';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { Role } from '../../common/auth/actor.js';
import { FakeClock } from '../../common/clock/fake-clock.js';
import { ConfigError, type GridConfig } from '../../common/config/config.js';
import { EventBus } from '../../common/events/event-bus.js';
import type { EventMap } from '../../common/events/event-map.js';
import type { RouteKind } from './access.js';
import { AuthService, type AuthOutcome } from './auth.service.js';
import { ConcurrencyGate } from './concurrency-gate.js';
import type { UserCredentials } from './users.service.js';

/** The users as the guard sees them; password hashing has its own spec. */
class MemoryUsers implements UserCredentials {
  /** Password checks begun: each one is an scrypt in UsersService. */
  checks = 0;
  /** While set, checks wait for it, so attempts sent together are all in flight at once. */
  hold: Promise<void> | null = null;
  constructor(private readonly users: Record<string, { password: string; role: Role }>) {}
  async load(): Promise<void> {}
  get usersExist(): boolean {
    return Object.keys(this.users).length > 0;
  }
  async verify(name: string, password: string): Promise<Role | null> {
    this.checks++;
    await this.hold;
    const u = this.users[name];
    return u && u.password === password ? u.role : null;
  }
}

const KEY = 'ci-key-0123456789';
const USERS = { vera: { password: 'viewer-password', role: 'viewer' as const }, otto: { password: 'operator-password', role: 'operator' as const } };
const basic = (name: string, pw: string) => ({ authorization: `Basic ${Buffer.from(`${name}:${pw}`).toString('base64')}` });

const CREDENTIALS = {
  none: {},
  key: { 'x-api-key': KEY },
  bearer: { authorization: `Bearer ${KEY}` },
  'wrong key': { 'x-api-key': 'not-the-key-000000' },
  viewer: basic('vera', 'viewer-password'),
  operator: basic('otto', 'operator-password'),
  'wrong password': basic('otto', 'guess'),
  'unknown user': basic('mallory', 'guess'),
  'other scheme': { authorization: 'Digest abc' },
};
type Cred = keyof typeof CREDENTIALS;

function setup(opts: { users?: boolean; keys?: boolean; host?: string; allowInsecure?: boolean; gate?: ConcurrencyGate } = {}) {
  const clock = new FakeClock(1_000_000);
  const bus = new EventBus(new EventEmitter2());
  const refused: EventMap['auth.refused'][] = [];
  bus.on('auth.refused', (e) => void refused.push(e));
  const config = { apiKeys: opts.keys ? [{ name: 'ci', key: KEY }] : [], host: opts.host ?? '127.0.0.1', allowInsecure: opts.allowInsecure ?? false } as unknown as GridConfig;
  const users = new MemoryUsers(opts.users ? USERS : {});
  const sut = new AuthService(config, clock, users, bus, new SchedulerRegistry(), opts.gate ?? new ConcurrencyGate(1000, 0));
  const ask = (route: RouteKind, cred: Cred | Record<string, string>, ip = '10.0.0.7') => sut.authenticate({ headers: typeof cred === 'string' ? CREDENTIALS[cred] : cred, ip, method: 'POST', url: '/apply' }, route);
  /** Sends all at once, with every password check held until all have been answered or are running. */
  const burst = async (creds: (Cred | Record<string, string>)[], ip: (i: number) => string = () => '10.0.0.7') => {
    let open!: () => void;
    users.hold = new Promise((r) => (open = r));
    const answers = creds.map((c, i) => ask('read', c, ip(i)));
    // Every request has run up to its password check (or been refused) once the microtasks have drained.
    await new Promise((r) => setImmediate(r));
    const checksWhileHeld = users.checks;
    open();
    users.hold = null;
    return { checksWhileHeld, answers: (await Promise.all(answers)).map(short) };
  };
  return { sut, clock, refused, ask, burst, users };
}

const short = (o: AuthOutcome) => (o.ok ? `allow ${o.actor.name}` : o.status);

describe(AuthService.name, () => {
  describe('decides by route kind, credentials and what is configured', () => {
    it.each<[RouteKind, Cred, { users: boolean; keys: boolean }, string | number]>([
      // Nothing configured: everything is open (Grid then serves on loopback only), credentials are not even looked at.
      ['mutate', 'none', { users: false, keys: false }, 'allow anonymous'],
      ['mutate', 'wrong key', { users: false, keys: false }, 'allow anonymous'],
      ['read', 'none', { users: false, keys: false }, 'allow anonymous'],
      // Keys only (the seed's X_API_KEY): mutations need a key, reads stay open.
      ['mutate', 'none', { users: false, keys: true }, 401],
      ['mutate', 'wrong key', { users: false, keys: true }, 401],
      ['mutate', 'key', { users: false, keys: true }, 'allow ci'],
      ['mutate', 'bearer', { users: false, keys: true }, 'allow ci'],
      ['mutate', 'unknown user', { users: false, keys: true }, 401],
      ['read', 'none', { users: false, keys: true }, 'allow anonymous'],
      ['read', 'wrong key', { users: false, keys: true }, 'allow anonymous'],
      // Users exist: reads need a viewer or above, or a key; mutations an operator or a key.
      ['read', 'none', { users: true, keys: true }, 401],
      ['read', 'viewer', { users: true, keys: true }, 'allow vera'],
      ['read', 'operator', { users: true, keys: true }, 'allow otto'],
      ['read', 'key', { users: true, keys: true }, 'allow ci'],
      ['read', 'wrong password', { users: true, keys: true }, 401],
      ['read', 'other scheme', { users: true, keys: true }, 401],
      ['mutate', 'none', { users: true, keys: true }, 401],
      ['mutate', 'viewer', { users: true, keys: true }, 403],
      ['mutate', 'operator', { users: true, keys: true }, 'allow otto'],
      ['mutate', 'key', { users: true, keys: true }, 'allow ci'],
      ['mutate', 'wrong password', { users: true, keys: true }, 401],
      ['mutate', 'unknown user', { users: true, keys: false }, 401],
      ['mutate', 'key', { users: true, keys: false }, 401],
      ['mutate', 'operator', { users: true, keys: false }, 'allow otto'],
      // /healthz and /metrics: never.
      ['public', 'none', { users: true, keys: true }, 'allow anonymous'],
      ['public', 'wrong password', { users: true, keys: true }, 'allow anonymous'],
    ])('%s with %s credentials, %j -> %s', async (route, cred, configured, want) => {
      const { ask } = setup(configured);

      expect(short(await ask(route, cred))).toBe(want);
    });
  });

  it('gives the actor its kind and role', async () => {
    const { ask } = setup({ users: true, keys: true });

    expect(await ask('mutate', 'key')).toEqual({ ok: true, actor: { name: 'ci', kind: 'api-key', role: 'operator' } });
    expect(await ask('read', 'viewer')).toEqual({ ok: true, actor: { name: 'vera', kind: 'user', role: 'viewer' } });
  });

  it('emits auth.refused for every refusal, with the claimed user', async () => {
    const { ask, refused } = setup({ users: true, keys: true });

    await ask('mutate', 'viewer');
    await ask('read', 'none');
    await ask('read', 'wrong password');

    expect(refused).toEqual([
      { ip: '10.0.0.7', actor: 'vera', method: 'POST', url: '/apply', status: 403, reason: "user 'vera' is a viewer; changing state needs an operator" },
      { ip: '10.0.0.7', actor: null, method: 'POST', url: '/apply', status: 401, reason: 'credentials required (Basic auth or API key)' },
      { ip: '10.0.0.7', actor: 'otto', method: 'POST', url: '/apply', status: 401, reason: 'user name or password is not valid' },
    ]);
  });

  it('answers 429 with Retry-After to a user after too many failures from an IP, and lets it in when the wait is over; other users and IPs go on', async () => {
    const { ask, clock, refused } = setup({ users: true, keys: true });
    for (let i = 0; i < 6; i++) expect(short(await ask('read', 'wrong password'))).toBe(401);

    expect(await ask('read', 'operator')).toMatchObject({ ok: false, status: 429, retryAfterS: 1 });
    expect(short(await ask('read', 'operator', '10.0.0.8'))).toBe('allow otto');
    expect(short(await ask('read', 'viewer'))).toBe('allow vera');
    expect(short(await ask('read', 'none'))).toBe(401);
    expect(refused.filter((r) => r.status === 429)).toHaveLength(1);
    clock.advance(1000);
    expect(short(await ask('read', 'operator'))).toBe('allow otto');
  });

  it('a burst of wrong passwords from one IP: only freeFailures + 1 reach the password check, the rest get 429 at once', async () => {
    const { burst, users, ask } = setup({ users: true, keys: true });

    const r = await burst(Array.from({ length: 100 }, () => basic('otto', 'guess')));

    expect(r.checksWhileHeld).toBe(6);
    expect(users.checks).toBe(6);
    expect(r.answers.filter((a) => a === 401)).toHaveLength(6);
    expect(r.answers.filter((a) => a === 429)).toHaveLength(94);
    expect(await ask('read', 'operator')).toMatchObject({ ok: false, status: 429 });
    expect(short(await ask('read', 'key'))).toBe('allow ci');
    expect(short(await ask('mutate', 'bearer'))).toBe('allow ci');
  });

  it('spraying many user names from one IP is bounded per IP; a valid key from that IP still works, wrong keys are refused', async () => {
    const { burst, users, ask } = setup({ users: true, keys: true });

    const r = await burst(Array.from({ length: 100 }, (_, i) => basic(`user${i}`, 'guess')));

    expect(users.checks).toBe(21);
    expect(r.answers.filter((a) => a === 429)).toHaveLength(79);
    expect(await ask('read', 'viewer')).toMatchObject({ ok: false, status: 429 });
    expect(short(await ask('read', 'key'))).toBe('allow ci');
    expect(await ask('read', 'wrong key')).toMatchObject({ ok: false, status: 429 });
  });

  it('wrong API keys count per IP (no scrypt); the right key is never refused', async () => {
    const { ask, users } = setup({ users: false, keys: true });
    const answers = [];
    for (let i = 0; i < 22; i++) answers.push(short(await ask('mutate', 'wrong key')));

    expect(answers.slice(0, 21).every((a) => a === 401)).toBe(true);
    expect(answers[21]).toBe(429);
    expect(short(await ask('mutate', 'key'))).toBe('allow ci');
    expect(users.checks).toBe(0);
  });

  it('bounds password checks across all IPs: past the gate and its queue, 429 saying Grid is busy; once it is free they get in', async () => {
    const { burst, users, refused, ask } = setup({ users: true, keys: true, gate: new ConcurrencyGate(2, 3) });

    const r = await burst(
      Array.from({ length: 10 }, () => 'operator' as const),
      (i) => `10.1.0.${i}`,
    );

    expect(r.checksWhileHeld).toBe(2);
    expect(users.checks).toBe(5);
    expect(r.answers).toEqual([...Array.from({ length: 5 }, () => 'allow otto'), ...Array.from({ length: 5 }, () => 429)]);
    expect(refused.map((e) => [e.status, e.reason])).toEqual(Array.from({ length: 5 }, () => [429, 'Grid is busy checking passwords; try again in a moment']));
    for (let i = 0; i < 10; i++) expect(short(await ask('read', 'operator', `10.1.0.${i}`))).toBe('allow otto');
  });

  it.each([
    { host: '0.0.0.0', configured: {}, want: 'exit' },
    { host: '192.168.1.10', configured: {}, want: 'exit' },
    { host: '0.0.0.0', configured: { allowInsecure: true }, want: 'ok' },
    { host: '0.0.0.0', configured: { users: true }, want: 'ok' },
    { host: '0.0.0.0', configured: { keys: true }, want: 'ok' },
    { host: '127.0.0.1', configured: {}, want: 'ok' },
    { host: '127.0.0.2', configured: {}, want: 'ok' },
    { host: '::1', configured: {}, want: 'ok' },
    { host: 'localhost', configured: {}, want: 'ok' },
  ])('bootCheck on $host with $configured: $want', ({ host, configured, want }) => {
    const { sut } = setup({ host, ...configured });
    let err: unknown;
    try {
      sut.bootCheck();
    } catch (e) {
      err = e;
    }

    expect(want === 'exit' ? err instanceof ConfigError && err.variable === 'GRID_HOST' : err === undefined).toBe(true);
  });
});
