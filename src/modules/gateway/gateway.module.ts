import { Global, Module } from '@nestjs/common';
import { GatewayService } from './gateway.service.js';
import { GatewayController } from './gateway.controller.js';
import { TrafficRouting, TrafficStats } from './traffic.js';
import { RuntimeModule } from '../runtime/runtime.module.js';

@Global()
@Module({
  imports: [RuntimeModule],
  providers: [GatewayService, { provide: TrafficStats, useExisting: GatewayService }, { provide: TrafficRouting, useExisting: GatewayService }],
  controllers: [GatewayController],
  exports: [GatewayService, TrafficStats, TrafficRouting],
})
export class GatewayModule {}
