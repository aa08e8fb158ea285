import { Global, Module, OnModuleInit } from '@nestjs/common';
import { MetricsService } from './metrics.service.js';
import { MetricsController } from './metrics.controller.js';
import { EventBus } from '../../common/events/event-bus.js';
import { RuntimeModule } from '../runtime/runtime.module.js';

@Global()
@Module({ imports: [RuntimeModule], providers: [MetricsService], controllers: [MetricsController], exports: [MetricsService] })
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
