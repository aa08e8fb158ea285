import { Inject, Injectable } from '@nestjs/common';
import * as http from 'node:http';
import * as net from 'node:net';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import type { Probe, ServiceSpec } from '../specs/spec.types.js';
import type { Pod, ProbeKind, ProbeSample } from './pod.types.js';

/** Where probe results go: the runtime, which owns the pods. The runner only reads them. */
export interface ProbeSink {
  ready(podId: string, ready: boolean, why: string): void;
  failed(podId: string, kind: 'liveness' | 'startup', why: string): void;
  sample(podId: string, kind: ProbeKind, sample: ProbeSample): void;
  /** Every passing readiness probe (not only transitions): the gateway returns ejected pods on it. */
  passed(podId: string): void;
  /** The pod's port accepted a connection for the first time since start(): it has loaded itself. */
  listening(podId: string): void;
}
const PORT_POLL_MIN_MS = 10;
const PORT_POLL_MAX_MS = 500;
/** For its first seconds a new pod holds a start slot until its port opens (PodLifecycle), so its port is polled finely then. */
const PORT_POLL_FAST_MS = 100;
const PORT_POLL_FAST_FOR_MS = 5000;
/** Until a pod is first ready, readiness is retried this often (capped by periodSeconds) so a slow starter is not held back a full period. */
const FIRST_READY_RETRY_MS = 200;

interface Watch {
  pod: Pod;
  timers: Set<NodeJS.Timeout>;
  stopped: boolean;
  started: boolean;
}

/** HTTP GET probe to 127.0.0.1:<port><path>: 200-399 passes (Kubernetes). The spec gives only a path, never a host. */
export function httpProbe(port: number, path: string, timeoutMs: number): Promise<{ ok: boolean; status?: number; error?: string; latencyMs: number }> {
  // A duration, not a time of day: the monotonic sub-millisecond timer, which the injected clock does not offer.
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'GET', agent: false, timeout: timeoutMs, headers: { 'user-agent': 'grid-probe/1', connection: 'close' } }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      res.on('end', () => resolve({ ok: status >= 200 && status < 400, status, latencyMs: performance.now() - t0 }));
      res.on('error', (e) => resolve({ ok: false, error: e.message, latencyMs: performance.now() - t0 }));
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', (e) => resolve({ ok: false, error: e.message, latencyMs: performance.now() - t0 }));
    req.end();
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/**
 * Runs startup, readiness and liveness probes for pods with a network (process, docker).
 * Kubernetes semantics: startup gates the others; thresholds count consecutive results.
 * The first readiness probe runs the moment the port accepts connections.
 */
@Injectable()
export class ProbeRunner {
  private sink?: ProbeSink;
  private readonly watches = new Map<string, Watch>();

  constructor(@Inject(CLOCK) private readonly clock: Clock) {}

  attach(sink: ProbeSink): void {
    this.sink = sink;
  }

  start(pod: Pod, spec: ServiceSpec): void {
    this.stop(pod.id);
    const w: Watch = { pod, timers: new Set(), stopped: false, started: false };
    this.watches.set(pod.id, w);
    void this.waitForPort(w, spec);
  }

  stop(podId: string): void {
    const w = this.watches.get(podId);
    if (!w) return;
    w.stopped = true;
    for (const t of w.timers) clearTimeout(t);
    this.watches.delete(podId);
  }

  stopAll(): void {
    for (const id of [...this.watches.keys()]) this.stop(id);
  }

  private later(w: Watch, ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      w.timers.delete(t);
      if (!w.stopped) fn();
    }, ms);
    w.timers.add(t);
  }

  /**
   * Until the port accepts connections every probe would fail, so the startup probe (or, without
   * one, the liveness probe) gets its Kubernetes budget — initialDelay + period × failureThreshold —
   * and the pod is failed when the port stays closed that long. Without either it waits as long as it takes.
   */
  private async waitForPort(w: Watch, spec: ServiceSpec): Promise<void> {
    const port = w.pod.port!;
    const gate = spec.startupProbe ? { kind: 'startup' as const, p: spec.startupProbe } : spec.livenessProbe ? { kind: 'liveness' as const, p: spec.livenessProbe } : undefined;
    const budgetS = gate ? gate.p.initialDelaySeconds + gate.p.periodSeconds * gate.p.failureThreshold : Infinity;
    const deadline = this.clock.now() + budgetS * 1000;
    let pollMs = PORT_POLL_MIN_MS;
    const started = this.clock.now();
    while (!w.stopped && !(await portOpen(port))) {
      if (gate && this.clock.now() > deadline) {
        this.sink?.failed(w.pod.id, gate.kind, `port ${port} did not accept connections within ${budgetS}s (${gate.kind} probe budget: initialDelay + period × failureThreshold)`);
        return;
      }
      await new Promise<void>((r) => this.later(w, pollMs, r));
      pollMs = Math.min(pollMs * 2, this.clock.now() - started < PORT_POLL_FAST_FOR_MS ? PORT_POLL_FAST_MS : PORT_POLL_MAX_MS);
    }
    if (w.stopped) return;
    this.sink?.listening(w.pod.id);
    if (spec.startupProbe) this.runStartup(w, spec, spec.startupProbe, 0);
    else this.begin(w, spec);
  }

  private begin(w: Watch, spec: ServiceSpec): void {
    w.started = true;
    if (spec.readinessProbe) this.later(w, spec.readinessProbe.initialDelaySeconds * 1000, () => this.runReadiness(w, spec.readinessProbe!, 0, 0, false));
    else this.sink?.ready(w.pod.id, true, 'its port accepts connections (no readiness probe)');
    if (spec.livenessProbe) this.later(w, Math.max(spec.livenessProbe.initialDelaySeconds, spec.livenessProbe.periodSeconds) * 1000, () => this.runLiveness(w, spec.livenessProbe!, 0));
  }

  private async probe(w: Watch, p: Probe, kind: ProbeKind): Promise<ProbeSample> {
    const r = await httpProbe(w.pod.port!, p.httpGet.path, p.timeoutSeconds * 1000);
    const sample: ProbeSample = { at: this.clock.now(), ok: r.ok, latencyMs: Math.round(r.latencyMs * 100) / 100 };
    if (r.status !== undefined) sample.status = r.status;
    if (r.error) sample.error = r.error;
    if (!w.stopped) this.sink?.sample(w.pod.id, kind, sample);
    return sample;
  }

  private runStartup(w: Watch, spec: ServiceSpec, p: Probe, fails: number): void {
    void this.probe(w, p, 'startup').then((s) => {
      if (w.stopped) return;
      if (s.ok) return this.begin(w, spec);
      if (fails + 1 >= p.failureThreshold) return this.sink?.failed(w.pod.id, 'startup', `startup probe ${p.httpGet.path} failed ${fails + 1} times: ${describe(s)}`);
      this.later(w, p.periodSeconds * 1000, () => this.runStartup(w, spec, p, fails + 1));
    });
  }

  private runReadiness(w: Watch, p: Probe, oks: number, fails: number, everReady: boolean): void {
    void this.probe(w, p, 'readiness').then((s) => {
      if (w.stopped) return;
      oks = s.ok ? oks + 1 : 0;
      if (s.ok) this.sink?.passed(w.pod.id);
      fails = s.ok ? 0 : fails + 1;
      if (s.ok && oks >= p.successThreshold && !w.pod.ready) this.sink?.ready(w.pod.id, true, `its readiness probe ${p.httpGet.path} passed (HTTP ${s.status}, ${s.latencyMs} ms)`);
      if (!s.ok && fails >= p.failureThreshold && w.pod.ready) this.sink?.ready(w.pod.id, false, `readiness probe ${p.httpGet.path} failed ${fails} times in a row: ${describe(s)}`);
      const ready = everReady || w.pod.ready;
      const next = ready ? p.periodSeconds * 1000 : Math.min(p.periodSeconds * 1000, FIRST_READY_RETRY_MS);
      this.later(w, next, () => this.runReadiness(w, p, oks, fails, ready));
    });
  }

  private runLiveness(w: Watch, p: Probe, fails: number): void {
    void this.probe(w, p, 'liveness').then((s) => {
      if (w.stopped) return;
      fails = s.ok ? 0 : fails + 1;
      if (fails >= p.failureThreshold) return this.sink?.failed(w.pod.id, 'liveness', `liveness probe ${p.httpGet.path} failed ${fails} times in a row: ${describe(s)}`);
      this.later(w, p.periodSeconds * 1000, () => this.runLiveness(w, p, fails));
    });
  }
}

function describe(s: ProbeSample): string {
  return s.error ? s.error : `HTTP ${s.status}`;
}
