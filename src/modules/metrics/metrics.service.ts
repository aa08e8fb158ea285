import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** One prom-client registry for the whole process. Gauges that mirror state are filled at scrape time. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly desiredReplicas = new Gauge({ name: 'grid_service_desired_replicas', help: 'Desired replicas per service (spec or autoscaler).', labelNames: ['service'], registers: [this.registry] });
  readonly readyReplicas = new Gauge({ name: 'grid_service_ready_replicas', help: 'Ready pods per service.', labelNames: ['service'], registers: [this.registry] });
  readonly pods = new Gauge({ name: 'grid_pods', help: 'Pods per service and phase.', labelNames: ['service', 'phase'], registers: [this.registry] });
  readonly restartsTotal = new Counter({ name: 'grid_pod_restarts_total', help: 'Pod restarts (crash or liveness failure) since Grid started.', labelNames: ['service'], registers: [this.registry] });
  readonly reconcileDuration = new Histogram({
    name: 'grid_reconcile_duration_seconds',
    help: 'Time of one reconcile of one service.',
    buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
    registers: [this.registry],
  });
  readonly resyncDuration = new Histogram({
    name: 'grid_resync_duration_seconds',
    help: 'Time of a full resync pass over every service.',
    buckets: [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly eventsTotal = new Counter({ name: 'grid_events_total', help: 'Events recorded, by type.', labelNames: ['type'], registers: [this.registry] });
  readonly gatewayRequests = new Counter({ name: 'grid_gateway_requests_total', help: 'Requests proxied by the gateway.', labelNames: ['service', 'version', 'code'], registers: [this.registry] });
  readonly gatewayDuration = new Histogram({
    name: 'grid_gateway_request_duration_seconds',
    help: 'Gateway request latency, upstream included.',
    labelNames: ['service', 'version'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // prom-client names these gauges *_total, which promtool rejects (the suffix is for counters);
    // the same numbers are there without it (nodejs_active_handles etc.).
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      this.registry.removeSingleMetric(name);
    }
  }
}
