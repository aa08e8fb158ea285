import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ChaosModule } from '../chaos/chaos.module.js';
import { EventsModule } from '../events/events.module.js';
import { GatewayModule } from '../gateway/gateway.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { StorageModule } from '../storage/storage.module.js';
import { RuntimeModule } from '../runtime/runtime.module.js';
import { SpecsModule } from '../specs/specs.module.js';
import { ControllerStateEntity } from './controller-state.entity.js';
import { ControllerStateRepository } from './controller-state.repository.js';
import { ReconcilerMetrics } from './reconciler.metrics.js';
import { ReconcilerService } from './reconciler.service.js';
import { RolloutChaos } from './rollout-chaos.js';
import { RolloutController } from './rollout.controller.js';
import { ServiceViews } from './service-views.js';
import { ServicesController } from './services.controller.js';
import { StateController } from './state.controller.js';

/** The control loop: reads desired state (specs) and pods (runtime), drives pods and gateway weights, owns status, rollout and autoscaler state. */
@Module({
  imports: [TypeOrmModule.forFeature([ControllerStateEntity]), SpecsModule, RuntimeModule, EventsModule, MetricsModule, GatewayModule, StorageModule, ChaosModule],
  providers: [ReconcilerService, ControllerStateRepository, ServiceViews, ReconcilerMetrics, RolloutChaos],
  controllers: [StateController, RolloutController, ServicesController],
  exports: [ReconcilerService, ServiceViews],
})
export class ReconcilerModule {}
