import type { EventBus } from '../../common/events/event-bus.js';
import type { PodEntity } from './pod.entity.js';
import type { PodRecords } from './pod-records.js';
import type { Pod, PodTemplate, ProbeKind, ProbeSample } from './pod.types.js';

const PROBE_SAMPLES = 20;

/**
 * The one in-memory view of the pods, indexed by id and by service. Every change goes
 * through here, so every change is announced (pod.changed / pod.removed) and pods of
 * runtimes that outlive Grid keep their database record in step.
 */
export class PodStore {
  private readonly pods = new Map<string, Pod>();
  private readonly byService = new Map<string, Map<string, Pod>>();

  constructor(
    private readonly bus: EventBus,
    readonly records: PodRecords,
  ) {}

  has(podId: string): boolean {
    return this.pods.has(podId);
  }

  get(podId: string): Pod | undefined {
    return this.pods.get(podId);
  }

  list(service: string): Pod[] {
    const m = this.byService.get(service);
    return m ? [...m.values()] : [];
  }

  all(): Pod[] {
    return [...this.pods.values()];
  }

  services(): string[] {
    return [...this.byService.keys()];
  }

  groups(): [service: string, pods: Pod[]][] {
    return [...this.byService].map(([s, m]) => [s, [...m.values()]]);
  }

  count(): number {
    return this.pods.size;
  }

  /** The template a live pod of that revision runs (specs may have pruned the revision already). */
  templateFor(service: string, revision: number): PodTemplate | undefined {
    for (const p of this.byService.get(service)?.values() ?? []) if (p.revision === revision) return p.template;
    return undefined;
  }

  add(pod: Pod): void {
    this.pods.set(pod.id, pod);
    let m = this.byService.get(pod.service);
    if (!m) this.byService.set(pod.service, (m = new Map()));
    m.set(pod.id, pod);
    this.announce(pod);
  }

  patch(pod: Pod, patch: Partial<Pod>): void {
    Object.assign(pod, patch);
    for (const k of Object.keys(patch) as (keyof Pod)[]) if (patch[k] === undefined) delete pod[k];
    this.announce(pod);
  }

  /** Probe results are observations for /pods/:id, not state anyone reconciles on: kept without a pod.changed per sample. */
  addProbeSample(pod: Pod, kind: ProbeKind, sample: ProbeSample): void {
    const list = pod.probes[kind];
    list.push(sample);
    if (list.length > PROBE_SAMPLES) list.shift();
  }

  remove(pod: Pod): void {
    this.pods.delete(pod.id);
    const m = this.byService.get(pod.service);
    m?.delete(pod.id);
    if (m && m.size === 0) this.byService.delete(pod.service);
    this.bus.emit('pod.removed', { service: pod.service, podId: pod.id });
    if (pod.runtime !== 'sim') this.records.delete(pod.id);
  }

  /** Records a started pod of a runtime that outlives Grid, so the next Grid can adopt it. */
  persist(pod: Pod, procStart: string | null, containerId: string | null): void {
    this.records.save({
      id: pod.id,
      service: pod.service,
      runtime: pod.runtime,
      revision: pod.revision,
      templateHash: pod.templateHash,
      version: pod.version,
      pid: pod.pid ?? null,
      port: pod.port ?? null,
      procStart,
      containerId,
      createdAt: pod.createdAt,
      startedAt: pod.startedAt ?? pod.createdAt,
      restarts: pod.restarts,
      labels: JSON.stringify(pod.labels),
    });
  }

  /** A relabelled pod must come back under its new revision after a Grid restart. */
  persistRevision(pod: Pod): void {
    this.records.update(pod.id, { revision: pod.revision, version: pod.version, labels: JSON.stringify(pod.labels) });
  }

  private announce(pod: Pod): void {
    this.bus.emit('pod.changed', { service: pod.service, podId: pod.id, phase: pod.phase, ready: pod.ready });
  }
}
