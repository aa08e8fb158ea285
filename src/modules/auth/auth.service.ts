import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Actor } from '../../common/auth/actor.js';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { ConfigError, GRID_CONFIG, type GridConfig } from '../../common/config/config.js';
import { EventBus } from '../../common/events/event-bus.js';
import { decide, needsCredentials, presented, type AccessState, type Proven, type RouteKind } from './access.js';
import { LoginLimiter } from './login-limiter.js';
import { UsersService, type UserCredentials } from './users.service.js';

/** The parts of a request access control looks at (Fastify's request, or a raw one for /docs). */
export interface RequestInfo {
  headers: Record<string, string | string[] | undefined>;
  ip: string;
  method: string;
  url: string;
}

export type AuthOutcome = { ok: true; actor: Actor } | { ok: false; status: 401 | 403 | 429; reason: string; retryAfterS?: number };

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Proves who a request is and applies the rules of access.ts. Failed proofs count against the
 * client's IP in the login limiter; every refusal is emitted as `auth.refused` for the audit log.
 */
@Injectable()
export class AuthService implements OnModuleInit {
  private readonly logger = new Logger('Auth');
  private readonly limiter = new LoginLimiter();
  /** Digests, so every comparison is of equal-length buffers and runs in constant time whatever was sent. */
  private readonly keys: { name: string; digest: Buffer }[];

  constructor(
    @Inject(GRID_CONFIG) private readonly config: GridConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(UsersService) private readonly users: UserCredentials,
    private readonly bus: EventBus,
    private readonly scheduler: SchedulerRegistry,
  ) {
    this.keys = config.apiKeys.map((k) => ({ name: k.name, digest: digest(k.key) }));
  }

  async onModuleInit(): Promise<void> {
    await this.users.load();
    this.bootCheck();
    const timer = setInterval(() => this.limiter.prune(this.clock.now()), 60_000);
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
    const now = this.clock.now();
    if (given.kind !== 'none') {
      const limit = this.limiter.check(req.ip, now);
      if (!limit.allowed) return this.refuse(req, null, { status: 429, reason: 'too many failed logins from this address', retryAfterS: Math.ceil(limit.retryAfterMs / 1000) });
    }
    const proven = await this.prove(given);
    const claimed = given.kind === 'basic' ? given.name : null;
    if (proven.kind === 'invalid') {
      const after = this.limiter.failure(req.ip, now);
      if (!after.allowed) this.logger.warn(`${req.ip}: too many failed logins; credentials from it are refused for ${Math.ceil(after.retryAfterMs / 1000)} s`);
    } else if (proven.kind !== 'none') this.limiter.success(req.ip);
    const d = decide(route, proven, state);
    if (!d.allow) return this.refuse(req, proven.kind === 'api-key' || proven.kind === 'user' ? proven.name : claimed, { status: d.status, reason: d.reason });
    return { ok: true, actor: d.actor };
  }

  private async prove(given: ReturnType<typeof presented>): Promise<Proven> {
    switch (given.kind) {
      case 'none':
        return { kind: 'none' };
      case 'malformed':
        return { kind: 'invalid', reason: given.reason };
      case 'api-key': {
        const d = digest(given.key);
        let name: string | null = null;
        // No early exit: the time does not depend on which key matched.
        for (const k of this.keys) if (timingSafeEqual(k.digest, d)) name = k.name;
        return name ? { kind: 'api-key', name } : { kind: 'invalid', reason: 'API key is not valid' };
      }
      case 'basic': {
        const role = await this.users.verify(given.name, given.password);
        return role ? { kind: 'user', name: given.name, role } : { kind: 'invalid', reason: 'user name or password is not valid' };
      }
    }
  }

  private refuse(req: RequestInfo, actor: string | null, r: { status: 401 | 403 | 429; reason: string; retryAfterS?: number }): AuthOutcome {
    this.bus.emit('auth.refused', { ip: req.ip, actor, method: req.method, url: req.url, status: r.status, reason: r.reason });
    return { ok: false, ...r };
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
