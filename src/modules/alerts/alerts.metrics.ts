import { Inject, Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { GRID_CONFIG, type GridConfig } from '../../common/config/config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { ChannelName } from './alert-channels.js';
import type { DeliveryHooks } from './delivery-queue.js';

/** Alert deliveries and attempts by channel, fed by the delivery queue's hooks. */
@Injectable()
export class AlertsMetrics implements DeliveryHooks {
  private readonly deliveries: Counter<'channel' | 'outcome'>;
  private readonly attempts: Counter<'channel' | 'result'>;

  constructor(metrics: MetricsService, @Inject(GRID_CONFIG) config: GridConfig) {
    const registers = [metrics.registry];
    this.deliveries = new Counter({ name: 'grid_alert_deliveries_total', help: 'Alert deliveries finished, by channel and outcome (ok, failed after every attempt, dropped from a full queue).', labelNames: ['channel', 'outcome'], registers });
    this.attempts = new Counter({ name: 'grid_alert_delivery_attempts_total', help: 'Attempts to deliver an alert, by channel and result (error attempts are retried with backoff).', labelNames: ['channel', 'result'], registers });
    // Series at 0 for each configured channel, so an alert on increase() has a series before the first failure.
    const channels: ChannelName[] = [...(config.alerts.email ? ['email' as const] : []), ...(config.alerts.webhookUrl ? ['webhook' as const] : [])];
    for (const channel of channels) {
      for (const outcome of ['ok', 'failed', 'dropped']) this.deliveries.inc({ channel, outcome }, 0);
      for (const result of ['ok', 'error']) this.attempts.inc({ channel, result }, 0);
    }
  }

  attempted(channel: ChannelName, ok: boolean): void {
    this.attempts.inc({ channel, result: ok ? 'ok' : 'error' });
  }

  finished(channel: ChannelName, outcome: 'ok' | 'failed' | 'dropped'): void {
    this.deliveries.inc({ channel, outcome });
  }
}
