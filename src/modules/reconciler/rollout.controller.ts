import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Mutating } from '../../common/auth/api-key.guard.js';
import { GridException } from '../../common/errors/grid.exception.js';
import { intParam, requiredName } from '../../common/validation/query.js';
import { SpecsService } from '../specs/specs.service.js';
import { TrafficRouting } from '../gateway/traffic.js';
import { ReconcilerService } from './reconciler.service.js';
import type { RolloutCommand } from './rollout.js';
import { scaleChange } from './scale-change.js';

@ApiTags('rollouts')
@Controller()
export class RolloutController {
  constructor(
    private readonly reconciler: ReconcilerService,
    private readonly specs: SpecsService,
    private readonly routing: TrafficRouting,
  ) {}

  @Get('services/:name/rollout')
  @ApiOperation({ summary: 'Rollout status: strategy, step, weights, analysis results so far, and history' })
  @ApiOkResponse({ description: '{ service, strategy, phase, step, chaos (the current chaos step: kind, phase, pods, waitingFor, secondsLeft), weights, stable, canary, analysis, history }' })
  @ApiNotFoundResponse({ description: 'no such service' })
  get(@Param('name') name: string) {
    const s = this.specs.require(requiredName(name, 'name'));
    const r = this.reconciler.rolloutOf(s.name);
    const steps = s.manifest.spec.rollout.steps;
    return {
      service: s.name,
      strategy: s.manifest.spec.rollout.strategy,
      phase: r?.phase ?? 'Completed',
      pauseReason: r?.pauseReason ?? null,
      // 1-based, as the events count steps; null outside a Canary rollout in progress.
      step: r && r.phase !== 'Completed' && r.strategy === 'Canary' ? { number: Math.min(r.stepIndex + 1, steps.length), of: steps.length, current: steps[r.stepIndex] ?? null } : null,
      // A chaos step in progress: its experiment, the pods it hit, and what the rollout waits for.
      chaos: this.reconciler.chaosOf(s),
      canaryWeight: r?.weight ?? 100,
      weights: this.routing.weightsOf(s.name) ?? null,
      stable: r?.stable ?? null,
      canary: r?.canary ?? null,
      startedAt: r ? new Date(r.startedAt).toISOString() : null,
      abort: r?.abort ?? null,
      analysis: r ? { failures: r.analysis.failures, runs: r.analysis.runs.map((x) => ({ ...x, at: new Date(x.at).toISOString() })) } : null,
      history: this.specs.revisionsOf(s.name).map((x) => ({ revision: x.revision, version: x.version, templateHash: x.templateHash, current: x.revision === s.revision })),
    };
  }

  @Post('services/:name/rollout/promote')
  @HttpCode(200)
  @Mutating()
  @ApiOperation({ summary: 'Promote: go to the next step (Canary) or switch now (BlueGreen); ?full=true skips every remaining step' })
  @ApiQuery({ name: 'full', required: false, description: 'true to promote fully' })
  @ApiConflictResponse({ description: 'no rollout in a state that can be promoted' })
  @ApiNotFoundResponse({ description: 'no such service' })
  promote(@Param('name') name: string, @Query('full') full?: string) {
    if (full !== undefined && full !== 'true' && full !== 'false') throw GridException.invalid('full', `must be true or false (got "${full}")`);
    return this.run(name, full === 'true' ? 'promoteFull' : 'promote');
  }

  @Post('services/:name/rollout/abort')
  @HttpCode(200)
  @Mutating()
  @ApiOperation({ summary: 'Abort: all traffic back to the stable version, new pods removed; the service stays Degraded until retry, undo or a new spec' })
  @ApiConflictResponse({ description: 'no rollout in progress' })
  @ApiNotFoundResponse({ description: 'no such service' })
  abort(@Param('name') name: string) {
    return this.run(name, 'abort');
  }

  @Post('services/:name/rollout/retry')
  @HttpCode(200)
  @Mutating()
  @ApiOperation({ summary: 'Retry an aborted rollout from its first step' })
  @ApiConflictResponse({ description: 'the rollout is not aborted' })
  @ApiNotFoundResponse({ description: 'no such service' })
  retry(@Param('name') name: string) {
    return this.run(name, 'retry');
  }

  @Post('services/:name/rollout/pause')
  @HttpCode(200)
  @Mutating()
  @ApiOperation({ summary: 'Pause the rollout where it is' })
  @ApiConflictResponse({ description: 'no rollout in progress' })
  @ApiNotFoundResponse({ description: 'no such service' })
  pause(@Param('name') name: string) {
    return this.run(name, 'pause');
  }

  @Post('services/:name/rollout/resume')
  @HttpCode(200)
  @Mutating()
  @ApiOperation({ summary: 'Resume a paused rollout (a step pause counts as done)' })
  @ApiConflictResponse({ description: 'the rollout is not paused' })
  @ApiNotFoundResponse({ description: 'no such service' })
  resume(@Param('name') name: string) {
    return this.run(name, 'resume');
  }

  @Post('services/:name/rollout/undo')
  @HttpCode(200)
  @Mutating()
  @ApiOperation({ summary: 'Roll back to an earlier revision (default: the previous one); creates a new generation with that pod template' })
  @ApiQuery({ name: 'toRevision', required: false })
  @ApiBadRequestResponse({ description: 'no such revision kept' })
  @ApiNotFoundResponse({ description: 'no such service' })
  async undo(@Param('name') name: string, @Query('toRevision') toRevision?: string) {
    const n = requiredName(name, 'name');
    this.specs.require(n);
    const rev = toRevision === undefined || toRevision === '' ? undefined : intParam(toRevision, 'toRevision', { min: 1, max: 1_000_000 });
    return { undone: await this.specs.undo(n, rev) };
  }

  @Post('scale')
  @HttpCode(200)
  @Mutating()
  @ApiOperation({ summary: 'Change desired replicas by delta, or set them with replicas (like kubectl scale); on an autoscaled service it moves the current value within min..max and the autoscaler keeps ruling' })
  @ApiQuery({ name: 'service', required: true })
  @ApiQuery({ name: 'delta', required: false, description: 'integer, e.g. 1 or -1; exactly one of delta or replicas' })
  @ApiQuery({ name: 'replicas', required: false, description: 'absolute count 0..1000; exactly one of delta or replicas' })
  @ApiBadRequestResponse({ description: 'bad parameter, both or neither of delta and replicas, or replicas would leave 0..1000' })
  @ApiNotFoundResponse({ description: 'no such service' })
  async scale(@Query('service') service?: string, @Query('delta') delta?: string, @Query('replicas') replicas?: string) {
    const name = requiredName(service, 'service');
    const change = scaleChange(delta, replicas);
    const s = this.specs.require(name);
    if (s.manifest.spec.autoscale) return { service: name, autoscaled: true, ...(await this.reconciler.nudgeAutoscaled(name, change)) };
    const r = await this.specs.scale(name, change);
    return { ...r, replicas: this.specs.require(name).manifest.spec.replicas };
  }

  private async run(name: string, cmd: RolloutCommand) {
    const n = requiredName(name, 'name');
    const r = await this.reconciler.command(n, cmd);
    return { service: n, message: r.message, phase: r.rollout.phase };
  }
}

