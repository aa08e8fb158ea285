import { Controller, Get, Inject } from '@nestjs/common';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RuntimeService } from '../runtime/runtime.service.js';
import { podView } from '../runtime/pod-view.js';
import { SpecsService } from '../specs/specs.service.js';
import { ServiceViews } from './service-views.js';
import { ReconcilerService } from './reconciler.service.js';
import { Public } from '../../common/auth/mutating.js';
import { StorageService } from '../storage/storage.service.js';

@ApiTags('state')
@Controller()
export class StateController {
  constructor(
    private readonly specs: SpecsService,
    private readonly runtime: RuntimeService,
    private readonly views: ServiceViews,
    private readonly reconciler: ReconcilerService,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly storage: StorageService,
  ) {}

  @Get('state')
  @ApiOperation({ summary: 'The whole cluster: services (desired and actual) and every pod with its state, restarts, age and readiness' })
  @ApiOkResponse({ description: '{ time, services: [...], pods: [...], runtimes: [{ name, available, detail }], reconciler: {...}, storage: { state, writable, since, reason } }' })
  state() {
    const now = this.clock.now();
    const d = this.reconciler.resyncDurations;
    return {
      time: new Date(now).toISOString(),
      services: this.specs.list().map((s) => this.views.summary(s)),
      pods: this.runtime.all().map((p) => podView(p, now, this.runtime.cpuOf(p))),
      runtimes: this.runtime.runtimes(),
      reconciler: { passes: this.reconciler.passes, lastResyncMs: d.length ? Math.round(d[d.length - 1] * 100) / 100 : null },
      storage: this.storage.view(),
    };
  }

  @Get('healthz')
  @Public()
  @ApiOperation({
    summary: "Grid's own liveness, and whether it can write its data dir",
    description:
      'Always 200 while Grid runs (a restart would not make a full or read-only disk writable). status is "degraded" while the data dir cannot be written (storage.state ReadOnly or Full): changes are refused with 503 meanwhile, traffic and pods carry on. Needs no credentials, so storage.reason leaves out the data dir\'s path (GET /state has it).',
  })
  @ApiOkResponse({ description: '{ status: "ok" | "degraded", storage: { state: "Healthy" | "ReadOnly" | "Full", writable, since, reason } }' })
  health() {
    const storage = this.storage.publicView();
    return { status: storage.writable ? 'ok' : 'degraded', storage };
  }
}
