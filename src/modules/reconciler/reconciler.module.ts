import { Global, Module } from '@nestjs/common';
import { ReconcilerService } from './reconciler.service.js';
import { StateController } from './state.controller.js';
import { RolloutController } from './rollout.controller.js';
import { RuntimeModule } from '../runtime/runtime.module.js';

@Global()
@Module({ imports: [RuntimeModule], providers: [ReconcilerService], controllers: [StateController, RolloutController], exports: [ReconcilerService] })
export class ReconcilerModule {}
