// Who a request acts as. The auth module's guard decides it and attaches it to the
// request; the audit module reads it for the entry's actor. Neither imports the other.
import type { FastifyRequest } from 'fastify';

export type Role = 'viewer' | 'operator';

export interface Actor {
  /** The API key's name, the user's name, or 'anonymous'. */
  name: string;
  kind: 'api-key' | 'user' | 'anonymous';
  /** What the actor may do; null = nothing was proven (no credentials given or none configured). */
  role: Role | null;
}

export const ANONYMOUS: Actor = { name: 'anonymous', kind: 'anonymous', role: null };

const kActor = Symbol('grid.actor');
type WithActor = { [kActor]?: Actor };

export function setActor(req: FastifyRequest, actor: Actor): void {
  (req.raw as WithActor)[kActor] = actor;
}

export function actorOf(req: FastifyRequest): Actor {
  return (req.raw as WithActor)[kActor] ?? ANONYMOUS;
}

/** The client's address as Grid sees it (the socket's peer; Grid trusts no X-Forwarded-For). */
export function sourceIp(req: FastifyRequest): string {
  return req.raw.socket?.remoteAddress ?? '';
}
