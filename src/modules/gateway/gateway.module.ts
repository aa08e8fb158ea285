import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { RuntimeModule } from '../runtime/runtime.module.js';
import { SpecsModule } from '../specs/specs.module.js';
import { GatewayService } from './gateway.service.js';
import { GatewayController } from './gateway.controller.js';
import { BroadcastController } from './broadcast.controller.js';
import { TrafficFaults, TrafficRouting, TrafficStats } from './traffic.js';

/**
 * Routes and traffic numbers. Others get the narrow TrafficStats/TrafficRouting/TrafficFaults
 * views; main.ts reaches GatewayService through app.get() (it needs no export)
 * to attach the fast path and the dedicated listener.
 */
@Module({
  imports: [SpecsModule, RuntimeModule, EventsModule, MetricsModule],
  providers: [GatewayService, { provide: TrafficStats, useExisting: GatewayService }, { provide: TrafficRouting, useExisting: GatewayService }, { provide: TrafficFaults, useExisting: GatewayService }],
  controllers: [GatewayController, BroadcastController],
  exports: [TrafficStats, TrafficRouting, TrafficFaults],
})
export class GatewayModule {}
