import { SchedulerRegistry } from '@nestjs/schedule';
import * as os from 'node:os';
import { openTestStore, removeStore, type TestStore } from '../../../test/utils/database.js';
import { loadConfig } from '../../common/config/config.js';
import { TrafficFaults, TrafficRouting, TrafficStats } from '../gateway/traffic.js';
import type { FaultRule } from '../gateway/faults.js';
import { ChaosService } from '../chaos/chaos.service.js';
import type { WindowStats } from '../gateway/stats.js';
import { SimDriver } from '../runtime/drivers/sim.driver.js';
import { PodEntity } from '../runtime/pod.entity.js';
import { ProbeRunner } from '../runtime/probe-runner.js';
import { RuntimeService } from '../runtime/runtime.service.js';
import { SpecsService } from '../specs/specs.service.js';
import { ControllerStateEntity } from './controller-state.entity.js';
import { ControllerStateRepository } from './controller-state.repository.js';
import { Experiments } from '../chaos/experiments.js';
import { RolloutChaos } from './rollout-chaos.js';
import { ReconcilerService } from './reconciler.service.js';

/**
 * The gateway's side, recorded: the gateway's own specs test routing; here what matters is
 * what the reconciler tells it (weights, preview) and what it reads (traffic numbers).
 */
class RecordingTraffic implements TrafficStats, TrafficRouting, TrafficFaults {
  readonly faults = new Map<string, FaultRule>();
  readonly weights = new Map<string, Record<string, number> | undefined>();
  readonly previews = new Map<string, string | undefined>();
  numbers: WindowStats = { requests: 0, errors5xx: 0, errorRate: 0, p50Ms: 0, p99Ms: 0 };
  window(): WindowStats {
    return this.numbers;
  }
  ejections(): number {
    return 0;
  }
  setWeights(service: string, w: Record<string, number> | undefined): void {
    this.weights.set(service, w);
  }
  setPreview(service: string, v: string | undefined): void {
    this.previews.set(service, v);
  }
  weightsOf(service: string): Record<string, number> | undefined {
    return this.weights.get(service);
  }
  setAlias(): void {
    // Failover's part of the interface; the reconciler never sets aliases.
  }
  addFault(rule: FaultRule): void {
    this.faults.set(rule.id, rule);
  }
  removeFault(id: string) {
    return this.faults.delete(id) ? { seen: 0, aborted: 0, delayed: 0 } : undefined;
  }
  faultCounts(id: string) {
    return this.faults.has(id) ? { seen: 0, aborted: 0, delayed: 0 } : undefined;
  }
}

const START_MS = 300;

function yamlOf(name: string, spec: string): string {
  return `kind: Service\nmetadata: { name: ${name} }\nspec:\n${spec}`;
}

/**
 * The reconciler with its real collaborators — specs and its state repository on a temp
 * SQLite file, the runtime with the simulated driver — all on one fake clock: time moves
 * only when a test says so, and every timer (sim start delays, backoff requeues) follows it.
 */
describe(ReconcilerService.name, () => {
  let store: TestStore;
  let specs: SpecsService;
  let runtime: RuntimeService;
  let traffic: RecordingTraffic;
  let experiments: Experiments;
  let chaos: ChaosService;
  let sut: ReconcilerService;

  beforeEach(async () => {
    store = await openTestStore();
    // The resync tick is a real interval: an hour, so only the test drives passes.
    const config = { ...loadConfig({ TICK_MS: '3600000', GRID_HPA_SYNC_MS: '15000' }, os.tmpdir()), url: 'http://127.0.0.1:1' };
    const sim = new SimDriver(store.clock, START_MS);
    runtime = new RuntimeService([sim], store.clock, config, store.ds.getRepository(PodEntity), store.bus, store.events, new ProbeRunner(store.clock), store.metrics);
    specs = new SpecsService(store.ds, store.clock, store.bus, store.events, runtime, config);
    await specs.onModuleInit();
    const state = new ControllerStateRepository(store.ds.getRepository(ControllerStateEntity), store.clock, store.metrics);
    await state.onModuleInit();
    traffic = new RecordingTraffic();
    experiments = new Experiments(store.clock);
    chaos = new ChaosService(specs, runtime, store.events, experiments, traffic, store.bus, store.clock);
    sut = new ReconcilerService(specs, state, runtime, store.events, store.bus, store.metrics, traffic, traffic, store.clock, config, new SchedulerRegistry(), new RolloutChaos(runtime, experiments, chaos, store.events, store.clock));
    await sut.onApplicationBootstrap();
  });

  afterEach(async () => {
    sut.beforeApplicationShutdown();
    await runtime.beforeApplicationShutdown();
    await store.close();
    removeStore(store.dir);
  });

  /** Moves the clock and lets every reconcile, start and event it caused run to the end. */
  async function advance(ms: number): Promise<void> {
    store.clock.advance(ms);
    for (let i = 0; i < 5; i++) {
      await sut.settled();
      await new Promise((r) => setImmediate(r));
    }
  }

  async function apply(name: string, spec: string): Promise<void> {
    await specs.applyBody(yamlOf(name, spec), 'application/yaml', 'test');
    await advance(0);
  }

  const phases = (service: string) => runtime.list(service).map((p) => p.phase).sort();

  it('starts the desired pods, and reports Available once they are Ready', async () => {
    await apply('api', '  replicas: 3\n  image: local://demo@v1\n');
    expect(phases('api')).toEqual(['Running', 'Running', 'Running']);
    expect(sut.status('api')?.conditions.find((c) => c.type === 'Available')?.status).toBe('False');

    await advance(START_MS);

    expect(phases('api')).toEqual(['Ready', 'Ready', 'Ready']);
    expect(sut.status('api')).toMatchObject({ observedGeneration: 1, readyReplicas: 3 });
    expect(sut.status('api')?.conditions.find((c) => c.type === 'Available')?.status).toBe('True');
  });

  it('replaces a crashed pod at once, then backs off when it keeps crashing', async () => {
    await apply('api', '  replicas: 1\n  image: local://demo@v1\n  env: [{ name: SIM_CRASH_AFTER_MS, value: "100" }]\n  restartBackoff: { initialSeconds: 10, maxSeconds: 60, resetAfterSeconds: 600 }\n');
    const [pod] = runtime.list('api');

    await advance(START_MS + 100);
    expect(runtime.get(pod.id)?.restarts).toBe(1);

    await advance(START_MS + 100);
    expect(runtime.get(pod.id)).toMatchObject({ phase: 'CrashLoopBackOff', restarts: 1 });

    await advance(10_000);
    expect(runtime.get(pod.id)?.restarts).toBe(2);
  });

  it('sends exact canary weights to the gateway, pauses, and promotes on command', async () => {
    const canary = (v: string) => `  replicas: 4\n  image: local://demo@${v}\n  rollout:\n    strategy: Canary\n    steps: [{ setWeight: 25 }, { pause: {} }]\n`;
    await apply('api', canary('v1'));
    await advance(START_MS);

    await apply('api', canary('v2'));
    await advance(START_MS);
    await advance(0);

    expect(traffic.weights.get('api')).toEqual({ v1: 75, v2: 25 });
    expect(sut.rolloutOf('api')).toMatchObject({ phase: 'Paused', stable: { version: 'v1' }, canary: { version: 'v2' } });

    await sut.command('api', 'promote');
    await advance(0);
    await advance(START_MS);
    await advance(START_MS);

    expect(sut.rolloutOf('api')?.phase).toBe('Completed');
    expect(runtime.list('api').every((p) => p.version === 'v2')).toBe(true);
  });

  it('has a rollout command on disk when it answers, so a crash right after cannot undo it', async () => {
    const canary = (v: string) => `  replicas: 2\n  image: local://demo@${v}\n  rollout:\n    strategy: Canary\n    steps: [{ setWeight: 50 }, { pause: {} }]\n`;
    await apply('api', canary('v1'));
    await advance(START_MS);
    await apply('api', canary('v2'));
    await advance(START_MS);
    await advance(0);
    expect(sut.rolloutOf('api')?.phase).toBe('Paused');

    // The fake clock does not move: the write-behind timer cannot have written it.
    const { rollout } = await sut.command('api', 'abort');

    const row = await store.ds.getRepository(ControllerStateEntity).findOneByOrFail({ service: 'api' });
    expect(JSON.parse(row.rollout!)).toEqual(JSON.parse(JSON.stringify(rollout)));
    expect(rollout.phase).toBe('Aborted');
  });

  it('scales out on CPU every HPA sync and says why in its last decision', async () => {
    await apply('api', '  replicas: 2\n  image: local://demo@v1\n  autoscale: { targetCPU: 50, min: 2, max: 6 }\n');
    await advance(START_MS);
    // It decided at the apply, before any pod was Ready, and waits GRID_HPA_SYNC_MS for the next decision.
    expect(sut.autoscaleOf('api')?.last).toMatchObject({ verdict: 'NoReadyPods', current: 2, desired: 2, averageCpu: null });

    runtime.setSimulatedLoad('api', 100);
    await advance(15_000);

    expect(sut.autoscaleOf('api')?.last).toMatchObject({ verdict: 'ScaledUp', averageCpu: 100, current: 2, desired: 4 });
    expect(runtime.list('api')).toHaveLength(4);
  });

  it('holds a scale-down for the stabilization window after the load goes away', async () => {
    await apply('api', '  replicas: 2\n  image: local://demo@v1\n  autoscale: { targetCPU: 50, min: 1, max: 6, behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } }\n');
    await advance(START_MS);
    runtime.setSimulatedLoad('api', 100);
    await advance(15_000);
    await advance(START_MS);
    expect(runtime.list('api').filter((p) => p.ready)).toHaveLength(4);

    runtime.setSimulatedLoad('api', 0);
    for (let t = 15_000; t < 60_000; t += 15_000) {
      await advance(15_000);
      expect(sut.autoscaleOf('api')?.last).toMatchObject({ verdict: 'Stabilizing', current: 4, desired: 4 });
    }
    await advance(30_000);

    expect(sut.autoscaleOf('api')?.last).toMatchObject({ verdict: 'ScaledDown', current: 4, desired: 1 });
  });

  describe.each([
    { how: 'aborted', end: () => sut.command('api', 'abort'), why: 'the rollout of v2 was aborted' },
    { how: 'promoted past the step', end: () => sut.command('api', 'promote'), why: 'the rollout of v2 is past the chaos step that started it' },
    { how: 'completed at once (promote full)', end: () => sut.command('api', 'promoteFull'), why: 'the rollout of v2 is past the chaos step that started it' },
    { how: 'deleted', end: () => specs.delete('api'), why: 'the service was deleted' },
  ])('a rollout $how during its faults step', ({ end, why }) => {
    it('ends the experiment it started at once, long before its own end', async () => {
      const canary = (v: string) => `  replicas: 2
  image: local://demo@${v}
  rollout:
    strategy: Canary
    steps: [{ setWeight: 50 }, { chaos: { faults: { abortPercent: 50 }, duration: 600s } }]
`;
      await apply('api', canary('v1'));
      await advance(START_MS);
      await apply('api', canary('v2'));
      await advance(START_MS);
      await advance(0);
      // An operator's own experiment on the same service (the stable version: one rule per request) is not the rollout's to end.
      const own = chaos.startFaults({ service: 'api', version: 'v1', abortPercent: 10, abortStatus: 503, delayMs: 0, delayPercent: 0, durationSeconds: 600 }, 'api');
      const started = experiments.list({ service: 'api' }).find((e) => e.origin === 'rollout');
      expect(started).toMatchObject({ kind: 'faults', version: 'v2', secondsLeft: 600 });
      expect(traffic.faults.has(started!.id)).toBe(true);
      await advance(1000);
      expect(experiments.get(started!.id)).toBeDefined();

      await end();
      await advance(0);

      expect(experiments.list({ service: 'api' }).filter((e) => e.origin === 'rollout')).toEqual([]);
      expect(experiments.get(own.id)).toBeDefined();
      expect(traffic.faults.has(started!.id)).toBe(false);
      const ended = store.events.query({ service: 'api', type: 'rollout.chaos', limit: 50 }).find((e) => e.reason === 'ChaosEnded');
      expect(ended?.message).toBe(`ended faults experiment ${started!.id} on version v2 with 599 s left: ${why}`);
    });
  });

  it('removes the pods and forgets its state when the service is deleted', async () => {
    await apply('api', '  replicas: 2\n  image: local://demo@v1\n');
    await advance(START_MS);

    await specs.delete('api');
    await advance(0);
    await advance(0);

    expect(runtime.list('api')).toEqual([]);
    expect(sut.status('api')).toBeUndefined();
  });
});
