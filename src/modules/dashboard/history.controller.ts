import { Controller, Get, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { requiredName } from '../../common/validation/query.js';
import { SpecsService } from '../specs/specs.service.js';
import { STEP_MS, WINDOW_MS } from './history.js';
import { HistoryService } from './history.service.js';

@ApiTags('services')
@Controller()
export class HistoryController {
  constructor(
    private readonly history: HistoryService,
    private readonly specs: SpecsService,
  ) {}

  @Get('services/:name/history')
  @ApiOperation({
    summary: "A service's last 15 minutes, one sample every 5 s (the dashboard's mini-charts)",
    description: 'Kept in memory only: it starts empty when Grid starts. rps, errorRate and p99Ms are what the gateway saw in the 5 s before each sample.',
  })
  @ApiOkResponse({ description: '{ service, stepSeconds, windowSeconds, points: [{ t, desired, ready, restarts, rps, errorRate, p99Ms }] }' })
  @ApiNotFoundResponse({ description: 'no such service' })
  get(@Param('name') name: string) {
    const service = requiredName(name, 'name');
    this.specs.require(service);
    return { service, stepSeconds: STEP_MS / 1000, windowSeconds: WINDOW_MS / 1000, points: this.history.points(service) };
  }
}
