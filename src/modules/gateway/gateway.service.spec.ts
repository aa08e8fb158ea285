import { EventEmitter2 } from '@nestjs/event-emitter';
import { SchedulerRegistry } from '@nestjs/schedule';
import { FakeClock } from '../../common/clock/fake-clock.js';
import type { GridConfig } from '../../common/config/config.js';
import { EventBus } from '../../common/events/event-bus.js';
import type { EventsService } from '../events/events.service.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import type { RuntimeService } from '../runtime/runtime.service.js';
import type { SpecsService } from '../specs/specs.service.js';
import { GatewayService } from './gateway.service.js';

describe(GatewayService.name, () => {
  let bus: EventBus;
  let sut: GatewayService;

  beforeEach(() => {
    bus = new EventBus(new EventEmitter2());
    const clock = new FakeClock(1_000_000);
    sut = new GatewayService(
      { list: () => [] } as unknown as RuntimeService,
      { get: () => undefined } as unknown as SpecsService,
      { record: () => undefined } as unknown as EventsService,
      bus,
      {} as MetricsService,
      clock,
      { gatewayLb: 'round-robin' } as GridConfig,
      new SchedulerRegistry(),
    );
    sut.onModuleInit();
  });

  afterEach(() => sut.onApplicationShutdown());

  it('hands pod.draining the drain of the pod, synchronously', async () => {
    const waits: Array<Promise<void>> = [];
    bus.emit('pod.draining', { service: 'api', podId: 'api-1', timeoutMs: 1000, waitFor: (done) => void waits.push(done) });
    expect(waits).toHaveLength(1);
    await expect(waits[0]).resolves.toBeUndefined();
  });
});
