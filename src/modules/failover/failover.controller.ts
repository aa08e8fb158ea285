import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Mutating } from '../../common/auth/api-key.guard.js';
import { GridException } from '../../common/errors/grid.exception.js';
import { requiredName } from '../../common/validation/query.js';
import { FailoverService } from './failover.service.js';

@ApiTags('failover')
@Controller('failover')
export class FailoverController {
  constructor(private readonly failover: FailoverService) {}

  @Get()
  @ApiOperation({ summary: 'Failover groups: active target, healthy targets, last switch' })
  list() {
    return { groups: this.failover.list() };
  }

  @Get(':group')
  @ApiOperation({ summary: 'One failover group: each target with health, checks in a row, p50/p99 latency and recent checks; the active one; switches with reasons and numbers' })
  @ApiNotFoundResponse({ description: 'no such failover group' })
  view(@Param('group') group: string) {
    return this.failover.view(requiredName(group, 'group'));
  }

  @Post(':group/switch')
  @HttpCode(200)
  @Mutating()
  @ApiOperation({ summary: 'Switch the active target by hand: to ?to=<target> (a service name or url of the group), or without it to the next healthy target' })
  @ApiQuery({ name: 'to', required: false })
  @ApiOkResponse({ description: '{ group, from, to, message }' })
  @ApiBadRequestResponse({ description: '`to` names no target of the group, the active one, or no other target is healthy' })
  @ApiNotFoundResponse({ description: 'no such failover group' })
  switch(@Param('group') group: string, @Query('to') to?: unknown) {
    if (Array.isArray(to)) throw GridException.invalid('to', `must be given once (got ${to.length} values)`);
    if (to !== undefined && typeof to !== 'string') throw GridException.invalid('to', 'must be a target name');
    return this.failover.switchTo(requiredName(group, 'group'), to === '' ? undefined : to);
  }
}
