import type { FastifyInstance } from 'fastify';
import { setActor, sourceIp } from '../../common/auth/actor.js';
import { errorBody } from '../../common/errors/grid.exception.js';
import { refusal } from './auth.guard.js';
import type { AuthService } from './auth.service.js';

/**
 * Routes registered on Fastify directly (Swagger's /docs, /docs-json, /docs-yaml) never pass
 * Nest's guards; they are reads, under the same rules. Matched by the route's pattern, not the
 * raw URL, so no spelling of the path gets around it.
 */
export function guardRawRoutes(fastify: FastifyInstance, auth: AuthService, prefix: string): void {
  fastify.addHook('onRequest', async (req, reply) => {
    if (!req.routeOptions.url?.startsWith(prefix)) return;
    const out = await auth.authenticate({ headers: req.headers, ip: sourceIp(req), method: req.method, url: req.url }, 'read');
    if (out.ok) {
      setActor(req, out.actor);
      return;
    }
    const e = refusal(out, (n, v) => reply.header(n, v), req.headers);
    const body = errorBody(e.code, e.message);
    return reply.status(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
  });
}
