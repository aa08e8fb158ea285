import type { RuntimeName } from '../../specs/spec.types.js';
import type { Clock, ClockTimer } from '../../../common/clock/clock.js';
import type { AdoptCandidate, DriverSink, PodDriver, PodStartSpec, StartedPod } from './pod-driver.js';
import { TimerHeap } from './timer-heap.js';

interface SimPod {
  id: string;
  service: string;
  /** Bumped on every start so a stale timer from a previous run does nothing. */
  run: number;
  startDelayMs: number;
  neverReady: boolean;
  crashAfterMs?: number;
  livenessFailAfterMs?: number;
}

type Step = { podId: string; run: number; to: 'Running' | 'Ready' | 'crash' | 'liveness' };

/**
 * The simulated runtime: in-memory pods with a start delay, simulated probes and CPU.
 * Behaviour knobs come from the pod's env, so a spec can teach a failure:
 * SIM_START_DELAY_MS, SIM_READY=false, SIM_CRASH_AFTER_MS, SIM_LIVENESS_FAIL_AFTER_MS.
 */
export class SimDriver implements PodDriver {
  readonly name: RuntimeName = 'sim';
  readonly probesOverHttp = false;
  private sink!: DriverSink;
  private readonly pods = new Map<string, SimPod>();
  private readonly heap = new TimerHeap<Step>();
  private timer?: ClockTimer;
  private timerAt = Infinity;
  /** Total CPU demand per service in percent-of-one-core, spread over its ready pods. */
  private readonly demand = new Map<string, number>();
  private readonly readyCount = new Map<string, number>();
  private readonly ready = new Set<string>();
  /** Run number per pod id; it outlives a crash so a timer of an earlier run never acts on the next. */
  private readonly runs = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly defaultStartDelayMs: number,
  ) {}

  attach(sink: DriverSink): void {
    this.sink = sink;
  }

  async start(p: PodStartSpec): Promise<StartedPod> {
    const env = p.env;
    const num = (k: string) => (env[k] !== undefined && /^\d+$/.test(env[k]) ? Number(env[k]) : undefined);
    const run = (this.runs.get(p.podId) ?? 0) + 1;
    this.runs.set(p.podId, run);
    const pod: SimPod = {
      id: p.podId,
      service: p.service,
      run,
      startDelayMs: num('SIM_START_DELAY_MS') ?? this.defaultStartDelayMs,
      neverReady: env.SIM_READY === 'false',
      crashAfterMs: num('SIM_CRASH_AFTER_MS'),
      livenessFailAfterMs: num('SIM_LIVENESS_FAIL_AFTER_MS'),
    };
    this.pods.set(p.podId, pod);
    this.setReady(pod, false);
    const now = this.clock.now();
    this.sink.update(p.podId, { phase: 'Starting' });
    this.schedule(now + pod.startDelayMs / 2, { podId: pod.id, run: pod.run, to: 'Running' });
    if (!pod.neverReady) this.schedule(now + pod.startDelayMs, { podId: pod.id, run: pod.run, to: 'Ready' });
    if (pod.crashAfterMs !== undefined) this.schedule(now + pod.startDelayMs + pod.crashAfterMs, { podId: pod.id, run: pod.run, to: 'crash' });
    if (pod.livenessFailAfterMs !== undefined) this.schedule(now + pod.startDelayMs + pod.livenessFailAfterMs, { podId: pod.id, run: pod.run, to: 'liveness' });
    return {};
  }

  async stop(podId: string): Promise<void> {
    this.forget(podId);
    this.runs.delete(podId);
  }

  async kill(podId: string): Promise<void> {
    this.forget(podId);
    this.runs.delete(podId);
  }

  cpu(podId: string): number | undefined {
    const pod = this.pods.get(podId);
    if (!pod || !this.ready.has(podId)) return 0;
    const demand = this.demand.get(pod.service) ?? 0;
    const n = this.readyCount.get(pod.service) ?? 0;
    return n === 0 ? 0 : Math.min(100, demand / n);
  }

  /** Sets CPU so that each of the service's ready pods now runs at `percent`; the total demand then stays put as pods come and go. */
  setLoad(service: string, percent: number): number {
    const n = Math.max(1, this.readyCount.get(service) ?? 0);
    this.demand.set(service, percent * n);
    return percent * n;
  }

  async adopt(_c: AdoptCandidate): Promise<boolean> {
    return false;
  }

  async shutdown(): Promise<void> {
    this.clock.clearTimeout(this.timer);
    this.pods.clear();
  }

  private forget(podId: string): void {
    const pod = this.pods.get(podId);
    if (!pod) return;
    this.setReady(pod, false);
    this.pods.delete(podId);
  }

  private setReady(pod: SimPod, ready: boolean): void {
    const was = this.ready.has(pod.id);
    if (was === ready) return;
    if (ready) this.ready.add(pod.id);
    else this.ready.delete(pod.id);
    this.readyCount.set(pod.service, (this.readyCount.get(pod.service) ?? 0) + (ready ? 1 : -1));
  }

  private schedule(at: number, step: Step): void {
    this.heap.push(at, step);
    if (at < this.timerAt) this.arm(at);
  }

  private arm(at: number): void {
    this.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, at - this.clock.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.clock.now();
    for (const step of this.heap.popDue(now)) {
      const pod = this.pods.get(step.podId);
      if (!pod || pod.run !== step.run) continue;
      if (step.to === 'Running') {
        if (!this.ready.has(pod.id)) this.sink.update(pod.id, { phase: 'Running' });
      } else if (step.to === 'Ready') {
        this.setReady(pod, true);
        this.sink.update(pod.id, { phase: 'Ready', ready: true, readySince: now });
      } else if (step.to === 'crash') {
        this.forget(pod.id);
        this.sink.exited(pod.id, { code: 1, signal: null, reason: 'Error', message: `simulated crash after ${pod.crashAfterMs} ms (SIM_CRASH_AFTER_MS)` });
      } else {
        this.forget(pod.id);
        this.sink.exited(pod.id, { code: 137, signal: 'SIGKILL', reason: 'LivenessProbeFailed', message: 'simulated liveness probe failure (SIM_LIVENESS_FAIL_AFTER_MS)' });
      }
    }
    const next = this.heap.peek();
    if (next !== undefined) this.arm(next);
  }
}
