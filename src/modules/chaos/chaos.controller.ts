import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Mutating } from '../../common/auth/api-key.guard.js';
import { intParam, numberParam, optionalName, requiredName } from '../../common/validation/query.js';
import { GridException } from '../../common/errors/grid.exception.js';
import { ChaosService, POD_TOGGLES, TOGGLE_PARAMS, type PodToggle } from './chaos.service.js';

@ApiTags('chaos')
@Controller()
export class ChaosController {
  constructor(private readonly chaos: ChaosService) {}

  @Post('chaos/kill')
  @HttpCode(200)
  @Mutating()
  @ApiOperation({ summary: 'Kill pods at once (no drain): `count` of a service, or one `pod` by id; the reconciler replaces them' })
  @ApiQuery({ name: 'service', required: false, description: 'kill `count` pods of this service (Ready ones first)' })
  @ApiQuery({ name: 'count', required: false, description: '1..1000, default 1' })
  @ApiQuery({ name: 'pod', required: false, description: 'kill exactly this pod (instead of service)' })
  @ApiBadRequestResponse({ description: 'bad parameter' })
  @ApiNotFoundResponse({ description: 'no such service or pod' })
  kill(@Query('service') service?: string, @Query('count') count?: string, @Query('pod') pod?: string) {
    if (pod !== undefined) {
      if (service !== undefined || count !== undefined) throw GridException.invalid('pod', 'give either pod, or service (and count), not both');
      return this.chaos.killPod(requiredName(pod, 'pod'));
    }
    return this.chaos.kill(requiredName(service, 'service'), intParam(count, 'count', { min: 1, max: 1000, def: 1 }));
  }

  @Get('pods/:id/chaos')
  @ApiOperation({ summary: "A demo-service pod's chaos toggles as it reports them (its GET /chaos)" })
  @ApiNotFoundResponse({ description: 'no such pod' })
  podChaos(@Param('id') id: string) {
    return this.chaos.podChaos(requiredName(id, 'id'));
  }

  @Post('pods/:id/chaos/:toggle')
  @HttpCode(200)
  @Mutating()
  @ApiOperation({
    summary: "Flip one of a demo-service pod's chaos toggles (cpu, corrupt, crash, fail, slow, liveness, unready, reset)",
    description: "Forwarded to that pod's own port (POST /chaos/<toggle>), not through the gateway, so exactly this pod misbehaves. Query parameters passed on: seconds (cpu), rate (fail), ms (slow), fail (liveness), value (unready).",
  })
  @ApiBadRequestResponse({ description: 'unknown toggle or parameter, a pod without a port, or a pod that is not a demo service' })
  @ApiNotFoundResponse({ description: 'no such pod' })
  podToggle(@Param('id') id: string, @Param('toggle') toggle: string, @Query() query: Record<string, unknown>) {
    if (!(POD_TOGGLES as readonly string[]).includes(toggle)) throw GridException.invalid('toggle', `must be one of ${POD_TOGGLES.join(', ')} (got "${toggle.slice(0, 40)}")`);
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(query ?? {})) {
      if (!(TOGGLE_PARAMS as readonly string[]).includes(k)) throw GridException.invalid(k.slice(0, 40), `is not a chaos parameter (allowed: ${TOGGLE_PARAMS.join(', ')})`);
      if (typeof v !== 'string' || !/^[0-9a-z.]{1,16}$/.test(v)) throw GridException.invalid(k, 'must be a number or true/false');
      params[k] = v;
    }
    return this.chaos.podToggle(requiredName(id, 'id'), toggle as PodToggle, params);
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
