import type { RuntimeName } from '../specs/spec.types.js';
import type { PodEntity } from './pod.entity.js';
import { LABEL_ORDINAL, type Pod, type PodTemplate } from './pod.types.js';
import type { RuntimeDeps } from './runtime-deps.js';
import type { PodDriver } from './drivers/pod-driver.js';

/** Stopping a live orphan (its service is gone) gets this long before SIGKILL. */
const ORPHAN_GRACE_MS = 5000;

export interface AdoptionResult {
  adopted: number;
  /** Recorded pods whose process is gone (or whose revision is no longer kept). */
  forgotten: number;
  /** Recorded pods the driver could not check: their process may still be running, unmanaged. */
  failed: number;
}

export type TemplateLookup = (service: string, revision: number) => Promise<PodTemplate | undefined>;

/**
 * After a restart of Grid: re-attach to recorded pods whose process is still ours,
 * forget the rest. Runs before the first reconcile so nothing is started twice.
 */
export async function adoptPods(d: RuntimeDeps, templateFor: TemplateLookup): Promise<AdoptionResult> {
  const result: AdoptionResult = { adopted: 0, forgotten: 0, failed: 0 };
  for (const row of await d.store.records.all()) {
    const t = await templateFor(row.service, row.revision);
    const driver = d.drivers.get(row.runtime as RuntimeName);
    let alive = false;
    try {
      alive = driver ? await driver.adopt({ podId: row.id, pid: row.pid, port: row.port, procStart: row.procStart, containerId: row.containerId }) : false;
    } catch (e) {
      result.failed++;
      await forgetUnchecked(d, row, e);
      continue;
    }
    if (alive && !t) {
      // Its service is gone: a live orphan must not keep running unmanaged.
      await driver!.stop(row.id, ORPHAN_GRACE_MS).catch((e: Error) => d.logger.error(`stopping orphaned pod ${row.id} (pid ${row.pid}): ${e.message}`));
    }
    if (!alive || !t) {
      result.forgotten++;
      d.store.records.delete(row.id);
      const why = !driver ? `the ${row.runtime} runtime is not available in this Grid` : !alive ? 'its process is gone' : `revision ${row.revision} of ${row.service} is no longer kept`;
      d.events.record({ type: 'pod.forgotten', service: row.service, pod: row.id, reason: 'NotFound', message: `pod ${row.id} from before the restart is gone: ${why}`, explain: `Grid found no live process for pod ${row.id} after restarting, so it forgot it; the reconciler starts a replacement if one is needed` });
      continue;
    }
    result.adopted++;
    const pod = podOf(row, t);
    d.store.add(pod);
    d.admission.adopted(pod.id);
    d.events.record({ type: 'pod.adopted', service: pod.service, pod: pod.id, reason: 'Adopted', message: `adopted pod ${pod.id} (pid ${pod.pid}, port ${pod.port})`, explain: `Pod ${pod.id} kept running while Grid restarted, so Grid took it over instead of starting a duplicate` });
    await resumeIfFrozen(d, driver!, pod);
    if (driver!.probesOverHttp) d.probes.start(pod, t.spec);
  }
  for (const driver of d.drivers.values()) {
    const strays = await driver.adoptionFinished?.().catch((e: Error) => d.logger.error(`${driver.name}: removing what no adopted pod accounts for failed: ${e.message}`));
    for (const s of strays ?? []) {
      d.logger.warn(`stopped stray pod ${s.pod} (process group ${s.pid}): started by a Grid that was killed before recording it`);
      d.events.record({ type: 'pod.strayStopped', pod: s.pod, reason: 'Stray', message: `stopped process group ${s.pid} of pod ${s.pod}, which no recorded pod accounts for`, explain: `A Grid on this data dir started pod ${s.pod} (pid ${s.pid}) and was killed before it recorded it, so nothing managed it; Grid stopped it (SIGTERM, SIGKILL after 5 s) before the first reconcile starts what is needed` });
    }
  }
  return result;
}

/**
 * A Grid killed while a pod was paused (POST /chaos/pause) leaves its process stopped, and no experiment
 * is left to continue it: without a liveness probe nothing would. Resume it before its probes start.
 */
async function resumeIfFrozen(d: RuntimeDeps, driver: PodDriver, pod: Pod): Promise<void> {
  try {
    if (!(await driver.isPaused?.(pod.id))) return;
    await driver.resume!(pod.id);
  } catch (e) {
    d.logger.error(`resuming adopted pod ${pod.id} (pid ${pod.pid}): ${(e as Error).message}`);
    d.events.record({ type: 'pod.resumeFailed', service: pod.service, pod: pod.id, reason: 'ResumeFailed', message: `adopted pod ${pod.id} may still be frozen: ${(e as Error).message}`, explain: `Pod ${pod.id} was paused when the previous Grid stopped, and Grid could not check or continue it; its liveness probe, if it has one, will restart it` });
    return;
  }
  d.events.record({ type: 'pod.resumed', service: pod.service, pod: pod.id, reason: 'ResumedAtAdoption', message: `adopted pod ${pod.id} was frozen (paused); resumed it`, explain: `Pod ${pod.id} was paused by a chaos experiment when the previous Grid stopped, so nothing would have continued it; Grid resumed it on adoption` });
}

/** The driver failed to check the pod: that is not "gone", so say so and name the process an operator may have to stop. */
async function forgetUnchecked(d: RuntimeDeps, row: PodEntity, cause: unknown): Promise<void> {
  const why = cause instanceof Error ? cause.message : String(cause);
  d.logger.error(`adopting pod ${row.id} (pid ${row.pid}) failed: ${cause instanceof Error ? (cause.stack ?? why) : why}`);
  d.store.records.delete(row.id);
  d.events.record({
    type: 'pod.forgotten',
    service: row.service,
    pod: row.id,
    reason: 'AdoptionFailed',
    message: `could not check pod ${row.id} from before the restart (pid ${row.pid}): ${why}`,
    explain: `The ${row.runtime} runtime failed while checking whether pod ${row.id} still runs, so Grid does not manage it; if process ${row.pid} is still running it is unmanaged and should be stopped by hand. The reconciler starts a replacement if one is needed`,
  });
}

function podOf(row: PodEntity, t: PodTemplate): Pod {
  const labels = JSON.parse(row.labels) as Record<string, string>;
  const pod: Pod = {
    id: row.id,
    service: row.service,
    revision: row.revision,
    templateHash: row.templateHash,
    version: row.version,
    runtime: row.runtime as RuntimeName,
    phase: 'Running',
    ready: false,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    restarts: row.restarts,
    backoffStep: 0,
    pid: row.pid ?? undefined,
    port: row.port ?? undefined,
    template: t,
    labels,
    probes: { readiness: [], liveness: [], startup: [] },
  };
  if (labels[LABEL_ORDINAL] !== undefined) pod.ordinal = Number(labels[LABEL_ORDINAL]);
  return pod;
}
