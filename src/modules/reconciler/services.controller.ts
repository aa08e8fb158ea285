import { Controller, Get, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { requiredName } from '../../common/validation/query.js';
import { SpecsService } from '../specs/specs.service.js';
import { ServiceViews } from './service-views.js';

/** Reads of services: desired state from specs beside what the reconciler observed and decided. */
@ApiTags('specs')
@Controller()
export class ServicesController {
  constructor(
    private readonly specs: SpecsService,
    private readonly views: ServiceViews,
  ) {}

  @Get('services')
  @ApiOperation({ summary: 'All services with desired, actual, ready, updated and available replica counts, conditions and creation time' })
  list() {
    return { services: this.specs.list().map((s) => this.views.summary(s)) };
  }

  @Get('services/:name')
  @ApiOperation({ summary: 'One service: desired spec, actual pods, a desired-vs-actual diff, status conditions, the autoscaler\'s last decision and revision history' })
  @ApiOkResponse({ description: '{ name, generation, observedGeneration, revision, version, desired, actual, ready, conditions, spec, pods, inSync, diff, status, autoscaler, history }' })
  @ApiNotFoundResponse({ description: 'no such service' })
  async get(@Param('name') name: string) {
    return this.views.detail(this.specs.require(requiredName(name, 'name')), await this.specs.history(name));
  }
}
