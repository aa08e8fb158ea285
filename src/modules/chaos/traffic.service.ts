import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Agent, request } from 'undici';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { GRID_CONFIG, type GridConfig } from '../../common/config/config.js';
import { EventsService } from '../events/events.service.js';
import { SpecsService } from '../specs/specs.service.js';
import { requestsDue } from './traffic-plan.js';

const TICK_MS = 100;
const REQUEST_TIMEOUT_MS = 5000;

interface Generator {
  service: string;
  path: string;
  rps: number;
  startedAt: number;
  until: number;
  sent: number;
  inFlight: number;
  byStatus: Map<string, number>;
  /** Set once it stopped: records the stop when the last request in flight has its answer. */
  settled?: () => void;
}

export interface TrafficView {
  service: string;
  path: string;
  rps: number;
  startedAt: string;
  until: string;
  sent: number;
  inFlight: number;
  /** Answers by status code ('2xx'… by class), and 'error' for no answer. */
  answers: Record<string, number>;
}

/**
 * Steady GET traffic through Grid's own gateway for a while (POST /chaos/traffic): what a canary's
 * analysis needs to judge, what the gateway's numbers and charts show, without a load tool.
 * One generator per service; each is a SchedulerRegistry interval that ends by itself.
 */
@Injectable()
export class TrafficService implements OnModuleDestroy {
  private readonly generators = new Map<string, Generator>();
  // Its own connections, so a slow service cannot hold up Grid's other outgoing calls.
  private readonly agent = new Agent({ connections: 32, keepAliveTimeout: 4000 });

  constructor(
    private readonly specs: SpecsService,
    private readonly events: EventsService,
    private readonly scheduler: SchedulerRegistry,
    @Inject(GRID_CONFIG) private readonly config: GridConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  start(service: string, rps: number, seconds: number, path: string): TrafficView {
    this.specs.require(service);
    this.stop(service, false);
    const now = this.clock.now();
    const g: Generator = { service, path, rps, startedAt: now, until: now + seconds * 1000, sent: 0, inFlight: 0, byStatus: new Map() };
    this.generators.set(service, g);
    const timer = setInterval(() => this.tick(g), TICK_MS);
    timer.unref();
    this.scheduler.addInterval(jobName(service), timer);
    this.events.record({
      type: 'chaos.traffic',
      service,
      reason: 'TrafficStarted',
      message: `sending ${rps} GET ${path} a second through the gateway to ${service} for ${seconds} s`,
      explain: `Grid sends steady requests to ${service} through its own gateway, so its numbers (rps, error rate, p99) and a canary's analysis have traffic to judge`,
    });
    return this.view(g);
  }

  /** Stops the service's generator; says whether one was running. */
  stop(service: string, record = true): TrafficView | null {
    const g = this.generators.get(service);
    if (!g) return null;
    this.generators.delete(service);
    if (this.scheduler.doesExist('interval', jobName(service))) this.scheduler.deleteInterval(jobName(service));
    if (record) this.recordStop(g, 'stopped on request');
    return this.view(g);
  }

  list(): TrafficView[] {
    return [...this.generators.values()].map((g) => this.view(g));
  }

  onModuleDestroy(): void {
    for (const service of [...this.generators.keys()]) this.stop(service, false);
    void this.agent.close();
  }

  private tick(g: Generator): void {
    const now = this.clock.now();
    if (this.generators.get(g.service) !== g) return;
    if (now >= g.until || !this.specs.get(g.service)) {
      // The full rps × seconds: what the last interval still owed goes out before the stop.
      if (now >= g.until) for (let n = requestsDue(g.until - g.startedAt, g.rps, g.sent, g.inFlight); n > 0; n--) this.send(g);
      this.stop(g.service, false);
      this.recordStop(g, now >= g.until ? 'its time was up' : 'the service is gone');
      return;
    }
    for (let n = requestsDue(now - g.startedAt, g.rps, g.sent, g.inFlight); n > 0; n--) this.send(g);
  }

  private send(g: Generator): void {
    g.sent++;
    g.inFlight++;
    const count = (key: string) => g.byStatus.set(key, (g.byStatus.get(key) ?? 0) + 1);
    request(`${this.config.url}/gateway/${g.service}${g.path}`, { dispatcher: this.agent, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS, headers: { 'user-agent': 'grid-traffic' } })
      .then(async (res) => {
        count(`${Math.floor(res.statusCode / 100)}xx`);
        await res.body.dump();
      })
      .catch(() => count('error'))
      .finally(() => {
        g.inFlight--;
        if (g.inFlight === 0) g.settled?.();
      });
  }

  /** The stop event, with every answer counted: it waits for the requests still in flight. */
  private recordStop(g: Generator, why: string): void {
    if (g.inFlight > 0) {
      g.settled = () => this.recordStop(g, why);
      return;
    }
    g.settled = undefined;
    const v = this.view(g);
    const answers = Object.entries(v.answers).map(([k, n]) => `${n} ${k}`).join(', ') || 'no answers';
    this.events.record({
      type: 'chaos.traffic',
      service: g.service,
      reason: 'TrafficStopped',
      message: `traffic to ${g.service} stopped (${why}): ${g.sent} requests sent, ${answers}`,
      explain: `The generated traffic to ${g.service} ended because ${why}`,
    });
  }

  private view(g: Generator): TrafficView {
    return {
      service: g.service,
      path: g.path,
      rps: g.rps,
      startedAt: new Date(g.startedAt).toISOString(),
      until: new Date(g.until).toISOString(),
      sent: g.sent,
      inFlight: g.inFlight,
      answers: Object.fromEntries([...g.byStatus].sort()),
    };
  }
}

function jobName(service: string): string {
  return `chaos.traffic.${service}`;
}
