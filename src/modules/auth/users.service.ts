import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import type { Repository } from 'typeorm';
import type { Role } from '../../common/auth/actor.js';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { GRID_CONFIG, MIN_PASSWORD_LENGTH, USER_NAME, type GridConfig } from '../../common/config/config.js';
import { GridErrorCode, GridException } from '../../common/errors/grid.exception.js';
import { hashPassword, parseHash, verifyPassword, type ParsedHash } from './password-hash.js';
import { UserEntity, type UserSource } from './user.entity.js';
import { parseUsersFile, ROLES } from './users-file.js';

export interface UserView {
  name: string;
  role: Role;
  source: UserSource;
}

/** What the guard needs from the users: loaded at boot, are there any, and is this name:password one of them. */
export interface UserCredentials {
  load(): Promise<void>;
  readonly usersExist: boolean;
  verify(name: string, password: string): Promise<Role | null>;
}

interface Known {
  role: Role;
  source: UserSource;
  hash: ParsedHash;
  stored: string;
}

/** A browser resends Basic auth with every request; an scrypt per request would cost ~50 ms of CPU each. */
const VERIFIED_TTL_MS = 5 * 60_000;

/**
 * Owns the users table. Keeps every user in memory (a handful, read on every request) and
 * writes through to SQLite. Verification runs scrypt even for an unknown name, against a
 * hash made at boot, so the time taken does not tell which names exist.
 */
@Injectable()
export class UsersService implements UserCredentials {
  private readonly logger = new Logger('Auth');
  private readonly users = new Map<string, Known>();
  /** name -> HMAC of the last password that verified, under a per-process key; valid while the stored hash is unchanged. */
  private readonly verified = new Map<string, { tag: Buffer; stored: string; until: number }>();
  private readonly cacheKey = randomBytes(32);
  private dummy!: ParsedHash;

  constructor(
    @InjectRepository(UserEntity) private readonly repo: Repository<UserEntity>,
    @Inject(GRID_CONFIG) private readonly config: GridConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  get usersExist(): boolean {
    return this.users.size > 0;
  }

  /** Loads the table, then makes GRID_USERS_FILE and GRID_ADMIN_PASSWORD true in it (they win over what the API stored). */
  async load(): Promise<void> {
    this.dummy = parseHash(await hashPassword(randomBytes(16).toString('hex'))) as ParsedHash;
    const fileUsers = this.config.usersFile ? parseUsersFile(fs.readFileSync(this.config.usersFile, 'utf8'), this.config.usersFile) : [];
    const now = this.clock.now();
    await this.repo.manager.transaction(async (m) => {
      const repo = m.getRepository(UserEntity);
      // Taking a name out of the file (or unsetting the password) takes the user away: the file is the truth for its users.
      await repo.delete({ source: 'file' });
      await repo.delete({ source: 'env' });
      for (const u of fileUsers) await repo.save({ name: u.name, role: u.role, passwordHash: u.passwordHash, source: 'file', createdAt: now });
      if (this.config.adminPassword !== undefined) {
        if (fileUsers.some((u) => u.name === 'admin')) this.logger.warn(`GRID_ADMIN_PASSWORD overrides the user 'admin' of ${this.config.usersFile}`);
        await repo.save({ name: 'admin', role: 'operator', passwordHash: await hashPassword(this.config.adminPassword), source: 'env', createdAt: now });
      }
    });
    for (const u of await this.repo.find()) {
      const hash = parseHash(u.passwordHash);
      if (typeof hash === 'string') {
        this.logger.error(`user '${u.name}': stored hash unusable (${hash}); the user cannot log in`);
        continue;
      }
      this.users.set(u.name, { role: u.role, source: u.source, hash, stored: u.passwordHash });
    }
  }

  list(): UserView[] {
    return [...this.users].map(([name, u]) => ({ name, role: u.role, source: u.source })).sort((a, b) => a.name.localeCompare(b.name));
  }

  async verify(name: string, password: string): Promise<Role | null> {
    const u = this.users.get(name);
    const tag = createHmac('sha256', this.cacheKey).update(password).digest();
    const hit = this.verified.get(name);
    if (u && hit && hit.stored === u.stored && hit.until > this.clock.now() && timingSafeEqual(hit.tag, tag)) return u.role;
    const ok = await verifyPassword(password, u?.hash ?? this.dummy);
    if (!ok || !u) return null;
    this.verified.set(name, { tag, stored: u.stored, until: this.clock.now() + VERIFIED_TTL_MS });
    return u.role;
  }

  async create(body: unknown): Promise<UserView> {
    const b = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
    if (typeof b.name !== 'string' || !USER_NAME.test(b.name)) throw GridException.invalid('name', `must match ${USER_NAME.source}`);
    if (typeof b.password !== 'string' || b.password.length < MIN_PASSWORD_LENGTH) throw GridException.invalid('password', `must be a string of at least ${MIN_PASSWORD_LENGTH} characters`);
    if (!ROLES.includes(b.role as Role)) throw GridException.invalid('role', `must be one of ${ROLES.join(', ')}`);
    if (this.users.has(b.name)) throw new GridException(GridErrorCode.Conflict, `user '${b.name}' already exists; delete it first to change it`);
    const stored = await hashPassword(b.password);
    // Checked again after the await: two requests for one name must not both succeed.
    if (this.users.has(b.name)) throw new GridException(GridErrorCode.Conflict, `user '${b.name}' already exists; delete it first to change it`);
    const role = b.role as Role;
    this.users.set(b.name, { role, source: 'api', hash: parseHash(stored) as ParsedHash, stored });
    await this.repo.insert({ name: b.name, role, passwordHash: stored, source: 'api', createdAt: this.clock.now() });
    return { name: b.name, role, source: 'api' };
  }

  async remove(name: string): Promise<void> {
    const u = this.users.get(name);
    if (!u) throw GridException.notFound('user', name);
    if (u.source === 'file') throw new GridException(GridErrorCode.Conflict, `user '${name}' is defined in GRID_USERS_FILE; remove it there and restart`);
    if (u.source === 'env') throw new GridException(GridErrorCode.Conflict, `user '${name}' is set by GRID_ADMIN_PASSWORD; unset it and restart`);
    const operatorsLeft = [...this.users].filter(([n, x]) => n !== name && x.role === 'operator').length;
    if (u.role === 'operator' && operatorsLeft === 0 && this.config.apiKeys.length === 0) {
      throw new GridException(GridErrorCode.Conflict, `user '${name}' is the last operator and no API key is configured: nobody could change Grid any more`);
    }
    this.users.delete(name);
    this.verified.delete(name);
    await this.repo.delete({ name });
  }
}
