import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { setActor, sourceIp } from '../../common/auth/actor.js';
import { MUTATING, PUBLIC } from '../../common/auth/mutating.js';
import { GridErrorCode, GridException } from '../../common/errors/grid.exception.js';
import { crossSiteRefusal, type RouteKind } from './access.js';
import { AuthService, type AuthOutcome } from './auth.service.js';

export const REALM = 'Basic realm="Grid", charset="UTF-8"';

const CODE = { 401: GridErrorCode.Unauthorized, 403: GridErrorCode.Forbidden, 429: GridErrorCode.TooManyRequests } as const;

/**
 * Sets the answer's headers for a refusal and returns the exception that carries its status.
 * A script's request (X-Requested-With: XMLHttpRequest, as the dashboard sends) gets no
 * WWW-Authenticate, so the browser shows the page's own sign-in form rather than its prompt.
 */
export function refusal(out: Extract<AuthOutcome, { ok: false }>, setHeader: (name: string, value: string) => void, headers: Record<string, string | string[] | undefined> = {}): GridException {
  if (out.status === 401 && headers['x-requested-with'] !== 'XMLHttpRequest') setHeader('www-authenticate', REALM);
  if (out.retryAfterS !== undefined) setHeader('retry-after', String(out.retryAfterS));
  return new GridException(CODE[out.status], out.reason);
}

/** The one guard every Nest route goes through (APP_GUARD): it decides the request's Actor or refuses. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly auth: AuthService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    const route: RouteKind = this.reflector.getAllAndOverride<boolean>(PUBLIC, targets) ? 'public' : this.reflector.getAllAndOverride<boolean>(MUTATING, targets) ? 'mutate' : 'read';
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    // Any request with a body a page could send blind (POST /export reads, but costs Grid work) is
    // refused cross-site too; GET and HEAD carry no body and answer nothing another origin can read.
    if (route === 'mutate' || (route === 'read' && req.method !== 'GET' && req.method !== 'HEAD')) {
      const crossSite = crossSiteRefusal(req.headers);
      if (crossSite) throw new GridException(GridErrorCode.Forbidden, crossSite);
    }
    const out = await this.auth.authenticate({ headers: req.headers, ip: sourceIp(req), method: req.method, url: req.url }, route);
    if (out.ok) {
      setActor(req, out.actor);
      return true;
    }
    const reply = ctx.switchToHttp().getResponse<FastifyReply>();
    throw refusal(out, (n, v) => reply.header(n, v), req.headers);
  }
}
