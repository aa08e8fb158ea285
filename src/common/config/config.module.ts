import { DynamicModule, Global, Module } from '@nestjs/common';
import { GRID_CONFIG, GridConfig } from './config.js';

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: GridConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: GRID_CONFIG, useValue: config }], exports: [GRID_CONFIG] };
  }
}
