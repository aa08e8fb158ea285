// gridctl get and events: read Grid's lists, print kubectl-style tables or the server's JSON,
// and with -w follow /events/stream, re-reading (throttled) and printing the rows that changed.
import { setTimeout as delay } from 'node:timers/promises';
import type { Ctx, CommandResult } from '../run.js';
import { ApiError, CliError, UsageError } from '../errors.js';
import { parseOutput, printData, table, type OutputFormat } from '../output.js';
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
  type GridEvent,
  type GroupDetail,
  type GroupSummary,
  type PodDetail,
  type Rows,
  type ServiceDetail,
  type ServiceSummary,
  type StatePod,
} from './get-rows.js';

export type Kind = 'services' | 'pods' | 'failovergroups' | 'events';

const KINDS: Record<string, Kind> = {
  services: 'services', service: 'services', svc: 'services',
  pods: 'pods', pod: 'pods', po: 'pods',
  failovergroups: 'failovergroups', failovergroup: 'failovergroups', fg: 'failovergroups',
  events: 'events', event: 'events', ev: 'events',
};

/** What -o name and "not found" call each kind. */
const SINGULAR: Record<Kind, string> = { services: 'service', pods: 'pod', failovergroups: 'failovergroup', events: 'event' };

export function kindOf(raw: string): Kind {
  const k = KINDS[raw.toLowerCase()];
  if (!k) throw new UsageError(`unknown resource type '${raw}': one of services (svc), pods (po), failovergroups (fg), events (ev)`);
  return k;
}

export function notFound(kind: Kind, name: string): CliError {
  return new CliError(`${SINGULAR[kind]} "${name}" not found`);
}

/** Re-reads a watch makes at most this often (4/s), however many events arrive. */
const REREAD_MIN_MS = 250;
/** A status the reconciler writes just after the event that caused it is caught by one more read this long after the last event. */
const TRAILING_READ_MS = 1000;
/** A dropped event stream is reconnected (with Last-Event-ID) for this long before the watch gives up with exit 1. */
const RECONNECT_FOR_MS = 30_000;
/** At most this many pods' last exits are looked up for RESTARTS' "(… ago)". */

interface Read {
  /** What -o json|yaml prints: the server's answer. */
  data: unknown;
  names: string[];
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

export async function getCommand(ctx: Ctx, rawKind: string, name?: string): Promise<CommandResult> {
  const kind = kindOf(rawKind);
  const format = parseOutput(ctx.opts.output as string | undefined);
  const service = ctx.opts.service as string | undefined;
  if (service !== undefined && kind !== 'pods' && kind !== 'events') throw new UsageError('--service: only with pods or events');
  const o: GetOptions = { kind, name, service, wide: format === 'wide', explain: format === 'wide', limit: 100 };
  return show(ctx, o, format, ctx.opts.watch === true);
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

async function show(ctx: Ctx, o: GetOptions, format: OutputFormat, watch: boolean): Promise<CommandResult> {
  if (watch && format !== 'table' && format !== 'wide') throw new UsageError('-w prints table rows: use it without -o json|yaml|name');
  const read = await readKind(ctx, o);
  if (format === 'json' || format === 'yaml') {
    await printData(read.data, format, ctx.out);
    return 0;
  }
  if (format === 'name') {
    for (const n of read.names) ctx.out.write(`${SINGULAR[o.kind]}/${n}\n`);
    return 0;
  }
  const first = await read.rows();
  if (first.rows.length === 0 && !watch) {
    ctx.err.write(o.service ? `No resources found for service ${o.service}.\n` : 'No resources found.\n');
    return 0;
  }
  ctx.out.write(`${table(first.headers, first.rows)}\n`);
  if (!watch) return 0;
  const widths = columnWidths(first.headers, first.rows);
  if (o.kind === 'events') return watchEvents(ctx, o, widths, first);
  return watchRows(ctx, o, widths, first);
}

/** One read of a kind: the server's JSON, the names, and the rows (whose extra look-ups run only for a table). */
export async function readKind(ctx: Ctx, o: GetOptions): Promise<Read> {
  const now = () => Date.now();
  switch (o.kind) {
    case 'services': {
      if (o.name) {
        const one = await getOne<ServiceDetail>(ctx, `/services/${encodeURIComponent(o.name)}`, o.kind, o.name);
        return { data: one, names: [one.name], rows: async () => serviceRows([one], o.wide, now()) };
      }
      const list = await ctx.client.get<{ services: ServiceSummary[] }>('/services');
      return {
        data: list,
        names: list.services.map((s) => s.name),
        // The list carries the counts and ages; only -o wide's image/command and strategy need each service's spec.
        rows: async () => serviceRows(o.wide ? await detailsOf(ctx, list.services.map((s) => s.name), (n) => `/services/${encodeURIComponent(n)}`) : list.services, o.wide, now()),
      };
    }
    case 'pods': {
      if (o.name) {
        const one = await getOne<PodDetail>(ctx, `/pods/${encodeURIComponent(o.name)}`, o.kind, o.name);
        if (o.service && one.service !== o.service) throw notFound('pods', o.name);
        const exits = new Map<string, number>(one.lastExit ? [[one.id, one.lastExit.at]] : []);
        return { data: one, names: [one.id], rows: async () => podRows([one], o.wide, now(), exits) };
      }
      const state = await ctx.client.get<{ pods: StatePod[] }>('/state');
      const pods = state.pods.filter((p) => !o.service || p.service === o.service);
      return { data: { pods }, names: pods.map((p) => p.id), rows: async () => podRows(pods, o.wide, now()) };
    }
    case 'failovergroups': {
      if (o.name) {
        const one = await getOne<GroupDetail>(ctx, `/failover/${encodeURIComponent(o.name)}`, o.kind, o.name);
        const last = one.history[0] ? { at: one.history[0].at, from: one.history[0].from, to: one.history[0].to, reason: one.history[0].reason } : null;
        return { data: one, names: [one.name], rows: async () => groupRows([one], new Map([[one.name, last]]), now()) };
      }
      const list = await ctx.client.get<{ groups: GroupSummary[] }>('/failover');
      return {
        data: list,
        names: list.groups.map((g) => g.name),
        rows: async () => groupRows(await detailsOf(ctx, list.groups.map((g) => g.name), (n) => `/failover/${encodeURIComponent(n)}`), new Map(list.groups.map((g) => [g.name, g.lastSwitch])), now()),
      };
    }
    case 'events': {
      // /events has no lookup by id, so NAME (an event id) is looked for among the newest 1000.
      const body = await ctx.client.get<{ events: GridEvent[] }>('/events', { service: o.service, type: o.type, since: o.since, limit: o.name ? 1000 : o.limit });
      if (o.name) {
        const one = body.events.find((e) => String(e.id) === o.name);
        if (!one) throw notFound('events', o.name);
        return { data: one, names: [String(one.id)], rows: async () => eventRows([one], o.explain, now()) };
      }
      return { data: body, names: body.events.map((e) => String(e.id)), rows: async () => eventRows(body.events, o.explain, now()) };
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
async function watchRows(ctx: Ctx, o: GetOptions, widths: number[], first: Rows): Promise<CommandResult> {
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
      const rows = await (await readKind(ctx, o)).rows();
      const changed = rows.rows.filter((r, i) => {
        const sig = rowSignature(r, rows.volatile);
        if (seen.get(rows.keys[i]) === sig) return false;
        seen.set(rows.keys[i], sig);
        return true;
      });
      if (changed.length > 0) ctx.out.write(`${alignRows(changed, widths).join('\n')}\n`);
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
async function watchEvents(ctx: Ctx, o: GetOptions, widths: number[], first: Rows): Promise<CommandResult> {
  const lastId = first.keys.length > 0 ? Number(first.keys[first.keys.length - 1]) : undefined;
  await followEvents(ctx, ctx.signal, { service: o.service }, lastId, (e) => {
    if (!typeMatches(o.type, e.type)) return;
    const r = eventRows([e], o.explain, Date.now());
    ctx.out.write(`${alignRows(r.rows, widths).join('\n')}\n`);
  });
  return 0;
}

/**
 * Follows /events/stream until `signal` aborts (SIGINT/SIGTERM). A stream that drops (Grid
 * restarting) is reconnected with Last-Event-ID, so no event is missed or repeated; one that
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
          if (ev.event !== 'grid') return;
          const e = JSON.parse(ev.data) as GridEvent;
          last = e.id;
          onEvent(e);
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
