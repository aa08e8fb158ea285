import { Module } from '@nestjs/common';
import { EventsService } from './events.service.js';
import { EventsController } from './events.controller.js';
import { EventsRetentionService } from './events-retention.service.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { StorageModule } from '../storage/storage.module.js';

/** The event log with its explanations and its retention, /events and the SSE stream. Everything else records through EventsService. */
@Module({ imports: [MetricsModule, StorageModule], providers: [EventsService, EventsRetentionService], controllers: [EventsController], exports: [EventsService] })
export class EventsModule {}
