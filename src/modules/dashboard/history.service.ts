import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { TrafficStats } from '../gateway/traffic.js';
import { ServiceViews } from '../reconciler/service-views.js';
import { RuntimeService } from '../runtime/runtime.service.js';
import { SpecsService } from '../specs/specs.service.js';
import { samplePoint, ServiceHistory, STEP_MS, type HistoryPoint } from './history.js';

const JOB = 'dashboard.history';

/** Samples every service every STEP_MS into a 15-minute ring: the dashboard's mini-charts. */
@Injectable()
export class HistoryService implements OnModuleInit, OnModuleDestroy {
  private readonly history = new ServiceHistory();

  constructor(
    private readonly specs: SpecsService,
    private readonly runtime: RuntimeService,
    private readonly views: ServiceViews,
    private readonly traffic: TrafficStats,
    private readonly scheduler: SchedulerRegistry,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    const timer = setInterval(() => this.sample(), STEP_MS);
    timer.unref();
    this.scheduler.addInterval(JOB, timer);
  }

  onModuleDestroy(): void {
    if (this.scheduler.doesExist('interval', JOB)) this.scheduler.deleteInterval(JOB);
  }

  sample(): void {
    const now = this.clock.now();
    const names = new Set<string>();
    for (const s of this.specs.list()) {
      names.add(s.name);
      const summary = this.views.summary(s);
      const pods = this.runtime.list(s.name);
      const versions = new Set([s.version, ...pods.map((p) => p.version)]);
      const windows = [...versions].map((v) => this.traffic.window(s.name, v, now - STEP_MS));
      const restarts = pods.reduce((n, p) => n + p.restarts, 0);
      this.history.record(s.name, s.uid, samplePoint(now, { desired: summary.desired, ready: summary.ready, restarts }, windows, STEP_MS));
    }
    this.history.retain(names);
  }

  points(service: string): HistoryPoint[] {
    return this.history.points(service);
  }
}
