// GRID_USERS_FILE: users as code. `users: [{name, role, passwordHash}]`, hashes from
// `npm run grid -- hash-password`; a plain password in the file is refused.
import { parse } from 'yaml';
import type { Role } from '../../common/auth/actor.js';
import { ConfigError, USER_NAME } from '../../common/config/config.js';
import { parseHash } from './password-hash.js';

export interface FileUser {
  name: string;
  role: Role;
  passwordHash: string;
}

export const ROLES: readonly Role[] = ['viewer', 'operator'];

/** Throws a ConfigError naming the file and the entry. */
export function parseUsersFile(text: string, file: string): FileUser[] {
  const fail = (where: string, problem: string) => new ConfigError('GRID_USERS_FILE', `${file}: ${where}: ${problem}`);
  let doc: unknown;
  try {
    doc = parse(text, { uniqueKeys: true, maxAliasCount: 0 });
  } catch (e) {
    throw fail('not valid YAML', (e as Error).message.split('\n')[0]);
  }
  const users = (doc as { users?: unknown } | null)?.users;
  if (!Array.isArray(users)) throw fail('users', 'must be a list of {name, role, passwordHash}');
  const out: FileUser[] = [];
  for (const [i, u] of users.entries()) {
    const o = (u ?? {}) as Record<string, unknown>;
    const where = `users[${i}]${typeof o.name === 'string' ? ` ("${o.name}")` : ''}`;
    if (typeof u !== 'object' || u === null || Array.isArray(u)) throw fail(where, 'must be a mapping {name, role, passwordHash}');
    const extra = Object.keys(o).filter((k) => !['name', 'role', 'passwordHash'].includes(k));
    if (extra.length) throw fail(where, `unknown field ${extra[0]}${extra[0] === 'password' ? ' (store a hash: npm run grid -- hash-password)' : ''}`);
    if (typeof o.name !== 'string' || !USER_NAME.test(o.name)) throw fail(where, `name must match ${USER_NAME.source}`);
    if (out.some((x) => x.name === o.name)) throw fail(where, 'name is used twice');
    if (!ROLES.includes(o.role as Role)) throw fail(where, `role must be one of ${ROLES.join(', ')}`);
    if (typeof o.passwordHash !== 'string') throw fail(where, 'passwordHash is required');
    const parsed = parseHash(o.passwordHash);
    if (typeof parsed === 'string') throw fail(where, `passwordHash ${parsed}`);
    out.push({ name: o.name, role: o.role as Role, passwordHash: o.passwordHash });
  }
  return out;
}
