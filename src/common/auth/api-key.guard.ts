import { applyDecorators, CanActivate, ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { ApiSecurity, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Reflector } from '@nestjs/core';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { GRID_CONFIG, type GridConfig } from '../config/config.js';
import { GridErrorCode, GridException } from '../errors/grid.exception.js';

export const MUTATING = 'grid:mutating';
/** Marks a route as changing state: it then needs X-API-Key when one is configured (and Swagger says so). */
export const Mutating = () =>
  applyDecorators(SetMetadata(MUTATING, true), ApiSecurity('api-key'), ApiUnauthorizedResponse({ description: 'X-API-Key missing or wrong (only when Grid runs with GRID_API_KEY)' }));

/** Hashing both sides first gives equal-length buffers, so the compare is constant-time whatever the input length. */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(GRID_CONFIG) private readonly config: GridConfig,
    private readonly reflector: Reflector,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    const key = this.config.apiKey;
    if (!key) return true;
    const mutating = this.reflector.getAllAndOverride<boolean>(MUTATING, [ctx.getHandler(), ctx.getClass()]);
    if (!mutating) return true;
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const given = req.headers['x-api-key'];
    if (typeof given === 'string' && safeEqual(given, key)) return true;
    throw new GridException(GridErrorCode.Unauthorized, given ? 'X-API-Key is not valid' : 'X-API-Key header is required for this route');
  }
}
