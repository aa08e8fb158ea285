import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { GridException } from '../../common/errors/grid.exception.js';
import { intParam, timeParam } from '../../common/validation/query.js';
import { AuditService } from './audit.service.js';

const ACTION = /^[a-z][a-z0-9.-]{0,63}$/;

/** Actor and target names: any printable text up to 200 characters (user names are not DNS labels). */
function textParam(value: unknown, param: string): string | undefined {
  if (Array.isArray(value)) throw GridException.invalid(param, `must be given once (got ${value.length} values)`);
  if (value === undefined || value === '') return undefined;
  const s = String(value);
  if (s.length > 200 || /[\u0000-\u001f\u007f]/.test(s)) throw GridException.invalid(param, 'must be up to 200 printable characters');
  return s;
}

@ApiTags('audit')
@Controller('audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({
    summary: 'Page through the audit trail, newest first',
    description: 'Each entry: id, time, actor, actorKind, sourceIp, action, target, summary, status (null for decisions Grid made itself), prevHash, hash. Pass nextCursor as cursor for the next (older) page.',
  })
  @ApiQuery({ name: 'actor', required: false })
  @ApiQuery({ name: 'action', required: false, description: 'exact, e.g. apply, service.delete, rollout.aborted' })
  @ApiQuery({ name: 'target', required: false })
  @ApiQuery({ name: 'since', required: false, description: 'ISO-8601 time or epoch ms' })
  @ApiQuery({ name: 'limit', required: false, description: '1..500, default 100' })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  @ApiOkResponse({ description: '{ entries: [...], nextCursor: number | null }' })
  @ApiBadRequestResponse({ description: 'a query parameter is invalid; the message names it' })
  list(
    @Query('actor') actor?: string,
    @Query('action') action?: string,
    @Query('target') target?: string,
    @Query('since') since?: string,
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
  ) {
    const act = textParam(action, 'action');
    if (act !== undefined && !ACTION.test(act)) throw GridException.invalid('action', `must be an action such as apply or rollout.promote (got "${act}")`);
    return this.audit.query({
      actor: textParam(actor, 'actor'),
      action: act,
      target: textParam(target, 'target'),
      since: timeParam(since, 'since'),
      limit: intParam(limit, 'limit', { min: 1, max: 500, def: 100 }),
      cursor: cursor === undefined || cursor === '' ? undefined : intParam(cursor, 'cursor', { min: 1, max: Number.MAX_SAFE_INTEGER }),
    });
  }

  @Get('verify')
  @ApiOperation({
    summary: 'Check the hash chain',
    description: 'Recomputes every hash in order. firstBroken names the first entry that was altered, removed (the first missing id) or no longer holds its predecessor\'s hash; head is the last entry Grid wrote, to keep outside Grid as an anchor.',
  })
  @ApiOkResponse({ description: '{ ok, checked, firstBroken?: { id, reason: altered | removed | bad-prev-hash | unknown-entry, detail }, head }' })
  async verify() {
    return { ...(await this.audit.verify()), head: this.audit.headOf() };
  }
}
