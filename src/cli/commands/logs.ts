// gridctl logs POD [--tail N] [-f]: the pod's stdout and stderr as Grid keeps them.
// A pod's output may carry escape sequences; on a terminal they are shown escaped (\x1b) so a
// pod cannot drive the user's terminal, while a pipe or file gets the bytes as they are (kubectl's behaviour).
import type { Ctx, CommandResult } from '../run.js';
import { CliError, UsageError } from '../errors.js';
import { sanitize } from '../output.js';

export async function logsCommand(ctx: Ctx, pod: string): Promise<CommandResult> {
  const raw = ctx.opts.tail as string | undefined;
  const tail = raw === undefined ? undefined : Number(raw);
  if (tail !== undefined && (!Number.isInteger(tail) || tail < 1 || tail > 10000)) throw new UsageError(`--tail: an integer 1..10000 (got '${raw}')`);
  const show = ctx.out.isTTY ? sanitize : (s: string) => s;
  const path = `/pods/${encodeURIComponent(pod)}/logs`;
  const res = await ctx.client.request<string>('GET', path, { query: { tail }, accept: [404] });
  if (res.status === 404) throw new CliError(`pod "${pod}" not found`);
  ctx.out.write(show(res.text));
  if (ctx.opts.follow !== true) return 0;
  // Following starts at the log's end, so lines written between the two requests are not shown twice (nor, rarely, at all).
  let ended = false;
  try {
    await ctx.client.stream(
      path,
      { follow: 1 },
      (e) => {
        if (e.event === 'log') ctx.out.write(`${show(e.data)}\n`);
        else if (e.event === 'end') ended = true;
      },
      ctx.signal,
    );
  } catch (e) {
    if (!ctx.signal.aborted) throw e;
  }
  if (ended || ctx.signal.aborted) return 0;
  throw new CliError(`the log stream of pod ${pod} closed before the pod was gone (Grid stopped?)`);
}
