import { Module, OnModuleInit } from '@nestjs/common';
import { MetricsService } from './metrics.service.js';
import { MetricsController } from './metrics.controller.js';
import { EventBus } from '../../common/events/event-bus.js';

/** The registry and the counters fed from events; modules owning other state define their gauges on MetricsService.registry. */
@Module({ providers: [MetricsService], controllers: [MetricsController], exports: [MetricsService] })
export class MetricsModule implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly bus: EventBus,
  ) {}

  onModuleInit(): void {
    this.bus.on('event.recorded', (e) => {
      this.metrics.eventsTotal.inc({ type: e.type });
      if (e.type === 'pod.restarted' && e.service) this.metrics.restartsTotal.inc({ service: e.service });
    });
  }
}
