import { Module } from '@nestjs/common';
import { GatewayModule } from '../gateway/gateway.module.js';
import { ReconcilerModule } from '../reconciler/reconciler.module.js';
import { RuntimeModule } from '../runtime/runtime.module.js';
import { SpecsModule } from '../specs/specs.module.js';
import { HistoryController } from './history.controller.js';
import { HistoryService } from './history.service.js';

/**
 * The dashboard's server side: the per-service history behind its charts. Its static assets are
 * served by dashboard.static.ts, registered on Fastify in main.ts (they are not Nest routes).
 */
@Module({
  imports: [SpecsModule, RuntimeModule, ReconcilerModule, GatewayModule],
  providers: [HistoryService],
  controllers: [HistoryController],
})
export class DashboardModule {}
