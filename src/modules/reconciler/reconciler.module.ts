import { Global, Module } from '@nestjs/common';
import { ReconcilerService } from './reconciler.service.js';
import { StateController } from './state.controller.js';

@Global()
@Module({ providers: [ReconcilerService], controllers: [StateController], exports: [ReconcilerService] })
export class ReconcilerModule {}
