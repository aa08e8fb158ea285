// gridctl get, describe, top, logs, events: names, flags, help and examples; the work is in ./get.ts
// (and describe.ts, top.ts, logs.ts), loaded on use.
import type { Command } from 'commander';
import { examples, online } from '../run.js';

const KINDS = 'services (svc), pods (po), failovergroups (fg), events (ev), volumes (vol, pvc)';

export function registerGet(program: Command): void {
  examples(
    program
      .command('get')
      .description(`List ${KINDS} as a table, or some of them by NAME (TYPE NAME… or TYPE/NAME…, as -o name prints them)`)
      .argument('<type[/name]>', KINDS)
      .argument('[names...]', 'objects of TYPE (an event by its id), or more TYPE/NAME')
      .option('-o, --output <format>', 'wide | json | yaml | name (json/yaml: the server\'s answer; with -w one object per change)')
      .option('-w, --watch', 'after the table, print rows again as they change (with -o json|yaml|name: the objects that changed; Ctrl-C ends)')
      .option('--service <name>', 'only the pods, events or volumes of this service')
      .action(online(async (ctx, first: string, rest: string[]) => (await import('./get.js')).getCommand(ctx, [first, ...rest]))),
    ['gridctl get services', 'gridctl get pods --service web -o wide', 'gridctl get svc web -o yaml', 'gridctl get service/web pod/web-x1y2z', 'gridctl get pods -w', 'gridctl get pods -w -o json', 'gridctl get fg -o wide', 'gridctl get services -o name', 'gridctl get volumes'],
  );

  examples(
    program
      .command('describe')
      .description('Show services, pods or failover groups in detail, with their recent events and why they happened (events: gridctl get events ID -o yaml)')
      .argument('<type[/name]>', 'service (svc) | pod (po) | failovergroup (fg), or TYPE/NAME')
      .argument('[names...]', 'the objects\' names (a pod\'s id), or more TYPE/NAME')
      .action(online(async (ctx, first: string, rest: string[]) => (await import('./describe.js')).describeCommand(ctx, [first, ...rest]))),
    ['gridctl describe service web', 'gridctl describe service/web', 'gridctl describe pod web-x1y2z', 'gridctl describe fg shop'],
  );

  examples(
    program
      .command('top')
      .description('CPU per pod; per service version also requests/s, 5xx rate and latency of the last 60 s as the gateway measures them')
      .argument('<kind>', 'pods | services')
      .option('--service <name>', 'only this service')
      .option('-o, --output <format>', 'json | yaml')
      .action(online(async (ctx, kind: string) => (await import('./top.js')).topCommand(ctx, kind))),
    ['gridctl top services', 'gridctl top pods --service web'],
  );

  examples(
    program
      .command('logs')
      .description("Print a pod's stdout and stderr (escape sequences are shown escaped on a terminal)")
      .argument('<pod>', 'the pod\'s id (gridctl get pods)')
      .option('--tail <n>', 'the last N lines (1..10000, default 100)')
      .option('-f, --follow', 'then print new lines as the pod writes them, until the pod is gone or Ctrl-C')
      .action(online(async (ctx, pod: string) => (await import('./logs.js')).logsCommand(ctx, pod))),
    ['gridctl logs web-x1y2z', 'gridctl logs web-x1y2z --tail 20 -f'],
  );

  examples(
    program
      .command('events')
      .description('The event log, oldest first, as `get events` prints it; --explain adds why each happened')
      .option('-w, --watch', 'then print each new event as it happens (Ctrl-C ends)')
      .option('--service <name>', 'only the events of this service or failover group')
      .option('--type <type>', 'an event type (pod.exited) or a domain (pod, pod.*)')
      .option('--since <when>', 'only events after this: a duration (10m, 2h, 1d) or an ISO time')
      .option('--limit <n>', 'the newest N events (1..1000, default 100)')
      .option('--explain', 'add the EXPLAIN column')
      .option('-o, --output <format>', 'wide | json | yaml | name (wide = --explain)')
      .action(online(async (ctx) => (await import('./get.js')).eventsCommand(ctx))),
    ['gridctl events --service web --since 10m', 'gridctl events -w --type pod.*', 'gridctl events --explain'],
  );
}
