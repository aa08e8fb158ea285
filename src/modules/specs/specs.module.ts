import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module.js';
import { RuntimeModule } from '../runtime/runtime.module.js';
import { SpecsService } from './specs.service.js';
import { SpecsController } from './specs.controller.js';
import { VolumesController } from './volumes.controller.js';
import { ExportController } from './kubernetes/export.controller.js';

/** Desired state: validation, generations and revisions, /apply. Reads which runtimes exist from the runtime. */
@Module({ imports: [EventsModule, RuntimeModule], providers: [SpecsService], controllers: [SpecsController, VolumesController, ExportController], exports: [SpecsService] })
export class SpecsModule {}
