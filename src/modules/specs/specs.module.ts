import { Global, Module } from '@nestjs/common';
import { SpecsService } from './specs.service.js';
import { SpecsController } from './specs.controller.js';
import { ServiceViews } from './service-views.js';

@Global()
@Module({ providers: [SpecsService, ServiceViews], controllers: [SpecsController], exports: [SpecsService, ServiceViews] })
export class SpecsModule {}
