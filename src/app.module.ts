import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { ConfigModule } from './common/config/config.module.js';
import type { GridConfig } from './common/config/config.js';
import { ClockModule } from './common/clock/clock.js';
import { EventsCoreModule } from './common/events/events-core.module.js';
import { DatabaseModule } from './common/database/database.module.js';
import { GridExceptionFilter } from './common/errors/grid.exception.js';
import { EventsModule } from './modules/events/events.module.js';
import { MetricsModule } from './modules/metrics/metrics.module.js';
import { RuntimeModule } from './modules/runtime/runtime.module.js';
import { SpecsModule } from './modules/specs/specs.module.js';
import { ReconcilerModule } from './modules/reconciler/reconciler.module.js';
import { ChaosModule } from './modules/chaos/chaos.module.js';
import { GatewayModule } from './modules/gateway/gateway.module.js';
import { AuthModule } from './modules/auth/auth.module.js';
import { AuditModule } from './modules/audit/audit.module.js';
import { AlertsModule } from './modules/alerts/alerts.module.js';
import { FailoverModule } from './modules/failover/failover.module.js';
import { DashboardModule } from './modules/dashboard/dashboard.module.js';

@Module({})
export class AppModule {
  static forRoot(config: GridConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        // Infrastructure (global): config, clock, the event bus, the database, periodic work.
        ConfigModule.forRoot(config),
        ClockModule,
        EventsCoreModule,
        DatabaseModule,
        ScheduleModule.forRoot(),
        // Domain modules: each imports what it uses (see its *.module.ts).
        EventsModule,
        MetricsModule,
        SpecsModule,
        RuntimeModule,
        ReconcilerModule,
        GatewayModule,
        ChaosModule,
        AuthModule,
        AuditModule,
        AlertsModule,
        FailoverModule,
        DashboardModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: GridExceptionFilter }],
    };
  }
}
