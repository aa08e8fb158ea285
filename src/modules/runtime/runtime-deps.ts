import type { Logger } from '@nestjs/common';
import type { Clock } from '../../common/clock/clock.js';
import type { GridConfig } from '../../common/config/config.js';
import type { EventBus } from '../../common/events/event-bus.js';
import type { EventsService } from '../events/events.service.js';
import type { RuntimeName } from '../specs/spec.types.js';
import type { PodDriver } from './drivers/pod-driver.js';
import type { PodAdmission } from './pod-admission.js';
import type { PodStore } from './pod-store.js';
import type { ProbeRunner } from './probe-runner.js';

/** What the parts of the runtime (lifecycle, adoption, shutdown) share; RuntimeService builds it once. */
export interface RuntimeDeps {
  store: PodStore;
  admission: PodAdmission;
  drivers: ReadonlyMap<RuntimeName, PodDriver>;
  clock: Clock;
  config: GridConfig;
  bus: EventBus;
  events: EventsService;
  probes: ProbeRunner;
  logger: Logger;
}
