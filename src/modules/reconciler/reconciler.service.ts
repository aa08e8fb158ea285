import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { GRID_CONFIG, type GridConfig } from '../../common/config/config.js';
import { EventBus } from '../../common/events/event-bus.js';
import { EventsService } from '../events/events.service.js';
import { RuntimeService, type PodTemplate } from '../runtime/runtime.service.js';
import { SpecsService, versionOf, type ServiceRecord } from '../specs/specs.service.js';
import { templateHash } from '../specs/spec-validator.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { plan, type DesiredService, type PodAction } from './plan.js';
import { computeStatus, sameStatus, type ServiceStatus } from './status.js';
import { WorkQueue } from './work-queue.js';

const ERROR_BACKOFF_BASE_MS = 100;
const ERROR_BACKOFF_MAX_MS = 30_000;
const RESYNC_SAMPLES = 200;

/**
 * The level-triggered control loop. Events only enqueue a service name; reconcile(name)
 * reads desired and observed state afresh, asks the pure planner what to do, does it,
 * and writes status only when it changed. A resync every TICK_MS enqueues every key,
 * so a lost event is never a lost reconcile.
 */
@Injectable()
export class ReconcilerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ReconcilerService.name);
  private readonly queue: WorkQueue;
  private readonly statuses = new Map<string, ServiceStatus>();
  private readonly errors = new Map<string, number>();
  private ticker?: NodeJS.Timeout;
  private resyncStart?: number;
  /** Durations of recent full resync passes (ms), for /state and the benchmark. */
  readonly resyncDurations: number[] = [];
  passes = 0;

  constructor(
    private readonly specs: SpecsService,
    private readonly runtime: RuntimeService,
    private readonly events: EventsService,
    private readonly bus: EventBus,
    private readonly metrics: MetricsService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(GRID_CONFIG) private readonly config: GridConfig,
  ) {
    this.queue = new WorkQueue((key) => this.process(key), () => this.clock.now());
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const s of this.specs.list()) {
      if (s.status) this.statuses.set(s.name, s.status as ServiceStatus);
    }
    const adopted = await this.runtime.adopt(async (service, revision) => {
      const s = this.specs.get(service);
      if (!s) return undefined;
      if (s.revision === revision) return this.template(s);
      const m = await this.specs.revisionManifest(service, revision);
      return m ? { service, revision, templateHash: templateHash(m.spec), version: versionOf(m.spec, revision), spec: m.spec } : undefined;
    });
    if (adopted.adopted + adopted.forgotten > 0) this.logger.log(`adopted ${adopted.adopted} pods, forgot ${adopted.forgotten}`);
    this.bus.on('spec.applied', (e) => this.queue.add(e.service));
    this.bus.on('spec.deleted', (e) => this.queue.add(e.service));
    this.bus.on('pod.changed', (e) => this.queue.add(e.service));
    this.bus.on('pod.removed', (e) => this.queue.add(e.service));
    this.resync();
    this.ticker = setInterval(() => this.resync(), this.config.tickMs);
    this.ticker.unref();
  }

  beforeApplicationShutdown(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.queue.stop();
  }

  enqueue(service: string): void {
    this.queue.add(service);
  }

  status(service: string): ServiceStatus | undefined {
    return this.statuses.get(service);
  }

  /** Enqueue every key and time the pass until the queue drains. */
  resync(): void {
    if (this.resyncStart !== undefined) return;
    const keys = new Set([...this.specs.names(), ...this.runtime.services()]);
    if (keys.size === 0) return;
    const start = performance.now();
    this.resyncStart = start;
    for (const k of keys) this.queue.add(k);
    void this.queue.drained().then(() => {
      const ms = performance.now() - start;
      this.resyncStart = undefined;
      this.resyncDurations.push(ms);
      if (this.resyncDurations.length > RESYNC_SAMPLES) this.resyncDurations.shift();
      this.metrics.resyncDuration.observe(ms / 1000);
    });
  }

  /** Resolves once every queued reconcile has run (tests and the benchmark use it). */
  settled(): Promise<void> {
    return this.queue.drained();
  }

  template(s: ServiceRecord): PodTemplate {
    return { service: s.name, revision: s.revision, templateHash: s.templateHash, version: versionOf(s.manifest.spec, s.revision), spec: s.manifest.spec };
  }

  desiredOf(s: ServiceRecord): DesiredService {
    return { name: s.name, generation: s.generation, revision: s.revision, templateHash: s.templateHash, replicas: s.manifest.spec.replicas, spec: s.manifest.spec };
  }

  private process(key: string): void {
    const end = this.metrics.reconcileDuration.startTimer();
    try {
      const requeue = this.reconcile(key);
      this.errors.delete(key);
      if (requeue !== undefined) this.queue.addAfter(key, requeue);
    } catch (e) {
      const n = (this.errors.get(key) ?? 0) + 1;
      this.errors.set(key, n);
      const delay = Math.min(ERROR_BACKOFF_BASE_MS * 2 ** (n - 1), ERROR_BACKOFF_MAX_MS);
      this.logger.error(`reconcile ${key} failed (attempt ${n}, retry in ${delay} ms): ${(e as Error).stack ?? e}`);
      this.queue.addAfter(key, delay);
    } finally {
      end();
      this.passes++;
    }
  }

  /** One pass for one service; returns when to come back, if it must. */
  reconcile(key: string): number | undefined {
    const now = this.clock.now();
    const rec = this.specs.get(key);
    const pods = this.runtime.list(key);
    if (!rec) {
      this.statuses.delete(key);
      const p = plan(undefined, pods, now);
      this.execute(undefined, p.actions);
      return p.requeueAfterMs;
    }
    const desired = this.desiredOf(rec);
    const t = this.template(rec);
    this.runtime.rememberTemplate(t);
    this.runtime.relabel(key, t);
    const p = plan(desired, pods, now);
    this.execute(t, p.actions);
    const after = p.actions.length > 0 ? this.runtime.list(key) : pods;
    const prev = this.statuses.get(key);
    const status = computeStatus(desired, after, prev?.conditions ?? [], now);
    if (!sameStatus(prev, status)) {
      this.statuses.set(key, status);
      this.specs.saveStatus(key, status).catch((e: Error) => this.logger.warn(`saving status of ${key}: ${e.message}`));
    }
    return p.requeueAfterMs;
  }

  private execute(t: PodTemplate | undefined, actions: PodAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'create':
          if (t) this.runtime.create(t, a.count, a.reason, a.explain);
          break;
        case 'delete':
          this.runtime.delete(a.podIds, a.reason, a.explain).catch((e: Error) => this.logger.warn(`delete failed: ${e.message}`));
          break;
        case 'restart':
          this.runtime.restart(a.podId, a.backoffStep, a.reason, a.explain);
          break;
        case 'backoff':
          this.runtime.markBackoff(a.podId, a.until, a.explain);
          break;
      }
    }
  }
}
