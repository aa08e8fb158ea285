import { Controller, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Mutating } from '../../common/auth/api-key.guard.js';
import { intParam, numberParam, requiredName } from '../../common/validation/query.js';
import { ChaosService } from './chaos.service.js';

@ApiTags('chaos')
@Controller()
export class ChaosController {
  constructor(private readonly chaos: ChaosService) {}

  @Post('chaos/kill')
  @HttpCode(200)
  @Mutating()
  @ApiOperation({ summary: 'Kill pods of a service at once (no drain); the reconciler replaces them' })
  @ApiQuery({ name: 'service', required: true })
  @ApiQuery({ name: 'count', required: false, description: '1..1000, default 1' })
  @ApiBadRequestResponse({ description: 'bad parameter' })
  @ApiNotFoundResponse({ description: 'no such service' })
  kill(@Query('service') service?: string, @Query('count') count?: string) {
    return this.chaos.kill(requiredName(service, 'service'), intParam(count, 'count', { min: 1, max: 1000, def: 1 }));
  }

  @Post('load')
  @HttpCode(200)
  @Mutating()
  @ApiOperation({
    summary: 'Simulate CPU load on a simulated service',
    description: 'Sets each ready pod of the service to `cpu` percent now. The total demand stays fixed afterwards, so when the autoscaler adds pods each one gets less, as with real traffic.',
  })
  @ApiQuery({ name: 'service', required: true })
  @ApiQuery({ name: 'cpu', required: true, description: '0..100 percent per pod' })
  @ApiBadRequestResponse({ description: 'bad parameter, or the service does not run on the sim runtime' })
  @ApiNotFoundResponse({ description: 'no such service' })
  load(@Query('service') service?: string, @Query('cpu') cpu?: string) {
    return this.chaos.load(requiredName(service, 'service'), numberParam(cpu, 'cpu', { min: 0, max: 100 }));
  }
}
