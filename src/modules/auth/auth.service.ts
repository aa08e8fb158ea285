import { Inject, Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { createHash, timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Actor } from '../../common/auth/actor.js';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { ConfigError, GRID_CONFIG, type GridConfig } from '../../common/config/config.js';
import { EventBus } from '../../common/events/event-bus.js';
import { decide, needsCredentials, presented, type AccessState, type Proven, type RouteKind } from './access.js';
import { ConcurrencyGate } from './concurrency-gate.js';
import { DEFAULT_LIMITS, LoginLimiter, type LimitDecision } from './login-limiter.js';
import { UsersService, type UserCredentials } from './users.service.js';

/** The parts of a request access control looks at (Fastify's request, or a raw one for /docs). */
export interface RequestInfo {
  headers: Record<string, string | string[] | undefined>;
  ip: string;
  method: string;
  url: string;
}

export type AuthOutcome = { ok: true; actor: Actor } | { ok: false; status: 401 | 403 | 429; reason: string; retryAfterS?: number };
type Refusal = Extract<AuthOutcome, { ok: false }>;

/**
 * Basic logins are limited per IP *and* user name, so one user's mistyped (or guessed) password
 * does not lock out everyone else behind the same NAT or reverse proxy; the per-IP count, with a
 * higher allowance, still slows down spraying many names from one address. Wrong API keys count
 * per IP; a valid key is never refused: it costs a hash and a constant-time compare, not an scrypt.
 */
const PER_USER_LIMITS = DEFAULT_LIMITS;
const PER_IP_LIMITS = { ...DEFAULT_LIMITS, freeFailures: 20 };

/**
 * libuv's thread pool has 4 threads by default and fs and dns share it: scrypt gets at most
 * cores-many of them, never all four; a short queue absorbs a page load's parallel requests.
 */
export const SCRYPT_ACTIVE = Math.max(1, Math.min(availableParallelism(), 3));
export const SCRYPT_QUEUED = 4 * SCRYPT_ACTIVE;

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Proves who a request is and applies the rules of access.ts. Attempts count in the login
 * limiters when they start; every refusal is emitted as `auth.refused` for the audit log.
 */
@Injectable()
export class AuthService implements OnModuleInit {
  private readonly logger = new Logger('Auth');
  private readonly byUser = new LoginLimiter(PER_USER_LIMITS);
  private readonly byIp = new LoginLimiter(PER_IP_LIMITS);
  private readonly scrypt: ConcurrencyGate;
  /** Digests, so every comparison is of equal-length buffers and runs in constant time whatever was sent. */
  private readonly keys: { name: string; digest: Buffer }[];

  constructor(
    @Inject(GRID_CONFIG) private readonly config: GridConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(UsersService) private readonly users: UserCredentials,
    private readonly bus: EventBus,
    private readonly scheduler: SchedulerRegistry,
    @Optional() @Inject(ConcurrencyGate) gate?: ConcurrencyGate,
  ) {
    this.scrypt = gate ?? new ConcurrencyGate(SCRYPT_ACTIVE, SCRYPT_QUEUED);
    this.keys = config.apiKeys.map((k) => ({ name: k.name, digest: digest(k.key) }));
  }

  async onModuleInit(): Promise<void> {
    await this.users.load();
    this.bootCheck();
    const timer = setInterval(() => {
      this.byUser.prune(this.clock.now());
      this.byIp.prune(this.clock.now());
    }, 60_000);
    timer.unref();
    this.scheduler.addInterval('auth.prune-login-limiter', timer);
  }

  get state(): AccessState {
    return { usersExist: this.users.usersExist, keysExist: this.keys.length > 0 };
  }

  /** True when nothing is configured: Grid is open, which bootCheck allows on loopback only. */
  get open(): boolean {
    return !this.state.usersExist && !this.state.keysExist;
  }

  /** Secure by default: an open Grid on an address others can reach stops the boot, before Grid listens. */
  bootCheck(): void {
    if (this.open && !isLoopback(this.config.host) && !this.config.allowInsecure) {
      throw new ConfigError(
        'GRID_HOST',
        `${this.config.host} is not loopback and no credentials are configured, so anyone who can reach it could change your services. Set GRID_ADMIN_PASSWORD, GRID_API_KEYS or GRID_USERS_FILE (see README, Access control), or GRID_ALLOW_INSECURE=true to serve open anyway`,
      );
    }
  }

  async authenticate(req: RequestInfo, route: RouteKind): Promise<AuthOutcome> {
    const state = this.state;
    if (!needsCredentials(route, state)) return { ok: true, actor: (decide(route, { kind: 'none' }, state) as { actor: Actor }).actor };
    const given = presented(req.headers);
    const proven = given.kind === 'basic' ? await this.proveUser(req, given) : this.proveKey(req, given);
    if ('ok' in proven) return proven;
    const claimed = given.kind === 'basic' ? given.name : null;
    const d = decide(route, proven, state);
    if (!d.allow) return this.refuse(req, proven.kind === 'api-key' || proven.kind === 'user' ? proven.name : claimed, { status: d.status, reason: d.reason });
    return { ok: true, actor: d.actor };
  }

  /** Keys are cheap to check, so the limiter is asked only once a key has failed: a valid key from a blocked address still works. */
  private proveKey(req: RequestInfo, given: Exclude<ReturnType<typeof presented>, { kind: 'basic' }>): Proven | Refusal {
    if (given.kind === 'none') return { kind: 'none' };
    const proven = given.kind === 'malformed' ? ({ kind: 'invalid', reason: given.reason } as const) : this.matchKey(given.key);
    if (proven.kind !== 'invalid') return proven;
    const now = this.clock.now();
    const limit = this.byIp.begin(req.ip, now);
    if (!limit.allowed) return this.tooMany(req, null, limit);
    this.settled(req.ip, this.byIp.settle(req.ip, 'failed', now));
    return proven;
  }

  private matchKey(key: string): Proven {
    const d = digest(key);
    let name: string | null = null;
    // No early exit: the time does not depend on which key matched.
    for (const k of this.keys) if (timingSafeEqual(k.digest, d)) name = k.name;
    return name ? { kind: 'api-key', name } : { kind: 'invalid', reason: 'API key is not valid' };
  }

  /** Reserves a place in both limiters and a slot for scrypt before checking the password, so a burst is refused before it costs anything. */
  private async proveUser(req: RequestInfo, given: { name: string; password: string }): Promise<Proven | Refusal> {
    const userKey = JSON.stringify([req.ip, given.name]);
    const user = this.byUser.begin(userKey, this.clock.now());
    if (!user.allowed) return this.tooMany(req, given.name, user);
    const ip = this.byIp.begin(req.ip, this.clock.now());
    if (!ip.allowed) {
      this.byUser.settle(userKey, 'released', this.clock.now());
      return this.tooMany(req, given.name, ip);
    }
    const slot = this.scrypt.enter();
    if (!slot) {
      this.byUser.settle(userKey, 'released', this.clock.now());
      this.byIp.settle(req.ip, 'released', this.clock.now());
      return this.refuse(req, given.name, { status: 429, reason: 'Grid is busy checking passwords; try again in a moment', retryAfterS: 1 });
    }
    const release = await slot;
    let role: Awaited<ReturnType<UserCredentials['verify']>> | undefined;
    try {
      role = await this.users.verify(given.name, given.password);
    } finally {
      release();
      const now = this.clock.now();
      // A success resets this user's count but not the address's: one valid account must not be a way to keep spraying others.
      this.settled(userKey, this.byUser.settle(userKey, role === undefined ? 'released' : role ? 'ok' : 'failed', now));
      this.settled(req.ip, this.byIp.settle(req.ip, role === null ? 'failed' : 'released', now));
    }
    return role ? { kind: 'user', name: given.name, role } : { kind: 'invalid', reason: 'user name or password is not valid' };
  }

  private settled(key: string, after: LimitDecision): void {
    if (!after.allowed) this.logger.warn(`${key}: too many failed logins; credentials from it are refused for ${Math.ceil(after.retryAfterMs / 1000)} s`);
  }

  private tooMany(req: RequestInfo, claimed: string | null, limit: Extract<LimitDecision, { allowed: false }>): Refusal {
    return this.refuse(req, claimed, { status: 429, reason: 'too many failed logins from this address', retryAfterS: Math.ceil(limit.retryAfterMs / 1000) });
  }

  private refuse(req: RequestInfo, actor: string | null, r: { status: 401 | 403 | 429; reason: string; retryAfterS?: number }): Refusal {
    this.bus.emit('auth.refused', { ip: req.ip, actor, method: req.method, url: req.url, status: r.status, reason: r.reason });
    return { ok: false, ...r };
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
