// What `gridctl rollout status` says and whether it is done, as a pure function of one read of
// GET /services/:name/rollout and GET /services/:name (and the time), so every case is a table row.

export interface TemplateRef {
  revision: number;
  templateHash: string;
  version: string;
}

export interface AnalysisRunJson {
  at: string;
  version: string;
  requests: number;
  errorRate: number;
  p99Ms: number;
  result: string;
  message: string;
}

/** The fields of GET /services/:name/rollout this file reads. */
export interface RolloutJson {
  service: string;
  strategy: 'Rolling' | 'BlueGreen' | 'Canary';
  phase: 'Progressing' | 'Paused' | 'Aborted' | 'Completed';
  pauseReason: 'Step' | 'Manual' | 'AwaitingPromotion' | null;
  step: { number: number; of: number; current: { setWeight?: number; pause?: { duration?: number } } | null } | null;
  canaryWeight: number;
  stable: TemplateRef | null;
  canary: TemplateRef | null;
  abort: { at: number; reason: string; message: string } | null;
  analysis: { failures: number; runs: AnalysisRunJson[] } | null;
}

export interface ConditionJson {
  type: string;
  status: string;
  reason: string;
  message: string;
}

export interface PodJson {
  id: string;
  revision: number;
  version: string;
  state: string;
  ready: boolean;
  restarts: number;
  message: string | null;
}

/** The fields of GET /services/:name this file reads. */
export interface ServiceJson {
  name: string;
  generation: number;
  observedGeneration: number | null;
  revision: number;
  version: string;
  desired: number;
  conditions: ConditionJson[];
  pods?: PodJson[];
  status: { updatedReplicas: number; availableReplicas: number; replicas: number } | null;
}

export interface StatusDecision {
  done: boolean;
  /** 0 rolled out, 1 aborted / deadline exceeded / timed out; meaningful when done. */
  exitCode: 0 | 1;
  line: string;
  /** Pods of the new revision that keep failing, one line each (shown while waiting and on failure). */
  details: string[];
}

/**
 * One decision. "Done" is judged against the service's newest revision: an apply that lands while
 * status runs is followed to its end (as kubectl follows a Deployment), and the rollout state of an
 * older revision never counts, nor does anything before the server observed the newest generation.
 * `deadline` (epoch ms) is --timeout; terminal states win over it.
 */
export function decideRolloutStatus(r: RolloutJson, svc: ServiceJson, now: number, deadline?: number): StatusDecision {
  const name = svc.name;
  const details = failingPods(svc);
  const waiting = (line: string): StatusDecision =>
    deadline !== undefined && now >= deadline
      ? { done: true, exitCode: 1, line: `timed out waiting for rollout "${name}" to finish (last: ${line})`, details }
      : { done: false, exitCode: 0, line, details };

  if (svc.observedGeneration === null || svc.observedGeneration < svc.generation) {
    return waiting(`Waiting for rollout "${name}" spec update to be observed (generation ${svc.generation}, observed ${svc.observedGeneration ?? 'none'})...`);
  }
  if (!r.canary || r.canary.revision !== svc.revision) {
    return waiting(`Waiting for rollout "${name}" of revision ${svc.revision} (${svc.version}) to start...`);
  }
  if (r.phase === 'Aborted') {
    const why = r.abort ? `${r.abort.reason}: ${r.abort.message}` : 'aborted';
    const to = r.stable ? `; ${r.stable.version} (revision ${r.stable.revision}) serves all traffic` : '';
    return { done: true, exitCode: 1, line: `rollout "${name}" aborted: ${why}${to}`, details };
  }
  const progressing = svc.conditions.find((c) => c.type === 'Progressing');
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    return { done: true, exitCode: 1, line: `rollout "${name}" exceeded its progress deadline: ${progressing.message}`, details };
  }
  const st = svc.status;
  const updated = st?.updatedReplicas ?? 0;
  const available = st?.availableReplicas ?? 0;
  const want = svc.desired;
  if (r.phase === 'Completed') {
    if (updated >= want && available >= want && (st?.replicas ?? 0) <= want) {
      return { done: true, exitCode: 0, line: `rollout "${name}" successfully rolled out (revision ${svc.revision}, ${svc.version})`, details: [] };
    }
    if ((st?.replicas ?? 0) > updated) return waiting(`Waiting for rollout "${name}" to finish: ${(st?.replicas ?? 0) - updated} old replicas are pending termination...`);
    return waiting(`Waiting for rollout "${name}" to finish: ${available} of ${want} updated replicas are available...`);
  }
  if (r.phase === 'Paused') {
    if (r.pauseReason === 'Manual') return waiting(`Rollout "${name}" is paused by request${stepText(r)}: resume it with \`gridctl rollout resume ${name}\``);
    if (r.pauseReason === 'AwaitingPromotion') return waiting(`Rollout "${name}": preview of ${r.canary.version} is ready, waiting for promotion: \`gridctl rollout promote ${name}\``);
    return waiting(`Rollout "${name}" paused at${stepText(r)}: promote it with \`gridctl rollout promote ${name}\` (or abort: \`gridctl rollout abort ${name}\`)`);
  }
  if (r.strategy === 'Canary') return waiting(`Waiting for rollout "${name}" to finish:${stepText(r)} (${r.canary.version}), ${updated} of ${want} replicas updated, ${available} available...`);
  if (r.strategy === 'BlueGreen') return waiting(`Waiting for rollout "${name}" to finish: ${r.canaryWeight >= 100 ? `traffic on ${r.canary.version}, old version scaling down` : `preview ${r.canary.version} coming up`}, ${available} of ${want} replicas available...`);
  return waiting(`Waiting for rollout "${name}" to finish: ${available} of ${want} updated replicas are available...`);
}

/** ` step 2/4, weight 25%` (with the pause's length when the step is a timed pause), or '' outside a Canary step. */
function stepText(r: RolloutJson): string {
  if (!r.step) return r.strategy === 'Canary' ? ` weight ${r.canaryWeight}%` : '';
  const cur = r.step.current;
  const pause = cur?.pause ? (cur.pause.duration !== undefined ? `, pause ${cur.pause.duration}s` : ', pause') : '';
  return ` step ${r.step.number}/${r.step.of}, weight ${r.canaryWeight}%${pause}`;
}

/** New-revision pods that restart or crash-loop: the reason a rollout stalls, with their last exit. */
export function failingPods(svc: ServiceJson): string[] {
  return (svc.pods ?? [])
    .filter((p) => p.revision === svc.revision && !p.ready && (p.state === 'CrashLoopBackOff' || p.state === 'Failed' || p.restarts > 0))
    .map((p) => `pod ${p.id} (${p.version}) is ${p.state}, ${p.restarts} restart${p.restarts === 1 ? '' : 's'}${p.message ? `: ${p.message}` : ''}`);
}

/** Analysis runs newer than `since` (ISO time of the last one printed), as lines. */
export function newAnalysisRuns(r: RolloutJson, since: string | undefined): { lines: string[]; last: string | undefined } {
  const runs = (r.analysis?.runs ?? []).filter((x) => since === undefined || x.at > since);
  return {
    lines: runs.map((x) => `analysis ${x.result} for ${x.version}: ${x.message}`),
    last: runs.length > 0 ? runs[runs.length - 1].at : since,
  };
}
