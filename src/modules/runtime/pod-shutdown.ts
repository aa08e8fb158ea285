import type { PodLifecycle } from './pod-lifecycle.js';
import type { RuntimeDeps } from './runtime-deps.js';

/**
 * Grid is exiting: drain and stop every pod (or, with GRID_KEEP_PODS_ON_EXIT, leave the
 * process pods running for the next Grid to adopt), then let each driver clean up.
 */
export async function shutdownPods(d: RuntimeDeps, lifecycle: PodLifecycle): Promise<void> {
  lifecycle.beginShutdown();
  d.probes.stopAll();
  const keep = d.config.keepPodsOnExit;
  const stopping: Promise<void>[] = [];
  for (const [service, pods] of d.store.groups()) {
    const kept = keep ? pods.filter((p) => p.runtime !== 'sim').length : 0;
    d.events.record({
      type: 'pod.stopped',
      service,
      reason: 'GridShutdown',
      message: kept > 0 ? `Grid is stopping; ${kept} of ${pods.length} pods keep running` : `Grid is stopping; stopping ${pods.length} pods`,
      explain:
        kept > 0
          ? `Grid is shutting down with GRID_KEEP_PODS_ON_EXIT=true, so ${kept} process pods keep running and the next Grid adopts them`
          : `Grid is shutting down, so the pods of ${service} are stopped; the next Grid starts them again from the spec`,
    });
    for (const pod of pods) if (!(keep && pod.runtime !== 'sim')) stopping.push(lifecycle.drainAndStop(pod));
  }
  await Promise.all(stopping);
  await Promise.all([...d.drivers.values()].map((driver) => driver.shutdown(keep).catch((e: Error) => d.logger.warn(`${driver.name} shutdown: ${e.message}`))));
  // Kept pods need their records for the next Grid; stopped ones none.
  if (keep) await d.store.records.flush();
  else await d.store.records.clear().catch((e: Error) => d.logger.error(`forgetting the pod records at shutdown: ${e.message}`));
}
