import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module.js';
import { RuntimeModule } from '../runtime/runtime.module.js';
import { SpecsModule } from '../specs/specs.module.js';
import { ChaosController } from './chaos.controller.js';
import { ChaosService } from './chaos.service.js';
import { Experiments } from './experiments.js';
import { TrafficService } from './traffic.service.js';

@Module({ imports: [SpecsModule, RuntimeModule, EventsModule], providers: [ChaosService, TrafficService, Experiments], controllers: [ChaosController], exports: [ChaosService, Experiments] })
export class ChaosModule {}
