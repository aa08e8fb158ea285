import { CallHandler, ExecutionContext, HttpException, Injectable, NestInterceptor } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { catchError, Observable, tap, throwError } from 'rxjs';
import { MUTATING } from '../../common/auth/api-key.guard.js';
import { actorOf, sourceIp } from '../../common/auth/actor.js';
import { errorBody, GridException } from '../../common/errors/grid.exception.js';
import { describeRequest, writesNothing } from './audit-request.js';
import { AuditService } from './audit.service.js';
import { StorageService } from '../storage/storage.service.js';

/**
 * Every @Mutating() route leaves one audit entry (except a dry run while the data dir cannot be
 * written: see writesNothing). Fail closed, in two steps:
 *  1. before the handler, AuditService.checkWritable() proves (synchronously, through the same
 *     connection and statement) that an entry can be written now; if not, the client gets a 503
 *     saying why and the handler never runs, so nothing changes;
 *  2. after the handler, success or error, the entry is appended with the status answered,
 *     before the answer leaves, so a client that sees the answer can find the entry.
 * One entry written after the fact rather than an "intent" entry before and a "result" entry
 * after: the log stays one line per request, and the probe already refuses what would refuse
 * the entry. The gap left (the database failing between the two steps, microseconds apart)
 * keeps the entry in memory and refuses further mutations until it is written.
 * Guards run before interceptors: requests refused by access control are audited from the
 * auth.refused event instead.
 */
export const AUDIT_ID_HEADER = 'x-grid-audit-id';

@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly audit: AuditService,
    private readonly reflector: Reflector,
    private readonly storage: StorageService,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http' || !this.reflector.getAllAndOverride<boolean>(MUTATING, [ctx.getHandler(), ctx.getClass()])) return next.handle();
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const facts = {
      method: req.method,
      route: req.routeOptions?.url ?? req.url.split('?')[0],
      params: (req.params ?? {}) as Record<string, unknown>,
      query: (req.query ?? {}) as Record<string, unknown>,
      body: req.body,
    };
    // A dry run stores nothing, so a full or read-only disk need not refuse it (`gridctl diff` keeps working).
    // Its audit entry is skipped meanwhile rather than kept in memory: it records no change, and a
    // `gridctl diff` in a loop through a long outage would grow that memory (and the error log) without bound.
    if (writesNothing(facts) && !this.storage.writable) return next.handle();
    // A data dir that cannot be written refuses the change before anything runs (and before an audit
    // entry is attempted that could not be written either): a 503 naming the cause (with Retry-After when full).
    this.storage.refuseIfDegraded();
    this.audit.checkWritable();
    const okStatus = this.reflector.get<number | undefined>(HTTP_CODE_METADATA, ctx.getHandler()) ?? (req.method === 'POST' ? 201 : 200);
    const write = (status: number, answer: unknown, error: unknown) => {
      const actor = actorOf(req);
      const entry = this.audit.record({ actor: actor.name, actorKind: actor.kind, sourceIp: sourceIp(req) || null, status, ...describeRequest(facts, answer, error) });
      // The client can show which entry its action made (the dashboard does) and look it up in /audit.
      if (entry) ctx.switchToHttp().getResponse<FastifyReply>().header(AUDIT_ID_HEADER, String(entry.id));
    };
    return next.handle().pipe(
      tap((answer) => write(okStatus, answer, undefined)),
      catchError((e: unknown) => {
        // A write the handler made failed on a read-only or full disk: its transaction rolled back, so the
        // client gets the same 503 as the next request will, not a 500.
        const err = this.storage.refusalFor(e) ?? e;
        write(statusOf(err), undefined, err);
        return throwError(() => err);
      }),
    );
  }
}

/** The status GridExceptionFilter will answer for this error. */
function statusOf(e: unknown): number {
  if (e instanceof GridException) return errorBody(e.code, e.message).statusCode;
  if (e instanceof HttpException) return e.getStatus();
  const s = (e as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' && s >= 400 && s < 500 ? s : 500;
}
