import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import type BetterSqlite3 from 'better-sqlite3';
import type { DataSource } from 'typeorm';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { GRID_CONFIG, type GridConfig } from '../../common/config/config.js';
import { EventBus } from '../../common/events/event-bus.js';
import { GridException } from '../../common/errors/grid.exception.js';
import { EventsService } from '../events/events.service.js';
import { TrafficRouting, type AliasTarget } from '../gateway/traffic.js';
import type { FailoverGroupSpec, FailoverTarget } from '../specs/spec.types.js';
import { SpecsService, targetName, type GroupRecord } from '../specs/specs.service.js';
import { applySwitch, cooldownUntil, decide, describeLast, manualSwitch, observe, reconfigure, restoredState, standby, type MachineConfig, type MachineState, type Observation, type SavedChoice, type SwitchDecision, type TargetState } from './failover-machine.js';
import { HealthChecker, statusText } from './health-check.js';

/** Recent checks kept per target (for p50/p99 and GET /failover/:group). */
const RECENT = 100;
/** Recent checks shown per target. */
const SHOWN = 20;
const HISTORY = 50;

interface CheckRecord extends Observation {
  at: number;
}

interface TargetRuntime {
  spec: FailoverTarget;
  /** What is checked: the service through Grid's own gateway (what its clients see), or the url directly. */
  checkUrl: string;
  recent: CheckRecord[];
  inFlight: boolean;
}

interface SwitchRecord extends SwitchDecision {
  at: number;
}

interface GroupRuntime {
  record: GroupRecord;
  config: MachineConfig;
  state: MachineState;
  targets: Map<string, TargetRuntime>;
  history: SwitchRecord[];
  /** The alias last given to the gateway ("active standby"), so it is set only when it changes. */
  aliasKey: string;
  changedKey: string;
  job: string;
}

function machineConfig(spec: FailoverGroupSpec): MachineConfig {
  return {
    targets: spec.targets.map(targetName),
    failureThreshold: spec.healthCheck.failureThreshold,
    successThreshold: spec.healthCheck.successThreshold,
    cooldownMs: spec.cooldownSeconds * 1000,
    failback: spec.failback,
  };
}

/** Nearest-rank percentile. */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Failover groups at run time: checks every target of every group on the group's interval,
 * feeds the results to the pure state machine, and carries out its decisions: the gateway's
 * alias for the group, an event with the numbers, and the bus events alerts and audit watch.
 * Owns group state (health, active target, history); the specs stay with SpecsService.
 */
@Injectable()
export class FailoverService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(FailoverService.name);
  private readonly groups = new Map<string, GroupRuntime>();
  private readonly checker = new HealthChecker();
  private closed = false;
  /** The choices saved before the last restart, taken by each group as it starts again. */
  private saved = new Map<string, SavedChoice>();
  private saveChoice?: BetterSqlite3.Statement;
  private forgetChoice?: BetterSqlite3.Statement;

  constructor(
    private readonly specs: SpecsService,
    private readonly events: EventsService,
    private readonly bus: EventBus,
    private readonly routing: TrafficRouting,
    private readonly scheduler: SchedulerRegistry,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(GRID_CONFIG) private readonly config: GridConfig,
    @InjectDataSource() private readonly ds: DataSource,
  ) {}

  onModuleInit(): void {
    // Synchronous on Grid's one connection, as the audit log: a switch is on disk before its answer leaves.
    const db = (this.ds.driver as unknown as { databaseConnection: BetterSqlite3.Database }).databaseConnection;
    this.saveChoice = db.prepare('INSERT OR REPLACE INTO failover_state (name, active, pinned, last_switch_at) VALUES (?, ?, ?, ?)');
    this.forgetChoice = db.prepare('DELETE FROM failover_state WHERE name = ?');
    const rows = db.prepare('SELECT name, active, pinned, last_switch_at AS lastSwitchAt FROM failover_state').all() as { name: string; active: string; pinned: number; lastSwitchAt: number | null }[];
    this.saved = new Map(rows.map((r) => [r.name, { active: r.active, pinned: r.pinned === 1, lastSwitchAt: r.lastSwitchAt }]));
    for (const g of this.specs.groups()) this.start(g);
    // A group deleted just before a crash may have left its choice behind: a new group of that name starts fresh.
    for (const name of [...this.saved.keys()]) this.persist(name, undefined);
    this.bus.on('group.applied', (e) => {
      const g = this.specs.group(e.group);
      if (g) this.start(g);
    });
    this.bus.on('group.deleted', (e) => {
      this.stop(e.group);
      this.persist(e.group, undefined);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    for (const name of [...this.groups.keys()]) this.stop(name);
    await this.checker.close();
  }

  private checkUrl(t: FailoverTarget, path: string): string {
    return 'service' in t ? `${this.config.url}/gateway/${t.service}${path}` : `${t.url}${path}`;
  }

  /** A new group starts on its first target; a changed one keeps what it knows of the targets that stay. */
  private start(record: GroupRecord): void {
    const spec = record.manifest.spec;
    const config = machineConfig(spec);
    const now = this.clock.now();
    const old = this.groups.get(record.name);
    if (old) this.scheduler.deleteInterval(old.job);
    const targets = new Map<string, TargetRuntime>();
    for (const t of spec.targets) {
      const id = targetName(t);
      targets.set(id, { spec: t, checkUrl: this.checkUrl(t, spec.healthCheck.path), recent: old?.targets.get(id)?.recent ?? [], inFlight: false });
    }
    const saved = this.saved.get(record.name);
    this.saved.delete(record.name);
    const g: GroupRuntime = {
      record,
      config,
      state: old ? reconfigure(old.state, config, now) : restoredState(config, saved, now),
      targets,
      history: old?.history ?? [],
      aliasKey: '',
      changedKey: '',
      job: `failover.${record.name}`,
    };
    this.groups.set(record.name, g);
    const timer = setInterval(() => this.tick(g), Math.round(spec.healthCheck.intervalSeconds * 1000));
    timer.unref();
    this.scheduler.addInterval(g.job, timer);
    this.publish(g);
    this.tick(g);
  }

  private stop(name: string): void {
    const g = this.groups.get(name);
    if (!g) return;
    this.groups.delete(name);
    if (this.scheduler.doesExist('interval', g.job)) this.scheduler.deleteInterval(g.job);
    this.routing.setAlias(name, undefined);
  }

  /** Checks every target whose previous check has finished (a slow target is never checked twice at once). */
  private tick(g: GroupRuntime): void {
    for (const [id, t] of g.targets) {
      if (t.inFlight) continue;
      t.inFlight = true;
      this.checker
        .check(t.checkUrl, g.record.manifest.spec.healthCheck)
        .then((obs) => {
          t.inFlight = false;
          if (this.closed || this.groups.get(g.record.name) !== g) return;
          this.observed(g, id, t, obs);
        })
        .catch((e: unknown) => {
          t.inFlight = false;
          this.logger.error(`failover check of ${id} (group ${g.record.name}) failed: ${String(e)}`);
        });
    }
  }

  private observed(g: GroupRuntime, id: string, t: TargetRuntime, obs: Observation): void {
    const now = this.clock.now();
    t.recent.push({ ...obs, at: now });
    if (t.recent.length > RECENT) t.recent.splice(0, t.recent.length - RECENT);
    const before = g.state.targets.find((x) => x.id === id)!.health;
    g.state = observe(g.state, g.config, id, obs, now);
    const after = g.state.targets.find((x) => x.id === id)!;
    if (after.health !== before) this.recordHealth(g, after);
    const d = decide(g.state, g.config, now);
    if (d) this.carryOut(g, d, now);
    this.publish(g);
  }

  /** A target's health changed: an event, as Kubernetes records a probe's verdict, so /events tells why a switch came or did not. */
  private recordHealth(g: GroupRuntime, t: TargetState): void {
    const name = g.record.name;
    const hc = g.record.manifest.spec.healthCheck;
    const healthy = t.health === 'healthy';
    this.events.record({
      type: 'failover.health',
      service: name,
      reason: healthy ? 'TargetHealthy' : 'TargetUnhealthy',
      message: healthy
        ? `failover group ${name}: ${t.id} is healthy after ${t.successes} passed checks in a row (successThreshold ${hc.successThreshold})`
        : `failover group ${name}: ${t.id} is unhealthy after ${t.failures} failed checks in a row (failureThreshold ${hc.failureThreshold}; last: ${describeLast(t.last)})`,
      explain: healthy
        ? `A target counts as healthy again only after ${hc.successThreshold} checks in a row pass, so one lucky check does not bring it back`
        : `A target counts as unhealthy after ${hc.failureThreshold} checks in a row fail; if it is the active one, traffic moves to the first healthy target in priority order`,
    });
  }

  private carryOut(g: GroupRuntime, d: SwitchDecision, now: number): void {
    g.state = applySwitch(g.state, d, now);
    this.persist(g.record.name, g.state);
    g.history.push({ ...d, at: now });
    if (g.history.length > HISTORY) g.history.splice(0, g.history.length - HISTORY);
    const name = g.record.name;
    const hc = g.record.manifest.spec.healthCheck;
    const numbers = Object.entries(d.numbers)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    this.events.record({
      type: 'failover.switched',
      service: name,
      reason: d.reason,
      message: `failover group ${name}: ${d.from} -> ${d.to}: ${d.message}`,
      explain:
        `Grid checks GET ${hc.path} on every target of ${name} every ${hc.intervalSeconds}s (a check fails on a connection error, no answer within ${hc.timeoutSeconds}s, a status outside ${statusText(hc.expectStatus)}` +
        `${hc.maxLatencyMs !== undefined ? `, latency above ${hc.maxLatencyMs} ms` : ''}${hc.expectJson ? `, a body without ${JSON.stringify(hc.expectJson)}` : ''}). ${d.message}. ` +
        `Traffic to /gateway/${name}/ now goes to ${d.to}; no automatic switch follows within ${g.record.manifest.spec.cooldownSeconds}s (${numbers}).`,
    });
    this.bus.emit('failover.switched', { group: name, from: d.from, to: d.to, automatic: d.automatic, reason: `${d.reason}: ${d.message}` });
  }

  /** The active target outlives Grid: a crash right after a switch must not undo it. */
  private persist(name: string, state: MachineState | undefined): void {
    try {
      if (state) this.saveChoice?.run(name, state.active, state.pinned ? 1 : 0, state.lastSwitchAt);
      else this.forgetChoice?.run(name);
    } catch (e) {
      this.logger.error(`could not save the active target of failover group ${name}: ${(e as Error).message}`);
    }
  }

  /** Tells the gateway where the group's traffic goes, and the bus how healthy the group is, when either changed. */
  private publish(g: GroupRuntime): void {
    const name = g.record.name;
    const backup = standby(g.state, g.config);
    const aliasKey = `${g.state.active} ${backup ?? ''}`;
    if (aliasKey !== g.aliasKey) {
      g.aliasKey = aliasKey;
      const ids = backup === undefined ? [g.state.active] : [g.state.active, backup];
      this.routing.setAlias(name, ids.map((id) => this.aliasTarget(g.targets.get(id)!.spec)));
    }
    const healthy = g.state.targets.filter((t) => t.health === 'healthy').length;
    const changedKey = `${g.state.active} ${healthy}`;
    // Until every target has its first verdict the group's health is not known: a group that needs
    // successThreshold passes at boot is not "no healthy target" (alerts would send a DOWN for it).
    const undecided = g.state.targets.some((t) => t.health === 'unknown');
    if (!undecided && changedKey !== g.changedKey) {
      g.changedKey = changedKey;
      this.bus.emit('failover.changed', { group: name, active: g.state.active, healthy, total: g.state.targets.length });
    }
  }

  private aliasTarget(t: FailoverTarget): AliasTarget {
    if ('service' in t) return { service: t.service };
    const u = new URL(t.url);
    return { url: t.url, host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: u.port === '' ? 80 : Number(u.port) };
  }

  private require(name: string): GroupRuntime {
    const g = this.groups.get(name);
    if (!g) throw GridException.notFound('failover group', name);
    return g;
  }

  /** POST /failover/:group/switch: to `to`, or to the next healthy target. */
  switchTo(name: string, to: string | undefined): { group: string; from: string; to: string; message: string } {
    const g = this.require(name);
    const now = this.clock.now();
    const r = manualSwitch(g.state, g.config, to, now);
    if (!r.ok) throw GridException.invalid('to', r.problem);
    this.carryOut(g, r.decision, now);
    this.publish(g);
    return { group: name, from: r.decision.from, to: r.decision.to, message: r.decision.message };
  }

  list() {
    return [...this.groups.values()]
      .sort((a, b) => a.record.name.localeCompare(b.record.name))
      .map((g) => {
        const last = g.history.at(-1);
        return {
          name: g.record.name,
          active: g.state.active,
          healthy: g.state.targets.filter((t) => t.health === 'healthy').length,
          total: g.state.targets.length,
          failback: g.config.failback,
          lastSwitch: last ? { at: iso(last.at), from: last.from, to: last.to, reason: last.reason } : null,
        };
      });
  }

  view(name: string) {
    const g = this.require(name);
    const now = this.clock.now();
    const spec = g.record.manifest.spec;
    const until = cooldownUntil(g.state, g.config);
    return {
      name,
      uid: g.record.uid,
      generation: g.record.generation,
      active: g.state.active,
      healthy: g.state.targets.filter((t) => t.health === 'healthy').length,
      total: g.state.targets.length,
      failback: spec.failback,
      /** The active target was chosen by hand: no automatic failback until it fails or another switch is made. */
      pinned: g.state.pinned === true,
      cooldownSeconds: spec.cooldownSeconds,
      cooldownRemainingMs: Math.max(0, until - now),
      healthCheck: spec.healthCheck,
      targets: g.state.targets.map((s, i) => {
        const t = g.targets.get(s.id)!;
        const latencies = t.recent.filter((r) => r.latencyMs !== undefined).map((r) => r.latencyMs!).sort((a, b) => a - b);
        return {
          name: s.id,
          kind: 'service' in t.spec ? 'service' : 'url',
          priority: i + 1,
          active: s.id === g.state.active,
          health: s.health,
          healthSince: iso(s.since),
          consecutiveFailures: s.failures,
          consecutiveSuccesses: s.successes,
          latency: { p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), samples: latencies.length },
          checked: t.checkUrl,
          recent: t.recent.slice(-SHOWN).reverse().map((r) => ({ at: iso(r.at), ok: r.ok, status: r.status ?? null, latencyMs: r.latencyMs ?? null, problem: r.problem ?? null })),
        };
      }),
      history: [...g.history].reverse().map((h) => ({ at: iso(h.at), from: h.from, to: h.to, automatic: h.automatic, reason: h.reason, message: h.message, numbers: h.numbers })),
    };
  }
}
