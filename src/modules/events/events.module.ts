import { Global, Module } from '@nestjs/common';
import { EventsService } from './events.service.js';
import { EventsController } from './events.controller.js';

@Global()
@Module({ providers: [EventsService], controllers: [EventsController], exports: [EventsService] })
export class EventsModule {}
