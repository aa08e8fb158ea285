import { Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Mutating } from '../../common/auth/api-key.guard.js';
import { intParam, numberParam, requiredName } from '../../common/validation/query.js';
import { GridException } from '../../common/errors/grid.exception.js';
import { CHAOS_MAX_PODS, ChaosService, PAUSE_MAX_SECONDS, POD_TOGGLES, TOGGLE_PARAMS, type PodToggle } from './chaos.service.js';
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
  @ApiQuery({ name: 'version', required: false, description: "only this version's pods (a canary's)" })
  @ApiQuery({ name: 'pod', required: false, description: 'kill exactly this pod (instead of service)' })
  @ApiBadRequestResponse({ description: 'bad parameter' })
  @ApiNotFoundResponse({ description: 'no such service or pod' })
  async kill(@Query() query: Record<string, unknown>, @Query('service') service?: string, @Query('count') count?: string, @Query('pod') pod?: string, @Query('version') version?: string) {
    knownParams(query, KILL_PARAMS);
    if (pod !== undefined) {
      if (service !== undefined || count !== undefined || version !== undefined) throw GridException.invalid('pod', 'give either pod, or service (with count and version), not both');
      return this.chaos.killPod(requiredName(pod, 'pod'));
    }
    const name = requiredName(service, 'service');
    const n = intParam(count, 'count', { min: 1, max: CHAOS_MAX_PODS, def: 1 });
    const v = versionParam(version);
    const { pods } = await this.chaos.killPods({ service: name, version: v, count: n }, 'api');
    return { service: name, ...(v !== undefined ? { version: v } : {}), killed: pods, requested: n };
  }

  @Post('chaos/pause')
  @HttpCode(201)
  @Mutating()
  @ApiOperation({
    summary: 'Freeze pods for a while (SIGSTOP, docker pause), as a hung process: its liveness probe should catch it and Grid restart it',
    description:
      'Process and docker services only (a sim pod has no process to freeze: 400). `count` running pods of the service (Ready ones first), or one `pod`, are frozen for `seconds`, then resumed unless they were restarted meanwhile. The answer is the experiment (id, pods, endsAt); it is listed in GET /chaos/experiments until it ends, and the pods show `paused: true`.',
  })
  @ApiQuery({ name: 'service', required: false, description: 'pause `count` running pods of this service' })
  @ApiQuery({ name: 'count', required: false, description: `1..${CHAOS_MAX_PODS}, at most the running pods (else 400); default 1, or every running pod with all=true` })
  @ApiQuery({ name: 'all', required: false, description: 'true permits freezing every running pod of the service (a full outage); without it such a pause is a 400' })
  @ApiQuery({ name: 'seconds', required: false, description: `1..${PAUSE_MAX_SECONDS}, default 10` })
  @ApiQuery({ name: 'version', required: false, description: "only this version's pods (a canary's)" })
  @ApiQuery({ name: 'pod', required: false, description: 'pause exactly this pod (instead of service)' })
  @ApiBadRequestResponse({ description: 'bad parameter, or a service on the sim runtime' })
  @ApiNotFoundResponse({ description: 'no such service or pod' })
  @ApiCreatedResponse({ description: 'the experiment started, with `requested`' })
  @ApiConflictResponse({ description: 'no running pod to pause (all starting, backing off or already paused)' })
  pause(@Query() query: Record<string, unknown>, @Query('service') service?: string, @Query('count') count?: string, @Query('seconds') seconds?: string, @Query('version') version?: string, @Query('pod') pod?: string, @Query('all') all?: string) {
    knownParams(query, PAUSE_PARAMS);
    const secs = intParam(seconds, 'seconds', { min: 1, max: PAUSE_MAX_SECONDS, def: 10 });
    if (pod !== undefined) {
      if (service !== undefined || count !== undefined || version !== undefined || all !== undefined) throw GridException.invalid('pod', 'give either pod, or service (with count, version and all), not both');
      return this.chaos.pausePod(requiredName(pod, 'pod'), secs, 'api');
    }
    if (all !== undefined && all !== 'true' && all !== 'false') throw GridException.invalid('all', `must be true or false (got "${String(all).slice(0, 40)}")`);
    const n = count === undefined ? undefined : intParam(count, 'count', { min: 1, max: CHAOS_MAX_PODS, def: 1 });
    return this.chaos.pause({ service: requiredName(service, 'service'), version: versionParam(version), count: n, seconds: secs, all: all === 'true' }, 'api');
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

const KILL_PARAMS = ['service', 'count', 'version', 'pod'];
const PAUSE_PARAMS = ['service', 'count', 'seconds', 'version', 'pod', 'all'];

/** A misspelt parameter (`cout=3`) would otherwise be ignored and the experiment run with its default: refuse it, as /chaos/faults does. */
function knownParams(query: Record<string, unknown> | undefined, allowed: readonly string[]): void {
  for (const k of Object.keys(query ?? {})) if (!allowed.includes(k)) throw GridException.invalid(k.slice(0, 40), `is not a parameter of this route (allowed: ${allowed.join(', ')})`);
}

/** A version label as pods carry it (an image tag, VERSION, r<revision>); absent means every version. */
function versionParam(value: unknown): string | undefined {
  if (Array.isArray(value)) throw GridException.invalid('version', `must be given once (got ${value.length} values)`);
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/.test(value)) throw GridException.invalid('version', `must be a version label such as v2 (letters, digits, . _ + -; got "${String(value).slice(0, 40)}")`);
  return value;
}
