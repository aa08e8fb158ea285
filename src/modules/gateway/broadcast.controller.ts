import { All, Controller, Param, Req } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { request } from 'undici';
import { Mutating } from '../../common/auth/api-key.guard.js';
import { GridErrorCode, GridException } from '../../common/errors/grid.exception.js';
import { requiredName } from '../../common/validation/query.js';
import { RuntimeService } from '../runtime/runtime.service.js';
import { SpecsService } from '../specs/specs.service.js';

export const BROADCAST_TIMEOUT_MS = 10_000;
export const BROADCAST_BODY_LIMIT = 4096;

export interface BroadcastResult {
  pod: string;
  version: string;
  status?: number;
  /** The pod's answer: parsed when it is complete JSON, else text cut at 4 KiB. */
  body?: unknown;
  truncated?: boolean;
  error?: string;
}

/**
 * The gateway sends a request to one pod; some requests only make sense on all of them
 * (load every pod to watch the autoscaler, reset chaos everywhere). This sends one
 * request straight to every Ready pod, bypassing the load balancer.
 */
@ApiTags('gateway')
@Controller()
export class BroadcastController {
  constructor(
    private readonly runtime: RuntimeService,
    private readonly specs: SpecsService,
  ) {}

  @All('broadcast/:service/*')
  @Mutating()
  @ApiOperation({
    summary: 'Send one request to every Ready pod of a service (process runtime)',
    description: `Method, path + query, body and Content-Type go to each Ready pod directly (not through the load balancer), in parallel, each with a ${BROADCAST_TIMEOUT_MS / 1000} s timeout. E.g. POST /broadcast/web/chaos/cpu?seconds=90 loads every pod.`,
  })
  @ApiOkResponse({ description: `{ service, results: [{ pod, version, status, body (JSON, or text cut at ${BROADCAST_BODY_LIMIT} bytes with truncated: true) } | { pod, version, error }] }` })
  @ApiBadRequestResponse({ description: 'bad service name, or a service of simulated pods (they have no address)' })
  @ApiNotFoundResponse({ description: 'no such service' })
  @ApiServiceUnavailableResponse({ description: 'no Ready pod' })
  async broadcast(@Param('service') service: string, @Req() req: FastifyRequest): Promise<{ service: string; results: BroadcastResult[] }> {
    const name = requiredName(service, 'service');
    this.specs.require(name);
    const pods = this.runtime.list(name);
    if (pods.some((p) => p.runtime === 'sim')) throw GridException.invalid('service', `broadcast needs real pods; '${name}' runs simulated pods, which have no address`);
    const targets = pods.filter((p) => p.ready && p.port);
    if (targets.length === 0) throw new GridException(GridErrorCode.Unavailable, `no ready pods for service '${name}'`);
    // The raw URL keeps the path's encoding and the query exactly as the client sent them; the
    // service segment is cut by position, not by the decoded name's length (a%62c is 'abc').
    const afterPrefix = req.url.slice('/broadcast/'.length);
    const cut = afterPrefix.search(/[/?]/);
    const tail = cut < 0 ? '' : afterPrefix.slice(cut);
    const rest = tail === '' ? '/' : tail.startsWith('?') ? `/${tail}` : tail;
    const body = bodyOf(req.body);
    const contentType = req.headers['content-type'];
    const results = await Promise.all(
      targets.map(async (p): Promise<BroadcastResult> => {
        try {
          const res = await request(`http://127.0.0.1:${p.port}${rest}`, {
            method: req.method as 'GET',
            body,
            headers: contentType ? { 'content-type': contentType } : {},
            signal: AbortSignal.timeout(BROADCAST_TIMEOUT_MS),
          });
          return { pod: p.id, version: p.version, status: res.statusCode, ...(await readCapped(res.body, String(res.headers['content-type'] ?? ''))) };
        } catch (e) {
          return { pod: p.id, version: p.version, error: (e as Error).name === 'TimeoutError' ? `no answer within ${BROADCAST_TIMEOUT_MS / 1000} s` : (e as Error).message };
        }
      }),
    );
    return { service: name, results };
  }
}

/** Every body reaches Grid's routes as text (main.ts registers one text parser for all types), so it is passed on as sent. */
function bodyOf(raw: unknown): string | undefined {
  return typeof raw === 'string' ? raw : undefined;
}

async function readCapped(stream: AsyncIterable<Buffer> & { destroy(): void }, contentType: string): Promise<{ body: unknown; truncated?: true }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of stream) {
    chunks.push(chunk);
    size += chunk.length;
    if (size > BROADCAST_BODY_LIMIT) {
      truncated = true;
      break;
    }
  }
  stream.destroy();
  const text = Buffer.concat(chunks).subarray(0, BROADCAST_BODY_LIMIT).toString('utf8');
  if (truncated) return { body: text, truncated: true };
  if (/\bjson\b/i.test(contentType)) {
    try {
      return { body: JSON.parse(text) };
    } catch {
      // not the JSON it claims to be: show it as text
    }
  }
  return { body: text };
}
