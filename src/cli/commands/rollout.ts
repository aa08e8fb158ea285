// gridctl rollout status|promote|abort|retry|pause|resume|undo|history, and the DSR seed's `rollout --service`.
import type { Ctx } from '../run.js';
import { CliError, EXIT_OK, UsageError, notFound } from '../errors.js';
import { paint, parseOutput, printData, table } from '../output.js';
import { crashLine, decideRolloutStatus, firstErrorLine, newAnalysisRuns, type RolloutJson, type ServiceJson } from './rollout-status.js';
import { rolloutSpec, type RolloutFlags } from './dsr.js';
import { applyManifest, intFlag } from './ops.js';

/**
 * Polled, not driven by /events/stream: status is level-triggered like the reconciler itself.
 * Two small GETs every half second see every state (a timed pause running out, the progress
 * deadline, a pod's restarts) whether or not an event announced it, a dropped stream can never
 * leave the watch stuck, and the events would only tell us to read the same two documents again.
 */
export const POLL_MS = 500;

/** `10m`, `30s`, `1h30m`, `500ms`, `0` (no limit) → ms. */
export function parseDuration(raw: string, flag: string): number {
  if (/^\d+$/.test(raw)) return Number(raw) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let used = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(raw))) {
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms']!;
    used += m[0].length;
  }
  if (used === 0 || used !== raw.length) throw new UsageError(`${flag}: must be a duration such as 30s, 10m, 1h (got '${raw}')`);
  return total;
}

function boolFlag(raw: unknown, flag: string): boolean {
  if (raw === undefined || raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new UsageError(`${flag}: must be true or false (got '${String(raw)}')`);
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export async function statusCommand(ctx: Ctx, name: string): Promise<number> {
  // `rollout`'s own -o (the DSR form's) reaches here too; status prints progress, not a document.
  if (ctx.opts.output !== undefined) throw new UsageError(`rollout status: -o is not supported (it prints progress lines); the rollout's JSON: gridctl get service ${name} -o json, or GET /services/${name}/rollout`);
  const timeoutMs = parseDuration(String(ctx.opts.timeout ?? '0'), '--timeout');
  const watch = boolFlag(ctx.opts.watch, '--watch');
  return followRollout(ctx, name, { timeoutMs, watch });
}

/** Prints progress until the rollout of the newest revision ends; the exit code says how. */
export async function followRollout(ctx: Ctx, name: string, o: { timeoutMs: number; watch: boolean }): Promise<number> {
  const deadline = o.timeoutMs > 0 ? Date.now() + o.timeoutMs : undefined;
  let lastLine: string | undefined;
  const restarts = new Map<string, number>();
  let lastRun: string | undefined;
  let revision: number | undefined;
  let first = true;
  while (!ctx.signal.aborted) {
    const [r, svc] = await Promise.all([ctx.client.get<RolloutJson>(`/services/${encodeURIComponent(name)}/rollout`), ctx.client.get<ServiceJson>(`/services/${encodeURIComponent(name)}`)]);
    if (revision !== undefined && svc.revision !== revision) ctx.out.write(`revision ${svc.revision} (${svc.version}) was applied while waiting; following it instead of revision ${revision}\n`);
    revision = svc.revision;
    // Analysis runs from before this command started are history, not progress.
    const runs = newAnalysisRuns(r, lastRun);
    if (!first) for (const l of runs.lines) ctx.out.write(`${l.includes('Failed') ? paint(l, 'red', ctx.color) : l}\n`);
    lastRun = runs.last;
    first = false;
    const d = decideRolloutStatus(r, svc, Date.now(), deadline);
    if (d.line !== lastLine) ctx.out.write(`${d.done && d.exitCode !== 0 ? paint(d.line, 'red', ctx.color) : d.done ? paint(d.line, 'green', ctx.color) : d.line}\n`);
    lastLine = d.line;
    // A crash-looping pod flips Running ↔ CrashLoopBackOff every few seconds: only a new restart is news.
    for (const p of d.details) {
      if (restarts.get(p.id) === p.restarts) continue;
      restarts.set(p.id, p.restarts);
      ctx.out.write(`  ${paint(crashLine(p, await lastError(ctx, p.id)), 'yellow', ctx.color)}\n`);
    }
    if (d.done) return d.exitCode;
    if (!o.watch) return EXIT_OK;
    await sleep(POLL_MS, ctx.signal);
  }
  return EXIT_OK;
}

/** Why a pod's last run died, from its log (the exit message only quotes the last lines: a stack trace's tail). */
async function lastError(ctx: Ctx, pod: string): Promise<string | undefined> {
  try {
    const res = await ctx.client.request<string>('GET', `/pods/${encodeURIComponent(pod)}/logs`, { query: { tail: 60 }, accept: [404] });
    return res.status === 404 ? undefined : firstErrorLine(res.text);
  } catch {
    // Only a better reason is lost (say the key may not read logs): the exit message still says how it died.
    return undefined;
  }
}

type Action = 'promote' | 'abort' | 'retry' | 'pause' | 'resume';
const DONE: Record<Action, string> = { promote: 'promoted', abort: 'aborted', retry: 'retried', pause: 'paused', resume: 'resumed' };

export async function actionCommand(ctx: Ctx, action: Action, name: string): Promise<number> {
  const full = action === 'promote' && ctx.opts.full === true;
  const res = await ctx.client.post<{ service: string; message: string; phase: string }>(`/services/${encodeURIComponent(name)}/rollout/${action}`, { query: { full: full ? 'true' : undefined } });
  ctx.out.write(`${actionLine(name, action, full, res.message)}\n`);
  return EXIT_OK;
}

/** `rollout "api" promoted: moving to step 3`; the server's message only where it adds to the verb (`paused: paused` does not). */
export function actionLine(name: string, action: Action, full: boolean, message: string): string {
  const done = `${DONE[action]}${full ? ' fully' : ''}`;
  const extra = message
    .replace(new RegExp(`^${DONE[action]}(:? |$)`), '')
    .replace(/^promoting (\S+) fully$/, '$1 gets all traffic')
    .replace(/^retrying the rollout of (\S+) from the first step$/, '$1 starts again from the first step');
  return `rollout "${name}" ${done}${extra === '' ? '' : `: ${extra}`}`;
}

export async function undoCommand(ctx: Ctx, name: string): Promise<number> {
  const to = ctx.opts.toRevision === undefined ? undefined : intFlag(ctx.opts.toRevision, '--to-revision', 1, 1_000_000);
  const res = await ctx.client.post<{ undone: { result: string; generation: number; revision: number; version: string } }>(`/services/${encodeURIComponent(name)}/rollout/undo`, { query: { toRevision: to } });
  const u = res.undone;
  ctx.out.write(`rollout "${name}" rolled back${to !== undefined ? ` to the template of revision ${to}` : ''}: now revision ${u.revision} (${u.version}), generation ${u.generation}\n`);
  return EXIT_OK;
}

interface HistoryRow {
  generation: number;
  revision: number;
  version: string;
  source: string;
  createdAt: string;
  replicas: number;
}

/** One row per kept revision (from the rollout's history), with the newest generation that used it: when and how it was applied. */
export function historyRows(rollout: { history: Array<{ revision: number; version: string; current: boolean }> }, generations: HistoryRow[]): string[][] {
  return [...rollout.history]
    .sort((a, b) => a.revision - b.revision)
    .map((h) => {
      const g = generations.filter((x) => x.revision === h.revision).sort((a, b) => b.generation - a.generation)[0];
      // ' ', not '': table() writes <none> for an empty cell, and "not current" is no missing value.
      return [String(h.revision), h.version, h.current ? '*' : ' ', g ? String(g.generation) : '', g ? String(g.replicas) : '', g?.source ?? '', g?.createdAt ?? ''];
    });
}

export async function historyCommand(ctx: Ctx, name: string): Promise<number> {
  const fmt = parseOutput(ctx.opts.output as string | undefined, ['json', 'yaml']);
  const [r, svc] = await Promise.all([
    ctx.client.get<{ history: Array<{ revision: number; version: string; templateHash: string; current: boolean }> }>(`/services/${encodeURIComponent(name)}/rollout`),
    ctx.client.get<{ history: HistoryRow[] }>(`/services/${encodeURIComponent(name)}`),
  ]);
  if (fmt === 'json' || fmt === 'yaml') {
    await printData({ revisions: r.history, generations: svc.history }, fmt, ctx.out);
    return EXIT_OK;
  }
  ctx.out.write(`${table(['REVISION', 'VERSION', 'CURRENT', 'GENERATION', 'REPLICAS', 'SOURCE', 'CREATED'], historyRows(r, svc.history))}\n`);
  return EXIT_OK;
}

/** The DSR seed's `rollout --service S --to-version V …`: a Canary spec, applied; with --auto followed to its end. */
export async function dsrRolloutCommand(ctx: Ctx): Promise<number> {
  const o = ctx.opts;
  const flags: RolloutFlags = {
    service: String(o.service),
    version: requiredFlag(o.toVersion, '--to-version'),
    command: o.command as string | undefined,
    image: o.image as string | undefined,
    internalPort: o.internalPort === undefined ? undefined : intFlag(o.internalPort, '--internal-port', 1, 65535),
    replicas: intFlag(o.replicas ?? '2', '--replicas', 0, 1000),
    canaryWeight: intFlag(o.canaryWeight ?? '10', '--canary-weight', 1, 100),
    stepPercent: intFlag(o.stepPercent ?? '25', '--step-percent', 1, 100),
    stepIntervalS: intFlag(o.stepIntervalS ?? '10', '--step-interval-s', 1, 86400),
    auto: o.auto === true,
  };
  const m = rolloutSpec(flags);
  // A rollout replaces a version that runs; applying it to a name that does not exist would create a service that only claims to roll out.
  if ((await ctx.client.request('GET', `/services/${encodeURIComponent(flags.service)}`, { accept: [404] })).status === 404) {
    throw new CliError(`${notFound('service', flags.service).message}; register it first (gridctl register --service ${flags.service} --version ${flags.version} …)`);
  }
  const code = await applyManifest(ctx, m);
  if (code !== EXIT_OK || o.dryRun === true || o.output !== undefined) return code;
  if (!flags.auto) {
    ctx.out.write(`the canary pauses at each step: \`gridctl rollout promote ${flags.service}\` moves on, \`gridctl rollout status ${flags.service}\` follows it\n`);
    return EXIT_OK;
  }
  return followRollout(ctx, flags.service, { timeoutMs: 0, watch: true });
}

/** `rollout restart api`, `rollout stauts api`: a usage error naming rollout's subcommands and, for kubectl's words, Grid's nearest. */
export function unknownSubcommand(args: string[], subcommands: string[]): never {
  const [word, name = 'NAME'] = args;
  const hint =
    word === 'restart'
      ? `; Grid replaces pods when their template changes. To replace them now: gridctl chaos kill ${name} --count N (the reconciler starts new ones); to go back a revision: gridctl rollout undo ${name}`
      : '';
  throw new UsageError(`rollout has no subcommand '${word}' (its subcommands: ${subcommands.join(', ')})${hint}`);
}

function requiredFlag(v: unknown, flag: string): string {
  if (typeof v !== 'string' || v === '') throw new UsageError(`${flag} is required`);
  return v;
}
