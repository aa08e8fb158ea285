import type { Pod } from './pod.types.js';

/** The public JSON face of a pod in /state, /services/:name and /pods/:id. */
export function podView(pod: Pod, now: number, cpu: number) {
  const last = pod.probes.readiness[pod.probes.readiness.length - 1] ?? pod.probes.liveness[pod.probes.liveness.length - 1];
  return {
    id: pod.id,
    service: pod.service,
    revision: pod.revision,
    version: pod.version,
    runtime: pod.runtime,
    /** Persistent services: the ordinal its data directory is bound to. */
    ordinal: pod.ordinal ?? null,
    state: pod.phase,
    ready: pod.ready,
    /** Frozen by POST /chaos/pause (SIGSTOP, docker pause) until the experiment ends. */
    paused: pod.paused === true,
    restarts: pod.restarts,
    ageSeconds: Math.max(0, Math.round((now - pod.createdAt) / 1000)),
    createdAt: new Date(pod.createdAt).toISOString(),
    cpu,
    pid: pod.pid ?? null,
    port: pod.port ?? null,
    backoffUntil: pod.backoffUntil ? new Date(pod.backoffUntil).toISOString() : null,
    // kubectl's RESTARTS "3 (45s ago)" without a read per pod.
    lastExitAt: pod.lastExit ? new Date(pod.lastExit.at).toISOString() : null,
    // Why a pod is not serving: waiting for node capacity or a start slot, else how it last stopped.
    message: pod.message ?? (pod.lastExit && !pod.ready ? `${pod.lastExit.reason}: ${pod.lastExit.message}` : null),
    probeLatencyMs: last ? last.latencyMs : null,
  };
}
