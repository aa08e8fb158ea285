// gridctl scale, register (DSR), chaos, failover, audit, alerts.
import type { Ctx } from '../run.js';
import { ApiError, CliError, EXIT_FAILED, EXIT_OK, UsageError } from '../errors.js';
import { ageSince, paint, parseOutput, printData, table } from '../output.js';
import { registerSpec, type ServiceManifest } from './dsr.js';
import { parseDuration } from './rollout.js';
import type { AuditEntry, GridEvent } from '../../common/api/types.js';

export function intFlag(raw: unknown, flag: string, min: number, max: number): number {
  const s = String(raw);
  if (!/^[-+]?\d+$/.test(s) || Number(s) < min || Number(s) > max) throw new UsageError(`${flag}: must be an integer ${min}..${max} (got '${s}')`);
  return Number(s);
}

function dataFormat(ctx: Ctx): 'table' | 'json' | 'yaml' {
  return parseOutput(ctx.opts.output as string | undefined, ['json', 'yaml']) as 'table' | 'json' | 'yaml';
}

const enc = encodeURIComponent;

interface Applied {
  service: string;
  result: string;
  generation: number;
  revision: number;
  version: string;
}

/**
 * POST /apply (or ?dryRun=All with --dry-run) of one generated manifest. Prints the result line,
 * or with -o yaml|json the manifest itself (the equivalent spec to keep in a file).
 */
export async function applyManifest(ctx: Ctx, m: ServiceManifest): Promise<number> {
  const fmt = dataFormat(ctx);
  const dry = ctx.opts.dryRun === true;
  const res = await ctx.client.post<{ applied: Applied[] }>('/apply', { body: m, query: { dryRun: dry ? 'All' : undefined } });
  if (fmt !== 'table') {
    await printData(m, fmt, ctx.out);
    return EXIT_OK;
  }
  for (const a of res.applied) ctx.out.write(`service/${a.service} ${a.result}${dry ? ' (dry run)' : ''}${a.generation !== undefined ? ` (generation ${a.generation}, revision ${a.revision}, ${a.version})` : ''}\n`);
  return EXIT_OK;
}

export async function registerCommand(ctx: Ctx): Promise<number> {
  const o = ctx.opts;
  if (typeof o.service !== 'string' || typeof o.serviceVersion !== 'string') throw new UsageError('--service and --version are required');
  const weight = intFlag(o.weight ?? '100', '--weight', 0, 100);
  // Only a held canary depends on what runs already; a full registration needs no extra round trip.
  const exists = weight !== 100 && (await ctx.client.request('GET', `/services/${enc(o.service)}`, { accept: [404] })).status !== 404;
  const m = registerSpec(
    {
      service: o.service,
      version: o.serviceVersion,
      command: o.command as string | undefined,
      image: o.image as string | undefined,
      internalPort: o.internalPort === undefined ? undefined : intFlag(o.internalPort, '--internal-port', 1, 65535),
      replicas: intFlag(o.replicas ?? '1', '--replicas', 0, 1000),
      weight,
    },
    exists,
  );
  return applyManifest(ctx, m);
}

export async function scaleCommand(ctx: Ctx, kind: string, name: string): Promise<number> {
  if (kind !== 'service' && kind !== 'services' && kind !== 'svc') throw new UsageError(`scale: only services can be scaled (got '${kind}')`);
  if (ctx.opts.replicas === undefined) throw new UsageError('scale: --replicas is required');
  const replicas = intFlag(ctx.opts.replicas, '--replicas', 0, 1000);
  const res = await ctx.client.post<{ replicas: number; autoscaled?: boolean; note?: string }>('/scale', { query: { service: name, replicas } });
  ctx.out.write(`service/${name} scaled${res.autoscaled ? ` to ${res.replicas} (${res.note})` : ''}\n`);
  return EXIT_OK;
}

export async function chaosKillCommand(ctx: Ctx, service: string | undefined): Promise<number> {
  const pod = ctx.opts.pod as string | undefined;
  if ((pod === undefined) === (service === undefined)) throw new UsageError(pod === undefined ? 'chaos kill: give a SERVICE (with --count N) or --pod ID' : 'chaos kill: give a SERVICE or --pod ID, not both');
  if (pod !== undefined && ctx.opts.count !== undefined) throw new UsageError('chaos kill: --count goes with a SERVICE, not --pod');
  const version = ctx.opts.serviceVersion as string | undefined;
  if (pod !== undefined && version !== undefined) throw new UsageError('chaos kill: --version goes with a SERVICE, not --pod');
  const count = ctx.opts.count === undefined ? undefined : intFlag(ctx.opts.count, '--count', 1, 1000);
  const res = await ctx.client.post<{ service: string; killed: string[]; requested: number }>('/chaos/kill', { query: pod !== undefined ? { pod } : { service, count, version } });
  const fmt = dataFormat(ctx);
  if (fmt !== 'table') return printData(res, fmt, ctx.out).then(() => EXIT_OK);
  for (const id of res.killed) ctx.out.write(`pod/${id} killed\n`);
  if (res.killed.length < res.requested) ctx.out.write(`${res.requested - res.killed.length} fewer than asked: ${res.service} had only ${res.killed.length} pods to kill\n`);
  return EXIT_OK;
}

export async function chaosPauseCommand(ctx: Ctx, service: string | undefined): Promise<number> {
  const pod = ctx.opts.pod as string | undefined;
  const version = ctx.opts.serviceVersion as string | undefined;
  if ((pod === undefined) === (service === undefined)) throw new UsageError(pod === undefined ? 'chaos pause: give a SERVICE (with --count N) or --pod ID' : 'chaos pause: give a SERVICE or --pod ID, not both');
  if (pod !== undefined && (ctx.opts.count !== undefined || version !== undefined || ctx.opts.all !== undefined)) throw new UsageError('chaos pause: --count, --version and --all go with a SERVICE, not --pod');
  const count = ctx.opts.count === undefined ? undefined : intFlag(ctx.opts.count, '--count', 1, 1000);
  const seconds = ctx.opts.seconds === undefined ? undefined : intFlag(ctx.opts.seconds, '--seconds', 1, 600);
  const res = await ctx.client.post<{ id: string; service: string; pods: string[]; endsAt: number }>('/chaos/pause', { query: pod !== undefined ? { pod, seconds } : { service, count, seconds, version, all: ctx.opts.all ? 'true' : undefined } });
  const fmt = dataFormat(ctx);
  if (fmt !== 'table') return printData(res, fmt, ctx.out).then(() => EXIT_OK);
  const until = new Date(res.endsAt).toISOString();
  for (const id of res.pods) ctx.out.write(`pod/${id} paused until ${until}\n`);
  const events = await ctx.client.get<{ events: GridEvent[] }>('/events', { service: res.service, type: 'chaos.paused' }).catch(() => ({ events: [] }));
  ctx.out.write(`${pauseExplanation(res.id, res.service, events.events)}\n`);
  return EXIT_OK;
}

/**
 * What should happen to the paused pods, from their own probes: the `chaos.paused` events of this
 * experiment say it (with no liveness probe, that nothing will restart them), so the user reads it
 * here rather than being sent to look.
 */
export function pauseExplanation(id: string, service: string, events: ReadonlyArray<Pick<GridEvent, 'message' | 'explain'>>): string {
  const explains = events.filter((e) => e.message.endsWith(`(experiment ${id})`)).map((e) => e.explain);
  if (explains.length === 0) return `experiment ${id}: gridctl events --service ${service} says what the pods' probes should do`;
  return `experiment ${id}: ${explains.join('\n  ')}`;
}

/** The toggle flags, checked here so a bad value costs no request and says which flag: [flag, query key, check]. */
const TOGGLE_FLAGS: Array<[string, string, (v: string) => string | undefined]> = [
  ['--seconds', 'seconds', (v) => (isNumberIn(v, 0, 300) ? undefined : 'a number of seconds 0..300')],
  ['--rate', 'rate', (v) => (isNumberIn(v, 0, 1) ? undefined : 'a number 0..1 (the share of requests to fail)')],
  ['--ms', 'ms', (v) => (/^\d+$/.test(v) && Number(v) <= 60000 ? undefined : 'an integer 0..60000 (milliseconds)')],
  ['--value', 'value', (v) => (v === 'true' || v === 'false' ? undefined : 'true or false')],
];

function isNumberIn(v: string, min: number, max: number): boolean {
  return /^\d*\.?\d+$/.test(v) && Number(v) >= min && Number(v) <= max;
}

/** The query a toggle sends, from its flags; a usage error naming the flag when a value is out of range. */
export function toggleQuery(toggle: string, opts: Record<string, unknown>): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [flag, key, check] of TOGGLE_FLAGS) {
    if (opts[key] === undefined) continue;
    const v = String(opts[key]);
    const problem = check(v);
    if (problem) throw new UsageError(`${flag}: must be ${problem} (got '${v}')`);
    query[key] = v;
  }
  if (toggle === 'slow' && query.ms === undefined) throw new UsageError('chaos slow: --ms is required (0 turns the delay off)');
  if (toggle === 'liveness' && typeof opts.fail === 'boolean') query.fail = String(opts.fail);
  return query;
}

/**
 * One line for a toggle's answer (the demo service's state after it): `pod/x: fail on (rate 0.5)`.
 * ok is false when the pod ignored the toggle (a stable version ignores failure toggles).
 */
export function toggleLine(pod: string, toggle: string, answer: unknown): { line: string; ok: boolean } {
  const a = (typeof answer === 'object' && answer !== null ? answer : {}) as Record<string, unknown>;
  const say = (text: string, ok = true) => ({ line: `pod/${pod}: ${text}`, ok });
  if (a.ignored === true) return say(`${toggle} ignored (${String(a.reason ?? 'the pod ignored it').replace(/: \w+ is ignored$/, '')})`, false);
  const onOff = (on: boolean, detail?: string) => say(`${toggle} ${on ? `on${detail ? ` (${detail})` : ''}` : 'off'}`);
  switch (toggle) {
    case 'cpu':
      return onOff(Number(a.seconds) > 0, `burning one core for ${String(a.seconds)}s`);
    case 'crash':
      return say(`crash: exiting with code ${String(a.code ?? 1)}; Grid restarts it`);
    case 'fail':
      return onOff(Number(a.failRate) > 0, `rate ${String(a.failRate)}`);
    case 'slow':
      return onOff(Number(a.slowMs) > 0, `${String(a.slowMs)} ms`);
    case 'corrupt':
      return onOff(a.corrupted === true);
    case 'liveness':
      return onOff(a.livenessFail === true, 'the liveness probe fails');
    case 'unready':
      return onOff(a.unready === true, 'the readiness probe fails');
    case 'reset':
      return say('every chaos toggle off');
  }
  return say(`${toggle}: ${typeof answer === 'string' ? answer : JSON.stringify(answer)}`);
}

/** Grid passes a pod's 400 on as `query: {"error":"rate must be a number 0..1"}`: the sentence inside. */
export function podRefusal(message: string): string {
  try {
    const body = JSON.parse(message) as { error?: unknown; message?: unknown };
    const text = body.error ?? body.message;
    if (typeof text === 'string') return text;
  } catch {
    // Not JSON: the pod's words as they came.
  }
  return message;
}

export async function chaosToggleCommand(ctx: Ctx, toggle: string, pod: string): Promise<number> {
  const query = toggleQuery(toggle, ctx.opts);
  const fmt = dataFormat(ctx);
  let res: { pod: string; toggle: string; status: number; answer: unknown };
  try {
    res = await ctx.client.post(`/pods/${enc(pod)}/chaos/${toggle}`, { query });
  } catch (e) {
    const q = e instanceof ApiError ? e.body?.errors?.find((x) => x.path === 'query') : undefined;
    if (q) throw new CliError(`pod/${pod}: ${toggle} refused: ${podRefusal(q.message)}`);
    throw e;
  }
  const { line, ok } = toggleLine(pod, toggle, res.answer);
  if (fmt !== 'table') await printData(res, fmt, ctx.out);
  else if (ok) ctx.out.write(`${line}\n`);
  if (!ok) ctx.err.write(`${paint(line, 'red', ctx.color)}\n`);
  return ok ? EXIT_OK : EXIT_FAILED;
}

/** POST /chaos/faults fields and the flags that set them: a 400 naming a field is reported with its flag. */
const FAULT_FLAGS: Array<[field: string, opt: string, flag: string]> = [
  ['abortPercent', 'abortPercent', '--abort-percent'],
  ['abortStatus', 'abortStatus', '--abort-status'],
  ['delayMs', 'delayMs', '--delay-ms'],
  ['delayPercent', 'delayPercent', '--delay-percent'],
  ['version', 'serviceVersion', '--version'],
];

interface ExperimentRow {
  id: string;
  kind: string;
  service: string;
  version?: string;
  pods?: string[];
  params: Record<string, number | string>;
  secondsLeft: number;
  origin: string;
}

/** What an experiment does, in a few words (the table's DETAILS column and the start line). */
export function experimentDetails(e: Pick<ExperimentRow, 'kind' | 'params' | 'pods'>): string {
  const p = e.params;
  if (e.kind === 'faults') {
    const parts: string[] = [];
    if (Number(p.abortPercent) > 0) parts.push(`abort ${p.abortPercent}% with ${p.abortStatus}`);
    if (Number(p.delayPercent) > 0) parts.push(`delay ${p.delayPercent}% by ${p.delayMs}ms`);
    return parts.join(', ');
  }
  return e.pods?.length ? `pods ${e.pods.join(',')}` : Object.entries(p).map(([k, v]) => `${k}=${v}`).join(' ');
}

/** The request body of `chaos faults`, from its flags (numbers as given: the server checks the ranges and names the field). */
export function faultsBody(service: string, opts: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = { service };
  for (const [field, opt] of FAULT_FLAGS) {
    const v = opts[opt];
    if (v === undefined) continue;
    body[field] = field !== 'version' && /^[-+]?\d+(\.\d+)?$/.test(String(v)) ? Number(v) : v;
  }
  // --delay-ms reads like a duration flag: take 100ms or 1s as well as 100.
  if (typeof body.delayMs === 'string') {
    const raw = body.delayMs;
    if (!/^\d+(\.\d+)?(ms|s)$/.test(raw.trim())) throw new UsageError(`--delay-ms: milliseconds, e.g. 200 (or a duration such as 200ms or 1s; got '${raw}')`);
    body.delayMs = parseDuration(raw.trim(), '--delay-ms');
  }
  if (opts.duration !== undefined) {
    const ms = parseDuration(String(opts.duration), '--duration');
    if (ms % 1000 !== 0 || ms < 1000 || ms > 3_600_000) throw new UsageError(`--duration: must be whole seconds from 1s to 1h (got '${String(opts.duration)}')`);
    body.durationSeconds = ms / 1000;
  }
  return body;
}

/** A server message about fault fields, in the flags' words ("give abortPercent or delayPercent" -> "give --abort-percent or --delay-percent"). */
export function faultFlagMessage(message: string): string {
  let out = message;
  for (const [field, , flag] of FAULT_FLAGS) out = out.replace(new RegExp(`\\b${field}\\b`, 'g'), flag);
  return out.replace(/\bdurationSeconds\b/g, '--duration');
}

export async function chaosFaultsCommand(ctx: Ctx, service: string): Promise<number> {
  const body = faultsBody(service, ctx.opts);
  let res: ExperimentRow & { endsAt: number; startedAt: number };
  try {
    res = await ctx.client.post('/chaos/faults', { body });
  } catch (e) {
    const field = e instanceof ApiError ? e.body?.errors?.[0] : undefined;
    const flag = field && FAULT_FLAGS.find(([f]) => f === field.path)?.[2];
    if (field && (flag || field.path === 'durationSeconds')) throw new UsageError(`${flag ?? '--duration'}: ${faultFlagMessage(field.message)}`);
    throw e;
  }
  const fmt = dataFormat(ctx);
  if (fmt !== 'table') return printData(res, fmt, ctx.out).then(() => EXIT_OK);
  const scope = res.version ? `${res.service} (version ${res.version})` : res.service;
  ctx.out.write(`experiment/${res.id} started: ${experimentDetails(res)} of the requests to ${scope} for ${Math.round((res.endsAt - res.startedAt) / 1000)}s (gridctl chaos stop ${res.id} ends it sooner)\n`);
  return EXIT_OK;
}

export async function chaosExperimentsCommand(ctx: Ctx): Promise<number> {
  const res = await ctx.client.get<{ experiments: ExperimentRow[] }>('/chaos/experiments');
  const fmt = dataFormat(ctx);
  if (fmt !== 'table') return printData(res, fmt, ctx.out).then(() => EXIT_OK);
  if (res.experiments.length === 0) {
    ctx.out.write('No chaos experiment is running.\n');
    return EXIT_OK;
  }
  ctx.out.write(`${table(['ID', 'KIND', 'SERVICE', 'VERSION', 'ORIGIN', 'LEFT', 'DETAILS'], res.experiments.map((e) => [e.id, e.kind, e.service, e.version, originLabel(e.origin), `${e.secondsLeft}s`, experimentDetails(e)]))}\n`);
  return EXIT_OK;
}

/** The ORIGIN column: the server's `api` (started through the API by hand) would read as a service named api. */
export function originLabel(origin: string): string {
  return origin === 'api' ? 'manual' : origin;
}

export async function chaosStopCommand(ctx: Ctx, id: string): Promise<number> {
  let res: ExperimentRow;
  try {
    res = await ctx.client.delete<ExperimentRow>(`/chaos/experiments/${enc(id)}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) throw new CliError(`${e.message} (see gridctl chaos experiments)`, EXIT_FAILED);
    throw e;
  }
  const fmt = dataFormat(ctx);
  if (fmt !== 'table') return printData(res, fmt, ctx.out).then(() => EXIT_OK);
  ctx.out.write(`experiment/${res.id} stopped (${res.kind} on ${res.service})\n`);
  return EXIT_OK;
}

/** `alerts foo`: alerts has one subcommand. */
export function alertsUnknown(word: string): never {
  throw new UsageError(`alerts has no subcommand '${word}': \`gridctl alerts\` lists the alert state, \`gridctl alerts test\` sends a test alert`);
}

interface GroupSummary {
  name: string;
  active: string | null;
  healthy: number;
  total: number;
  failback: string;
  lastSwitch: { at: string; from: string; to: string; reason: string } | null;
}

interface GroupView extends Omit<GroupSummary, 'lastSwitch'> {
  pinned: boolean;
  cooldownRemainingMs: number;
  targets: Array<{ name: string; kind: string; priority: number; active: boolean; health: string; consecutiveFailures: number; latency: { p50Ms: number | null; p99Ms: number | null } }>;
  history: Array<{ at: string; from: string; to: string; automatic: boolean; reason: string; message: string }>;
}

export function failoverRows(groups: GroupSummary[], now = Date.now()): string[][] {
  return groups.map((g) => [g.name, g.active ?? '', `${g.healthy}/${g.total}`, g.failback, g.lastSwitch ? `${g.lastSwitch.from} → ${g.lastSwitch.to} (${g.lastSwitch.reason}, ${ageSince(g.lastSwitch.at, now)} ago)` : '']);
}

export async function failoverStatusCommand(ctx: Ctx, group: string | undefined): Promise<number> {
  const fmt = dataFormat(ctx);
  if (group === undefined) {
    const res = await ctx.client.get<{ groups: GroupSummary[] }>('/failover');
    if (fmt !== 'table') return printData(res, fmt, ctx.out).then(() => EXIT_OK);
    if (res.groups.length === 0) ctx.err.write('No failover groups found.\n');
    else ctx.out.write(`${table(['NAME', 'ACTIVE', 'HEALTHY', 'FAILBACK', 'LAST-SWITCH'], failoverRows(res.groups))}\n`);
    return EXIT_OK;
  }
  const g = await ctx.client.get<GroupView>(`/failover/${enc(group)}`);
  if (fmt !== 'table') return printData(g, fmt, ctx.out).then(() => EXIT_OK);
  const ms = (n: number | null) => (n === null ? '' : `${n}ms`);
  ctx.out.write(`Group:     ${g.name}\nActive:    ${g.active ?? '<none>'}${g.pinned ? ' (pinned by a manual switch)' : ''}\nHealthy:   ${g.healthy}/${g.total}\nFailback:  ${g.failback}${g.cooldownRemainingMs > 0 ? `\nCooldown:  ${Math.ceil(g.cooldownRemainingMs / 1000)}s left` : ''}\n\n`);
  ctx.out.write(`${table(['PRIORITY', 'TARGET', 'KIND', 'ACTIVE', 'HEALTH', 'FAILURES', 'P50', 'P99'], g.targets.map((t) => [String(t.priority), t.name, t.kind, t.active ? '*' : '', t.health, String(t.consecutiveFailures), ms(t.latency.p50Ms), ms(t.latency.p99Ms)]))}\n`);
  if (g.history.length > 0) ctx.out.write(`\nSwitches (newest first):\n${g.history.slice(0, 10).map((h) => `  ${h.at}  ${h.from} → ${h.to}  ${h.automatic ? 'automatic' : 'manual'} ${h.reason}: ${h.message}`).join('\n')}\n`);
  return EXIT_OK;
}

export async function failoverSwitchCommand(ctx: Ctx, group: string): Promise<number> {
  const res = await ctx.client.post<{ group: string; from: string; to: string; message: string }>(`/failover/${enc(group)}/switch`, { query: { to: ctx.opts.to as string | undefined } });
  ctx.out.write(`${switchLine(group, res)}\n`);
  return EXIT_OK;
}

/** `failovergroup/web switched from a to b`, with what the server's message adds (a warning that b is unhealthy), not its repetition. */
export function switchLine(group: string, res: { from: string; to: string; message: string }): string {
  const head = `switched by request from ${res.from} to ${res.to}`;
  const extra = res.message.startsWith(head) ? res.message.slice(head.length).trim() : res.message;
  return `failovergroup/${group} switched from ${res.from} to ${res.to}${extra ? ` ${extra.startsWith('(') ? extra : `(${extra})`}` : ''}`;
}


/** `1h`, `30m`, `2d` ago, or an ISO time / epoch ms as the server takes it. */
export function sinceParam(raw: string, now = Date.now()): string {
  const m = /^(\d+)(s|m|h|d)$/.exec(raw);
  if (m) return new Date(now - Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's']!).toISOString();
  if (/^\d+$/.test(raw) || /^\d{4}-\d{2}-\d{2}/.test(raw)) return raw;
  throw new UsageError(`--since: a duration such as 1h or 30m, or an ISO-8601 time (got '${raw}')`);
}

export function auditRows(entries: AuditEntry[]): string[][] {
  return entries.map((e) => [new Date(e.time).toISOString(), e.actor, e.action, e.target ?? '', e.status === null ? 'decision' : String(e.status), e.sourceIp ?? '', e.summary]);
}

export async function auditCommand(ctx: Ctx): Promise<number> {
  const o = ctx.opts;
  const fmt = dataFormat(ctx);
  if (o.verify === true) {
    const v = await ctx.client.get<{ ok: boolean; checked: number; firstBroken?: { id: number; reason: string; detail: string }; head: unknown }>('/audit/verify');
    if (fmt !== 'table') await printData(v, fmt, ctx.out);
    else if (v.ok) ctx.out.write(`audit chain intact: ${v.checked} entries checked\n`);
    if (v.ok) return EXIT_OK;
    const b = v.firstBroken;
    ctx.err.write(`${paint('audit chain broken', 'red', ctx.color)}${b ? ` at entry ${b.id}: ${b.reason} (${b.detail})` : ''}; ${v.checked} entries checked\n`);
    return EXIT_FAILED;
  }
  const query = {
    since: o.since === undefined ? undefined : sinceParam(String(o.since)),
    actor: o.actor as string | undefined,
    action: o.action as string | undefined,
    target: o.target as string | undefined,
    limit: o.limit === undefined ? undefined : intFlag(o.limit, '--limit', 1, 500),
  };
  const res = await ctx.client.get<{ entries: AuditEntry[]; nextCursor: number | null }>('/audit', query);
  if (fmt !== 'table') return printData(res, fmt, ctx.out).then(() => EXIT_OK);
  if (res.entries.length === 0) ctx.err.write('No audit entries found.\n');
  else ctx.out.write(`${table(['TIME', 'ACTOR', 'ACTION', 'TARGET', 'RESULT', 'SOURCE', 'SUMMARY'], auditRows(res.entries))}\n`);
  return EXIT_OK;
}

interface AlertSubject {
  subject: string;
  kind: string;
  state: string;
  since: string | null;
  detail?: string;
  pending: { to: string; firesAt: string } | null;
  heldBack: { until: string; reason: string } | null;
}

interface Delivery {
  id: number;
  channel: string;
  state: string;
  attempts: number;
  lastError: string | null;
}

export function alertRows(subjects: AlertSubject[], now = Date.now()): string[][] {
  return subjects.map((s) => [s.subject, s.kind, s.state, s.since ? ageSince(s.since, now) : '', s.pending ? `${s.pending.to} at ${s.pending.firesAt}` : '', s.heldBack ? `${s.heldBack.reason} until ${s.heldBack.until}` : '', s.detail ?? '']);
}

export async function alertsCommand(ctx: Ctx): Promise<number> {
  const fmt = dataFormat(ctx);
  const res = await ctx.client.get<{ subjects: AlertSubject[]; channels: Record<string, unknown> }>('/alerts');
  if (fmt !== 'table') return printData(res, fmt, ctx.out).then(() => EXIT_OK);
  if (res.subjects.length === 0) ctx.err.write('No alert subjects yet.\n');
  else ctx.out.write(`${table(['SUBJECT', 'KIND', 'STATE', 'SINCE', 'PENDING', 'HELD BACK', 'DETAIL'], alertRows(res.subjects))}\n`);
  return EXIT_OK;
}

const FINAL = new Set(['ok', 'failed', 'dropped']);

/** POST /alerts/test queues one delivery per channel; wait for each to finish (the queue retries), then say how each went. */
export async function alertsTestCommand(ctx: Ctx): Promise<number> {
  const { queued } = await ctx.client.post<{ queued: Delivery[] }>('/alerts/test');
  const ids = new Set(queued.map((d) => d.id));
  const deadline = Date.now() + 120_000;
  let latest: Delivery[] = queued;
  while (!ctx.signal.aborted && latest.some((d) => !FINAL.has(d.state)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 300));
    const { deliveries } = await ctx.client.get<{ deliveries: Delivery[] }>('/alerts');
    latest = deliveries.filter((d) => ids.has(d.id));
  }
  if (ctx.signal.aborted) return EXIT_OK;
  let failed = false;
  for (const d of latest) {
    const bad = d.state !== 'ok';
    failed ||= bad;
    const text = `${d.channel}: ${d.state}${d.attempts > 1 ? ` after ${d.attempts} attempts` : ''}${d.lastError && bad ? `: ${d.lastError}` : ''}`;
    ctx.out.write(`${bad ? paint(text, 'red', ctx.color) : text}\n`);
  }
  if (latest.some((d) => !FINAL.has(d.state))) throw new CliError('gave up waiting for the test alert to be delivered');
  return failed ? EXIT_FAILED : EXIT_OK;
}
