import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { GRID_CONFIG, type GridConfig } from '../../common/config/config.js';
import { EventBus } from '../../common/events/event-bus.js';
import { EventsService } from '../events/events.service.js';
import type { RuntimeName } from '../specs/spec.types.js';
import { PodEntity } from './pod.entity.js';
import type { Pod, PodTemplate } from './pod.types.js';
import type { PodDriver } from './drivers/pod-driver.js';
import { POD_DRIVERS } from './runtime.tokens.js';
import { ProbeRunner } from './probe-runner.js';
import { PodStore } from './pod-store.js';
import { PodRecords } from './pod-records.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { PodLifecycle } from './pod-lifecycle.js';
import { PodAdmission } from './pod-admission.js';
import { adoptPods, type AdoptionResult, type TemplateLookup } from './pod-adoption.js';
import { shutdownPods } from './pod-shutdown.js';
import { detachVolumes, leftoverTrash, removeDetached } from './pod-volumes.js';
import { readVolumes, volumeViews, type VolumeView } from './volume-list.js';
import type { RuntimeDeps } from './runtime-deps.js';

export type { PodTemplate } from './pod.types.js';

/**
 * Owns observed pod state. Drivers run the pods; this service keeps the one
 * in-memory view of them that the reconciler, gateway and REST read, records
 * their lifecycle as events, and persists pods of runtimes that can outlive Grid.
 * It calls nobody above it: what others must act on (a pod draining, a probe
 * passing) goes out on the event bus.
 */
@Injectable()
export class RuntimeService implements BeforeApplicationShutdown {
  private readonly deps: RuntimeDeps;
  private readonly store: PodStore;
  private readonly lifecycle: PodLifecycle;
  private readonly drivers = new Map<RuntimeName, PodDriver>();

  constructor(
    @Inject(POD_DRIVERS) drivers: PodDriver[],
    @Inject(CLOCK) clock: Clock,
    @Inject(GRID_CONFIG) config: GridConfig,
    @InjectRepository(PodEntity) podRepo: Repository<PodEntity>,
    bus: EventBus,
    events: EventsService,
    probes: ProbeRunner,
    metrics: MetricsService,
  ) {
    const logger = new Logger(RuntimeService.name);
    this.store = new PodStore(bus, new PodRecords(podRepo, clock, metrics, logger));
    this.deps = { store: this.store, admission: new PodAdmission(config.maxPods, config.maxStarting), drivers: this.drivers, clock, config, bus, events, probes, logger };
    this.lifecycle = new PodLifecycle(this.deps);
    const sink = this.lifecycle.driverSink();
    for (const d of drivers) {
      this.drivers.set(d.name, d);
      d.attach(sink);
    }
    probes.attach(this.lifecycle.probeSink());
    this.removeInBackground(leftoverTrash(config.dataDir));
  }

  /** Resolves when the pod records queued so far are written (or failed and queued for a retry). */
  flushRecords(): Promise<void> {
    return this.store.records.flush();
  }

  has(name: RuntimeName): boolean {
    return this.drivers.has(name);
  }

  /** Why a runtime this Grid has cannot run pods now; undefined when it can (or Grid has no such runtime). */
  unavailableReason(name: RuntimeName): string | undefined {
    const a = this.drivers.get(name)?.availability?.();
    return a && !a.available ? a.detail : undefined;
  }

  /** GET /runtimes and /state: every runtime of this Grid and whether it can run pods now. */
  runtimes(): { name: RuntimeName; available: boolean; detail: string }[] {
    return [...this.drivers.values()].map((d) => ({ name: d.name, ...(d.availability?.() ?? { available: true, detail: d.name === 'sim' ? 'simulated pods' : 'child processes' }) }));
  }

  get(podId: string): Pod | undefined {
    return this.store.get(podId);
  }

  list(service: string): Pod[] {
    return this.store.list(service);
  }

  all(): Pod[] {
    return this.store.all();
  }

  services(): string[] {
    return this.store.services();
  }

  count(): number {
    return this.store.count();
  }

  /** The pod's CPU as its driver measures it now, in percent of one core. */
  cpuOf(pod: Pod): number {
    return this.drivers.get(pod.runtime)?.cpu(pod.id) ?? 0;
  }

  /** Sets the simulated CPU of a service's ready pods (POST /load); returns the total demand in percent of a core. */
  setSimulatedLoad(service: string, cpu: number): number {
    for (const d of this.drivers.values()) if (d.setLoad) return d.setLoad(service, cpu);
    throw new Error('no runtime of this Grid simulates CPU load');
  }

  /** The template a live pod of that revision runs: for revisions specs no longer keeps. */
  templateFor(service: string, revision: number): PodTemplate | undefined {
    return this.store.templateFor(service, revision);
  }

  /** Creates `count` pods from a template. Start-up continues in the background; progress arrives as pod.changed. */
  create(t: PodTemplate, count: number, reason: string, explain: string, ordinals?: number[]): Pod[] {
    return this.lifecycle.create(t, count, reason, explain, ordinals);
  }

  /** Starts the pod again from its own template. */
  restart(podId: string, backoffStep: number, reason: string, explain: string): void {
    this.lifecycle.restart(podId, backoffStep, reason, explain);
  }

  markBackoff(podId: string, until: number, explain: string): void {
    this.lifecycle.markBackoff(podId, until, explain);
  }

  /** Pods whose template matches t belong to its revision (re-applying an old template adopts its pods). */
  relabel(service: string, t: PodTemplate): void {
    this.lifecycle.relabel(service, t);
  }

  /** Graceful removal: out of the gateway, drain (pod.draining), SIGTERM, SIGKILL after the grace period. */
  async delete(podIds: string[], reason: string, explain: string): Promise<void> {
    await Promise.all(podIds.map((id) => this.lifecycle.deleteOne(id, reason, explain)));
  }

  /**
   * Removes a deleted service's data directories (DELETE ?purge=true), once none of its pods is left; says so as an event.
   * The directories leave their names before this returns (detachVolumes), so the service applied again at once starts
   * on empty ones, and the event belongs to the deleted incarnation; their files are deleted in the background.
   */
  purgeVolumes(service: string): void {
    if (this.store.list(service).length > 0) throw new Error(`${service} still has pods; its data directories are not removed under them`);
    const { config, events, logger } = this.deps;
    const explain = `Service ${service} was deleted with purge=true and its last pod is gone, so its persistent data was removed`;
    let d: ReturnType<typeof detachVolumes>;
    try {
      d = detachVolumes(config.dataDir, service);
    } catch (e) {
      d = { ok: false, reason: (e as Error).message, names: [], trash: [] };
    }
    if (!d.ok) {
      const done = d.names.length > 0 ? `removed ${d.names.join(', ')}, but not the rest` : 'removed nothing';
      logger.error(`purging the data directories of ${service}: ${d.reason}`);
      events.record({ type: 'volumes.purgeFailed', service, reason: 'PurgeFailed', message: `${done}: ${d.reason}`, explain: `Service ${service} was deleted with purge=true but its data could not be removed safely; remove pods/${service}-<ordinal> under the data dir by hand` });
      this.removeInBackground(d.trash);
      return;
    }
    events.record({ type: 'volumes.purged', service, reason: 'Purged', message: d.names.length > 0 ? `removed the data directories ${d.names.join(', ')}` : 'no data directories to remove', explain });
    this.removeInBackground(d.trash);
  }

  /** Detached directories (this Grid's purges, or a previous Grid's it did not finish) are deleted off the reconcile path. */
  private removeInBackground(trash: readonly string[]): void {
    if (trash.length === 0) return;
    const { events, logger } = this.deps;
    removeDetached(trash).catch((e: Error) => {
      logger.error(`removing purged pod data: ${e.message}`);
      // No service: the data is no longer any incarnation's, and the next boot tries again.
      events.record({ type: 'volumes.purgeFailed', reason: 'PurgeFailed', message: `could not delete purged pod data (${e.message}); the next start of Grid tries again`, explain: 'A purged service\'s data directory was moved aside as pods/.purge-<id> but deleting its files failed' });
    });
  }

  /** GET /volumes: every data directory under <data dir>/pods and the pod holding it, if any. */
  async volumes(serviceExists: (service: string) => boolean): Promise<VolumeView[]> {
    return volumeViews(await readVolumes(this.deps.config.dataDir), this.store.all(), serviceExists);
  }

  /** The data directories of one service as `pods/<service>-<ordinal>`, without walking their contents. */
  async volumePaths(service: string): Promise<string[]> {
    return (await readVolumes(this.deps.config.dataDir, false)).filter((v) => v.service === service).map((v) => `pods/${v.name}`);
  }

  /** Chaos: kill at once, no drain. The reconciler replaces the pod. */
  kill(podId: string, explain: string): Promise<void> {
    return this.lifecycle.kill(podId, explain);
  }

  /**
   * Chaos: freeze each pod's process or container (SIGSTOP, docker pause) where it stands, as a hung
   * process. Returns the pods now paused; those already paused, not running, or gone are skipped.
   * The pod stays `paused` until resumePods, or until its process goes (a restart or a stop ends a paused process too).
   */
  async pausePods(podIds: string[]): Promise<string[]> {
    const paused: string[] = [];
    for (const id of podIds) {
      const pod = this.store.get(id);
      if (!pod || pod.paused || (pod.phase !== 'Running' && pod.phase !== 'Ready')) continue;
      const driver = this.drivers.get(pod.runtime);
      if (!driver?.pause) throw new Error(`the ${pod.runtime} runtime cannot pause pods`);
      const run = pod.restarts;
      await driver.pause(id);
      // A pause that raced a restart froze the old process, which is being stopped anyway.
      const live = this.store.get(id);
      if (live === pod && live.restarts === run && live.phase !== 'Terminating') {
        this.store.patch(pod, { paused: true });
        paused.push(id);
      }
    }
    return paused;
  }

  /** Thaws the pods still paused; returns them (a pod restarted, stopping or removed meanwhile has no frozen process left). */
  async resumePods(podIds: string[]): Promise<string[]> {
    const resumed: string[] = [];
    for (const id of podIds) {
      const pod = this.store.get(id);
      // A terminating pod's stop has already continued it (SIGCONT after SIGTERM), and its driver may have let it go.
      if (!pod?.paused || pod.phase === 'Terminating') continue;
      await this.drivers.get(pod.runtime)?.resume?.(id);
      this.store.patch(pod, { paused: undefined });
      resumed.push(id);
    }
    return resumed;
  }

  /** After a restart of Grid: adopt recorded pods still running, before the first reconcile. */
  adopt(templateFor: TemplateLookup): Promise<AdoptionResult> {
    return adoptPods(this.deps, templateFor);
  }

  /** Before TypeORM closes: stopping pods still writes their records and events. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.lifecycle.shuttingDown) return;
    await shutdownPods(this.deps, this.lifecycle);
  }
}
