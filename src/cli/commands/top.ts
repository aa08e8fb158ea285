// gridctl top pods|services: Grid's own numbers. CPU is per pod (GET /state); requests per
// second, 5xx rate and latency are what the gateway measures per service version over the last
// 60 s (GET /traffic?window=60), so pods get CPU only and services get one row per version.
import type { Ctx, CommandResult } from '../run.js';
import { CliError, UsageError } from '../errors.js';
import { parseOutput, printData, table } from '../output.js';
import { mapLimit } from './get.js';
import { topPodRows, topServiceRows, type StatePod, type Traffic } from './get-rows.js';

const WINDOW_SECONDS = 60;

export async function topCommand(ctx: Ctx, what: string): Promise<CommandResult> {
  const kind = ({ pods: 'pods', pod: 'pods', po: 'pods', services: 'services', service: 'services', svc: 'services' } as const)[what.toLowerCase() as 'pods'];
  if (!kind) throw new UsageError(`top: pods or services (got '${what}')`);
  const format = parseOutput(ctx.opts.output as string | undefined, ['json', 'yaml']);
  const only = ctx.opts.service as string | undefined;
  const state = await ctx.client.get<{ services: Array<{ name: string }>; pods: StatePod[] }>('/state');
  const pods = state.pods.filter((p) => !only || p.service === only);
  if (kind === 'pods') {
    const rows = topPodRows(pods);
    if (format === 'json' || format === 'yaml') await printData({ pods: pods.map((p) => ({ id: p.id, service: p.service, version: p.version, state: p.state, cpu: p.cpu })) }, format, ctx.out);
    else if (rows.rows.length === 0) ctx.err.write('No resources found.\n');
    else ctx.out.write(`${table(rows.headers, rows.rows)}\n`);
    return 0;
  }
  const names = state.services.map((s) => s.name).filter((n) => !only || n === only);
  if (only && names.length === 0) throw new CliError(`service "${only}" not found`);
  const traffic = await mapLimit(names, 6, async (name) => {
    const res = await ctx.client.request<Traffic>('GET', '/traffic', { query: { service: name, window: WINDOW_SECONDS }, accept: [404] });
    return res.status === 200 ? res.data : null;
  });
  const services = names.map((name, i) => ({ name, pods: pods.filter((p) => p.service === name), traffic: traffic[i] }));
  const rows = topServiceRows(services);
  if (format === 'json' || format === 'yaml') {
    await printData({ services: rows.rows.map((r) => Object.fromEntries(rows.headers.map((h, i) => [h, r[i] ?? null]))) }, format, ctx.out);
    return 0;
  }
  if (rows.rows.length === 0) ctx.err.write('No resources found.\n');
  else ctx.out.write(`${table(rows.headers, rows.rows)}\n`);
  return 0;
}
