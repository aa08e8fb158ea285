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

  describe('aliases (failover groups)', () => {
    const ready = new Map<string, boolean>([
      ['v1', true],
      ['v2', true],
    ]);
    let aliased: GatewayService;

    beforeEach(() => {
      const pods = (service: string) => (ready.has(service) ? [{ id: `${service}-0`, version: service, runtime: 'process', ready: ready.get(service), port: 10_000 + Number(service.slice(1)) }] : []);
      aliased = new GatewayService(
        { list: pods } as unknown as RuntimeService,
        { get: (name: string) => (ready.has(name) ? { manifest: { spec: { runtime: 'process' } } } : undefined) } as unknown as SpecsService,
        { record: () => undefined } as unknown as EventsService,
        bus,
        {} as MetricsService,
        new FakeClock(1_000_000),
        { gatewayLb: 'round-robin' } as GridConfig,
        new SchedulerRegistry(),
      );
      aliased.onModuleInit();
      for (const service of ready.keys()) bus.emit('spec.applied', { service, uid: service, generation: 1, revision: 1, templateChanged: false });
    });

    afterEach(() => aliased.onApplicationShutdown());

    it.each<[string, Array<{ service: string } | { url: string; host: string; port: number }>, Record<string, boolean>, string | undefined]>([
      ['the first target takes the traffic', [{ service: 'v1' }, { service: 'v2' }], { v1: true, v2: true }, 'v1-0'],
      ['the standby takes it while the first has no Ready pod', [{ service: 'v1' }, { service: 'v2' }], { v1: false, v2: true }, 'v2-0'],
      ['nothing when no target has a Ready pod', [{ service: 'v1' }, { service: 'v2' }], { v1: false, v2: false }, undefined],
      ['a url target', [{ url: 'http://127.0.0.1:9000', host: '127.0.0.1', port: 9000 }, { service: 'v2' }], { v1: true, v2: true }, 'http://127.0.0.1:9000'],
    ])('%s', (_name, targets, readiness, want) => {
      for (const [k, v] of Object.entries(readiness)) ready.set(k, v);
      for (const service of ready.keys()) bus.emit('pod.changed', { service, podId: `${service}-0`, phase: 'Ready', ready: ready.get(service)! });

      aliased.setAlias('web', targets);

      expect([1, 2, 3].map(() => aliased.select('web')?.endpoint.podId)).toEqual([want, want, want]);
    });

    it('follows a switch, and routes nothing once removed', () => {
      for (const service of ready.keys()) ready.set(service, true);
      aliased.setAlias('web', [{ service: 'v1' }, { service: 'v2' }]);
      expect(aliased.select('web')?.endpoint.podId).toBe('v1-0');

      aliased.setAlias('web', [{ service: 'v2' }, { service: 'v1' }]);
      expect(aliased.select('web')?.endpoint.podId).toBe('v2-0');

      aliased.setAlias('web', undefined);
      expect(aliased.select('web')).toBeUndefined();
    });
  });

  it('hands pod.draining the drain of the pod, synchronously', async () => {
    const waits: Array<Promise<void>> = [];
    bus.emit('pod.draining', { service: 'api', podId: 'api-1', timeoutMs: 1000, waitFor: (done) => void waits.push(done) });
    expect(waits).toHaveLength(1);
    await expect(waits[0]).resolves.toBeUndefined();
  });
});
