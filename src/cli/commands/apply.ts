// gridctl apply -f, delete, diff. Every document goes to Grid in ONE /apply request (as JSON:
// gridctl parses the YAML itself, so errors name the file and the line, and the YAML body's
// 10,000-line limit does not apply), which keeps an apply all or nothing as /apply is.
import { ApiError, CliError, EXIT_FAILED, EXIT_OK, notFound, UsageError } from '../errors.js';
import { paint, parseOutput, printData } from '../output.js';
import { printError, type Ctx } from '../run.js';
import { namedRefs } from './resource-args.js';
import { deletionProblems, mapFieldErrors, readSources, readStdin, refOf, renderDiff, resultFor, resultLines, tooLarge, type AppliedResult, type ImportedNote, type Kind, type SourceDoc } from './manifests.js';

interface ApplyAnswer {
  dryRun?: boolean;
  applied: AppliedResult[];
  /** Absent from a Grid older than issue 14's import. */
  imported?: ImportedNote[];
}

function filesOpt(ctx: Ctx): string[] {
  return (ctx.opts.filename as string[] | undefined) ?? [];
}

async function documents(ctx: Ctx): Promise<SourceDoc[]> {
  return readSources(filesOpt(ctx), ctx.opts.recursive === true, () => readStdin());
}

/** POST /apply with every document; a 400's field errors come back told against the files. */
async function postApply(ctx: Ctx, docs: SourceDoc[], dryRun: boolean): Promise<ApplyAnswer> {
  const body = JSON.stringify(docs.map((d) => d.value));
  const big = tooLarge(Buffer.byteLength(body), docs.length);
  if (big) throw new CliError(big);
  try {
    return await ctx.client.post<ApplyAnswer>('/apply', { body, contentType: 'application/json', query: dryRun ? { dryRun: 'All' } : undefined });
  } catch (e) {
    if (e instanceof ApiError && e.status === 400 && Array.isArray(e.body?.errors) && e.body.errors.length > 0) throw new CliError(mapFieldErrors(e.body.errors, docs).join('\n'));
    if (e instanceof ApiError && e.status === 413) throw new CliError(tooLarge(Buffer.byteLength(body), docs.length, true)!);
    throw e;
  }
}

function dryRunOf(raw: unknown): boolean {
  if (raw === undefined || raw === 'none') return false;
  if (raw === true || raw === 'server') return true;
  throw new UsageError(`--dry-run: only server (Grid validates and plans, stores nothing) or none (got '${String(raw)}')`);
}

export async function applyCommand(ctx: Ctx): Promise<number> {
  const format = parseOutput(ctx.opts.output as string | undefined, ['json', 'yaml', 'name']);
  const dryRun = dryRunOf(ctx.opts.dryRun);
  const docs = await documents(ctx);
  const answer = await postApply(ctx, docs, dryRun);
  if (format === 'json' || format === 'yaml') {
    await printData(answer, format, ctx.out);
    return EXIT_OK;
  }
  if (format === 'name') {
    const imported = answer.imported ?? [];
    const names = new Set<string>();
    docs.forEach((d, i) => {
      // An imported object is named as the Grid service it became.
      const notes = imported.filter((n) => n.index === i);
      const ref = refOf(d.value);
      for (const name of notes.length > 0 ? notes.flatMap((n) => (n.became ? [n.became] : [])) : ref ? [`${ref.kind}/${ref.name}`] : []) {
        if (!names.has(name)) ctx.out.write(`${name}\n`);
        names.add(name);
      }
    });
    return EXIT_OK;
  }
  for (const line of resultLines(docs, answer.applied, dryRun, answer.imported)) ctx.out.write(`${line}\n`);
  return EXIT_OK;
}

/** `delete service api web`, `delete service/api failovergroup/shop` (what get -o name prints), or `delete -f FILE`: each object in turn; a missing one is an error (exit 1) unless --ignore-not-found. */
export async function deleteCommand(ctx: Ctx, kindArg: string | undefined, names: string[]): Promise<number> {
  const files = filesOpt(ctx);
  let targets: Array<{ kind: Kind; name: string }>;
  if (files.length > 0) {
    if (kindArg !== undefined) throw new UsageError('delete: give either -f FILE or TYPE NAME…, not both');
    const docs = await documents(ctx);
    const problems = deletionProblems(docs);
    if (problems.length > 0) throw new CliError(problems.join('\n'));
    targets = docs.map((d) => refOf(d.value)!);
  } else {
    if (kindArg === undefined) throw new UsageError('delete: give TYPE NAME… or TYPE/NAME… (service|failovergroup) or -f FILE');
    targets = namedRefs([kindArg, ...names], ['services', 'failovergroups'], 'delete').map((r) => ({ kind: r.kind === 'services' ? 'service' : 'failovergroup', name: r.name }));
  }
  let code = EXIT_OK;
  for (const t of targets) {
    const route = t.kind === 'service' ? 'services' : 'failovergroups';
    // A failover group has no data of its own to purge.
    const purge = ctx.opts.purge === true && t.kind === 'service' ? '?purge=true' : '';
    try {
      const r = await ctx.client.request<DeleteAnswer>('DELETE', `/${route}/${encodeURIComponent(t.name)}${purge}`, { accept: [404] });
      if (r.status === 404) {
        if (ctx.opts.ignoreNotFound === true) continue;
        // Grid's answer says when the name left data behind, and how to remove it.
        const message = (r.data as { message?: unknown } | undefined)?.message;
        const kept = typeof message === 'string' ? /; its data directories .*/.exec(message)?.[0] : undefined;
        throw kept ? new CliError(`${t.kind} "${t.name}" not found${kept.replace('delete with purge=true', 'delete --purge')}`) : notFound(t.kind, t.name);
      }
      ctx.out.write(`${deletedLine(t.kind, t.name, r.data)}\n`);
    } catch (e) {
      // kubectl goes on with the other names and fails at the end.
      code = printError(e);
    }
  }
  return code;
}

/** DELETE /services/:name's answer (a group's has no volumes). */
interface DeleteAnswer {
  deleted?: string | null;
  purge?: boolean;
  volumes?: string[];
}

/** What a delete did to the object and to the data directories it keeps or removes. */
export function deletedLine(kind: string, name: string, a: DeleteAnswer | undefined): string {
  const volumes = a?.volumes ?? [];
  if (a?.deleted === null) return `${kind} "${name}" was already deleted; its data ${volumes.join(', ')} is removed once its pods are gone`;
  if (volumes.length === 0) return `${kind} "${name}" deleted`;
  if (a?.purge) return `${kind} "${name}" deleted (its data ${volumes.join(', ')} is removed once its pods are gone)`;
  return `${kind} "${name}" deleted (data kept in ${volumes.join(', ')}; delete --purge removes it)`;
}

/**
 * kubectl diff: what an apply would change, from Grid's dry run (its `live` and `merged`
 * manifests). Exit 0 without differences, 1 with, 2 on any error: a script can tell
 * "would change" from "could not tell".
 */
export async function diffCommand(ctx: Ctx): Promise<number> {
  try {
    const docs = await documents(ctx);
    const answer = await postApply(ctx, docs, true);
    let differs = false;
    // Every object the apply would store, Grid's own documents in document order, then what
    // imported Kubernetes objects and Compose services became (named as the Grid service).
    const ordered = docs.map((d) => resultFor(d.value, answer.applied)).filter((r): r is AppliedResult => r !== undefined);
    for (const r of answer.applied) if (!ordered.includes(r)) ordered.push(r);
    for (const r of ordered) {
      if (!('merged' in r)) throw new CliError(`this Grid's dry run does not answer live and merged manifests (gridctl diff needs a newer Grid)`);
      const name = r.service !== undefined ? `service/${r.service}` : `failovergroup/${r.failoverGroup}`;
      const patch = renderDiff(name, r.live ?? null, r.merged);
      if (!patch) continue;
      differs = true;
      ctx.out.write(colourDiff(patch, ctx.color));
    }
    return differs ? EXIT_FAILED : EXIT_OK;
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e), 2);
  }
}

function colourDiff(patch: string, on: boolean): string {
  if (!on) return patch;
  return patch
    .split('\n')
    .map((l) => (l.startsWith('+') && !l.startsWith('+++') ? paint(l, 'green', on) : l.startsWith('-') && !l.startsWith('---') ? paint(l, 'red', on) : l))
    .join('\n');
}
