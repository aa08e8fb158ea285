import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import * as path from 'node:path';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { GRID_CONFIG, type GridConfig } from '../../common/config/config.js';
import { EventsModule } from '../events/events.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { PodEntity } from './pod.entity.js';
import { RuntimeService } from './runtime.service.js';
import { ProbeRunner } from './probe-runner.js';
import { POD_DRIVERS } from './runtime.tokens.js';
import { SimDriver } from './drivers/sim.driver.js';
import { ProcessDriver } from './drivers/process.driver.js';
import { DockerDriver } from './drivers/docker.driver.js';
import { dockerInstanceId } from './drivers/docker-instance.js';
import { RuntimesController } from './runtimes.controller.js';
import { PodsController } from './pods.controller.js';
import type { PodDriver } from './drivers/pod-driver.js';

/**
 * Drivers are plain classes picked by name; Nest only wires them here. Others reach pods
 * through RuntimeService alone; the drivers stay inside. (Config, clock and the event bus are global.)
 */
@Module({
  imports: [TypeOrmModule.forFeature([PodEntity]), EventsModule, MetricsModule],
  providers: [
    ProbeRunner,
    { provide: SimDriver, inject: [CLOCK, GRID_CONFIG], useFactory: (clock: Clock, c: GridConfig) => new SimDriver(clock, c.simStartDelayMs) },
    {
      provide: ProcessDriver,
      inject: [CLOCK, GRID_CONFIG],
      useFactory: (clock: Clock, c: GridConfig) => new ProcessDriver(clock, c.workDir, path.join(c.dataDir, 'logs'), c.podEnv, c.podLogs, dockerInstanceId(c.dataDir)),
    },
    {
      provide: DockerDriver,
      inject: [CLOCK, GRID_CONFIG],
      // Pinged before anything applies: a spec needing docker is refused at once when the socket does not answer.
      useFactory: async (clock: Clock, c: GridConfig) => {
        const d = new DockerDriver(clock, c.dockerSocket, dockerInstanceId(c.dataDir), c.podLogs);
        await d.connect();
        return d;
      },
    },
    { provide: POD_DRIVERS, inject: [SimDriver, ProcessDriver, DockerDriver], useFactory: (...drivers: PodDriver[]) => drivers },
    RuntimeService,
  ],
  controllers: [PodsController, RuntimesController],
  exports: [RuntimeService],
})
export class RuntimeModule {}
