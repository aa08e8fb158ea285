import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import { ReconcilerModule } from '../reconciler/reconciler.module.js';
import { SpecsModule } from '../specs/specs.module.js';
import { AlertsController } from './alerts.controller.js';
import { AlertsMetrics } from './alerts.metrics.js';
import { AlertsService } from './alerts.service.js';

/** DOWN/UP alerts per service and failover group, by email and webhook. Reads services (specs, the reconciler's views) and learns of groups from the bus. */
@Module({ imports: [SpecsModule, ReconcilerModule, MetricsModule], providers: [AlertsService, AlertsMetrics], controllers: [AlertsController] })
export class AlertsModule {}
