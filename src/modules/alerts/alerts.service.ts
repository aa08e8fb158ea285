import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CLOCK, type Clock, type ClockTimer } from '../../common/clock/clock.js';
import { GRID_CONFIG, type GridConfig } from '../../common/config/config.js';
import { GridErrorCode, GridException } from '../../common/errors/grid.exception.js';
import { EventBus } from '../../common/events/event-bus.js';
import { ServiceViews } from '../reconciler/service-views.js';
import { SpecsService } from '../specs/specs.service.js';
import { EmailChannel, WebhookChannel, type AlertChannel } from './alert-channels.js';
import { formatNotification, testMessage } from './alert-format.js';
import { AlertMachine } from './alert-machine.js';
import { AlertsMetrics } from './alerts.metrics.js';
import { DEFAULT_DELIVERY, DeliveryQueue, type DeliveryView } from './delivery-queue.js';

/** The evaluation job's name in the SchedulerRegistry. */
const EVALUATE_JOB = 'alerts.evaluate';
/** Every service is looked at this often, so a change no event announced is still seen. */
const EVALUATE_MS = 1000;
const KEEP_NOTIFICATIONS = 50;

const iso = (t: number | null | undefined) => (t === null || t === undefined ? null : new Date(t).toISOString());

/**
 * Watches services (desired > 0 and ready < desired is DOWN) and failover groups (no healthy
 * target is DOWN), feeds the pure AlertMachine, and hands what it decides to the delivery
 * queue, which sends in the background: nothing here awaits a send.
 */
@Injectable()
export class AlertsService implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger('Alerts');
  private readonly machine: AlertMachine;
  private readonly queue: DeliveryQueue;
  private readonly dirty = new Set<string>();
  private evaluateSoon?: ClockTimer;
  private wake?: ClockTimer;
  /** Desired replicas at the last look, to see a scale from 0 (which restarts the grace, as in the seed). */
  private readonly lastDesired = new Map<string, number>();
  private readonly notifications: Array<{ at: number; subject: string; title: string }> = [];
  private readonly stops: Array<() => void> = [];

  constructor(
    @Inject(GRID_CONFIG) private readonly config: GridConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly bus: EventBus,
    private readonly specs: SpecsService,
    private readonly views: ServiceViews,
    private readonly scheduler: SchedulerRegistry,
    metrics: AlertsMetrics,
  ) {
    const a = config.alerts;
    this.machine = new AlertMachine(a);
    const channels: AlertChannel[] = [];
    if (a.email) channels.push(new EmailChannel(a.email, a.sendTimeoutMs));
    if (a.webhookUrl) channels.push(new WebhookChannel(a.webhookUrl));
    this.queue = new DeliveryQueue(channels, clock, { ...DEFAULT_DELIVERY, maxAttempts: a.sendAttempts, attemptTimeoutMs: a.sendTimeoutMs }, metrics);
  }

  onModuleInit(): void {
    const touch = (service: string) => this.touch(service);
    this.stops.push(
      this.bus.on('pod.changed', (e) => touch(e.service)),
      this.bus.on('pod.removed', (e) => touch(e.service)),
      this.bus.on('spec.applied', (e) => touch(e.service)),
      this.bus.on('spec.deleted', (e) => this.forget(e.service)),
      this.bus.on('group.deleted', (e) => this.forget(e.group)),
      this.bus.on('failover.changed', (e) => {
        const detail = `${e.healthy} of ${e.total} targets healthy (active: ${e.active ?? 'none'})`;
        this.machine.observe('group', e.group, e.healthy === 0 ? 'DOWN' : 'UP', detail, this.clock.now());
        this.flush();
      }),
      this.bus.on('failover.switched', (e) => {
        const how = e.automatic ? 'automatically' : 'by hand';
        this.machine.event('group', e.group, 'failover.switched', `${e.group} switched ${how} from ${e.from ?? 'none'} to ${e.to}: ${e.reason}`, this.clock.now());
        this.flush();
      }),
      this.bus.on('event.recorded', (e) => {
        if (e.type !== 'rollout.aborted' || !e.service) return;
        this.machine.event('service', e.service, 'rollout.aborted', `rollout of ${e.service} aborted: ${e.message}. ${e.explain}`, this.clock.now());
        this.flush();
      }),
    );
    const every = setInterval(() => this.evaluateAll(), EVALUATE_MS);
    every.unref();
    this.scheduler.addInterval(EVALUATE_JOB, every);
    // Debug: scripts and the logging test take 'Grid listening on' as the first line at the default level.
    if (this.queue.channels.length === 0) this.logger.debug('no alert channel configured (SMTP_HOST + EMAIL_TO, or ALERT_WEBHOOK_URL): alerts are shown on GET /alerts only');
  }

  /**
   * Nest calls this on every module before any beforeApplicationShutdown, so before the runtime
   * stops the pods: Grid stopping its own pods is not an outage (every restart paged on-call).
   */
  onModuleDestroy(): void {
    if (this.scheduler.doesExist('interval', EVALUATE_JOB)) this.scheduler.deleteInterval(EVALUATE_JOB);
    for (const stop of this.stops.splice(0)) stop();
    this.clock.clearTimeout(this.evaluateSoon);
    this.clock.clearTimeout(this.wake);
  }

  onApplicationShutdown(): void {
    this.queue.close();
  }

  /** GET /alerts: where alerts go (no credentials), each subject, recent notifications and deliveries. */
  status() {
    const now = this.clock.now();
    const a = this.config.alerts;
    const channel = (name: string) => this.queue.channels.find((c) => c.name === name)?.describe() ?? null;
    return {
      settings: { downConfirmMs: a.downConfirmMs, upConfirmMs: a.upConfirmMs, cooldownMs: a.cooldownMs, startupGraceMs: a.startupGraceMs, sendTimeoutMs: a.sendTimeoutMs, sendAttempts: a.sendAttempts },
      channels: { email: channel('email'), webhook: channel('webhook') },
      publicUiUrl: a.publicUiUrl ?? null,
      subjects: this.machine
        .view(now)
        .sort((x, y) => x.subject.localeCompare(y.subject))
        .map((s) => ({
          ...s,
          since: iso(s.since),
          pending: s.pending && { to: s.pending.to, since: iso(s.pending.since), firesAt: iso(s.pending.firesAt) },
          lastSentAt: iso(s.lastSentAt),
          heldBack: s.heldBack && { until: iso(s.heldBack.until), reason: s.heldBack.reason },
        })),
      notifications: this.notifications.map((n) => ({ at: iso(n.at), subject: n.subject, title: n.title })),
      deliveries: this.queue.list(),
    };
  }

  /** POST /alerts/test: one message through every configured channel, past the state machine. */
  test(): { queued: DeliveryView[] } {
    if (this.queue.channels.length === 0) {
      throw new GridException(GridErrorCode.Conflict, 'no alert channel is configured: set SMTP_HOST and EMAIL_TO for email, or ALERT_WEBHOOK_URL for a webhook');
    }
    return { queued: this.queue.enqueue(testMessage(this.clock.now(), this.config.alerts.publicUiUrl)) };
  }

  /** Looks at a service soon; a burst of pod changes costs one look per service. */
  private touch(service: string): void {
    this.dirty.add(service);
    if (this.evaluateSoon) return;
    this.evaluateSoon = this.clock.setTimeout(() => {
      this.evaluateSoon = undefined;
      const names = [...this.dirty];
      this.dirty.clear();
      for (const name of names) this.evaluate(name);
      this.flush();
    }, 0);
  }

  private evaluateAll(): void {
    for (const name of this.specs.names()) this.evaluate(name);
    this.flush();
  }

  private evaluate(name: string): void {
    const s = this.specs.get(name);
    if (!s) return;
    const now = this.clock.now();
    const { desired, ready } = this.views.summary(s);
    if (this.lastDesired.get(name) === 0 && desired > 0) this.machine.restartGrace(name, now);
    this.lastDesired.set(name, desired);
    this.machine.observe('service', name, desired > 0 && ready < desired ? 'DOWN' : 'UP', `${ready} of ${desired} pods ready`, now);
  }

  private forget(subject: string): void {
    this.machine.remove(subject);
    this.lastDesired.delete(subject);
    this.dirty.delete(subject);
  }

  /** Sends what is due and sets one timer for the next moment something may become due. */
  private flush(): void {
    const now = this.clock.now();
    for (const n of this.machine.due(now)) {
      const m = formatNotification(n, this.config.alerts.publicUiUrl);
      this.logger.log(`alert: ${m.title}`);
      this.notifications.unshift({ at: now, subject: m.subject, title: m.title });
      if (this.notifications.length > KEEP_NOTIFICATIONS) this.notifications.pop();
      if (this.queue.channels.length > 0) this.queue.enqueue(m);
    }
    this.clock.clearTimeout(this.wake);
    const at = this.machine.nextWakeAt();
    this.wake = at === undefined ? undefined : this.clock.setTimeout(() => this.flush(), Math.max(0, at - now));
  }
}
