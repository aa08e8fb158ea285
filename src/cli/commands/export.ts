// gridctl export: GET /export (stored specs) or POST /export (the documents of -f), printed as
// Grid answers so `gridctl export --all | kubectl apply -f -` works; Grid's warnings go to stderr.
import { ApiError, CliError, EXIT_OK, UsageError } from '../errors.js';
import { parseOutput, printData } from '../output.js';
import type { Ctx } from '../run.js';
import { mapFieldErrors, readSources, readStdin, tooLarge, type SourceDoc } from './manifests.js';

/** The texts of `Warning: 299 - "…"` headers (Node joins repeated headers with ", "). */
export function warningsOf(header: string | string[] | undefined): string[] {
  const joined = Array.isArray(header) ? header.join(', ') : (header ?? '');
  return [...joined.matchAll(/\d{3} \S+ "((?:[^"\\]|\\.)*)"/g)].map((m) => m[1].replace(/\\(.)/g, '$1'));
}

export async function exportCommand(ctx: Ctx, names: string[]): Promise<number> {
  const format = parseOutput((ctx.opts.output as string | undefined) ?? 'yaml', ['json', 'yaml']) as 'json' | 'yaml';
  const files = (ctx.opts.filename as string[] | undefined) ?? [];
  const all = ctx.opts.all === true;
  if ([names.length > 0, all, files.length > 0].filter(Boolean).length !== 1) throw new UsageError('export: name services, or give --all, or -f FILE (one of them)');
  const images = (ctx.opts.image as string[] | undefined) ?? [];
  for (const i of images) if (!/^[^=]+=.+$/.test(i)) throw new UsageError(`--image: must be SERVICE=IMAGE (got '${i}')`);
  const query = {
    output: format,
    namespace: ctx.opts.namespace as string | undefined,
    prometheus: ctx.opts.prometheus as string | undefined,
    image: images.length > 0 ? images.join(',') : undefined,
    service: names.length > 0 ? names.join(',') : undefined,
  };
  let docs: SourceDoc[] = [];
  let res;
  if (files.length > 0) {
    docs = await readSources(files, ctx.opts.recursive === true, () => readStdin());
    const body = JSON.stringify(docs.map((d) => d.value));
    const big = tooLarge(Buffer.byteLength(body), docs.length);
    if (big) throw new CliError(big);
    try {
      res = await ctx.client.request('POST', '/export', { query, body, contentType: 'application/json' });
    } catch (e) {
      if (e instanceof ApiError && e.status === 400 && Array.isArray(e.body?.errors) && e.body.errors.length > 0) throw new CliError(mapFieldErrors(e.body.errors, docs).join('\n'));
      throw e;
    }
  } else {
    res = await ctx.client.request('GET', '/export', { query });
  }
  for (const w of warningsOf(res.headers.warning)) ctx.err.write(`warning: ${w}\n`);
  if (format === 'json') await printData(res.data, 'json', ctx.out);
  else ctx.out.write(res.text);
  return EXIT_OK;
}
