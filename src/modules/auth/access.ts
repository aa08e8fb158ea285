// Who may do what: the pure rules behind the global guard. No I/O: the guard proves the
// credentials first and passes in what it found.
import type { Actor, Role } from '../../common/auth/actor.js';

/** public: /healthz, /metrics (never need credentials); read: everything else that does not change state; mutate: @Mutating routes. */
export type RouteKind = 'public' | 'read' | 'mutate';

/** What the request carries, before anything is checked. */
export type Presented =
  | { kind: 'none' }
  | { kind: 'api-key'; key: string }
  | { kind: 'basic'; name: string; password: string }
  | { kind: 'malformed'; reason: string };

/** What the credentials turned out to be. */
export type Proven = { kind: 'none' } | { kind: 'invalid'; reason: string } | { kind: 'api-key'; name: string } | { kind: 'user'; name: string; role: Role };

export interface AccessState {
  usersExist: boolean;
  keysExist: boolean;
}

export type Decision = { allow: true; actor: Actor } | { allow: false; status: 401 | 403; reason: string };

/**
 * Does this route need proof of identity at all? Nothing configured: everything is open (and
 * Grid serves only on loopback, see bootCheck). Keys but no users: only mutations need a key,
 * as the seed's lone X_API_KEY meant. Once a user exists, reads need credentials too.
 */
export function needsCredentials(route: RouteKind, s: AccessState): boolean {
  if (route === 'public') return false;
  if (!s.usersExist && !s.keysExist) return false;
  return route === 'mutate' || s.usersExist;
}

export function decide(route: RouteKind, proven: Proven, s: AccessState): Decision {
  if (!needsCredentials(route, s)) return { allow: true, actor: actorOf(proven) };
  switch (proven.kind) {
    case 'none':
      return { allow: false, status: 401, reason: route === 'mutate' ? 'credentials required to change state (API key or an operator\'s Basic auth)' : 'credentials required (Basic auth or API key)' };
    case 'invalid':
      return { allow: false, status: 401, reason: proven.reason };
    case 'api-key':
      return { allow: true, actor: actorOf(proven) };
    case 'user':
      if (route === 'mutate' && proven.role !== 'operator') return { allow: false, status: 403, reason: `user '${proven.name}' is a ${proven.role}; changing state needs an operator` };
      return { allow: true, actor: actorOf(proven) };
  }
}

function actorOf(p: Proven): Actor {
  if (p.kind === 'api-key') return { name: p.name, kind: 'api-key', role: 'operator' };
  if (p.kind === 'user') return { name: p.name, kind: 'user', role: p.role };
  return { name: 'anonymous', kind: 'anonymous', role: null };
}

/** X-API-Key wins over Authorization; `Authorization: Bearer <key>` is a key too; Basic is a user. */
export function presented(headers: Record<string, string | string[] | undefined>): Presented {
  const key = headers['x-api-key'];
  if (Array.isArray(key)) return { kind: 'malformed', reason: 'X-API-Key given more than once' };
  if (key !== undefined) return { kind: 'api-key', key };
  const auth = headers.authorization;
  if (auth === undefined) return { kind: 'none' };
  if (Array.isArray(auth)) return { kind: 'malformed', reason: 'Authorization given more than once' };
  const m = /^(\S+)\s+(\S+)\s*$/.exec(auth);
  const scheme = m?.[1].toLowerCase();
  if (m && scheme === 'bearer') return { kind: 'api-key', key: m[2] };
  if (m && scheme === 'basic') {
    const decoded = Buffer.from(m[2], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { kind: 'basic', name: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    return { kind: 'malformed', reason: 'Basic credentials must be base64 of name:password' };
  }
  return { kind: 'malformed', reason: 'Authorization must be Basic (a user) or Bearer (an API key)' };
}

/**
 * A browser marks where a request comes from (Sec-Fetch-Site, Origin); curl and gridctl send
 * neither. A change of state asked for by another site's page (a form posting YAML to /apply
 * while the browser holds Basic credentials for Grid), or by a sandboxed page (Origin: null, as
 * the pages pods serve through the gateway on Grid's port are), is refused: the answer says why.
 */
export function crossSiteRefusal(headers: Record<string, string | string[] | undefined>): string | null {
  const site = headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return `refused: a request with a body sent by another site's page (Sec-Fetch-Site: ${site})`;
  const origin = headers.origin;
  if (origin === undefined) return null;
  if (typeof origin !== 'string' || origin === 'null') return 'refused: a request with a body sent by a page without an origin of its own (Origin: null)';
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return 'refused: the Origin header is not a URL';
  }
  return host === headers.host ? null : `refused: a request with a body sent by another site's page (Origin ${origin.slice(0, 100)} is not this Grid)`;
}
