import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module.js';
import { GatewayModule } from '../gateway/gateway.module.js';
import { RuntimeModule } from '../runtime/runtime.module.js';
import { SpecsModule } from '../specs/specs.module.js';
import { ChaosController } from './chaos.controller.js';
import { ChaosService } from './chaos.service.js';
import { Experiments } from './experiments.js';
import { FaultsController } from './faults.controller.js';
import { TrafficService } from './traffic.service.js';

@Module({ imports: [SpecsModule, RuntimeModule, EventsModule, GatewayModule], providers: [ChaosService, TrafficService, Experiments], controllers: [ChaosController, FaultsController], exports: [ChaosService, Experiments] })
export class ChaosModule {}
