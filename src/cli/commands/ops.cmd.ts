// gridctl scale, register (DSR), chaos, failover, audit, alerts: names, flags, help and examples; the work is in ./ops.ts, loaded on use.
import type { Command } from 'commander';
import { dsrOutputOptions, dsrWorkloadOptions } from './dsr-options.js';
import { examples, offline, online } from '../run.js';

const impl = () => import('./ops.js');

/** Each pod chaos toggle with the flag it passes on (the demo service's parameters). */
const TOGGLES: Array<[string, string, [string, string] | undefined]> = [
  ['cpu', 'burn one core for --seconds (default 10; 0 stops)', ['--seconds <n>', 'how long to burn, 0..300']],
  ['crash', 'exit with code 1 right after answering', undefined],
  ['fail', 'answer a share of app requests with 500', ['--rate <r>', 'share 0..1 (default 1; 0 turns it off)']],
  ['slow', 'delay every app response', ['--ms <ms>', 'delay in ms, 0..60000 (required by the pod)']],
  ['corrupt', 'return wrong data and fail readiness', undefined],
  ['liveness', 'fail the liveness probe (--no-fail: pass it again)', ['--fail', 'fail the liveness probe (the default)']],
  ['unready', 'fail the readiness probe', ['--value <bool>', 'true (default) or false']],
  ['reset', 'clear every toggle', undefined],
];

/**
 * The DSR seed writes `register --service S --version v1`, but commander reads program options
 * anywhere on the line, so gridctl's own --version would print 0.1.0 and exit. After `register`
 * (and `chaos pause`/`chaos kill`, which pick a canary's pods by version) the flag means the
 * service's version: rename it before commander parses.
 */
export function seedArgv(argv: string[]): string[] {
  // The first operand names the command; every global option but --version/--help takes a value.
  let at = 2;
  while (at < argv.length && argv[at].startsWith('-')) at += argv[at].includes('=') || ['--version', '-h', '--help'].includes(argv[at]) ? 1 : 2;
  // After register, and after chaos pause/kill/faults (a version of the service, as in `chaos faults api --version v2`), --version is not gridctl's own.
  if (argv[at] === 'chaos' && ['pause', 'kill', 'faults'].includes(argv[at + 1])) at++;
  else if (argv[at] !== 'register') return argv;
  return argv.map((a, i) => (i <= at ? a : a === '--version' ? '--service-version' : a.startsWith('--version=') ? `--service-version=${a.slice(10)}` : a));
}

export function registerOps(program: Command): void {
  examples(
    program
      .command('scale')
      .description('Set a service\'s replicas (on an autoscaled service: its current size within min..max)')
      .argument('<type[/name]>', 'service (svc), or service/NAME')
      .argument('[name]', 'service name')
      .requiredOption('--replicas <n>', 'the new replica count, 0..1000')
      .action(online(async (ctx, first: string, name: string | undefined) => {
        const { scaleTarget } = await import('./resource-args.js');
        return (await impl()).scaleCommand(ctx, 'service', scaleTarget(name === undefined ? [first] : [first, name]));
      })),
    ['gridctl scale service api --replicas 5', 'gridctl scale service/api --replicas 5'],
  );

  const register = program
    .command('register')
    .description('The DSR seed\'s register: run a service at a version from a command or a Docker image (--weight < 100 on an existing service: a canary held at that weight until rollout promote)')
    .requiredOption('--service <name>', 'service name')
    .requiredOption('--service-version <version>', 'version label (env VERSION); --version after register means the same, as the seed wrote it');
  examples(
    dsrOutputOptions(dsrWorkloadOptions(register, '', '1').option('--weight <percent>', '100 replaces what runs; less holds a canary of this version at that weight', '100'), '')
      .action(online(async (ctx) => (await impl()).registerCommand(ctx))),
    [
      'gridctl register --service example --version v1 --image dsr-svc:v1 --internal-port 80 --replicas 2 --weight 100',
      'gridctl register --service web --version v1 --command "node demo-services/versioned/server.js" --replicas 2',
      'gridctl register --service web --version v2 --command "node demo-services/versioned/server.js" --weight 10   # canary at 10%',
      // Single quotes: in double quotes bash would run $(PORT) as a command; Grid expands it from the pod's env.
      "gridctl register --service web --version v1 --command 'python3 -m http.server $(PORT)' --dry-run -o yaml",
    ],
  );

  const chaos = examples(program.command('chaos').description('Break things on purpose: kill or pause pods, inject faults at the gateway, or flip a demo-service pod\'s chaos toggles'), [
    'gridctl chaos kill web --count 2',
    'gridctl chaos pause web --seconds 20',
    'gridctl chaos faults web --abort-percent 25 --duration 2m',
    'gridctl chaos crash web-8411u',
  ]);
  examples(
    chaos
      .command('faults')
      .description("Inject faults at the gateway into SERVICE's requests (any runtime): abort a share with a status, delay a share; ends on its own after --duration")
      .argument('<service>', 'the service whose requests to fault')
      .option('--service-version <v>', "only requests picked to this version's pods (a canary's); --version after chaos means the same")
      .option('--abort-percent <n>', 'share of requests the gateway answers itself, 0..100')
      .option('--abort-status <code>', 'their status, 400..599 (default 503)')
      .option('--delay-ms <ms>', 'how long delayed requests are held, 1..60000')
      .option('--delay-percent <n>', 'share of requests delayed, 0..100')
      .option('--duration <d>', 'how long the experiment runs, 1s..1h (default 60s)')
      .option('-o, --output <format>', 'json|yaml')
      .action(online(async (ctx, service: string) => (await impl()).chaosFaultsCommand(ctx, service))),
    ['gridctl chaos faults api --abort-percent 25 --abort-status 503', 'gridctl chaos faults api --version v2 --delay-ms 200 --delay-percent 50 --duration 30s'],
  );
  examples(
    chaos
      .command('experiments')
      .description('Running chaos experiments (faults, paused pods, …) with their time left')
      .option('-o, --output <format>', 'json|yaml')
      .action(online(async (ctx) => (await impl()).chaosExperimentsCommand(ctx))),
    ['gridctl chaos experiments', 'gridctl chaos experiments -o json'],
  );
  examples(
    chaos
      .command('stop')
      .description('End a running chaos experiment now (faults lifted, paused pods resumed)')
      .argument('<id>', 'experiment id, as `gridctl chaos experiments` lists it')
      .option('-o, --output <format>', 'json|yaml')
      .action(online(async (ctx, id: string) => (await impl()).chaosStopCommand(ctx, id))),
    ['gridctl chaos stop faults-1a2b3c4d'],
  );
  examples(
    chaos
      .command('kill')
      .description('Kill pods at once (no drain): --count pods of SERVICE, or one --pod; the reconciler replaces them')
      .argument('[service]', 'service whose pods to kill (Ready ones first)')
      .option('--count <n>', 'how many, 1..1000 (default 1)')
      .option('--service-version <version>', "only this version's pods (--version after `chaos kill` means the same)")
      .option('--pod <id>', 'kill exactly this pod instead')
      .option('-o, --output <format>', 'json|yaml')
      .action(online(async (ctx, service: string | undefined) => (await impl()).chaosKillCommand(ctx, service))),
    ['gridctl chaos kill api --count 2', 'gridctl chaos kill api --version v2', 'gridctl chaos kill --pod api-7f3c2'],
  );
  examples(
    chaos
      .command('pause')
      .description('Freeze pods (SIGSTOP; docker pause) for --seconds, as a hung process: a liveness probe should catch it; process and docker services only')
      .argument('[service]', 'service whose running pods to pause (Ready ones first)')
      .option('--count <n>', 'how many, 1..1000 (default 1)')
      .option('--seconds <s>', 'how long, 1..600 (default 10); then whatever was not restarted resumes')
      .option('--all', 'every running pod (of --version, when given); needed for a pause that would freeze the whole service')
      .option('--service-version <version>', "only this version's pods (--version after `chaos pause` means the same)")
      .option('--pod <id>', 'pause exactly this pod instead')
      .option('-o, --output <format>', 'json|yaml')
      .action(online(async (ctx, service: string | undefined) => (await impl()).chaosPauseCommand(ctx, service))),
    ['gridctl chaos pause api --seconds 30', 'gridctl chaos pause api --count 2 --version v2', 'gridctl chaos pause --pod api-7f3c2 --seconds 5'],
  );
  for (const [toggle, description, flag] of TOGGLES) {
    const c = chaos.command(toggle).description(`POST /pods/POD/chaos/${toggle}: ${description}`).argument('<pod>', 'pod id').option('-o, --output <format>', 'json|yaml');
    if (flag) c.option(flag[0], flag[1]);
    // `--fail` takes no value, so `chaos liveness --fail POD` keeps its POD (a `--fail <bool>` swallowed it).
    if (toggle === 'liveness') c.option('--no-fail', 'pass the liveness probe again');
    c.action(online(async (ctx, pod: string) => (await impl()).chaosToggleCommand(ctx, toggle, pod)));
    examples(c, toggle === 'liveness' ? ['gridctl chaos liveness --fail web-1a2b3', 'gridctl chaos liveness --no-fail web-1a2b3'] : [`gridctl chaos ${toggle} web-1a2b3${flag ? ` ${flag[0].split(' ')[0]} ${toggle === 'cpu' ? 30 : toggle === 'fail' ? 0.5 : toggle === 'slow' ? 800 : 'true'}` : ''}`]);
  }

  const failover = examples(program.command('failover').description('Failover groups: state and manual switches'), [
    'gridctl failover status',
    'gridctl failover switch shop --to shop-dr',
  ]);
  examples(
    failover
      .command('status')
      .description('All groups (table), or one group in detail: targets with health and latency, switches with reasons')
      .argument('[group]', 'a failover group')
      .option('-o, --output <format>', 'json|yaml')
      .action(online(async (ctx, group: string | undefined) => (await impl()).failoverStatusCommand(ctx, group))),
    ['gridctl failover status', 'gridctl failover status payments -o yaml'],
  );
  examples(
    failover
      .command('switch')
      .description('Switch the active target by hand: to --to TARGET, or to the next healthy target')
      .argument('<group>', 'a failover group')
      .option('--to <target>', 'a target of the group (service name or url)')
      .action(online(async (ctx, group: string) => (await impl()).failoverSwitchCommand(ctx, group))),
    ['gridctl failover switch payments', 'gridctl failover switch payments --to payments-dr'],
  );

  examples(
    program
      .command('audit')
      .description('The audit trail, newest first; --verify checks the hash chain (exit 1 when broken, naming the first broken entry)')
      .option('--since <when>', 'a duration back (1h, 30m, 2d) or an ISO-8601 time')
      .option('--actor <actor>', 'only this actor')
      .option('--action <action>', 'only this action, e.g. apply, rollout.aborted')
      .option('--target <target>', 'only this target')
      .option('--limit <n>', '1..500 (default 100)')
      .option('--verify', 'verify the hash chain instead of listing')
      .option('-o, --output <format>', 'json|yaml')
      .action(online(async (ctx) => (await impl()).auditCommand(ctx))),
    ['gridctl audit --since 1h --action apply', 'gridctl audit --actor admin --limit 20 -o json', 'gridctl audit --verify'],
  );

  const alerts = program
    .command('alerts')
    .description('Alert state of each service and failover group (UP/DOWN, pending, held back)')
    .option('-o, --output <format>', 'json|yaml')
    .action((...argv: unknown[]) => {
      const cmd = argv[argv.length - 1] as Command;
      // `alerts foo`: name the subcommand there is, rather than commander's "too many arguments".
      if (cmd.args.length > 0) return offline(async () => (await impl()).alertsUnknown(cmd.args[0]))(...argv);
      return online(async (ctx) => (await impl()).alertsCommand(ctx))(...argv);
    });
  examples(alerts, ['gridctl alerts', 'gridctl alerts test']);
  examples(
    alerts
      .command('test')
      .description('Send a test alert through every configured channel and report each (exit 1 if one failed)')
      .action(online(async (ctx) => (await impl()).alertsTestCommand(ctx))),
    ['gridctl alerts test'],
  );
  // After `test` exists, so it keeps refusing extra arguments.
  alerts.allowExcessArguments(true);
}
