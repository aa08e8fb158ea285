import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { MetricsModule } from '../metrics/metrics.module.js';
import { StorageModule } from '../storage/storage.module.js';
import { AuditController } from './audit.controller.js';
import { AuditInterceptor } from './audit.interceptor.js';
import { AuditService } from './audit.service.js';

/**
 * The tamper-evident audit trail. Its interceptor is global (APP_INTERCEPTOR) and acts on every
 * @Mutating() route; automatic decisions and refused requests come in from the bus. No other
 * module calls it, so it exports nothing.
 */
@Module({ imports: [MetricsModule, StorageModule], providers: [AuditService, { provide: APP_INTERCEPTOR, useClass: AuditInterceptor }], controllers: [AuditController] })
export class AuditModule {}
