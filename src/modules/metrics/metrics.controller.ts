import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { MetricsService } from './metrics.service.js';
import { RuntimeService } from '../runtime/runtime.service.js';
import { SpecsService } from '../specs/specs.service.js';
import { ReconcilerService } from '../reconciler/reconciler.service.js';

@ApiTags('metrics')
@Controller()
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    private readonly runtime: RuntimeService,
    private readonly specs: SpecsService,
    private readonly reconciler: ReconcilerService,
  ) {}

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({ summary: 'Prometheus metrics', description: 'Process metrics plus grid_* service, pod, reconcile, event and gateway metrics.' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format 0.0.4' })
  async scrape(): Promise<string> {
    const m = this.metrics;
    m.desiredReplicas.reset();
    m.readyReplicas.reset();
    m.pods.reset();
    const phases = new Map<string, number>();
    for (const s of this.specs.list()) {
      m.desiredReplicas.set({ service: s.name }, this.reconciler.desiredOf(s).replicas);
      m.readyReplicas.set({ service: s.name }, 0);
    }
    for (const p of this.runtime.all()) {
      const k = `${p.service}\u0000${p.phase}`;
      phases.set(k, (phases.get(k) ?? 0) + 1);
      if (p.ready) m.readyReplicas.inc({ service: p.service });
    }
    for (const [k, n] of phases) {
      const [service, phase] = k.split('\u0000');
      m.pods.set({ service, phase }, n);
    }
    return m.registry.metrics();
  }
}
