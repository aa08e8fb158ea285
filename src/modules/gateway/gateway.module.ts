import { Global, Module } from '@nestjs/common';
import { GatewayService } from './gateway.service.js';
import { GatewayController } from './gateway.controller.js';
import { BroadcastController } from './broadcast.controller.js';
import { TrafficRouting, TrafficStats } from './traffic.js';

@Global()
@Module({
  providers: [GatewayService, { provide: TrafficStats, useExisting: GatewayService }, { provide: TrafficRouting, useExisting: GatewayService }],
  controllers: [GatewayController, BroadcastController],
  exports: [GatewayService, TrafficStats, TrafficRouting],
})
export class GatewayModule {}
