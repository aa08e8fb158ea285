import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { GridErrorCode, GridException } from '../../common/errors/grid.exception.js';
import { intParam, requiredName } from '../../common/validation/query.js';
import { SpecsService } from '../specs/specs.service.js';
import { GatewayService } from './gateway.service.js';
import { noReadyPods } from './http-semantics.js';

@ApiTags('gateway')
@Controller()
export class GatewayController {
  constructor(
    private readonly gateway: GatewayService,
    private readonly specs: SpecsService,
  ) {}

  @Get('lb/select')
  @ApiOperation({ summary: 'Which pod the load balancer would pick next', description: 'Weighted version pick, then round robin over Ready pods only. Advances the round robin like a real request.' })
  @ApiQuery({ name: 'service', required: true })
  @ApiOkResponse({ description: '{ service, pod, version, address }' })
  @ApiBadRequestResponse({ description: 'bad service name' })
  @ApiNotFoundResponse({ description: 'no such service' })
  @ApiServiceUnavailableResponse({ description: 'no Ready pod' })
  select(@Query('service') service?: string) {
    const name = requiredName(service, 'service');
    this.specs.require(name);
    const s = this.gateway.select(name);
    if (!s) throw new GridException(GridErrorCode.Unavailable, noReadyPods(name));
    // Simulated pods have no address.
    return { service: name, pod: s.endpoint.podId, version: s.version, address: s.endpoint.port ? `${s.endpoint.host}:${s.endpoint.port}` : null };
  }

  @Get('traffic')
  @ApiOperation({ summary: "The gateway's per-version numbers for a service: totals, a recent window, weights and ejected pods" })
  @ApiQuery({ name: 'service', required: true })
  @ApiQuery({ name: 'window', required: false, description: 'seconds, 1..300 (default 60)' })
  @ApiOkResponse({ description: '{ service, versions: [{version, weight, pods}], totals, window: { seconds, byVersion: [{version, requests, errors5xx, errorRate, p50Ms, p99Ms}] }, ejected }' })
  @ApiNotFoundResponse({ description: 'no such service' })
  traffic(@Query('service') service?: string, @Query('window') window?: string) {
    const name = requiredName(service, 'service');
    this.specs.require(name);
    const secs = intParam(window, 'window', { min: 1, max: 300, def: 60 });
    return this.gateway.traffic(name, secs);
  }
}
