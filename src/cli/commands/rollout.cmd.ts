// gridctl rollout status|promote|abort|retry|pause|resume|undo|history, and the DSR seed's rollout --service: names, flags, help and examples; the work is in ./rollout.ts, loaded on use.
import type { Command } from 'commander';
import { dsrOutputOptions, dsrWorkloadOptions } from './dsr-options.js';
import { examples, offline, online } from '../run.js';

const impl = () => import('./rollout.js');

export function registerRollout(program: Command): void {
  const base = program
    .command('rollout')
    .description('Follow and steer rollouts (subcommands), or start a canary the DSR seed\'s way: rollout --service S --to-version V (--image I | --command C)')
    .usage('<status|promote|abort|retry|pause|resume|undo|history> NAME | --service S --to-version V (--image I | --command C) [options]')
    .option('--service <name>', 'DSR form: the service to roll out')
    .option('--to-version <version>', 'DSR form: the new version (env VERSION)');
  const rollout = dsrOutputOptions(
    dsrWorkloadOptions(base, 'DSR form: ', '2')
      .option('--canary-weight <percent>', 'DSR form: the first canary weight', '10')
      .option('--step-percent <percent>', 'DSR form: weight added at each step', '25')
      .option('--step-interval-s <seconds>', 'DSR form: seconds per step with --auto', '10')
      .option('--auto', 'DSR form: timed steps, then follow the rollout like rollout status (without it every step waits for rollout promote)'),
    'DSR form: ',
  )
    .action((...argv: unknown[]) => {
      const cmd = argv[argv.length - 1] as Command;
      // `gridctl rollout restart api` (kubectl's habit) or a typo: what rollout does have, and what comes closest.
      if (cmd.args.length > 0) return offline(async () => (await impl()).unknownSubcommand(cmd.args, cmd.commands.map((c) => c.name())))(...argv);
      // `gridctl rollout` alone names no subcommand and no service: a usage error, with the usage.
      if (cmd.opts().service === undefined) {
        cmd.outputHelp({ error: true });
        process.exitCode = 2;
        return;
      }
      return online(async (ctx) => (await impl()).dsrRolloutCommand(ctx))(...argv);
    });
  examples(rollout, [
    'gridctl rollout status api',
    'gridctl rollout --service example --to-version v2 --image dsr-svc:v2 --internal-port 80 --replicas 2 --canary-weight 10 --step-percent 25 --step-interval-s 10 --auto',
    'gridctl rollout --service example --to-version v2 --command "node server.js" -o yaml --dry-run',
  ]);

  examples(
    rollout
      .command('status')
      .description('Follow the rollout of the newest revision until it completes (exit 0), aborts, exceeds its progress deadline or times out (exit 1)')
      .argument('<name>', 'service')
      .option('--timeout <duration>', 'give up after this long (exit 1); 0 waits for ever', '0')
      .option('--watch [bool]', 'false: print the current status once and exit (0 unless it failed)', 'true')
      .action(online(async (ctx, name: string) => (await impl()).statusCommand(ctx, name))),
    ['gridctl rollout status api', 'gridctl rollout status api --timeout 5m', 'gridctl rollout status api --watch=false'],
  );

  const simple: Array<[ 'promote' | 'abort' | 'retry' | 'pause' | 'resume', string, string]> = [
    ['promote', 'Move a canary past its current step (a pause), or switch a blue/green now; --full skips every remaining step', 'gridctl rollout promote api --full'],
    ['abort', 'Abort the rollout: all traffic back to the stable version, the new pods removed', 'gridctl rollout abort api'],
    ['retry', 'Retry an aborted rollout from its first step', 'gridctl rollout retry api'],
    ['pause', 'Pause the rollout where it is', 'gridctl rollout pause api'],
    ['resume', 'Resume a paused rollout', 'gridctl rollout resume api'],
  ];
  for (const [action, description, example] of simple) {
    const c = rollout.command(action).description(description).argument('<name>', 'service');
    if (action === 'promote') c.option('--full', 'promote fully: skip every remaining step');
    c.action(online(async (ctx, name: string) => (await impl()).actionCommand(ctx, action, name)));
    examples(c, [example]);
  }

  examples(
    rollout
      .command('undo')
      .description('Roll back to the previous revision, or to --to-revision N (a new generation with that pod template)')
      .argument('<name>', 'service')
      .option('--to-revision <n>', 'the revision to go back to (rollout history lists them)')
      .action(online(async (ctx, name: string) => (await impl()).undoCommand(ctx, name))),
    ['gridctl rollout undo api', 'gridctl rollout undo api --to-revision 2'],
  );

  examples(
    rollout
      .command('history')
      .description('Kept revisions: version, which is current, and the last generation that applied it (when, how, replicas)')
      .argument('<name>', 'service')
      .option('-o, --output <format>', 'json|yaml')
      .action(online(async (ctx, name: string) => (await impl()).historyCommand(ctx, name))),
    ['gridctl rollout history api', 'gridctl rollout history api -o yaml'],
  );
  // Set after the subcommands exist, so they keep refusing extra arguments: only `rollout WORD …` itself reaches the check above.
  rollout.allowExcessArguments(true);
}
