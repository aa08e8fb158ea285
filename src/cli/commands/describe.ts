// gridctl describe service|pod|failovergroup NAME: kubectl-describe-like sections from the
// object's own answer, its rollout, and its recent events with Grid's explanation of each.
// The format* functions are pure (tested in describe.spec.ts); describeCommand does the reads.
import { printError, type Ctx, type CommandResult } from '../run.js';
import { ApiError, CliError, EXIT_FAILED, UsageError } from '../errors.js';
import { age, ageSince, sanitize, table } from '../output.js';
import { getOne } from './get.js';
import { kindOf, namedRefs, type Kind } from './resource-args.js';
import { eventObject, eventSeverity, podRows, readyString, workload, type Condition, type GridEvent, type GroupDetail, type PodDetail, type Probe, type ServiceDetail } from './get-rows.js';

/** GET /services/:name/rollout */
export interface RolloutStatus {
  strategy: string;
  phase: string;
  pauseReason?: string | null;
  step: { number: number; of: number; current: Record<string, unknown> | null } | null;
  canaryWeight?: number | null;
  weights: Record<string, number> | null;
  stable?: { revision: number; version: string } | null;
  canary?: { revision: number; version: string } | null;
  startedAt?: string | null;
  abort?: { reason?: string; message?: string } | null;
  analysis?: { failures: number; runs: Array<{ at: number; version: string; requests: number; errorRate: number; p99Ms: number; result: string; message: string }> };
}

const EVENT_LIMIT = 20;

const DESCRIBABLE: Kind[] = ['services', 'pods', 'failovergroups'];

/** `describe TYPE NAME…` or `describe TYPE/NAME…`; several objects are printed one after another, as kubectl does. */
export async function describeCommand(ctx: Ctx, args: string[]): Promise<CommandResult> {
  // An event has nothing more to show than `get events ID -o yaml` does, so describe does not take one.
  if (args.some((a) => kindOrUndefined(a.split('/')[0]) === 'events')) throw new UsageError("describe: events have no detail view (their whole record: gridctl get events ID -o yaml); one of service (svc), pod (po), failovergroup (fg)");
  const refs = namedRefs(args, DESCRIBABLE, 'describe');
  let code = 0;
  for (const [i, r] of refs.entries()) {
    try {
      const text = await describeOne(ctx, r.kind, r.name);
      ctx.out.write(i > 0 ? `\n\n${text}` : text);
    } catch (e) {
      if (!(e instanceof CliError) || e instanceof ApiError || refs.length === 1) throw e;
      code = printError(e);
    }
  }
  return code === 0 ? 0 : EXIT_FAILED;
}

function kindOrUndefined(raw: string): Kind | undefined {
  try {
    return kindOf(raw);
  } catch {
    return undefined;
  }
}

async function describeOne(ctx: Ctx, kind: Kind, name: string): Promise<string> {
  const now = Date.now();
  if (kind === 'services') {
    const s = await getOne<ServiceDetail>(ctx, `/services/${encodeURIComponent(name)}`, kind, name);
    const [rollout, events] = await Promise.all([
      ctx.client.request<RolloutStatus>('GET', `/services/${encodeURIComponent(name)}/rollout`, { accept: [404] }),
      recentEvents(ctx, name),
    ]);
    return formatService(s, rollout.status === 200 ? rollout.data : null, events, now);
  }
  if (kind === 'pods') {
    const p = await getOne<PodDetail>(ctx, `/pods/${encodeURIComponent(name)}`, kind, name);
    const events = (await recentEvents(ctx, p.service, 200)).filter((e) => e.pod === p.id).slice(-EVENT_LIMIT);
    return formatPod(p, events, now);
  }
  const g = await getOne<GroupDetail>(ctx, `/failover/${encodeURIComponent(name)}`, kind, name);
  return formatGroup(g, await recentEvents(ctx, name), now);
}

async function recentEvents(ctx: Ctx, service: string, limit = EVENT_LIMIT): Promise<GridEvent[]> {
  return (await ctx.client.get<{ events: GridEvent[] }>('/events', { service, limit })).events;
}

/** `Name:` value lines aligned as kubectl's describe aligns them. */
function fields(pairs: Array<[string, string | number | null | undefined]>, indent = ''): string {
  const w = Math.max(...pairs.map(([k]) => k.length)) + 3;
  return pairs.map(([k, v]) => `${indent}${`${k}:`.padEnd(w)}${v === null || v === undefined || v === '' ? '<none>' : sanitize(String(v))}`).join('\n');
}

function indent(text: string, by = '  '): string {
  return text
    .split('\n')
    .map((l) => (l ? by + l : l))
    .join('\n');
}

/** kubectl's probe line: `http-get /health delay=0s timeout=1s period=10s #success=1 #failure=3`. */
export function probeLine(p: Probe | undefined): string | undefined {
  if (!p) return undefined;
  return `http-get ${p.httpGet?.path ?? '/'} delay=${p.initialDelaySeconds ?? 0}s timeout=${p.timeoutSeconds ?? 1}s period=${p.periodSeconds ?? 10}s #success=${p.successThreshold ?? 1} #failure=${p.failureThreshold ?? 3}`;
}

/** kubectl's Deployment line: `3 desired | 3 updated | 3 total | 3 available | 0 unavailable`. */
export function replicasLine(s: ServiceDetail): string {
  const st = s.status ?? {};
  return `${s.desired} desired | ${st.updatedReplicas ?? 0} updated | ${st.replicas ?? s.actual} total | ${st.availableReplicas ?? 0} available | ${st.unavailableReplicas ?? 0} unavailable`;
}

function labels(l: Record<string, string> | undefined): string {
  const entries = Object.entries(l ?? {});
  return entries.length === 0 ? '<none>' : entries.map(([k, v]) => `${k}=${v}`).join(',');
}

function conditions(cs: Condition[] | undefined): string {
  if (!cs || cs.length === 0) return '  <none>';
  return indent(table(['Type', 'Status', 'Reason', 'Message'], [['----', '------', '------', '-------'], ...cs.map((c) => [c.type, c.status, c.reason, c.message])]).replace(/^.*\n/, (h) => h.replace(/[A-Z]+/g, (w) => w[0] + w.slice(1).toLowerCase())));
}

/** Events as kubectl's describe lists them, each followed by Grid's explanation. */
export function eventsSection(events: GridEvent[], now: number): string {
  if (events.length === 0) return 'Events:  <none>';
  const lines = table(['Type', 'Reason', 'Age', 'Object', 'Message'], events.map((e) => [eventSeverity(e), e.reason, ageSince(e.time, now), eventObject(e), e.message])).split('\n');
  const header = lines[0].replace(/[A-Z]+/g, (w) => w[0] + w.slice(1).toLowerCase());
  const body = lines.slice(1).flatMap((l, i) => [l, `  why: ${sanitize(events[i].explain)}`]);
  return `Events:\n${indent([header, ...body].join('\n'))}`;
}

export function strategyLine(s: ServiceDetail): string {
  const r = s.spec.rollout ?? {};
  const strategy = r.strategy ?? 'Rolling';
  // Grid rolls a persistent service with maxSurge 0, maxUnavailable 1 whatever the spec says: an ordinal's directory takes one pod at a time.
  if (s.spec.storage?.persistent === true) return `Rolling (one pod at a time: persistent storage; minReadySeconds ${r.minReadySeconds ?? 0})`;
  if (strategy === 'Rolling') return `Rolling (maxSurge ${r.maxSurge ?? '25%'}, maxUnavailable ${r.maxUnavailable ?? '25%'}, minReadySeconds ${r.minReadySeconds ?? 0})`;
  if (strategy === 'Canary') return `Canary (${(r.steps ?? []).length} steps${r.analysis ? ', with analysis' : ''})`;
  return strategy;
}

/** `persistent: pods/db-<ordinal> (GRID_POD_DATA)`; none for a service whose pods keep nothing. */
export function storageLine(s: ServiceDetail): string | undefined {
  return s.spec.storage?.persistent === true ? `persistent: pods/${s.name}-<ordinal> under the data dir, as GRID_POD_DATA (gridctl get volumes --service ${s.name})` : undefined;
}

/** A canary step as the spec says it: `setWeight 25%`, `pause 20s`, `pause (until promoted)`, `chaos kill 1 (recover within 60s)`. */
export function stepText(step: Record<string, unknown>): string {
  if (typeof step.setWeight === 'number') return `setWeight ${step.setWeight}%`;
  if (step.pause && typeof step.pause === 'object') {
    const d = (step.pause as { duration?: unknown }).duration;
    return typeof d === 'number' ? `pause ${d}s` : 'pause (until promoted)';
  }
  if (step.chaos && typeof step.chaos === 'object') return chaosText(step.chaos as Record<string, unknown>) ?? JSON.stringify(step);
  return JSON.stringify(step);
}

/** Seconds as the server gives them (a number), or a duration a user wrote ("30s") as it is. */
function secondsText(v: unknown): string {
  return typeof v === 'number' ? `${v}s` : String(v);
}

function chaosText(c: Record<string, unknown>): string | undefined {
  const recover = c.recoverWithin !== undefined ? ` (recover within ${secondsText(c.recoverWithin)})` : '';
  if (typeof c.kill === 'number') return `chaos kill ${c.kill}${recover}`;
  if (typeof c.pause === 'number') return `chaos pause ${c.pause} for ${secondsText(c.seconds)}${recover}`;
  if (c.faults && typeof c.faults === 'object') {
    const f = c.faults as { abortPercent?: number; abortStatus?: number; delayMs?: number; delayPercent?: number };
    const parts: string[] = [];
    if (f.abortPercent) parts.push(`abort ${f.abortPercent}% with ${f.abortStatus ?? 503}`);
    if (f.delayPercent && f.delayMs) parts.push(`delay ${f.delayPercent}% by ${f.delayMs} ms`);
    return `chaos faults for ${secondsText(c.duration)}: ${parts.join(', ')}`;
  }
  return undefined;
}

/** A Canary's steps in order, numbered as the rollout counts them; undefined for other strategies. */
export function stepsLine(s: ServiceDetail): string | undefined {
  const r = s.spec.rollout;
  if (r?.strategy !== 'Canary' || !Array.isArray(r.steps) || r.steps.length === 0) return undefined;
  return (r.steps as Record<string, unknown>[]).map((step, i) => `${i + 1}. ${stepText(step)}`).join('; ');
}

/** A failover group's check in words: `GET /health every 5s, timeout 2s, expect 200-399, 3 failures down, 2 successes up`. */
export function healthCheckText(hc: Record<string, unknown>): string {
  const parts = [`GET ${String(hc.path ?? '/health')}`];
  if (hc.intervalSeconds !== undefined) parts[0] += ` every ${String(hc.intervalSeconds)}s`;
  if (hc.timeoutSeconds !== undefined) parts.push(`timeout ${String(hc.timeoutSeconds)}s`);
  if (hc.maxLatencyMs !== undefined) parts.push(`max latency ${String(hc.maxLatencyMs)} ms`);
  if (Array.isArray(hc.expectStatus)) parts.push(`expect ${(hc.expectStatus as Array<{ min: number; max: number }>).map((r) => (r.min === r.max ? String(r.min) : `${r.min}-${r.max}`)).join(',')}`);
  if (hc.expectJson !== undefined) parts.push(`expect JSON ${JSON.stringify(hc.expectJson)}`);
  if (hc.failureThreshold !== undefined) parts.push(`${String(hc.failureThreshold)} failures down`);
  if (hc.successThreshold !== undefined) parts.push(`${String(hc.successThreshold)} successes up`);
  return parts.join(', ');
}

export function rolloutSection(r: RolloutStatus | null): string {
  if (!r) return 'Rollout:  <none>';
  const weights = r.weights ? Object.entries(r.weights).map(([v, w]) => `${v}=${w}`).join(' ') : undefined;
  const runs = r.analysis?.runs ?? [];
  const lastRun = runs[runs.length - 1];
  const pairs: Array<[string, string | number | null | undefined]> = [
    ['Phase', r.phase + (r.pauseReason ? ` (${r.pauseReason})` : '')],
    ['Step', r.step ? `${r.step.number} of ${r.step.of}${r.step.current ? ` (${stepText(r.step.current)})` : ''}` : undefined],
    ['Weights', weights],
    ['Stable', r.stable ? `revision ${r.stable.revision} (${r.stable.version})` : undefined],
    ['New', r.canary ? `revision ${r.canary.revision} (${r.canary.version})` : undefined],
  ];
  if (r.abort) pairs.push(['Aborted', [r.abort.reason, r.abort.message].filter(Boolean).join(': ')]);
  pairs.push(['Analysis', `${runs.length} runs, ${r.analysis?.failures ?? 0} failed${lastRun ? `; last: ${lastRun.result} (${lastRun.requests} requests, ${(lastRun.errorRate * 100).toFixed(1)}% 5xx, p99 ${lastRun.p99Ms} ms) ${lastRun.message}` : ''}`]);
  return `Rollout:\n${fields(pairs, '  ')}`;
}

export function formatService(s: ServiceDetail, rollout: RolloutStatus | null, events: GridEvent[], now: number): string {
  const env = s.spec.env ?? [];
  const a = s.autoscaler;
  const out = [
    fields([
      ['Name', s.name],
      ['Labels', labels(s.metadata?.labels)],
      ['CreationTimestamp', s.createdAt ? `${new Date(s.createdAt).toUTCString()} (${ageSince(s.createdAt, now)} ago)` : undefined],
      ['Generation', `${s.generation} (observed ${s.status?.observedGeneration ?? s.observedGeneration})`],
      ['Revision', s.revision],
      ['Version', s.version],
      ['Runtime', s.runtime],
      [s.spec.image ? 'Image' : 'Command', workload(s.spec)],
      ['Replicas', replicasLine(s)],
      ['Strategy', strategyLine(s)],
      ['Steps', stepsLine(s)],
      ['Storage', storageLine(s)],
      ['DependsOn', (s.spec.dependsOn ?? []).map((d) => `${d.service} (${d.condition ?? 'Available'})`).join(', ')],
      ['Readiness', probeLine(s.spec.readinessProbe)],
      ['Liveness', probeLine(s.spec.livenessProbe)],
      ['Startup', probeLine(s.spec.startupProbe)],
      ['In sync', s.inSync === undefined ? undefined : s.inSync ? 'yes' : `no (${(s.diff ?? []).length} differences)`],
    ]),
    env.length ? `Env:\n${fields(env.map((e) => [e.name, e.value]), '  ')}` : 'Env:  <none>',
    `Conditions:\n${conditions(s.status?.conditions ?? s.conditions)}`,
    rolloutSection(rollout),
    a
      ? `Autoscaler:\n${fields(
          [
            ['Bounds', `min ${a.min}, max ${a.max}, target CPU ${a.targetCPU}%`],
            ['Replicas', a.replicas],
            ['Last decision', a.lastDecision ? `${a.lastDecision.verdict} ${ageSince(a.lastDecision.at, now)} ago: ${a.lastDecision.message}` : undefined],
          ],
          '  ',
        )}`
      : 'Autoscaler:  <none>',
    `Revisions:\n${indent(table(['REVISION', 'GENERATION', 'VERSION', 'SOURCE', 'REPLICAS', 'AGE'], (s.history ?? []).map((h) => [h.revision, h.generation, h.version, h.source, h.replicas, ageSince(h.createdAt, now)])))}`,
    s.pods.length ? `Pods:\n${indent(table(podRows(s.pods, false, now).headers, podRows(s.pods, false, now).rows))}` : 'Pods:  <none>',
    eventsSection(events, now),
  ];
  return `${out.join('\n')}\n`;
}

export function formatPod(p: PodDetail, events: GridEvent[], now: number): string {
  const exit = p.lastExit;
  const probeKinds = Object.entries(p.probes ?? {}).filter(([, rs]) => rs.length > 0);
  const out = [
    fields([
      ['Name', p.id],
      ['Service', p.service],
      ['Labels', labels(p.labels)],
      ['Revision', p.revision],
      ['Version', p.version],
      ['Runtime', p.runtime],
      ['Ordinal', p.ordinal === null || p.ordinal === undefined ? undefined : `${p.ordinal} (data: pods/${p.service}-${p.ordinal})`],
      ['State', p.state + (p.message ? ` (${p.message})` : '')],
      ['Ready', `${p.ready ? 'True' : 'False'} (${readyString(p.ready)})`],
      ['Restarts', p.restarts],
      ['Age', p.ageSeconds !== undefined ? age(p.ageSeconds) : ageSince(p.createdAt, now)],
      ['PID', p.pid],
      ['Port', p.port],
      ['CPU', `${p.cpu}%`],
      ['Backoff until', p.backoffUntil ? new Date(p.backoffUntil).toISOString() : undefined],
      // kubectl's "Last State: Terminated" then its details indented under it.
      ['Last exit', exit ? exit.reason : undefined],
    ]),
    ...(exit
      ? [
          fields(
            [
              ['Exit code', exit.code ?? undefined],
              ['Signal', exit.signal ?? undefined],
              ['At', `${new Date(exit.at).toISOString()} (${ageSince(exit.at, now)} ago)`],
              ['Message', exit.message],
            ],
            '  ',
          ),
        ]
      : []),
    probeKinds.length
      ? `Probes:\n${fields(
          probeKinds.map(([kind, rs]) => {
            const last = rs[rs.length - 1];
            const passed = rs.filter((r) => r.ok).length;
            return [kind, `${passed}/${rs.length} passed; last ${last.ok ? 'passed' : 'failed'} ${ageSince(last.at, now)} ago (${last.status !== undefined ? `HTTP ${last.status}` : (last.error ?? 'no answer')}${last.latencyMs !== undefined ? `, ${last.latencyMs} ms` : ''})`];
          }),
          '  ',
        )}`
      : 'Probes:  <none>',
    eventsSection(events, now),
  ];
  return `${out.join('\n')}\n`;
}

export function formatGroup(g: GroupDetail, events: GridEvent[], now: number): string {
  const out = [
    fields([
      ['Name', g.name],
      ['Active', g.active ?? undefined],
      ['Healthy', `${g.healthy}/${g.total}`],
      ['Failback', g.failback],
      ['Pinned', g.pinned === undefined ? undefined : g.pinned ? 'yes' : 'no'],
      ['Cooldown', g.cooldownSeconds === undefined ? undefined : `${g.cooldownSeconds}s${g.cooldownRemainingMs ? ` (${Math.ceil(g.cooldownRemainingMs / 1000)}s left)` : ''}`],
      ['Health check', g.healthCheck ? healthCheckText(g.healthCheck) : undefined],
    ]),
    `Targets:\n${indent(
      table(
        ['PRIORITY', 'NAME', 'KIND', 'ACTIVE', 'HEALTH', 'SINCE', 'FAILS', 'P50(ms)', 'P99(ms)'],
        g.targets.map((t) => [t.priority, t.name, t.kind, t.active ? 'yes' : 'no', t.health, t.healthSince ? ageSince(t.healthSince, now) : '', t.consecutiveFailures, t.latency?.p50Ms ?? '', t.latency?.p99Ms ?? '']),
      ),
    )}`,
    g.history.length ? `Switches:\n${indent(table(['AGE', 'FROM', 'TO', 'AUTOMATIC', 'REASON', 'MESSAGE'], g.history.map((h) => [ageSince(h.at, now), h.from ?? '', h.to, h.automatic ? 'yes' : 'no', h.reason, h.message])))}` : 'Switches:  <none>',
    eventsSection(events, now),
  ];
  return `${out.join('\n')}\n`;
}
