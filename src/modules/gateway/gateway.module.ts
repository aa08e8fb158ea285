import { Global, Module } from '@nestjs/common';
import { GatewayService } from './gateway.service.js';
import { GatewayController } from './gateway.controller.js';

@Global()
@Module({ providers: [GatewayService], controllers: [GatewayController], exports: [GatewayService] })
export class GatewayModule {}
