import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module.js';
import { GatewayModule } from '../gateway/gateway.module.js';
import { SpecsModule } from '../specs/specs.module.js';
import { FailoverController } from './failover.controller.js';
import { FailoverService } from './failover.service.js';

/** Failover groups at run time: health checks, the state machine's decisions, the gateway alias (through TrafficRouting), /failover. */
@Module({ imports: [SpecsModule, EventsModule, GatewayModule], providers: [FailoverService], controllers: [FailoverController], exports: [FailoverService] })
export class FailoverModule {}
