import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { GRID_CONFIG, type GridConfig } from '../../common/config/config.js';
import { EventBus } from '../../common/events/event-bus.js';
import { EventsService } from '../events/events.service.js';
import { RuntimeService, type PodTemplate } from '../runtime/runtime.service.js';
import { SpecsService, type ScaleChange, type ServiceRecord } from '../specs/specs.service.js';
import { ControllerStateRepository } from './controller-state.repository.js';
import { effectiveReplicas, type AutoscaleState } from './controller-state.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { plan, type DesiredService, type PodAction } from './plan.js';
import { chaosFailed, chaosLost, chaosStarted, command, describeChaos, rolloutChaosKept, runChaos, startRollout, stepRollout, type ChaosAction, type RolloutCommand, type RolloutState } from './rollout.js';
import { RolloutChaos } from './rollout-chaos.js';
import { autoscale, emptyHpaState, type HpaState } from './autoscaler.js';
import { TrafficRouting, TrafficStats } from '../gateway/traffic.js';
import { GridErrorCode, GridException } from '../../common/errors/grid.exception.js';
import type { Pod } from '../runtime/pod.types.js';
import { computeStatus, sameStatus, type ConditionInput, type ServiceStatus } from './status.js';
import { dependencyGate, isFailing, type DependencyView } from './dependencies.js';
import { WorkQueue } from './work-queue.js';

const ERROR_BACKOFF_BASE_MS = 100;
const ERROR_BACKOFF_MAX_MS = 30_000;
const RESYNC_SAMPLES = 200;
/** The resync tick's name in the SchedulerRegistry. */
const RESYNC_JOB = 'reconciler.resync';

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
  /**
   * Services whose inputs changed since their last status: an event, a command, or a
   * timer (backoff, minReadySeconds, pause) coming due. A resync of an untouched service
   * still plans (so nothing is missed) but skips recomputing a status that cannot differ.
   */
  private readonly touched = new Set<string>();
  private readonly errors = new Map<string, number>();
  private resyncStart?: number;
  /** dependency → the services that name it in spec.dependsOn; rebuilt after a spec changes. */
  private dependents?: Map<string, string[]>;
  /** Deleted with ?purge=true: their data directories go once their last pod is gone. */
  private readonly purges = new Set<string>();
  /** Durations of recent full resync passes (ms), for /state and the benchmark. */
  readonly resyncDurations: number[] = [];
  passes = 0;

  constructor(
    private readonly specs: SpecsService,
    private readonly state: ControllerStateRepository,
    private readonly runtime: RuntimeService,
    private readonly events: EventsService,
    private readonly bus: EventBus,
    private readonly metrics: MetricsService,
    private readonly traffic: TrafficStats,
    private readonly routing: TrafficRouting,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(GRID_CONFIG) private readonly config: GridConfig,
    private readonly scheduler: SchedulerRegistry,
    private readonly chaos: RolloutChaos,
  ) {
    this.queue = new WorkQueue(
      (key) => this.process(key),
      this.clock,
      500,
      (key) => this.touched.add(key),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const name of this.state.services()) if (!this.specs.get(name)) this.state.delete(name);
    for (const s of this.specs.list()) {
      const r = this.state.get(s.name).rollout;
      // The gateway's ejection counters start from zero with this process: take a new baseline. A chaos experiment
      // asked for before the restart will get no answer now: chaosLost makes its step ask again.
      if (r && r.phase !== 'Completed') this.saveRollout(s.name, chaosLost({ ...r, analysis: { ...r.analysis, ejections: -1 } }));
      else this.specs.pinRevisions(s.name, r ? [r.stable.revision, r.canary.revision] : []);
    }
    // Pods of a revision no longer kept (revisionHistoryLimit) have no template: they are stopped, not adopted.
    const adopted = await this.runtime.adopt(async (service, revision) => {
      const s = this.specs.get(service);
      return s && this.templateOf(s, revision);
    });
    const failedNote = adopted.failed > 0 ? `, could not check ${adopted.failed} (see the pod.forgotten events)` : '';
    if (adopted.adopted + adopted.forgotten + adopted.failed > 0) this.logger.log(`adopted ${adopted.adopted} pods, forgot ${adopted.forgotten}${failedNote}`);
    const services = this.specs.list().length;
    this.events.record({
      type: 'grid.started',
      reason: 'Started',
      message: `Grid started with ${services} services; adopted ${adopted.adopted} running pods, forgot ${adopted.forgotten}${failedNote}`,
      explain:
        services > 0
          ? `Grid (re)started: it reads every service from its database and starts the pods that are missing; process pods that kept running were adopted instead of started twice`
          : 'Grid started with no services yet; apply a spec with POST /apply',
    });
    this.bus.on('spec.deleted', (e) => {
      if (e.purge) this.purges.add(e.service);
    });
    this.bus.on('volumes.purgeRequested', (e) => {
      this.purges.add(e.service);
      this.queue.add(e.service);
    });
    for (const name of ['spec.applied', 'spec.deleted'] as const) {
      this.bus.on(name, (e) => {
        this.dependents = undefined;
        this.enqueueWithDependents(e.service);
      });
    }
    for (const name of ['pod.changed', 'pod.removed'] as const) {
      this.bus.on(name, (e) => this.enqueueWithDependents(e.service));
    }
    this.resync();
    const tick = setInterval(() => this.resync(), this.config.tickMs);
    tick.unref();
    this.scheduler.addInterval(RESYNC_JOB, tick);
  }

  beforeApplicationShutdown(): void {
    if (this.scheduler.doesExist('interval', RESYNC_JOB)) this.scheduler.deleteInterval(RESYNC_JOB);
    this.queue.stop();
  }

  enqueue(service: string): void {
    this.touched.add(service);
    this.queue.add(service);
  }

  /** A service waiting on `service` (spec.dependsOn) must look again whenever `service` changes. */
  private enqueueWithDependents(service: string): void {
    this.enqueue(service);
    for (const d of this.dependentsOf(service)) this.enqueue(d);
  }

  private dependentsOf(service: string): string[] {
    if (!this.dependents) {
      const index = new Map<string, string[]>();
      for (const s of this.specs.list()) {
        for (const d of s.manifest.spec.dependsOn ?? []) index.set(d.service, [...(index.get(d.service) ?? []), s.name]);
      }
      this.dependents = index;
    }
    return this.dependents.get(service) ?? [];
  }

  /** What a dependent sees of `service`: undefined while it is not applied. */
  private dependencyView(service: string): DependencyView | undefined {
    const rec = this.specs.get(service);
    if (!rec) return undefined;
    const status = this.status(service);
    const pods = this.runtime.list(service);
    return {
      replicas: this.replicasOf(rec),
      availableReplicas: status?.availableReplicas ?? 0,
      availableCondition: status?.conditions.some((c) => c.type === 'Available' && c.status === 'True') === true,
      startedPods: pods.filter((p) => p.phase === 'Running' || p.phase === 'Ready' || p.ready).length,
      failingPods: pods.filter(isFailing).length,
    };
  }

  /**
   * The start-order gate: a service with no pod yet starts none until its dependencies meet their
   * condition; one that has pods keeps them when a dependency degrades (and reports it).
   */
  private dependenciesCondition(rec: ServiceRecord, pods: Pod[]): (ConditionInput & { waiting: boolean; reasons: string[] }) | undefined {
    const deps = rec.manifest.spec.dependsOn;
    if (!deps) return undefined;
    const gate = dependencyGate(deps, (s) => this.dependencyView(s));
    const base = { type: 'DependenciesReady' as const, reasons: gate.reasons };
    if (gate.ready) return { ...base, status: 'True', reason: 'DependenciesMet', message: gate.message, waiting: false };
    if (pods.some((p) => p.phase !== 'Terminating')) return { ...base, status: 'False', reason: 'DependencyNotReady', message: `${gate.message}; its running pods are kept`, waiting: false };
    return { ...base, status: 'False', reason: 'WaitingForDependency', message: gate.message, waiting: true };
  }

  /** One event when a service starts waiting, one when it goes on, one when a dependency degrades under running pods. */
  private recordDependencyChange(service: string, prevReason: string | undefined, dep: ConditionInput & { reasons: string[] }): void {
    if (dep.reason === prevReason) return;
    if (dep.reason === 'WaitingForDependency') {
      this.events.record({ type: 'spec.waiting', service, reason: 'WaitingForDependency', message: dep.message, explain: `Starting no pod of ${service} because it depends on ${dep.reasons.join(' and on ')}` });
    } else if (dep.reason === 'DependencyNotReady') {
      this.events.record({ type: 'spec.dependencyNotReady', service, reason: 'DependencyNotReady', message: dep.message, explain: `${service} depends on ${dep.reasons.join(' and on ')}; its pods already run, so Grid keeps them rather than tear them down` });
    } else if (prevReason === 'WaitingForDependency') {
      this.events.record({ type: 'spec.dependenciesReady', service, reason: 'DependenciesMet', message: dep.message, explain: `${service} stops waiting and starts its pods: ${dep.message}` });
    }
  }

  status(service: string): ServiceStatus | undefined {
    return this.state.get(service).status;
  }

  autoscaleOf(service: string): AutoscaleState | undefined {
    return this.state.get(service).autoscale;
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
    return { service: s.name, revision: s.revision, templateHash: s.templateHash, version: s.version, spec: s.manifest.spec };
  }

  /** The pod template of any remembered revision (the stable side of a rollout may be an older one). */
  templateOf(s: ServiceRecord, revision: number): PodTemplate | undefined {
    if (revision === s.revision) return this.template(s);
    const r = this.specs.revision(s.name, revision);
    return r ? { service: s.name, revision, templateHash: r.templateHash, version: r.version, spec: r.manifest.spec } : this.runtime.templateFor(s.name, revision);
  }

  /** Desired replicas: the autoscaler's current value when it rules the service, else spec.replicas. */
  replicasOf(s: ServiceRecord): number {
    return effectiveReplicas(s.manifest.spec, this.state.get(s.name).autoscale);
  }

  rolloutOf(service: string): RolloutState | undefined {
    return this.state.get(service).rollout;
  }

  /** Rollout state and the revisions it stands on change together: specs must not prune those. */
  private saveRollout(service: string, rollout: RolloutState): void {
    this.state.patch(service, { rollout });
    this.specs.pinRevisions(service, [rollout.stable.revision, rollout.canary.revision]);
  }

  /** The current chaos step of a Canary rollout and what it waits for (GET /services/:name/rollout). */
  chaosOf(rec: ServiceRecord) {
    return describeChaos(this.rolloutOf(rec.name), rec.manifest.spec, this.runtime.list(rec.name), this.replicasOf(rec), this.clock.now());
  }

  /**
   * Carries out a chaos step's experiment (asynchronously: reconcile never waits on I/O) and records the
   * pods it hit in the rollout state, flushed at once: a restart must find the step in effect, not lost.
   */
  private startChaos(service: string, action: ChaosAction): void {
    runChaos(this.chaos.portFor(service, action.step), action)
      .then(async (ids) => {
        const pods = ids.map((id) => ({ id, restarts: this.runtime.get(id)?.restarts ?? 0 }));
        const r = chaosStarted(this.rolloutOf(service), action, pods, this.clock.now());
        if (!r) return;
        this.saveRollout(service, r.state);
        this.events.record({ ...r.event, service });
        // Which pods a step hit is what a user reads after a crash, too: the event is written with the state, not later.
        this.events.flush();
        await this.state.flush();
      })
      .catch((e: Error) => {
        const next = chaosFailed(this.rolloutOf(service), action, e.message);
        if (next) this.saveRollout(service, next);
      })
      .finally(() => this.enqueue(service));
  }

  /** Operator command on a service's rollout (promote/abort/retry/pause/resume). */
  async command(service: string, cmd: RolloutCommand): Promise<{ message: string; rollout: RolloutState }> {
    const s = this.specs.require(service);
    const r = command(this.rolloutOf(s.name), cmd, this.clock.now());
    if ('error' in r) throw new GridException(GridErrorCode.Conflict, `${service}: ${r.error}`);
    this.saveRollout(s.name, r.state);
    this.touched.add(service);
    this.events.record({ type: `rollout.${COMMAND_EVENT[cmd]}`, service, reason: `User${cmd[0].toUpperCase()}${cmd.slice(1)}`, message: r.message, explain: `Rollout of ${service} ${r.message}, as requested over the API` });
    this.queue.add(service);
    // The answer acknowledges the command: it must be on disk first, or a crash within the write-behind delay undoes it.
    await this.state.flush();
    return { message: r.message, rollout: r.state };
  }

  /** Manual /scale on an autoscaled service: moves the autoscaler's current value; the autoscaler keeps ruling. */
  async nudgeAutoscaled(service: string, change: ScaleChange): Promise<{ replicas: number; note: string }> {
    const s = this.specs.require(service);
    const a = s.manifest.spec.autoscale!;
    const cur = this.replicasOf(s);
    const replicas = clamp('delta' in change ? cur + change.delta : change.replicas, a.min, a.max);
    const st = this.autoscaleOf(service) ?? { replicas: cur, state: emptyHpaState() };
    this.state.patch(service, { autoscale: { ...st, replicas } });
    this.touched.add(service);
    this.events.record({ type: 'autoscale.nudged', service, reason: 'ManualScale', message: `replicas ${cur} → ${replicas} by /scale (bounds ${a.min}..${a.max})`, explain: `${service} is autoscaled, so /scale moved its current replica count within ${a.min}..${a.max}; the autoscaler keeps deciding from the CPU it sees` });
    this.queue.add(service);
    await this.state.flush();
    return { replicas, note: `${service} is autoscaled (targetCPU ${a.targetCPU}%, ${a.min}..${a.max}): replicas moved to ${replicas} within the bounds, and the autoscaler keeps ruling from here` };
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
      this.chaos.endStarted(key, rolloutChaosKept(undefined));
      this.state.delete(key);
      // Only once every pod is gone, stopping ones too: a process still writing must not lose its directory under it.
      if (pods.length === 0 && this.purges.delete(key)) this.runtime.purgeVolumes(key);
      const p = plan(undefined, pods, now);
      this.execute(undefined, p.actions);
      return p.requeueAfterMs;
    }
    // Applied again before its pods were gone: the data stays.
    this.purges.delete(key);
    const spec = rec.manifest.spec;
    const current = this.template(rec);
    this.runtime.relabel(key, current);
    const hpaWake = this.autoscale(rec, pods, now);
    const replicas = this.replicasOf(rec);

    const before = this.rolloutOf(key);
    let state = before;
    if (!state || state.canary.templateHash !== current.templateHash) {
      state = startRollout(state, spec, { revision: current.revision, templateHash: current.templateHash, version: current.version }, pods, now);
      if (state.phase === 'Progressing') {
        this.events.record({ type: 'rollout.started', service: key, reason: state.strategy, message: `${state.strategy} rollout ${state.stable.version} (revision ${state.stable.revision}) → ${state.canary.version} (revision ${state.canary.revision})`, explain: `The pod template of ${key} changed, so Grid replaces ${state.stable.version} with ${state.canary.version} using the ${state.strategy} strategy` });
      }
    }
    const decision = stepRollout(state, {
      spec,
      replicas,
      current: state.canary,
      pods,
      now,
      window: (version, since) => this.traffic.window(key, version, since),
      ejections: (version) => this.traffic.ejections(key, version),
    });
    for (const e of decision.events) this.events.record({ ...e, service: key });
    if (decision.state !== before && JSON.stringify(decision.state) !== JSON.stringify(before)) {
      this.saveRollout(key, decision.state);
    }
    this.routing.setWeights(key, decision.weights);
    this.routing.setPreview(key, decision.preview);
    this.chaos.endStarted(key, rolloutChaosKept(decision.state));
    if (decision.chaos) this.startChaos(key, decision.chaos);

    const target = this.templateOf(rec, decision.target.template.revision);
    if (!target) {
      // Never fall back to the new template here: that would replace stable wholesale in the middle of a canary.
      this.logger.warn(`${key}: no template for revision ${decision.target.template.revision}; holding pods as they are`);
      return minDefined(decision.requeueAfterMs, this.config.tickMs);
    }
    const keep = decision.keep.map((k) => ({ set: k, t: this.templateOf(rec, k.template.revision) })).filter((k) => k.t !== undefined);
    const desired: DesiredService = {
      name: key,
      generation: rec.generation,
      revision: target.revision,
      templateHash: target.templateHash,
      replicas: decision.target.replicas,
      spec,
      keep: keep.map((k) => ({ revision: k.t!.revision, templateHash: k.t!.templateHash, replicas: k.set.replicas })),
      hold: decision.hold,
    };
    const p = plan(desired, pods, now);
    const dep = this.dependenciesCondition(rec, pods);
    if (dep?.waiting) p.actions = p.actions.filter((a) => a.type !== 'create');
    this.execute(rec, p.actions);
    const requeue = minDefined(p.requeueAfterMs, decision.requeueAfterMs, hpaWake);
    const prev = this.status(key);
    const touched = this.touched.delete(key);
    const prevDep = prev?.conditions.find((c) => c.type === 'DependenciesReady');
    const depSame = prevDep?.reason === dep?.reason && prevDep?.message === dep?.message;
    if (!touched && depSame && prev && p.actions.length === 0 && decision.events.length === 0 && decision.state === before) return requeue;
    if (dep) this.recordDependencyChange(key, prevDep?.reason, dep);
    const after = p.actions.length > 0 ? this.runtime.list(key) : pods;
    const status = computeStatus({ ...desired, revision: rec.revision, templateHash: rec.templateHash, replicas }, after, prev?.conditions ?? [], now, {
      progressing: decision.progressing && { type: 'Progressing', ...decision.progressing },
      degraded: decision.degraded && { type: 'Degraded', ...decision.degraded },
      extra: dep && [{ type: dep.type, status: dep.status, reason: dep.reason, message: dep.message }],
    });
    if (!sameStatus(prev, status)) {
      this.state.patch(key, { status });
      for (const d of this.dependentsOf(key)) this.enqueue(d);
    }
    return requeue;
  }

  /** Runs the HPA at most every GRID_HPA_SYNC_MS; returns when it wants to run next. */
  private autoscale(rec: ServiceRecord, pods: Pod[], now: number): number | undefined {
    const a = rec.manifest.spec.autoscale;
    if (!a) return undefined;
    const cur = this.autoscaleOf(rec.name) ?? { replicas: this.replicasOf(rec), state: emptyHpaState() };
    const last = cur.state.lastDecisionAt;
    if (last !== undefined && now - last < this.config.hpaSyncMs) return last + this.config.hpaSyncMs - now;
    const readyCpu = pods.filter((p) => p.ready && p.phase !== 'Terminating').map((p) => this.runtime.cpuOf(p));
    const current = this.replicasOf(rec);
    const d = autoscale({ spec: a, current, readyCpu, now, state: cur.state });
    const decision = { at: now, averageCpu: d.averageCpu === undefined ? null : Math.round(d.averageCpu * 10) / 10, readyPods: readyCpu.length, current, desired: d.replicas, verdict: d.verdict, message: d.message };
    this.state.patch(rec.name, { autoscale: { replicas: d.replicas, state: d.state, averageCpu: d.averageCpu, last: decision } });
    if (d.explain && d.replicas !== cur.replicas) {
      this.events.record({ type: 'autoscale.scaled', service: rec.name, reason: d.replicas > cur.replicas ? 'ScaledUp' : 'ScaledDown', message: `replicas ${cur.replicas} → ${d.replicas} (average CPU ${Math.round((d.averageCpu ?? 0) * 10) / 10}%)`, explain: d.explain });
    }
    return this.config.hpaSyncMs;
  }

  private execute(rec: ServiceRecord | undefined, actions: PodAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'create': {
          const t = rec && this.templateOf(rec, a.revision);
          if (t) this.runtime.create(t, a.count, a.reason, a.explain, a.ordinals);
          else this.logger.warn(`no template for revision ${a.revision} of ${rec?.name}; not creating pods`);
          break;
        }
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

const COMMAND_EVENT: Record<RolloutCommand, string> = { promote: 'promoted', promoteFull: 'promoted', abort: 'aborted', retry: 'retried', pause: 'paused', resume: 'resumed' };

function clamp(n: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, n));
}

function minDefined(...xs: (number | undefined)[]): number | undefined {
  let m: number | undefined;
  for (const x of xs) if (x !== undefined && (m === undefined || x < m)) m = x;
  return m;
}
