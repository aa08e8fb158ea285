// gridctl get and events: read Grid's lists, print kubectl-style tables or the server's JSON,
// and with -w follow /events/stream, re-reading (throttled) and printing the rows that changed.
import { setTimeout as delay } from 'node:timers/promises';
import type { Ctx, CommandResult } from '../run.js';
import { ApiError, CliError, EXIT_FAILED, UsageError, notFound as notFoundError } from '../errors.js';
import { parseOutput, printData, table, type OutputFormat } from '../output.js';
import { printError } from '../run.js';
import { kindOf, parseResourceArgs, SINGULAR, type Kind, type ResourceRef } from './resource-args.js';
import {
  alignRows,
  columnWidths,
  eventRows,
  groupRows,
  podRows,
  rowSignature,
  serviceRows,
  sinceParam,
  typeMatches,
  volumeRows,
  type GridEvent,
  type GroupDetail,
  type GroupSummary,
  type PodDetail,
  type Cell,
  type Rows,
  type ServiceDetail,
  type ServiceSummary,
  type StatePod,
  type VolumeView,
} from './get-rows.js';

export type { Kind };
export { kindOf };

/** Re-reads a watch makes at most this often (4/s), however many events arrive. */
const REREAD_MIN_MS = 250;
/** A status the reconciler writes just after the event that caused it is caught by one more read this long after the last event. */
const TRAILING_READ_MS = 1000;
/** A dropped event stream is reconnected (with Last-Event-ID) for this long before the watch gives up with exit 1. */
const RECONNECT_FOR_MS = 30_000;

export function notFound(kind: Kind, name: string): CliError {
  return notFoundError(SINGULAR[kind], name);
}

interface Read {
  /** What -o json|yaml prints: the server's answer. */
  data: unknown;
  names: string[];
  /** Each object of `data` by its row key (`names[i]` → `items[i]`): what a watch with -o json|yaml prints. */
  items: unknown[];
  rows: () => Promise<Rows>;
}

interface GetOptions {
  kind: Kind;
  name?: string;
  service?: string;
  wide: boolean;
  type?: string;
  since?: string;
  limit?: number;
  explain: boolean;
}

/** `get TYPE [NAME…]` or `get TYPE/NAME…` (what `-o name` prints). */
export async function getCommand(ctx: Ctx, args: string[]): Promise<CommandResult> {
  const refs = parseResourceArgs(args);
  const format = parseOutput(ctx.opts.output as string | undefined);
  const service = ctx.opts.service as string | undefined;
  if (service !== undefined && refs.some((r) => r.kind !== 'pods' && r.kind !== 'events' && r.kind !== 'volumes')) throw new UsageError('--service: only with pods, events or volumes');
  const options = (r: ResourceRef): GetOptions => ({ kind: r.kind, name: r.name, service, wide: format === 'wide', explain: format === 'wide', limit: 100 });
  if (refs.length === 1) return show(ctx, options(refs[0]), format, ctx.opts.watch === true);
  if (ctx.opts.watch === true) throw new UsageError('-w: watch one TYPE, or one TYPE and one NAME');
  return showMany(ctx, refs.map(options), format);
}

/**
 * Several named objects, as kubectl: every one found is printed (one table per run of the same
 * kind, -o json|yaml a `List` of their answers), every one missing is an error line, and the exit
 * is then 1.
 */
async function showMany(ctx: Ctx, list: GetOptions[], format: OutputFormat): Promise<CommandResult> {
  let code = 0;
  const found: Array<{ o: GetOptions; read: Read }> = [];
  for (const o of list) {
    try {
      found.push({ o, read: await readKind(ctx, o) });
    } catch (e) {
      if (!(e instanceof CliError) || e instanceof ApiError) throw e;
      code = printError(e);
    }
  }
  if (format === 'json' || format === 'yaml') {
    if (found.length > 0) await printData({ kind: 'List', items: found.map((f) => f.read.data) }, format, ctx.out);
  } else if (format === 'name') {
    for (const f of found) ctx.out.write(`${SINGULAR[f.o.kind]}/${f.read.names[0]}\n`);
  } else {
    const tables: string[] = [];
    for (let i = 0; i < found.length; ) {
      let j = i;
      const rows: Rows['rows'] = [];
      let headers: string[] = [];
      for (; j < found.length && found[j].o.kind === found[i].o.kind; j++) {
        const r = await found[j].read.rows();
        headers = r.headers;
        rows.push(...r.rows);
      }
      tables.push(table(headers, rows));
      i = j;
    }
    if (tables.length > 0) ctx.out.write(`${tables.join('\n\n')}\n`);
  }
  return code === 0 ? 0 : EXIT_FAILED;
}

/** `gridctl events`: the same table as `get events`, with its own filters. */
export async function eventsCommand(ctx: Ctx): Promise<CommandResult> {
  const format = parseOutput(ctx.opts.output as string | undefined);
  const limit = ctx.opts.limit === undefined ? 100 : Number(ctx.opts.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError(`--limit: an integer 1..1000 (got '${String(ctx.opts.limit)}')`);
  const o: GetOptions = {
    kind: 'events',
    service: ctx.opts.service as string | undefined,
    type: ctx.opts.type as string | undefined,
    since: sinceParam(ctx.opts.since as string | undefined, Date.now()),
    limit,
    wide: format === 'wide',
    explain: format === 'wide' || ctx.opts.explain === true,
  };
  return show(ctx, o, format, ctx.opts.watch === true);
}

/**
 * How a watch prints an object that changed: its table row (aligned under the first table),
 * or the object itself: -o json one compact object per line, -o yaml one document each, -o name
 * its TYPE/NAME.
 */
type Emit = (key: string, item: unknown, row: Cell[]) => void;

async function emitter(ctx: Ctx, kind: Kind, format: OutputFormat, widths: number[]): Promise<Emit> {
  if (format === 'json') return (_k, item) => ctx.out.write(`${JSON.stringify(item)}\n`);
  if (format === 'name') return (key) => ctx.out.write(`${SINGULAR[kind]}/${key}\n`);
  if (format === 'yaml') {
    const { stringify } = await import('../yaml.js');
    return (_k, item) => ctx.out.write(`---\n${stringify(item, { lineWidth: 0 })}`);
  }
  return (_k, _item, row) => ctx.out.write(`${alignRows([row], widths).join('\n')}\n`);
}

async function show(ctx: Ctx, o: GetOptions, format: OutputFormat, watch: boolean): Promise<CommandResult> {
  const read = await readKind(ctx, o);
  if (watch) return startWatch(ctx, o, format, read);
  if (format === 'json' || format === 'yaml') {
    await printData(read.data, format, ctx.out);
    return 0;
  }
  if (format === 'name') {
    for (const n of read.names) ctx.out.write(`${SINGULAR[o.kind]}/${n}\n`);
    return 0;
  }
  const first = await read.rows();
  if (first.rows.length === 0) {
    ctx.err.write(o.service ? `No resources found for service ${o.service}.\n` : 'No resources found.\n');
    return 0;
  }
  ctx.out.write(`${table(first.headers, first.rows)}\n`);
  return 0;
}

/** -w: the table (or, with -o json|yaml|name, every object as the watch prints one), then each change. */
async function startWatch(ctx: Ctx, o: GetOptions, format: OutputFormat, read: Read): Promise<CommandResult> {
  const first = await read.rows();
  const widths = columnWidths(first.headers, first.rows);
  const emit = await emitter(ctx, o.kind, format, widths);
  if (format === 'table' || format === 'wide') ctx.out.write(`${table(first.headers, first.rows)}\n`);
  else first.keys.forEach((k, i) => emit(k, itemOf(read, k), first.rows[i]));
  if (o.kind === 'events') return watchEvents(ctx, o, emit, first);
  return watchRows(ctx, o, emit, first);
}

function itemOf(read: Read, key: string): unknown {
  return read.items[read.names.indexOf(key)];
}

/** One read of a kind: the server's JSON, the names, and the rows (whose extra look-ups run only for a table). */
export async function readKind(ctx: Ctx, o: GetOptions): Promise<Read> {
  const now = () => Date.now();
  switch (o.kind) {
    case 'services': {
      if (o.name) {
        const one = await getOne<ServiceDetail>(ctx, `/services/${encodeURIComponent(o.name)}`, o.kind, o.name);
        return { data: one, names: [one.name], items: [one], rows: async () => serviceRows([one], o.wide, now()) };
      }
      const list = await ctx.client.get<{ services: ServiceSummary[] }>('/services');
      return {
        data: list,
        names: list.services.map((s) => s.name),
        items: list.services,
        // The list carries the counts and ages; only -o wide's image/command and strategy need each service's spec.
        rows: async () => serviceRows(o.wide ? await detailsOf(ctx, list.services.map((s) => s.name), (n) => `/services/${encodeURIComponent(n)}`) : list.services, o.wide, now()),
      };
    }
    case 'pods': {
      if (o.name) {
        const one = await getOne<PodDetail>(ctx, `/pods/${encodeURIComponent(o.name)}`, o.kind, o.name);
        if (o.service && one.service !== o.service) throw notFound('pods', o.name);
        const exits = new Map<string, number>(one.lastExit ? [[one.id, one.lastExit.at]] : []);
        return { data: one, names: [one.id], items: [one], rows: async () => podRows([one], o.wide, now(), exits) };
      }
      const state = await ctx.client.get<{ pods: StatePod[] }>('/state');
      const pods = state.pods.filter((p) => !o.service || p.service === o.service);
      return { data: { pods }, names: pods.map((p) => p.id), items: pods, rows: async () => podRows(pods, o.wide, now()) };
    }
    case 'failovergroups': {
      if (o.name) {
        const one = await getOne<GroupDetail>(ctx, `/failover/${encodeURIComponent(o.name)}`, o.kind, o.name);
        const last = one.history[0] ? { at: one.history[0].at, from: one.history[0].from, to: one.history[0].to, reason: one.history[0].reason } : null;
        return { data: one, names: [one.name], items: [one], rows: async () => groupRows([one], new Map([[one.name, last]]), now(), o.wide) };
      }
      const list = await ctx.client.get<{ groups: GroupSummary[] }>('/failover');
      return {
        data: list,
        names: list.groups.map((g) => g.name),
        items: list.groups,
        rows: async () => groupRows(await detailsOf(ctx, list.groups.map((g) => g.name), (n) => `/failover/${encodeURIComponent(n)}`), new Map(list.groups.map((g) => [g.name, g.lastSwitch])), now(), o.wide),
      };
    }
    case 'volumes': {
      // /volumes has no lookup by name; there are few, so NAME is found in the list.
      const body = await ctx.client.get<{ volumes: VolumeView[] }>('/volumes', { service: o.service });
      const volumes = o.name ? body.volumes.filter((v) => v.name === o.name) : body.volumes;
      if (o.name && volumes.length === 0) throw notFound('volumes', o.name);
      return { data: o.name ? volumes[0] : body, names: volumes.map((v) => v.name), items: volumes, rows: async () => volumeRows(volumes, o.wide, now()) };
    }
    case 'events': {
      // /events has no lookup by id, so NAME (an event id) is looked for among the newest 1000.
      const body = await ctx.client.get<{ events: GridEvent[] }>('/events', { service: o.service, type: o.type, since: o.since, limit: o.name ? 1000 : o.limit });
      if (o.name) {
        const one = body.events.find((e) => String(e.id) === o.name);
        if (!one) throw notFound('events', o.name);
        return { data: one, names: [String(one.id)], items: [one], rows: async () => eventRows([one], o.explain, now()) };
      }
      return { data: body, names: body.events.map((e) => String(e.id)), items: body.events, rows: async () => eventRows(body.events, o.explain, now()) };
    }
  }
}

export async function getOne<T>(ctx: Ctx, path: string, kind: Kind, name: string): Promise<T> {
  const res = await ctx.client.request<T>('GET', path, { accept: [404] });
  if (res.status === 404) throw notFound(kind, name);
  return res.data;
}

/** Each name's own answer, a few at a time; one deleted meanwhile is left out. */
export async function detailsOf<T>(ctx: Ctx, names: string[], path: (name: string) => string): Promise<T[]> {
  const out = await mapLimit(names, 6, async (n) => {
    const res = await ctx.client.request<T>('GET', path(n), { accept: [404] });
    return res.status === 404 ? undefined : res.data;
  });
  return out.filter((x): x is Awaited<T> => x !== undefined) as T[];
}

export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Which streamed events can change a kind's rows. */
function concerns(o: GetOptions, e: GridEvent): boolean {
  const domain = e.type.split('.')[0];
  switch (o.kind) {
    case 'services':
      return ['spec', 'pod', 'rollout', 'autoscale'].includes(domain) && (!o.name || e.service === o.name);
    case 'pods':
      return ['spec', 'pod', 'chaos'].includes(domain) && (!o.service || e.service === o.service) && (!o.name || e.pod === o.name || e.pod === null);
    case 'failovergroups':
      return ['group', 'failover'].includes(domain) && (!o.name || e.service === o.name);
    default:
      return true;
  }
}

/** get services|pods|failovergroups -w: re-read on events that concern the kind, print the rows that changed (no header, as kubectl). */
async function watchRows(ctx: Ctx, o: GetOptions, emit: Emit, first: Rows): Promise<CommandResult> {
  const seen = new Map(first.keys.map((k, i) => [k, rowSignature(first.rows[i], first.volatile)]));
  let running = false;
  let pending = false;
  let lastRead = 0;
  let timer: NodeJS.Timeout | undefined;
  let trailer: NodeJS.Timeout | undefined;
  let failure: unknown;

  const reread = async () => {
    timer = undefined;
    if (!pending || running || ctx.signal.aborted) return;
    pending = false;
    running = true;
    lastRead = Date.now();
    try {
      const read = await readKind(ctx, o);
      const rows = await read.rows();
      rows.rows.forEach((r, i) => {
        const sig = rowSignature(r, rows.volatile);
        if (seen.get(rows.keys[i]) === sig) return;
        seen.set(rows.keys[i], sig);
        emit(rows.keys[i], itemOf(read, rows.keys[i]), r);
      });
    } catch (e) {
      // The object itself is gone (`get service web -w` after a delete): nothing more to watch.
      if (e instanceof CliError && !(e instanceof ApiError) && /not found$/.test(e.message)) {
        failure = e;
        stop.abort();
      } else if (!ctx.signal.aborted) ctx.err.write(`warning: re-read failed: ${(e as Error).message}\n`);
    } finally {
      running = false;
      if (pending) kick();
    }
  };
  const kick = () => {
    if (timer || running) return;
    timer = setTimeout(() => void reread(), Math.max(0, lastRead + REREAD_MIN_MS - Date.now()));
  };
  const schedule = () => {
    pending = true;
    kick();
    clearTimeout(trailer);
    trailer = setTimeout(() => {
      pending = true;
      kick();
    }, TRAILING_READ_MS);
  };
  const streamService = o.kind === 'pods' ? o.service : o.name;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await followEvents(ctx, stop.signal, { service: streamService }, undefined, (e) => {
      if (concerns(o, e)) schedule();
    });
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    clearTimeout(timer);
    clearTimeout(trailer);
  }
  if (failure) throw failure;
  return 0;
}

/** get events -w / events -w: the table so far, then each new event as a row, resumed after the last one listed. */
async function watchEvents(ctx: Ctx, o: GetOptions, emit: Emit, first: Rows): Promise<CommandResult> {
  const lastId = first.keys.length > 0 ? Number(first.keys[first.keys.length - 1]) : undefined;
  await followEvents(ctx, ctx.signal, { service: o.service }, lastId, (e) => {
    if (!typeMatches(o.type, e.type)) return;
    emit(String(e.id), e, eventRows([e], o.explain, Date.now()).rows[0]);
  });
  return 0;
}

/**
 * Follows /events/stream until `signal` aborts (SIGINT/SIGTERM). A stream that drops (Grid
 * restarting) is reconnected with Last-Event-ID, so no event is missed or repeated (but those Grid
 * streamed before it could write them, while its data dir was degraded, may come again); one that
 * cannot be reconnected for RECONNECT_FOR_MS ends the watch with an error (exit 1). Without a
 * known last event the stream starts with replay=0: only new events.
 */
export async function followEvents(ctx: Ctx, signal: AbortSignal, query: { service?: string }, lastId: number | undefined, onEvent: (e: GridEvent) => void): Promise<void> {
  let last = lastId;
  let downSince: number | undefined;
  while (!signal.aborted) {
    try {
      await ctx.client.stream(
        '/events/stream',
        { service: query.service, replay: last === undefined ? 0 : undefined },
        (ev) => {
          // The id line, not the body's id: Grid leaves it off events not yet written (a degraded data dir), whose ids a crash could reuse.
          if (ev.id !== undefined) last = Number(ev.id);
          if (ev.event !== 'grid') return;
          onEvent(JSON.parse(ev.data) as GridEvent);
        },
        signal,
        last === undefined ? undefined : String(last),
      );
      if (signal.aborted) return;
      downSince = undefined;
      ctx.err.write('warning: Grid closed the event stream; reconnecting\n');
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof ApiError) throw e;
      if (downSince === undefined) ctx.err.write(`warning: ${(e as Error).message}; retrying for ${RECONNECT_FOR_MS / 1000} s\n`);
      downSince ??= Date.now();
      if (Date.now() - downSince > RECONNECT_FOR_MS) throw new CliError(`lost the event stream and could not reconnect for ${RECONNECT_FOR_MS / 1000} s: ${(e as Error).message}`);
    }
    try {
      await delay(1000, undefined, { signal });
    } catch {
      return;
    }
  }
}
