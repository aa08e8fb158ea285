import { Module } from '@nestjs/common';
import { EventsService } from './events.service.js';
import { EventsController } from './events.controller.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { StorageModule } from '../storage/storage.module.js';

/** The event log with its explanations, /events and the SSE stream. Everything else records through EventsService. */
@Module({ imports: [MetricsModule, StorageModule], providers: [EventsService], controllers: [EventsController], exports: [EventsService] })
export class EventsModule {}
