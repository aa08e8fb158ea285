import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import * as http from 'node:http';

export enum GridErrorCode {
  Validation = 'VALIDATION',
  NotFound = 'NOT_FOUND',
  Conflict = 'CONFLICT',
  Unauthorized = 'UNAUTHORIZED',
  Forbidden = 'FORBIDDEN',
  TooManyRequests = 'TOO_MANY_REQUESTS',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  Unavailable = 'UNAVAILABLE',
  BadGateway = 'BAD_GATEWAY',
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
}

const STATUS: Record<GridErrorCode, [number, string]> = {
  [GridErrorCode.Validation]: [400, 'Bad Request'],
  [GridErrorCode.Unauthorized]: [401, 'Unauthorized'],
  [GridErrorCode.Forbidden]: [403, 'Forbidden'],
  [GridErrorCode.TooManyRequests]: [429, 'Too Many Requests'],
  [GridErrorCode.NotFound]: [404, 'Not Found'],
  [GridErrorCode.Conflict]: [409, 'Conflict'],
  [GridErrorCode.PayloadTooLarge]: [413, 'Payload Too Large'],
  [GridErrorCode.UnsupportedMediaType]: [415, 'Unsupported Media Type'],
  [GridErrorCode.Unavailable]: [503, 'Service Unavailable'],
  [GridErrorCode.BadGateway]: [502, 'Bad Gateway'],
};

export interface FieldProblem {
  path: string;
  message: string;
}

/** The one exception Grid's modules throw; GridExceptionFilter maps its code to an HTTP status. */
export class GridException extends Error {
  constructor(
    readonly code: GridErrorCode,
    message: string,
    readonly errors?: FieldProblem[],
    /** Sent as Retry-After: how long a client should wait before trying again (503s of a degraded Grid). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }

  static notFound(kind: string, name: string): GridException {
    return new GridException(GridErrorCode.NotFound, `${kind} '${name}' not found`);
  }

  static invalid(path: string, message: string): GridException {
    return new GridException(GridErrorCode.Validation, `${path}: ${message}`, [{ path, message }]);
  }
}

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  errors?: FieldProblem[];
}

export function errorBody(code: GridErrorCode, message: string, errors?: FieldProblem[]): ErrorBody {
  const [statusCode, error] = STATUS[code];
  return errors ? { statusCode, error, message, errors } : { statusCode, error, message };
}

@Catch()
export class GridExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    let body: ErrorBody;
    if (exception instanceof GridException) {
      body = errorBody(exception.code, exception.message, exception.errors);
    } else if (exception instanceof HttpException || isFastifyError(exception)) {
      // Nest's (unknown route) and Fastify's own client errors (body too large, bad JSON) in Grid's error shape.
      let status = exception instanceof HttpException ? exception.getStatus() : exception.statusCode;
      const r = exception instanceof HttpException ? exception.getResponse() : undefined;
      let message = typeof r === 'string' ? r : String((r as { message?: unknown } | undefined)?.message ?? exception.message);
      if (status === 413) message = 'request body is larger than 1 MiB';
      else if (status === 404 && /^Cannot [A-Z]+ /.test(message)) {
        const request = host.switchToHttp().getRequest<FastifyRequest>();
        const path = (request.url ?? '').split('?')[0];
        const allowed = allowedMethods(request, path);
        // (Its own method listed means the path matched a parameterised route the controller refused: a plain 404.)
        if (allowed.length > 0 && !allowed.includes(request.method)) {
          // The path exists with other methods: 405 with Allow (RFC 9110 15.5.6), as a REST client expects.
          status = 405;
          reply.header('allow', allowed.join(', '));
          message = `${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`;
        } else message = `no route ${message.slice(7).split('?')[0]}; see /docs for the API`;
      }
      body = { statusCode: status, error: http.STATUS_CODES[status] ?? 'Error', message: message.length > 300 ? `${message.slice(0, 300)}…` : message };
    } else {
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
      body = { statusCode: 500, error: 'Internal Server Error', message: 'internal error; see Grid logs' };
    }
    if (reply.sent) return;
    if (exception instanceof GridException && exception.retryAfterSeconds !== undefined) reply.header('retry-after', String(exception.retryAfterSeconds));
    reply.status(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
  }
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** Methods that have a route for this path. */
function allowedMethods(request: FastifyRequest, path: string): string[] {
  const server = request.server as { findRoute?: (o: { method: string; url: string }) => unknown } | undefined;
  if (typeof server?.findRoute !== 'function' || path === '') return [];
  return METHODS.filter((method) => server.findRoute!({ method, url: path }) !== null);
}

function isFastifyError(e: unknown): e is { statusCode: number; message: string } {
  const s = (e as { statusCode?: unknown })?.statusCode;
  return typeof s === 'number' && s >= 400 && s < 500;
}
