import { EventEmitter2 } from '@nestjs/event-emitter';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { Role } from '../../common/auth/actor.js';
import { FakeClock } from '../../common/clock/fake-clock.js';
import { ConfigError, type GridConfig } from '../../common/config/config.js';
import { EventBus } from '../../common/events/event-bus.js';
import type { EventMap } from '../../common/events/event-map.js';
import type { RouteKind } from './access.js';
import { AuthService, type AuthOutcome } from './auth.service.js';
import type { UserCredentials } from './users.service.js';

/** The users as the guard sees them; password hashing has its own spec. */
class MemoryUsers implements UserCredentials {
  constructor(private readonly users: Record<string, { password: string; role: Role }>) {}
  async load(): Promise<void> {}
  get usersExist(): boolean {
    return Object.keys(this.users).length > 0;
  }
  async verify(name: string, password: string): Promise<Role | null> {
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

function setup(opts: { users?: boolean; keys?: boolean; host?: string; allowInsecure?: boolean } = {}) {
  const clock = new FakeClock(1_000_000);
  const bus = new EventBus(new EventEmitter2());
  const refused: EventMap['auth.refused'][] = [];
  bus.on('auth.refused', (e) => void refused.push(e));
  const config = { apiKeys: opts.keys ? [{ name: 'ci', key: KEY }] : [], host: opts.host ?? '127.0.0.1', allowInsecure: opts.allowInsecure ?? false } as unknown as GridConfig;
  const sut = new AuthService(config, clock, new MemoryUsers(opts.users ? USERS : {}), bus, new SchedulerRegistry());
  const ask = (route: RouteKind, cred: Cred, ip = '10.0.0.7') => sut.authenticate({ headers: CREDENTIALS[cred], ip, method: 'POST', url: '/apply' }, route);
  return { sut, clock, refused, ask };
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

  it('answers 429 with Retry-After to any credentials from an IP after too many failures, and lets it in when the wait is over', async () => {
    const { ask, clock, refused } = setup({ users: true, keys: true });
    for (let i = 0; i < 5; i++) expect(short(await ask('read', 'wrong password'))).toBe(401);
    expect(short(await ask('read', 'wrong key'))).toBe(401);

    expect(await ask('read', 'operator')).toMatchObject({ ok: false, status: 429, retryAfterS: 1 });
    expect(short(await ask('read', 'operator', '10.0.0.8'))).toBe('allow otto');
    expect(short(await ask('read', 'none'))).toBe(401);
    expect(refused.filter((r) => r.status === 429)).toHaveLength(1);
    clock.advance(1000);
    expect(short(await ask('read', 'operator'))).toBe('allow otto');
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
