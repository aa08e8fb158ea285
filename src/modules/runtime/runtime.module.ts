import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import * as path from 'node:path';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { GRID_CONFIG, type GridConfig } from '../../common/config/config.js';
import { PodEntity } from './pod.entity.js';
import { RuntimeService } from './runtime.service.js';
import { ProbeRunner } from './probe-runner.js';
import { POD_DRIVERS } from './runtime.tokens.js';
import { EventsModule } from '../events/events.module.js';
import { SimDriver } from './drivers/sim.driver.js';
import { ProcessDriver } from './drivers/process.driver.js';
import { PodsController } from './pods.controller.js';
import type { PodDriver } from './drivers/pod-driver.js';

/** Drivers are plain classes picked by name; Nest only wires them here. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([PodEntity]), EventsModule],
  providers: [
    ProbeRunner,
    { provide: SimDriver, inject: [CLOCK, GRID_CONFIG], useFactory: (clock: Clock, c: GridConfig) => new SimDriver(clock, c.simStartDelayMs) },
    {
      provide: ProcessDriver,
      inject: [GRID_CONFIG],
      // Pods inherit Grid's environment minus its own settings and secrets.
      useFactory: (c: GridConfig) => new ProcessDriver(c.workDir, path.join(c.dataDir, 'logs'), podBaseEnv(process.env)),
    },
    { provide: POD_DRIVERS, inject: [SimDriver, ProcessDriver], useFactory: (...drivers: PodDriver[]) => drivers },
    RuntimeService,
  ],
  controllers: [PodsController],
  exports: [RuntimeService, SimDriver, ProcessDriver],
})
export class RuntimeModule {}

const GRID_SECRETS = /^(GRID_|X_API_KEY$|SMTP_|TICK_MS$)/;

export function podBaseEnv(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) if (!GRID_SECRETS.test(k)) out[k] = v;
  return out;
}
