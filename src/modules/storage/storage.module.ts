import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import { StorageService } from './storage.service.js';

/**
 * Whether the data dir takes writes. Writers report failed writes to it; the audit interceptor asks it
 * before every mutation; /healthz and grid_storage_writable show it; its changes go out on the bus.
 */
@Module({ imports: [MetricsModule], providers: [StorageService], exports: [StorageService] })
export class StorageModule {}
