import { Module } from '@nestjs/common';
import { ChaosController } from './chaos.controller.js';
import { ChaosService } from './chaos.service.js';

@Module({ providers: [ChaosService], controllers: [ChaosController] })
export class ChaosModule {}
