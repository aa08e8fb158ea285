import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { request } from 'undici';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { EventBus } from '../../common/events/event-bus.js';
import { GridErrorCode, GridException } from '../../common/errors/grid.exception.js';
import { EventsService } from '../events/events.service.js';
import { checkFaultSettings, type FaultCounts, type FaultSettings } from '../gateway/faults.js';
import { TrafficFaults } from '../gateway/traffic.js';
import { RuntimeService } from '../runtime/runtime.service.js';
import { SpecsService } from '../specs/specs.service.js';
import { Experiments, type Experiment, type ExperimentView } from './experiments.js';

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
   * stopped. Those requests are counted apart and kept out of what canary analysis reads.
   */
  startFaults(input: FaultInput, origin: 'api' | 'rollout'): Experiment {
    const checked = checkFaultSettings(input);
    if ('path' in checked) throw GridException.invalid(checked.path, checked.message);
    if (input.version !== undefined && (typeof input.version !== 'string' || !VERSION.test(input.version))) {
      throw GridException.invalid('version', `must be a version name such as "v2" (letters, digits, . _ -; got "${String(input.version).slice(0, 40)}")`);
    }
    const service = input.service;
    this.specs.require(service);
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
      explain:
        `The gateway now ${what} of the requests to ${scope}, without calling the pod for the aborted ones: clients see what a failing dependency looks like. ` +
        `These requests are counted apart (/traffic faults, grid_gateway_faults_total) and left out of canary analysis; the experiment ends on its own in ${durationSeconds} s`,
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
    this.specs.require(service);
    // Ready pods first: killing what serves traffic is the interesting failure.
    const pods = this.runtime
      .list(service)
      .filter((p) => p.phase !== 'Terminating')
      .sort((a, b) => Number(b.ready) - Number(a.ready) || a.createdAt - b.createdAt)
      .slice(0, count);
    const ids = pods.map((p) => p.id);
    await Promise.all(ids.map((id) => this.runtime.kill(id, `Pod ${id} was killed on purpose (POST /chaos/kill); the reconciler will notice the missing replica and start a replacement`)));
    return { service, killed: ids, requested: count };
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
