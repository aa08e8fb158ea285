import { Global, Module } from '@nestjs/common';
import { SpecsService } from './specs.service.js';
import { SpecsController } from './specs.controller.js';
import { ServiceViews } from './service-views.js';
import { RuntimeModule } from '../runtime/runtime.module.js';

@Global()
@Module({ imports: [RuntimeModule], providers: [SpecsService, ServiceViews], controllers: [SpecsController], exports: [SpecsService, ServiceViews] })
export class SpecsModule {}
