import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { RuntimeService } from '../runtime/runtime.service.js';
import { podView } from '../runtime/pod-view.js';
import type { Pod } from '../runtime/pod.types.js';
import type { ServiceRecord } from '../specs/specs.service.js';
import { ControllerStateRepository } from './controller-state.repository.js';
import { effectiveReplicas, type ControllerState } from './controller-state.js';

export interface DiffEntry {
  field: string;
  desired: unknown;
  actual: unknown;
}

/** Desired vs actual, in words a user can act on. Pure apart from reading the runtime's pods. */
export function diffOf(s: ServiceRecord, state: Readonly<ControllerState>, pods: Pod[]): DiffEntry[] {
  const want = effectiveReplicas(s.manifest.spec, state.autoscale);
  const live = pods.filter((p) => p.phase !== 'Terminating');
  const out: DiffEntry[] = [];
  if (live.length !== want) out.push({ field: 'replicas', desired: want, actual: live.length });
  const ready = live.filter((p) => p.ready).length;
  if (ready !== want) out.push({ field: 'readyReplicas', desired: want, actual: ready });
  const stale = live.filter((p) => p.revision !== s.revision);
  if (stale.length > 0) {
    const byRev: Record<string, number> = {};
    for (const p of live) byRev[`${p.revision} (${p.version})`] = (byRev[`${p.revision} (${p.version})`] ?? 0) + 1;
    out.push({ field: 'revision', desired: `${s.revision} (${s.version})`, actual: byRev });
  }
  const crashing = live.filter((p) => p.phase === 'CrashLoopBackOff' || p.phase === 'Failed' || p.phase === 'Exited');
  if (crashing.length > 0) out.push({ field: 'pods', desired: 'all running', actual: crashing.map((p) => `${p.id}: ${p.phase}`) });
  return out;
}

/** What GET /services and /services/:name show: desired state (specs), observed pods (runtime) and the reconciler's status. */
@Injectable()
export class ServiceViews {
  constructor(
    private readonly runtime: RuntimeService,
    private readonly state: ControllerStateRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  summary(s: ServiceRecord) {
    const pods = this.runtime.list(s.name).filter((p) => p.phase !== 'Terminating');
    const st = this.state.get(s.name);
    const status = st.status;
    return {
      name: s.name,
      generation: s.generation,
      observedGeneration: status?.observedGeneration ?? null,
      revision: s.revision,
      version: s.version,
      runtime: s.manifest.spec.runtime,
      desired: effectiveReplicas(s.manifest.spec, st.autoscale),
      actual: pods.length,
      ready: pods.filter((p) => p.ready).length,
      // kubectl get's UP-TO-DATE and AVAILABLE, so a list needs no read per service.
      updatedReplicas: status?.updatedReplicas ?? 0,
      availableReplicas: status?.availableReplicas ?? 0,
      conditions: status?.conditions ?? [],
      createdAt: new Date(s.createdAt).toISOString(),
    };
  }

  detail(s: ServiceRecord, history: unknown[]) {
    const now = this.clock.now();
    const pods = this.runtime.list(s.name);
    const st = this.state.get(s.name);
    const diff = diffOf(s, st, pods);
    const a = s.manifest.spec.autoscale;
    return {
      ...this.summary(s),
      updatedAt: new Date(s.updatedAt).toISOString(),
      spec: s.manifest.spec,
      metadata: s.manifest.metadata,
      pods: pods.map((p) => podView(p, now, this.runtime.cpuOf(p))),
      inSync: diff.length === 0,
      diff,
      status: st.status ?? null,
      // The autoscaler's last decision and its numbers: why it scaled, or why not ("within tolerance", "stabilizing until …", "at max").
      autoscaler: a
        ? {
            targetCPU: a.targetCPU,
            min: a.min,
            max: a.max,
            replicas: effectiveReplicas(s.manifest.spec, st.autoscale),
            lastDecision: st.autoscale?.last ? { ...st.autoscale.last, at: new Date(st.autoscale.last.at).toISOString() } : null,
          }
        : null,
      history,
    };
  }
}
