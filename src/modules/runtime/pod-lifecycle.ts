import { randomBytes } from 'node:crypto';
import type { ClockTimer } from '../../common/clock/clock.js';
import type { DriverSink, PodDriver, PodStartSpec } from './drivers/pod-driver.js';
import { takesCapacity } from './pod-admission.js';
import { ensureVolume, volumeDir } from './pod-volumes.js';
import type { ProbeSink } from './probe-runner.js';
import type { RuntimeDeps } from './runtime-deps.js';
import { LABEL_ORDINAL, LABEL_REVISION, LABEL_SERVICE, LABEL_SPEC_HASH, LABEL_VERSION, type Pod, type PodExit, type PodTemplate } from './pod.types.js';

/** Upper bound on waiting for in-flight requests of a pod being removed (within its grace period). */
export const DRAIN_MAX_MS = 5000;
/**
 * A pod that does not open its port this long after its spawn stops counting as starting:
 * a worker that never listens, or a slow starter, must not hold a start slot for ever.
 */
export const START_SLOT_MAX_MS = 2000;
const POD_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Create, start, restart, back off, stop and remove pods. Every change goes through the
 * PodStore (so it is announced) and is recorded as an explained event.
 */
export class PodLifecycle {
  private stopping = false;
  /** Pods holding a start slot: from the driver's start() until the pod listens, stops, or START_SLOT_MAX_MS passed. */
  private readonly startSlots = new Map<string, { free: () => void; timer?: ClockTimer }>();
  /** Pods stopped after a failed liveness or startup probe: their next run waits until the old process is gone. */
  private readonly stopsAfterProbe = new Map<string, Promise<void>>();

  constructor(private readonly d: RuntimeDeps) {}

  get shuttingDown(): boolean {
    return this.stopping;
  }

  beginShutdown(): void {
    this.stopping = true;
  }

  /** ordinals: one per pod, for a persistent service. */
  create(t: PodTemplate, count: number, reason: string, explain: string, ordinals?: number[]): Pod[] {
    const created: Pod[] = [];
    if (this.stopping) return created;
    for (let i = 0; i < count; i++) {
      const pod = this.newPod(t, ordinals?.[i]);
      created.push(pod);
      this.d.events.record({ type: 'pod.created', service: t.service, pod: pod.id, reason, message: `created pod ${pod.id} (revision ${t.revision}, ${t.version})`, explain });
      this.schedule(pod);
    }
    return created;
  }

  restart(podId: string, backoffStep: number, reason: string, explain: string): void {
    const pod = this.d.store.get(podId);
    if (!pod || pod.phase === 'Terminating' || this.stopping) return;
    const restarts = pod.restarts + 1;
    // startedAt goes too: a start that fails must not be measured against the previous run (that reset the backoff).
    this.d.store.patch(pod, { restarts, backoffStep, backoffUntil: undefined, phase: 'Pending', ready: false, readySince: undefined, port: undefined, pid: undefined, startedAt: undefined, paused: undefined });
    this.d.events.record({ type: 'pod.restarted', service: pod.service, pod: pod.id, reason, message: `restarting pod ${pod.id} (restart ${restarts})`, explain });
    // It kept its node slot while it was down; only the start is paced.
    if (takesCapacity(pod.runtime)) this.startPaced(pod);
    else this.launch(pod);
  }

  markBackoff(podId: string, until: number, explain: string): void {
    const pod = this.d.store.get(podId);
    if (!pod || pod.phase === 'Terminating') return;
    const first = pod.phase !== 'CrashLoopBackOff';
    this.d.store.patch(pod, { phase: 'CrashLoopBackOff', backoffUntil: until });
    if (first) {
      this.d.events.record({ type: 'pod.backoff', service: pod.service, pod: pod.id, reason: 'CrashLoopBackOff', message: `pod ${pod.id} in CrashLoopBackOff until ${new Date(until).toISOString()}`, explain });
    }
  }

  /** Pods whose template matches t belong to its revision (re-applying an old template adopts its pods). */
  relabel(service: string, t: PodTemplate): void {
    for (const p of this.d.store.list(service)) {
      if (p.templateHash !== t.templateHash || p.revision === t.revision) continue;
      this.d.store.patch(p, { revision: t.revision, version: t.version, template: t, labels: { ...p.labels, [LABEL_REVISION]: String(t.revision), [LABEL_VERSION]: t.version } });
      if (p.runtime !== 'sim') this.d.store.persistRevision(p);
    }
  }

  async deleteOne(podId: string, reason: string, explain: string): Promise<void> {
    const pod = this.d.store.get(podId);
    if (!pod || pod.phase === 'Terminating') return;
    this.d.admission.withdraw(pod.id);
    this.d.events.record({ type: 'pod.terminating', service: pod.service, pod: pod.id, reason, message: `stopping pod ${pod.id}`, explain });
    try {
      await this.drainAndStop(pod);
    } finally {
      this.remove(pod);
      this.d.events.record({ type: 'pod.deleted', service: pod.service, pod: pod.id, reason, message: `pod ${pod.id} stopped and removed`, explain });
    }
  }

  async kill(podId: string, explain: string): Promise<void> {
    const pod = this.d.store.get(podId);
    if (!pod || pod.phase === 'Terminating') return;
    this.d.admission.withdraw(pod.id);
    this.freeStartSlot(pod.id);
    this.d.store.patch(pod, { phase: 'Terminating', ready: false });
    this.d.probes.stop(pod.id);
    this.d.events.record({ type: 'pod.killed', service: pod.service, pod: pod.id, reason: 'Chaos', message: `killed pod ${pod.id}`, explain });
    try {
      await this.driver(pod).kill(pod.id);
    } finally {
      this.remove(pod);
    }
  }

  /** Out of the gateway, drain in-flight requests (bounded), then SIGTERM and SIGKILL after the pod's grace period. */
  async drainAndStop(pod: Pod): Promise<void> {
    const wasServing = pod.ready;
    this.freeStartSlot(pod.id);
    this.d.store.patch(pod, { phase: 'Terminating', ready: false });
    this.d.probes.stop(pod.id);
    const graceMs = graceMsOf(pod);
    try {
      if (wasServing) await this.drain(pod, Math.min(graceMs, DRAIN_MAX_MS));
      await this.driver(pod).stop(pod.id, graceMs);
    } catch (e) {
      this.d.logger.warn(`stopping ${pod.id}: ${(e as Error).message}`);
    }
  }

  /**
   * Asks whoever holds in-flight work for the pod (the gateway) to say when it is done,
   * and waits for all of them, but never longer than timeoutMs.
   */
  private async drain(pod: Pod, timeoutMs: number): Promise<void> {
    const waits: Promise<void>[] = [];
    this.d.bus.emit('pod.draining', { service: pod.service, podId: pod.id, timeoutMs, waitFor: (done) => void waits.push(done) });
    if (waits.length === 0) return;
    let timer: ClockTimer | undefined;
    const settled = Promise.allSettled(waits).then((rs) => {
      for (const r of rs) if (r.status === 'rejected') this.d.logger.warn(`draining ${pod.id}: ${describe(r.reason)}`);
    });
    try {
      await Promise.race([settled, new Promise<void>((r) => (timer = this.d.clock.setTimeout(r, timeoutMs)))]);
    } finally {
      this.d.clock.clearTimeout(timer);
    }
  }

  /** Tells the pod's driver what the runtime learns from its own probes and from drivers. */
  driverSink(): DriverSink {
    return {
      update: (podId, patch) => {
        const pod = this.d.store.get(podId);
        if (!pod || pod.phase === 'Terminating') return;
        const becameReady = patch.ready === true && !pod.ready;
        this.d.store.patch(pod, patch);
        if (becameReady) this.recordReady(pod, 'its readiness check passed');
      },
      exited: (podId, exit) => {
        const pod = this.d.store.get(podId);
        if (!pod || pod.phase === 'Terminating') return;
        this.onExit(pod, exit, 'Exited');
      },
      noted: (podId, note) => {
        const pod = this.d.store.get(podId);
        if (pod) this.d.events.record({ ...note, service: pod.service, pod: pod.id });
      },
    };
  }

  probeSink(): ProbeSink {
    return {
      ready: (id, ready, why) => this.setReady(id, ready, why),
      failed: (id, kind, why) => this.probeFailed(id, kind, why),
      sample: (id, kind, sample) => {
        const pod = this.d.store.get(id);
        if (pod) this.d.store.addProbeSample(pod, kind, sample);
      },
      passed: (id) => {
        const pod = this.d.store.get(id);
        if (pod) this.d.bus.emit('probe.passed', { service: pod.service, podId: pod.id });
      },
      listening: (id) => this.freeStartSlot(id),
    };
  }

  private newPod(t: PodTemplate, ordinal: number | undefined): Pod {
    let id: string;
    do id = `${t.service}-${randomId(5)}`;
    while (this.d.store.has(id));
    const pod: Pod = {
      id,
      service: t.service,
      revision: t.revision,
      templateHash: t.templateHash,
      version: t.version,
      runtime: t.spec.runtime,
      phase: 'Pending',
      ready: false,
      createdAt: this.d.clock.now(),
      restarts: 0,
      backoffStep: 0,
      template: t,
      labels: { [LABEL_SERVICE]: t.service, [LABEL_REVISION]: String(t.revision), [LABEL_SPEC_HASH]: t.templateHash, [LABEL_VERSION]: t.version },
      probes: { readiness: [], liveness: [], startup: [] },
    };
    if (ordinal !== undefined) {
      pod.ordinal = ordinal;
      pod.labels[LABEL_ORDINAL] = String(ordinal);
    }
    this.d.store.add(pod);
    return pod;
  }

  private startSpec(pod: Pod): PodStartSpec {
    const spec = pod.template.spec;
    const env: Record<string, string> = {};
    for (const e of spec.env) env[e.name] = e.value;
    env.POD_NAME = pod.id;
    env.GRID_POD = pod.id;
    env.GRID_SERVICE = pod.service;
    env.GRID_VERSION = pod.version;
    env.GRID_URL = this.d.config.url;
    const start: PodStartSpec = { podId: pod.id, service: pod.service, revision: pod.revision, templateHash: pod.templateHash, version: pod.version, spec, labels: pod.labels, env };
    if (pod.ordinal !== undefined) start.dataDir = env.GRID_POD_DATA = volumeDir(this.d.config.dataDir, pod.service, pod.ordinal);
    return start;
  }

  /** Pods of the real runtimes start only once admitted to the node; the rest wait Pending, saying why, until a removal frees a slot. */
  private schedule(pod: Pod): void {
    if (!takesCapacity(pod.runtime)) return this.launch(pod);
    const a = this.d.admission;
    if (a.admit(pod.id) === 'admitted') return this.startPaced(pod);
    const full = `node full, ${a.used} of ${a.maxPods} pods`;
    this.d.store.patch(pod, { message: `Unschedulable: ${full}` });
    this.d.events.record({
      type: 'pod.unschedulable',
      service: pod.service,
      pod: pod.id,
      reason: 'Unschedulable',
      message: `pod ${pod.id} is not started: ${full}`,
      explain: `Pod ${pod.id} stays Pending because the node already holds ${a.used} process and container pods, its capacity (GRID_MAX_PODS=${a.maxPods}); the oldest waiting pod starts as soon as another pod is removed`,
    });
  }

  /**
   * At most maxStarting pods start at once, so hundreds of pods starting together cannot starve
   * Grid's own loop. A pod counts as starting until its port accepts connections, not only until
   * its spawn: a freshly exec'd runtime spends its first few hundred ms of CPU loading itself, and
   * 200 of those at once left Grid a sliver of the cores (/healthz p99 5 s).
   */
  private startPaced(pod: Pod): void {
    const run = pod.restarts;
    const a = this.d.admission;
    const startedAtOnce = a.requestStart(pod.id, (done) => {
      const live = this.d.store.get(pod.id);
      if (!live || live.restarts !== run || live.phase === 'Terminating' || this.stopping) return done();
      if (live.message !== undefined) this.d.store.patch(live, { message: undefined });
      this.launch(live, done);
    });
    if (!startedAtOnce) this.d.store.patch(pod, { message: `Waiting to start: ${a.starting} pods are starting (at most ${a.maxStarting} at once)` });
  }

  /** With a start slot (done), the slot is freed once the pod listens, stops, or START_SLOT_MAX_MS after its spawn. */
  private launch(pod: Pod, done?: () => void): void {
    const driver = this.d.drivers.get(pod.runtime);
    const run = pod.restarts;
    if (done) this.startSlots.set(pod.id, { free: done });
    if (!driver) {
      this.onExit(pod, { code: null, signal: null, reason: 'SpawnError', message: `the ${pod.runtime} runtime is not available in this Grid` }, 'Failed');
      return;
    }
    const spec = this.startSpec(pod);
    // Most pods need neither wait, and start in this turn (thousands of sim pods a second).
    const starting =
      spec.dataDir === undefined && !this.stopsAfterProbe.has(pod.id)
        ? driver.start(spec)
        : this.beforeStart(pod.id, spec).then(() => {
            const live = this.d.store.get(pod.id);
            // Stopped (or restarted) while its directory was made or its old process went: nothing to start.
            if (!live || live.restarts !== run || live.phase === 'Terminating') throw new StaleStart();
            return driver.start(spec);
          });
    starting
      .then(async (started) => {
        const live = this.d.store.get(pod.id);
        if (!live || live.restarts !== run || live.phase === 'Terminating') {
          this.freeStartSlot(pod.id);
          return;
        }
        this.holdStartSlot(live, driver.probesOverHttp && started.port !== undefined);
        const patch: Partial<Pod> = { startedAt: this.d.clock.now() };
        if (started.pid !== undefined) patch.pid = started.pid;
        if (started.port !== undefined) patch.port = started.port;
        if (live.phase === 'Pending' || live.phase === 'Starting') patch.phase = 'Running';
        this.d.store.patch(live, patch);
        this.d.events.record({ type: 'pod.started', service: pod.service, pod: pod.id, reason: 'Started', message: `pod ${pod.id} started${started.pid ? ` (pid ${started.pid}, port ${started.port})` : ''}`, explain: `Pod ${pod.id} is running revision ${pod.revision} (${pod.version})` });
        if (driver.probesOverHttp && live.port !== undefined) this.d.probes.start(live, live.template.spec);
        if (pod.runtime !== 'sim') this.d.store.persist(live, started.procStart ?? null, started.containerId ?? null);
      })
      .catch((e: Error) => {
        if (e instanceof StaleStart) return this.freeStartSlot(pod.id);
        const live = this.d.store.get(pod.id);
        if (!live || live.restarts !== run) return;
        this.onExit(live, { code: null, signal: null, reason: 'SpawnError', message: e.message }, 'Failed');
      });
  }

  /** The previous process of this pod is gone, and a persistent pod's directory exists. */
  private async beforeStart(podId: string, spec: PodStartSpec): Promise<void> {
    await this.stopsAfterProbe.get(podId);
    if (spec.dataDir !== undefined) await ensureVolume(spec.dataDir);
  }

  /** Until the probe runner sees the port open (listening); without HTTP probes there is nothing to wait for. */
  private holdStartSlot(pod: Pod, untilListening: boolean): void {
    const slot = this.startSlots.get(pod.id);
    if (!slot) return;
    if (!untilListening) return this.freeStartSlot(pod.id);
    slot.timer = this.d.clock.setTimeout(() => {
      if (this.startSlots.get(pod.id) === slot) this.freeStartSlot(pod.id);
    }, START_SLOT_MAX_MS);
  }

  private freeStartSlot(podId: string): void {
    const slot = this.startSlots.get(podId);
    if (!slot) return;
    this.startSlots.delete(podId);
    this.d.clock.clearTimeout(slot.timer);
    slot.free();
  }

  private onExit(pod: Pod, exit: Omit<PodExit, 'at'>, phase: 'Exited' | 'Failed'): void {
    this.freeStartSlot(pod.id);
    this.d.probes.stop(pod.id);
    this.d.store.patch(pod, { phase, ready: false, readySince: undefined, pid: undefined, paused: undefined, lastExit: { ...exit, at: this.d.clock.now() } });
    const code = exit.code !== null ? ` with code ${exit.code}` : exit.signal ? ` by ${exit.signal}` : '';
    this.d.events.record({
      type: phase === 'Failed' ? 'pod.failed' : 'pod.exited',
      service: pod.service,
      pod: pod.id,
      reason: exit.reason,
      message: `pod ${pod.id} ${phase === 'Failed' ? 'could not start' : `exited${code}`}: ${exit.message}`,
      explain: `Pod ${pod.id} stopped (${exit.reason}); Grid will restart it, waiting longer each time it fails in a row`,
    });
  }

  private setReady(podId: string, ready: boolean, why: string): void {
    const pod = this.d.store.get(podId);
    if (!pod || pod.phase === 'Terminating' || pod.ready === ready) return;
    if (ready) {
      this.d.store.patch(pod, { phase: 'Ready', ready: true, readySince: this.d.clock.now() });
      this.recordReady(pod, why);
    } else {
      this.d.store.patch(pod, { phase: 'Running', ready: false, readySince: undefined });
      this.d.events.record({ type: 'pod.unready', service: pod.service, pod: pod.id, reason: 'ReadinessFailed', message: `pod ${pod.id} is not ready: ${why}`, explain: `Pod ${pod.id} gets no traffic until its readiness probe passes again (${why})` });
    }
  }

  private probeFailed(podId: string, kind: 'liveness' | 'startup', why: string): void {
    const pod = this.d.store.get(podId);
    if (!pod || pod.phase === 'Terminating') return;
    const reason = kind === 'liveness' ? 'LivenessProbeFailed' : 'StartupProbeFailed';
    this.onExit(pod, { code: null, signal: 'SIGTERM', reason, message: why }, 'Exited');
    // The restart may be planned at once; it must not start a second process (on the same data directory) beside this one.
    const stopped = this.driver(pod)
      .stop(pod.id, graceMsOf(pod))
      .catch((e: Error) => this.d.logger.warn(`stopping ${pod.id} after ${reason}: ${e.message}`))
      .finally(() => {
        if (this.stopsAfterProbe.get(pod.id) === stopped) this.stopsAfterProbe.delete(pod.id);
      });
    this.stopsAfterProbe.set(pod.id, stopped);
  }

  private recordReady(pod: Pod, why: string): void {
    this.d.events.record({ type: 'pod.ready', service: pod.service, pod: pod.id, reason: 'Ready', message: `pod ${pod.id} is ready`, explain: `Pod ${pod.id} is Ready because ${why}, so it now receives traffic` });
  }

  private remove(pod: Pod): void {
    this.d.store.remove(pod);
    this.d.drivers.get(pod.runtime)?.release?.(pod.id);
    for (const id of this.d.admission.release(pod.id)) {
      const next = this.d.store.get(id);
      if (next && !this.stopping) this.startPaced(next);
    }
  }

  private driver(pod: Pod): PodDriver {
    const d = this.d.drivers.get(pod.runtime);
    if (!d) throw new Error(`runtime '${pod.runtime}' is not available`);
    return d;
  }
}

/** A start overtaken by a stop or restart: not a failure of the pod. */
class StaleStart extends Error {}

export function graceMsOf(pod: Pod): number {
  return pod.template.spec.terminationGracePeriodSeconds * 1000;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Random bytes drawn from a pooled buffer: one randomBytes call per pod cost ~6 µs, 8% of creating 50,000 pods. */
let pool = Buffer.alloc(0);
let poolAt = 0;

function randomId(n: number): string {
  if (poolAt + n > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  let s = '';
  for (let i = 0; i < n; i++) s += POD_ID_ALPHABET[pool[poolAt++] % POD_ID_ALPHABET.length];
  return s;
}
