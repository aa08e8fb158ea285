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
  step: { number: number; of: number; current: { setWeight?: number; pause?: { duration?: number }; chaos?: Record<string, unknown> } | null } | null;
  /** A chaos step in progress (servers before issue 16 send none). */
  chaos?: { step: number; kind: string; phase: string; pods: string[]; waitingFor: string; secondsLeft: number | null } | null;
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
  /** Pods of the new revision that keep failing (shown while waiting and on failure, see crashLine). */
  details: PodJson[];
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
  // A service waiting for spec.dependsOn starts no pod; its replica counts alone would say nothing of why.
  const deps = svc.conditions.find((c) => c.type === 'DependenciesReady');
  if (deps?.status === 'False' && deps.reason === 'WaitingForDependency') {
    return waiting(`Waiting for rollout "${name}" to start: ${deps.message} (spec.dependsOn)...`);
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
    return waiting(rollingLine(name, st, want));
  }
  if (r.phase === 'Paused') {
    if (r.pauseReason === 'Manual') return waiting(`Rollout "${name}" is paused by request${stepText(r)}: resume it with \`gridctl rollout resume ${name}\``);
    if (r.pauseReason === 'AwaitingPromotion') return waiting(`Rollout "${name}": preview of ${r.canary.version} is ready, waiting for promotion: \`gridctl rollout promote ${name}\``);
    return waiting(`Rollout "${name}" paused at${stepText(r)}: promote it with \`gridctl rollout promote ${name}\` (or abort: \`gridctl rollout abort ${name}\`)`);
  }
  if (r.strategy === 'Canary' && r.chaos) return waiting(`Rollout "${name}" at${stepText(r)}: chaos ${r.chaos.kind} on ${r.canary.version}, waiting for ${r.chaos.waitingFor}${r.chaos.secondsLeft !== null ? ` (${r.chaos.secondsLeft} s left)` : ''}...`);
  if (r.strategy === 'Canary') return waiting(`Waiting for rollout "${name}" to finish:${stepText(r)} (${r.canary.version}), ${updated} of ${want} replicas updated, ${available} available...`);
  if (r.strategy === 'BlueGreen') return waiting(`Waiting for rollout "${name}" to finish: ${r.canaryWeight >= 100 ? `traffic on ${r.canary.version}, old version scaling down` : `preview ${r.canary.version} coming up`}, ${available} of ${want} replicas available...`);
  return waiting(rollingLine(name, st, want));
}

/**
 * kubectl's DeploymentStatusViewer, in its order: new pods first, then old ones gone, then the new
 * ones available. availableReplicas counts old pods too, so it means something only once they are gone.
 */
function rollingLine(name: string, st: ServiceJson['status'], want: number): string {
  const updated = st?.updatedReplicas ?? 0;
  const replicas = st?.replicas ?? 0;
  const waitingFor = `Waiting for rollout "${name}" to finish:`;
  if (updated < want) return `${waitingFor} ${updated} out of ${want} new replicas have been updated...`;
  if (replicas > updated) return `${waitingFor} ${replicas - updated} old replicas are pending termination...`;
  return `${waitingFor} ${st?.availableReplicas ?? 0} of ${updated} updated replicas are available...`;
}

/** ` step 2/4, weight 25%` (with the pause's length when the step is a timed pause), or '' outside a Canary step. */
function stepText(r: RolloutJson): string {
  if (!r.step) return r.strategy === 'Canary' ? ` weight ${r.canaryWeight}%` : '';
  const cur = r.step.current;
  const pause = cur?.pause ? (cur.pause.duration !== undefined ? `, pause ${cur.pause.duration}s` : ', pause') : '';
  return ` step ${r.step.number}/${r.step.of}, weight ${r.canaryWeight}%${pause}`;
}

/** New-revision pods that restart or crash-loop: the reason a rollout stalls. */
export function failingPods(svc: ServiceJson): PodJson[] {
  return (svc.pods ?? []).filter((p) => p.revision === svc.revision && !p.ready && (p.state === 'CrashLoopBackOff' || p.state === 'Failed' || p.restarts > 0));
}

/**
 * `pod api-x1 (v2) is CrashLoopBackOff, 4 restarts: node exited with code 1: Error: boom`. The
 * server's message ends in the last lines the pod printed (a stack trace's tail, `Node.js v20…`);
 * `errorLine`, when the caller found one in the pod's log, says why far better.
 */
export function crashLine(p: PodJson, errorLine?: string): string {
  const [message, lastOutput] = (p.message ?? '').split('; last output: ');
  // Grid prefixes the exit with its reason (`Error: node exited with code 1`), which beside the pod's own `Error: …` reads as two errors.
  const exit = message.replace(/^Error: (?=\S+ exited)/, '');
  const why = errorLine ?? (lastOutput === undefined ? undefined : firstErrorLine(lastOutput.split(' | ').join('\n')));
  const text = [exit, why].filter((x) => x !== undefined && x !== '').join(': ');
  return `pod ${p.id} (${p.version}) is ${p.state}, ${p.restarts} restart${p.restarts === 1 ? '' : 's'}${text ? `: ${text}` : ''}`;
}

// The headline of an error as runtimes print it: `Error: boom`, `TypeError [ERR_X]: …`, Python's `ValueError: …`, Go's `panic: …`.
const HEADLINE = /^\s*(?:Uncaught\s+)?(?:[\w$.]*(?:Error|Exception)(?:\s*\[[\w.]+\])?:\s|panic:|fatal error:|FATAL\b)/;
// What says nothing on its own: stack frames, Node's source excerpt markers, its version footer, bare braces.
const NOISE = /^\s*(?:at\s|\^+\s*$|Node\.js v\d|[{}\])]+,?\s*$|Traceback \(most recent call last\):|File ")/;

/**
 * The line of a pod's output that says why it died: the error headline of the LAST crash in the
 * text (a log holds every run), else its last line that is not a stack frame or a footer.
 */
export function firstErrorLine(text: string): string | undefined {
  const lines = text.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
  for (let i = lines.length - 1; i >= 0; i--) if (HEADLINE.test(lines[i])) return lines[i].trim();
  for (let i = lines.length - 1; i >= 0; i--) if (!NOISE.test(lines[i])) return lines[i].trim();
  return undefined;
}

/** Analysis runs newer than `since` (ISO time of the last one printed), as lines. */
export function newAnalysisRuns(r: RolloutJson, since: string | undefined): { lines: string[]; last: string | undefined } {
  const runs = (r.analysis?.runs ?? []).filter((x) => since === undefined || x.at > since);
  return {
    lines: runs.map((x) => `analysis ${x.result} for ${x.version}: ${x.message}`),
    last: runs.length > 0 ? runs[runs.length - 1].at : since,
  };
}
