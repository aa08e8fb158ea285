import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Upper bounds (seconds) of grid_gateway_request_duration_seconds. */
export const GATEWAY_DURATION_BUCKETS: readonly number[] = Object.freeze([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/**
 * A metric whose values are computed when scraped, in the shape prom-client's
 * Registry formats (what a Counter's or Histogram's get() returns).
 */
class ScrapeTimeMetric {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    private readonly values: () => MetricValue[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  get(): { name: string; help: string; type: string; values: MetricValue[]; aggregator: string } {
    return { name: this.name, help: this.help, type: this.type, values: this.values(), aggregator: this.aggregator };
  }

  /** Registry.resetMetrics(): these mirror monotonic counts kept elsewhere. */
  reset(): void {}
}

/** What a listener's connection cap counts (the gateway's ConnectionCap), read at scrape time. */
export interface ListenerConnections {
  /** Connections open now. */
  readonly size: number;
  /** Connections closed to make room, by reason: never sent a byte, idle keep-alive, receiving a request. */
  readonly shed: readonly number[];
  /** Newcomers refused because every connection had a request in flight. */
  readonly refused: number;
}

/** The reason label of grid_client_connections_shed_total, by index of ListenerConnections.shed. */
const SHED_REASONS = ['unused', 'idle', 'receiving'] as const;

class GatewaySeries {
  readonly codes = new Map<number, number>();
  /** Per-bucket (not cumulative) counts; observations above the last bound are only in count. */
  readonly buckets: Float64Array;
  count = 0;
  sum = 0;
  constructor(
    readonly service: string,
    readonly version: string,
    nb: number,
  ) {
    this.buckets = new Float64Array(nb);
  }
}

/**
 * What prom-client's Counter and Histogram with labels did for the gateway, without
 * hashing label sets on every proxied request: plain counters per (service, version),
 * read at scrape time. Series are never dropped (as with the prom-client metrics).
 */
export class GatewayRequestStats {
  private readonly series = new Map<string, Map<string, GatewaySeries>>();

  constructor(private readonly bounds: readonly number[]) {}

  observe(service: string, version: string, status: number, seconds: number): void {
    let byVersion = this.series.get(service);
    if (byVersion === undefined) this.series.set(service, (byVersion = new Map()));
    let s = byVersion.get(version);
    if (s === undefined) byVersion.set(version, (s = new GatewaySeries(service, version, this.bounds.length)));
    s.codes.set(status, (s.codes.get(status) ?? 0) + 1);
    s.count++;
    s.sum += seconds;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (seconds <= bounds[i]) {
        s.buckets[i]++;
        break;
      }
    }
  }

  counterValues(): MetricValue[] {
    const out: MetricValue[] = [];
    for (const byVersion of this.series.values()) {
      for (const s of byVersion.values()) {
        for (const [code, n] of s.codes) out.push({ value: n, labels: { service: s.service, version: s.version, code: String(code) } });
      }
    }
    return out;
  }

  histogramValues(): MetricValue[] {
    const out: MetricValue[] = [];
    const bucketName = 'grid_gateway_request_duration_seconds_bucket';
    for (const byVersion of this.series.values()) {
      for (const s of byVersion.values()) {
        let acc = 0;
        for (let i = 0; i < this.bounds.length; i++) {
          acc += s.buckets[i];
          out.push({ value: acc, labels: { le: this.bounds[i], service: s.service, version: s.version }, metricName: bucketName });
        }
        out.push({ value: s.count, labels: { le: '+Inf', service: s.service, version: s.version }, metricName: bucketName });
        out.push({ value: s.sum, labels: { service: s.service, version: s.version }, metricName: 'grid_gateway_request_duration_seconds_sum' });
        out.push({ value: s.count, labels: { service: s.service, version: s.version }, metricName: 'grid_gateway_request_duration_seconds_count' });
      }
    }
    return out;
  }
}

/**
 * One prom-client registry for the whole process. Gauges that mirror another module's state
 * are defined by that module on this registry, filled at scrape time (collect()).
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
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
  readonly eventsPruned = new Counter({ name: 'grid_events_pruned_total', help: 'Events deleted by retention (GRID_EVENTS_RETENTION, GRID_EVENTS_RETENTION_COUNT).', registers: [this.registry] });
  readonly persistErrors = new Counter({ name: 'grid_persist_errors_total', help: 'Failed writes to the database (each is retried), by store.', labelNames: ['store'], registers: [this.registry] });
  readonly auditWriteFailures = new Counter({
    name: 'grid_audit_write_failures_total',
    help: 'Audit entries that could not be written, by stage: preflight (the mutating request was refused with 503) or append (kept in memory and retried; mutations are refused until it is written).',
    labelNames: ['stage'],
    registers: [this.registry],
  });
  /** Requests a chaos fault experiment aborted or delayed at the gateway: counted here, not in grid_gateway_requests_total. */
  readonly gatewayFaults = new Counter({
    name: 'grid_gateway_faults_total',
    help: 'Requests the gateway aborted or delayed on purpose (fault injection, POST /chaos/faults), by kind (abort, delay); they are not in grid_gateway_requests_total.',
    labelNames: ['service', 'version', 'kind'],
    registers: [this.registry],
  });
  /** Per-request gateway counts; exported as the two grid_gateway_* metrics below at scrape time. */
  readonly gateway = new GatewayRequestStats(GATEWAY_DURATION_BUCKETS);
  readonly gatewayRequests = new ScrapeTimeMetric('grid_gateway_requests_total', 'Requests proxied by the gateway.', 'counter', () => this.gateway.counterValues(), this.registry);
  readonly gatewayDuration = new ScrapeTimeMetric(
    'grid_gateway_request_duration_seconds',
    'Gateway request latency, upstream included.',
    'histogram',
    () => this.gateway.histogramValues(),
    this.registry,
  );

  private readonly listeners = new Map<string, ListenerConnections>();
  readonly clientConnections = new ScrapeTimeMetric(
    'grid_client_connections',
    'Client connections open, by listener (main: the API and /gateway/*; gateway: GRID_GATEWAY_PORT).',
    'gauge',
    () => [...this.listeners].map(([listener, c]) => ({ value: c.size, labels: { listener } })),
    this.registry,
  );
  readonly clientConnectionsShed = new ScrapeTimeMetric(
    'grid_client_connections_shed_total',
    'Client connections closed to make room at or near the connection cap (GRID_MAX_CONNECTIONS), by listener and reason: unused (never sent a byte), idle (keep-alive), receiving (a request still arriving).',
    'counter',
    () => [...this.listeners].flatMap(([listener, c]) => SHED_REASONS.map((reason, i) => ({ value: c.shed[i] ?? 0, labels: { listener, reason } }))),
    this.registry,
  );
  readonly clientConnectionsRefused = new ScrapeTimeMetric(
    'grid_client_connections_refused_total',
    'New client connections refused at the connection cap because every open one had a request in flight, by listener.',
    'counter',
    () => [...this.listeners].map(([listener, c]) => ({ value: c.refused, labels: { listener } })),
    this.registry,
  );

  /** Exports a listener's connection counts as the grid_client_connections* metrics. */
  watchConnections(listener: string, connections: ListenerConnections): void {
    this.listeners.set(listener, connections);
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Shown at 0 from the start, so an alert on rate() has a series before the first failure.
    for (const store of ['controller_state', 'events', 'pods']) this.persistErrors.inc({ store }, 0);
    for (const stage of ['preflight', 'append']) this.auditWriteFailures.inc({ stage }, 0);
    // prom-client names these gauges *_total, which promtool rejects (the suffix is for counters);
    // the same numbers are there without it (nodejs_active_handles etc.).
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      this.registry.removeSingleMetric(name);
    }
  }
}
