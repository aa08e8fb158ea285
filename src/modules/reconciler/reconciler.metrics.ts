import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service.js';
import { RuntimeService } from '../runtime/runtime.service.js';
import { SpecsService } from '../specs/specs.service.js';
import { ReconcilerService } from './reconciler.service.js';

/** Desired vs observed as Prometheus gauges, computed when /metrics is scraped (nothing is kept in sync). */
@Injectable()
export class ReconcilerMetrics {
  constructor(metrics: MetricsService, specs: SpecsService, runtime: RuntimeService, reconciler: ReconcilerService) {
    const registers = [metrics.registry];
    new Gauge({
      name: 'grid_service_desired_replicas',
      help: 'Desired replicas per service (spec or autoscaler).',
      labelNames: ['service'],
      registers,
      collect() {
        this.reset();
        for (const s of specs.list()) this.set({ service: s.name }, reconciler.replicasOf(s));
      },
    });
    new Gauge({
      name: 'grid_service_ready_replicas',
      help: 'Ready pods per service.',
      labelNames: ['service'],
      registers,
      collect() {
        this.reset();
        for (const s of specs.list()) this.set({ service: s.name }, runtime.list(s.name).filter((p) => p.ready).length);
      },
    });
    new Gauge({
      name: 'grid_pods',
      help: 'Pods per service and phase.',
      labelNames: ['service', 'phase'],
      registers,
      collect() {
        this.reset();
        const phases = new Map<string, number>();
        for (const p of runtime.all()) {
          const k = `${p.service}\u0000${p.phase}`;
          phases.set(k, (phases.get(k) ?? 0) + 1);
        }
        for (const [k, n] of phases) {
          const [service, phase] = k.split('\u0000');
          this.set({ service, phase }, n);
        }
      },
    });
  }
}
