import { Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Mutating } from '../../common/auth/api-key.guard.js';
import { intParam, numberParam, requiredName } from '../../common/validation/query.js';
import { GridException } from '../../common/errors/grid.exception.js';
import { ChaosService, POD_TOGGLES, TOGGLE_PARAMS, type PodToggle } from './chaos.service.js';
import { TrafficService } from './traffic.service.js';
import { MAX_RPS, MAX_SECONDS } from './traffic-plan.js';

@ApiTags('chaos')
@Controller()
export class ChaosController {
  constructor(
    private readonly chaos: ChaosService,
    private readonly traffic: TrafficService,
  ) {}

  @Post('chaos/traffic')
  @HttpCode(200)
  @Mutating()
  @ApiOperation({
    summary: "Send steady GET traffic through the gateway to a service for a while (replaces the service's running generator)",
    description: 'What a canary analysis needs to judge, without a load tool. Requests go to /gateway/<service><path>; GET /chaos/traffic shows the answers by status class. It stops by itself after `seconds`, or when the service is deleted.',
  })
  @ApiQuery({ name: 'service', required: true })
  @ApiQuery({ name: 'rps', required: false, description: `1..${MAX_RPS}, default 10` })
  @ApiQuery({ name: 'seconds', required: false, description: `1..${MAX_SECONDS}, default 60` })
  @ApiQuery({ name: 'path', required: false, description: 'default /; must start with /' })
  @ApiBadRequestResponse({ description: 'bad parameter' })
  @ApiNotFoundResponse({ description: 'no such service' })
  startTraffic(@Query('service') service?: string, @Query('rps') rps?: string, @Query('seconds') seconds?: string, @Query('path') path?: string) {
    const p = path ?? '/';
    if (!/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]{0,200}$/.test(p) || p.split(/[/?]/).some((seg) => seg === '..' || seg === '.')) throw GridException.invalid('path', 'must be an absolute path such as /version (no .. segments, at most 200 characters)');
    return this.traffic.start(requiredName(service, 'service'), intParam(rps, 'rps', { min: 1, max: MAX_RPS, def: 10 }), intParam(seconds, 'seconds', { min: 1, max: MAX_SECONDS, def: 60 }), p);
  }

  @Get('chaos/traffic')
  @ApiOperation({ summary: 'Running traffic generators: rate, requests sent, answers by status class' })
  listTraffic() {
    return { generators: this.traffic.list() };
  }

  @Delete('chaos/traffic')
  @Mutating()
  @ApiOperation({ summary: "Stop a service's traffic generator" })
  @ApiQuery({ name: 'service', required: true })
  @ApiNotFoundResponse({ description: 'no generator runs for that service' })
  stopTraffic(@Query('service') service?: string) {
    const name = requiredName(service, 'service');
    const stopped = this.traffic.stop(name);
    if (!stopped) throw GridException.notFound('traffic generator for service', name);
    return stopped;
  }

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
