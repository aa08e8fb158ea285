import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { request } from 'undici';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { EventBus } from '../../common/events/event-bus.js';
import { GridErrorCode, GridException } from '../../common/errors/grid.exception.js';
import { EventsService } from '../events/events.service.js';
import { checkFaultSettings, type FaultCounts, type FaultSettings } from '../gateway/faults.js';
import { TrafficFaults } from '../gateway/traffic.js';
import type { Pod } from '../runtime/pod.types.js';
import { RuntimeService } from '../runtime/runtime.service.js';
import { SpecsService } from '../specs/specs.service.js';
import { Experiments, type Experiment, type ExperimentView } from './experiments.js';
import { conflictMessage, faultConflict, unknownVersion } from './fault-scope.js';
import { pickPods, planPause } from './pick-pods.js';

/** A fault experiment as POST /chaos/faults and a rollout's chaos step give it (absent settings take their defaults). */
export interface FaultInput extends FaultSettings {
  service: string;
  version?: string;
}

/** A running fault experiment with the gateway's counts so far. */
export type FaultExperimentView = ExperimentView & { counts: FaultCounts };

const VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function describeFaults(p: { abortPercent: number; abortStatus: number; delayMs: number; delayPercent: number }): string {
  const parts: string[] = [];
  if (p.abortPercent > 0) parts.push(`aborts ${p.abortPercent}% with ${p.abortStatus}`);
  if (p.delayPercent > 0) parts.push(`delays ${p.delayPercent}% by ${p.delayMs} ms`);
  return parts.join(' and ');
}

/** The FaultsStarted explanation: what each kind of faulted request becomes in the numbers (a delay-only rule aborts nothing). */
export function faultsExplain(p: { abortPercent: number; abortStatus: number; delayMs: number; delayPercent: number }, scope: string, durationSeconds: number): string {
  const what = describeFaults(p);
  const sentences: string[] = [];
  if (p.abortPercent > 0) {
    sentences.push(
      `The gateway now ${what} of the requests to ${scope}, without calling the pod for the aborted ones: clients see what a failing dependency looks like. ` +
        `Aborted requests are counted apart (/traffic faults, grid_gateway_faults_total) and left out of canary analysis`,
    );
  } else {
    sentences.push(`The gateway now ${what} of the requests to ${scope} before proxying them: clients see what a slow dependency looks like`);
  }
  if (p.delayPercent > 0) {
    sentences.push(`Delayed requests are counted in /traffic faults and still reach the pod, so its answers count as usual, their latency measured without the injected ${p.delayMs} ms`);
  }
  return `${sentences.join('. ')}; the experiment ends on its own in ${durationSeconds} s`;
}

import { PAUSE_MAX_SECONDS } from '../../common/chaos-limits.js';
export { PAUSE_MAX_SECONDS };
export const CHAOS_MAX_PODS = 1000;

export interface PauseInput {
  service: string;
  /** Only this version's pods (a canary's). */
  version?: string;
  /** Default 1; every running pod of the scope with `all`. */
  count?: number;
  seconds: number;
  /** Permits a pause that leaves the service no running pod (a full outage). */
  all?: boolean;
}

export interface KillInput {
  service: string;
  version?: string;
  count: number;
}

type Origin = 'api' | 'rollout';

export const POD_TOGGLES = ['cpu', 'corrupt', 'crash', 'fail', 'slow', 'liveness', 'unready', 'reset'] as const;
export type PodToggle = (typeof POD_TOGGLES)[number];
/** The query parameters the demo service's toggles read (seconds for cpu, rate for fail, ms for slow, fail for liveness, value for unready). */
export const TOGGLE_PARAMS = ['seconds', 'rate', 'ms', 'fail', 'value'] as const;
const POD_TIMEOUT_MS = 3000;
const POD_ANSWER_MAX = 4096;

const TOGGLE_EXPLAIN: Record<PodToggle, (id: string) => string> = {
  cpu: (id) => `Pod ${id} now burns CPU for a while: its CPU rises, which the autoscaler reads, and its answers slow down`,
  corrupt: (id) => `Pod ${id} now reports corrupted data: its readiness probe fails, so the gateway stops sending it traffic until it is reset or replaced`,
  crash: (id) => `Pod ${id} exits at once: the runtime sees the exit, and the pod is restarted with backoff`,
  fail: (id) => `Pod ${id} now answers a share of requests with 500: the gateway's error rate rises and a canary's analysis would see it`,
  slow: (id) => `Pod ${id} now delays its answers: latency (p99) rises, which a canary's analysis and failover checks can catch`,
  liveness: (id) => `Pod ${id} now fails its liveness probe: after the failure threshold, Grid restarts it`,
  unready: (id) => `Pod ${id} now fails its readiness probe: it stays running but the gateway stops sending it traffic`,
  reset: (id) => `Pod ${id} was reset to healthy: its probes pass again and it takes traffic once ready`,
};

@Injectable()
export class ChaosService implements OnModuleInit {
  private readonly logger = new Logger(ChaosService.name);

  constructor(
    private readonly specs: SpecsService,
    private readonly runtime: RuntimeService,
    private readonly events: EventsService,
    private readonly experiments: Experiments,
    private readonly faults: TrafficFaults,
    private readonly bus: EventBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    // A deleted service takes its fault experiments with it: a new service of that name starts clean.
    this.bus.on('spec.deleted', async (e) => {
      for (const x of this.experiments.list({ service: e.service, kind: 'faults' })) await this.experiments.stop(x.id);
    });
  }

  /**
   * Starts a fault experiment: the gateway aborts and/or delays exact shares of the service's
   * requests (of one version's, when given) until it ends on its own after durationSeconds, or is
   * stopped. Those requests are counted apart; aborted ones are kept out of what canary analysis reads.
   */
  startFaults(input: FaultInput, origin: 'api' | 'rollout'): Experiment {
    const checked = checkFaultSettings(input);
    if ('path' in checked) throw GridException.invalid(checked.path, checked.message);
    if (input.version !== undefined && (typeof input.version !== 'string' || !VERSION.test(input.version))) {
      throw GridException.invalid('version', `must be a version name such as "v2" (letters, digits, . _ -; got "${String(input.version).slice(0, 40)}")`);
    }
    const service = input.service;
    const record = this.specs.require(service);
    if (input.version !== undefined) {
      const known = [record.version, ...this.specs.revisionsOf(service).map((r) => r.version), ...this.runtime.list(service).map((p) => p.version)];
      const missing = unknownVersion(service, input.version, known);
      if (missing !== undefined) throw new GridException(GridErrorCode.NotFound, missing);
    }
    const other = faultConflict(this.experiments.list({ service, kind: 'faults' }), input.version);
    if (other !== undefined) throw new GridException(GridErrorCode.Conflict, conflictMessage(service, other));
    const { durationSeconds, ...settings } = checked;
    const scope = input.version === undefined ? `service ${service}` : `version ${input.version} of service ${service}`;
    const what = describeFaults(settings);
    let id = '';
    const e = this.experiments.add(
      { kind: 'faults', service, version: input.version, params: { ...checked }, endsAt: this.clock.now() + durationSeconds * 1000, origin },
      () => this.faultsEnded(id, service, scope, what),
    );
    id = e.id;
    this.faults.addFault({ id, service, version: input.version, ...settings });
    this.events.record({
      type: 'chaos.faultsStarted',
      service,
      reason: 'FaultsStarted',
      message: `fault experiment ${id} on ${scope}: the gateway ${what} for ${durationSeconds} s (${origin === 'api' ? 'POST /chaos/faults' : "a rollout's chaos step"})`,
      explain: faultsExplain(settings, scope, durationSeconds),
    });
    return e;
  }

  private faultsEnded(id: string, service: string, scope: string, what: string): void {
    const c = this.faults.removeFault(id) ?? { seen: 0, aborted: 0, delayed: 0 };
    this.events.record({
      type: 'chaos.faultsEnded',
      service,
      reason: 'FaultsEnded',
      message: `fault experiment ${id} on ${scope} ended: of ${c.seen} requests, ${c.aborted} aborted and ${c.delayed} delayed`,
      explain: `The gateway stopped injecting faults into the requests to ${scope} (it ${what}): every request is proxied as it is again`,
    });
  }

  /** Running fault experiments, with the gateway's counts so far. */
  listFaults(): FaultExperimentView[] {
    return this.experiments.list({ kind: 'faults' }).map((e) => ({ ...e, counts: this.faults.faultCounts(e.id) ?? { seen: 0, aborted: 0, delayed: 0 } }));
  }

  /** Ends a running experiment now (`kind`: only of that kind); 404 when none runs with that id. */
  async stopExperiment(id: string, kind?: 'faults'): Promise<Experiment> {
    const e = this.experiments.get(id);
    if (!e || (kind !== undefined && e.kind !== kind)) throw GridException.notFound(kind === undefined ? 'experiment' : `${kind} experiment`, id);
    const stopped = await this.experiments.stop(id);
    if (!stopped) throw GridException.notFound('experiment', id);
    return stopped;
  }

  async kill(service: string, count: number) {
    const { pods } = await this.killPods({ service, count }, 'api');
    return { service, killed: pods, requested: count };
  }

  /** Kills `count` pods of the service (of `version` only, when given), Ready ones first; the reconciler replaces them. */
  async killPods(input: KillInput, origin: Origin): Promise<{ pods: string[] }> {
    checkCount(input.count);
    this.specs.require(input.service);
    const ids = pickPods(this.runtime.list(input.service), { kind: 'kill', count: input.count, version: input.version }).map((p) => p.id);
    const by = origin === 'api' ? 'on purpose (POST /chaos/kill)' : "by the rollout's chaos step";
    await Promise.all(ids.map((id) => this.runtime.kill(id, `Pod ${id} was killed ${by}; the reconciler will notice the missing replica and start a replacement`)));
    return { pods: ids };
  }

  /**
   * Freezes `count` running pods of the service (SIGSTOP of the process group; docker pause) for `seconds`,
   * as a hung process: alive, holding its port, answering nothing. Its liveness probe should catch it and
   * Grid restart it; the experiment resumes whatever is still frozen when it ends (or is stopped).
   */
  async pause(input: PauseInput, origin: Origin): Promise<Experiment & { requested: number }> {
    if (input.count !== undefined) checkCount(input.count);
    checkSeconds(input.seconds);
    this.pausable(input.service);
    const plan = planPause(this.runtime.list(input.service), input);
    if ('field' in plan) throw GridException.invalid(plan.field, plan.problem);
    if (plan.pods.length === 0) {
      const of = input.version !== undefined ? ` of version ${input.version}` : '';
      throw new GridException(GridErrorCode.Conflict, `service '${input.service}' has no running pod${of} to pause (${describePods(this.runtime.list(input.service))})`);
    }
    const requested = plan.pods.length;
    const e = await this.freeze(input.service, input.version, plan.pods.map((p) => p.id), input.seconds, { count: requested, seconds: input.seconds }, origin);
    return { ...e, requested };
  }

  /** Freezes exactly this pod for `seconds` (POST /chaos/pause?pod=). */
  async pausePod(id: string, seconds: number, origin: Origin): Promise<Experiment & { requested: number }> {
    checkSeconds(seconds);
    const pod = this.runtime.get(id);
    if (!pod) throw GridException.notFound('pod', id);
    this.pausable(pod.service);
    if (pod.paused) throw new GridException(GridErrorCode.Conflict, `pod ${id} is already paused`);
    if (pod.phase !== 'Running' && pod.phase !== 'Ready') throw new GridException(GridErrorCode.Conflict, `pod ${id} has no running process to pause (it is ${pod.phase})`);
    return { ...(await this.freeze(pod.service, undefined, [id], seconds, { pod: id, seconds }, origin)), requested: 1 };
  }

  private pausable(service: string): void {
    const runtime = this.specs.require(service).manifest.spec.runtime;
    // A sim pod has no process to freeze, and sim does not run the spec's liveness probe: a simulated pause would prove nothing about it.
    if (runtime === 'sim') throw GridException.invalid('service', `'${service}' runs on the sim runtime, whose pods have no process to freeze; pause needs a process or docker service (to rehearse a liveness restart on sim, set SIM_LIVENESS_FAIL_AFTER_MS)`);
    const down = this.runtime.unavailableReason(runtime);
    if (down) throw new GridException(GridErrorCode.Unavailable, `the ${runtime} runtime cannot pause pods now: ${down}`);
  }

  private async freeze(service: string, version: string | undefined, ids: string[], seconds: number, params: Record<string, number | string>, origin: Origin): Promise<Experiment> {
    // Refused before anything is frozen; add checks again, as other experiments may start while pods freeze.
    this.experiments.admit(service);
    let paused: string[];
    try {
      paused = await this.runtime.pausePods(ids);
    } catch (e) {
      // Some may be frozen already: no experiment would ever thaw them.
      await this.runtime.resumePods(ids).catch((r: Error) => this.logger.error(`resuming after a failed pause of ${ids.join(', ')}: ${r.message}`));
      throw new GridException(GridErrorCode.BadGateway, `could not pause ${ids.join(', ')}: ${(e as Error).message}`);
    }
    if (paused.length === 0) throw new GridException(GridErrorCode.Conflict, `none of ${ids.join(', ')} could be paused: they stopped or restarted meanwhile`);
    const by = origin === 'api' ? 'POST /chaos/pause' : "the rollout's chaos step";
    let e: Experiment;
    try {
      e = this.experiments.add({ kind: 'pause', service, version, pods: paused, params, endsAt: this.clock.now() + seconds * 1000, origin }, () => this.thaw(e, paused));
    } catch (refused) {
      await this.runtime.resumePods(paused).catch((r: Error) => this.logger.error(`resuming ${paused.join(', ')} after the pause was refused: ${r.message}`));
      throw refused;
    }
    for (const id of paused) {
      const pod = this.runtime.get(id);
      this.events.record({
        type: 'chaos.paused',
        service,
        pod: id,
        reason: 'ChaosPaused',
        message: `pod ${id} paused for ${seconds} s by ${by} (experiment ${e.id})`,
        explain: pod ? pauseExplain(pod, seconds) : `Pod ${id} is frozen for ${seconds} s`,
      });
    }
    return e;
  }

  /** The experiment's undo: runs from a timer, so it reports its failures rather than throwing them. */
  private async thaw(e: Experiment, ids: string[]): Promise<void> {
    let resumed: string[] = [];
    try {
      resumed = await this.runtime.resumePods(ids);
    } catch (err) {
      this.logger.error(`resuming ${ids.join(', ')} (experiment ${e.id}): ${(err as Error).message}`);
      this.events.record({ type: 'chaos.resumeFailed', service: e.service, reason: 'ResumeFailed', message: `could not resume ${ids.join(', ')} (experiment ${e.id}): ${(err as Error).message}`, explain: `The pause of ${ids.join(', ')} ended but Grid could not continue every pod; one left frozen is restarted by its liveness probe, if it has one, else delete the pod` });
      return;
    }
    const secs = Math.round((this.clock.now() - e.startedAt) / 1000);
    for (const id of ids) {
      const back = resumed.includes(id);
      this.events.record({
        type: 'chaos.resumed',
        service: e.service,
        pod: id,
        reason: back ? 'ChaosResumed' : 'ChaosEnded',
        message: back ? `pod ${id} resumed after ${secs} s (experiment ${e.id})` : `pause of pod ${id} ended after ${secs} s (experiment ${e.id}); its frozen process was already gone`,
        explain: back
          ? `Pod ${id} runs again after ${secs} s frozen, and nothing restarted it meanwhile: it answers again and takes traffic once its readiness probe passes`
          : `Pod ${id} was restarted or removed while it was frozen (its liveness probe caught it, or it was stopped), so there was nothing left to resume`,
      });
    }
  }

  async killPod(id: string) {
    const pod = this.runtime.get(id);
    if (!pod) throw GridException.notFound('pod', id);
    if (pod.phase === 'Terminating') throw GridException.invalid('pod', `${id} is already terminating`);
    await this.runtime.kill(id, `Pod ${id} was killed on purpose (POST /chaos/kill?pod=${id}); the reconciler will notice the missing replica and start a replacement`);
    return { service: pod.service, killed: [id], requested: 1 };
  }

  /**
   * A demo service's chaos toggle on one pod (its POST /chaos/<toggle>), reached on the pod's own
   * loopback port rather than through the gateway, so exactly this pod misbehaves.
   */
  async podToggle(id: string, toggle: PodToggle, params: Record<string, string>) {
    const pod = this.runtime.get(id);
    if (!pod) throw GridException.notFound('pod', id);
    if (!pod.port || pod.phase === 'Terminating') throw GridException.invalid('pod', `${id} has no port to reach (${pod.runtime} runtime, ${pod.phase}); chaos toggles need a running demo-service pod`);
    const query = new URLSearchParams(params).toString();
    const answer = await this.callPod(pod.port, 'POST', `/chaos/${toggle}${query ? `?${query}` : ''}`, id);
    this.events.record({
      type: 'chaos.injected',
      service: pod.service,
      pod: id,
      reason: toggle === 'reset' ? 'ChaosReset' : 'ChaosInjected',
      message: `chaos ${toggle}${query ? ` (${query})` : ''} on pod ${id}: the pod answered ${answer.status}`,
      explain: TOGGLE_EXPLAIN[toggle](id),
    });
    return { pod: id, service: pod.service, toggle, status: answer.status, answer: answer.body };
  }

  /** The pod's current chaos toggles (its GET /chaos). */
  async podChaos(id: string) {
    const pod = this.runtime.get(id);
    if (!pod) throw GridException.notFound('pod', id);
    if (!pod.port || pod.phase === 'Terminating') throw GridException.invalid('pod', `${id} has no port to reach (${pod.runtime} runtime, ${pod.phase})`);
    const answer = await this.callPod(pod.port, 'GET', '/chaos', id);
    return { pod: id, service: pod.service, status: answer.status, chaos: answer.body };
  }

  private async callPod(port: number, method: 'GET' | 'POST', path: string, id: string): Promise<{ status: number; body: unknown }> {
    let status: number;
    let text: string;
    try {
      // One deadline for the whole exchange (undici's timeouts only bound the gaps), and at most POD_ANSWER_MAX bytes kept:
      // a pod that answers without end must cost Grid neither time nor memory.
      const res = await request(`http://127.0.0.1:${port}${path}`, { method, headersTimeout: POD_TIMEOUT_MS, bodyTimeout: POD_TIMEOUT_MS, signal: AbortSignal.timeout(POD_TIMEOUT_MS) });
      status = res.statusCode;
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        chunks.push(chunk as Buffer);
        size += (chunk as Buffer).length;
        if (size >= POD_ANSWER_MAX) {
          res.body.destroy();
          break;
        }
      }
      text = Buffer.concat(chunks).subarray(0, POD_ANSWER_MAX).toString('utf8');
    } catch (e) {
      // A crash toggle may end the pod before it answers: that is the toggle working.
      throw new GridException(GridErrorCode.BadGateway, `pod ${id} did not answer ${method} ${path.split('?')[0]} (${(e as Error).message})`);
    }
    if (status === 404 || status === 405) throw GridException.invalid('pod', `${id} does not offer ${method} ${path.split('?')[0]} (${status}); chaos toggles need a demo service (demo-services/versioned)`);
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: the text as it came, clipped.
    }
    // The demo service says why in `error`; other services (Nest, Express) in `message`.
    if (status === 400) {
      const b = (typeof body === 'object' && body ? body : {}) as { message?: unknown; error?: unknown };
      throw GridException.invalid('query', b.message !== undefined ? String(b.message) : b.error !== undefined ? String(b.error) : text);
    }
    return { status, body };
  }

  load(service: string, cpu: number) {
    const s = this.specs.require(service);
    if (s.manifest.spec.runtime !== 'sim') {
      throw GridException.invalid('service', `'${service}' runs on the ${s.manifest.spec.runtime} runtime; /load simulates CPU for simulated pods only (for process pods burn real CPU, e.g. POST /chaos/cpu on the demo service)`);
    }
    const demand = this.runtime.setSimulatedLoad(service, cpu);
    this.events.record({
      type: 'load.set',
      service,
      reason: 'SimulatedLoad',
      message: `simulated CPU of ${service} set to ${cpu}% per ready pod (total demand ${demand}% of a core)`,
      explain: `Each ready pod of ${service} now reports ${cpu}% CPU; the demand stays at ${demand}% in total, so adding pods lowers each pod's share`,
    });
    return { service, cpu, totalDemand: demand };
  }
}

function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > CHAOS_MAX_PODS) throw GridException.invalid('count', `must be an integer 1..${CHAOS_MAX_PODS} (got ${count})`);
}

function checkSeconds(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > PAUSE_MAX_SECONDS) throw GridException.invalid('seconds', `must be an integer 1..${PAUSE_MAX_SECONDS} (got ${seconds})`);
}

/** "2 Starting, 1 CrashLoopBackOff": why nothing could be paused. */
function describePods(pods: readonly Pod[]): string {
  if (pods.length === 0) return 'it has no pods';
  const by = new Map<string, number>();
  for (const p of pods) {
    const k = p.paused ? 'paused' : p.phase;
    by.set(k, (by.get(k) ?? 0) + 1);
  }
  return [...by].map(([k, n]) => `${n} ${k}`).join(', ');
}

/** What the pause should lead to, from the pod's own probes: the sentence a user reads in the event. */
export function pauseExplain(pod: Pick<Pod, 'id' | 'template'>, seconds: number): string {
  const { livenessProbe: live, readinessProbe: ready } = pod.template.spec;
  const unready = ready ? `; its readiness probe takes it out of the gateway after about ${ready.failureThreshold * ready.periodSeconds} s` : '';
  if (!live) return `Pod ${pod.id} is frozen for ${seconds} s with no liveness probe: Grid cannot tell it is hung, so it stays frozen until the pause ends${unready}`;
  const after = live.failureThreshold * live.periodSeconds + live.timeoutSeconds;
  const late = after >= seconds ? `; the pause ends first, so it will probably not be restarted` : '';
  return `Pod ${pod.id} is frozen for ${seconds} s: its liveness probe should fail after about ${after} s (${live.failureThreshold} failures, one every ${live.periodSeconds} s, each timing out after ${live.timeoutSeconds} s) and Grid restart it${late}${unready}`;
}
