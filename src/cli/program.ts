// gridctl's command tree. Each group registers its commands from a small `*.cmd.ts` file
// (names, flags, help, examples) and loads its implementation only when it runs, so
// `gridctl get pods` never parses the YAML library or the diff engine.
import { Command } from 'commander';
import { EXIT_USAGE } from './errors.js';
import { registerApply } from './commands/apply.cmd.js';
import { registerGet } from './commands/get.cmd.js';
import { registerRollout } from './commands/rollout.cmd.js';
import { registerOps } from './commands/ops.cmd.js';
import { registerConfig } from './commands/config.cmd.js';
import { registerCompletion } from './commands/completion.cmd.js';
import { registerExport } from './commands/export.cmd.js';

export const GRIDCTL_VERSION = '0.1.0';

type Register = (program: Command) => void;

/** Every group's register function, in the order --help lists them. */
export const GROUPS: Register[] = [registerApply, registerGet, registerRollout, registerOps, registerConfig, registerExport, registerCompletion];

export function buildProgram(groups: Register[] = GROUPS): Command {
  const program = new Command('gridctl')
    .description('Command-line client for Grid, a single-node service orchestrator (REST API at GRID_URL, default http://127.0.0.1:8080)')
    .version(GRIDCTL_VERSION, '--version', 'print the version')
    .option('-s, --server <url>', 'Grid URL (or GRID_URL; default http://127.0.0.1:8080)')
    .option('--api-key <key>', 'API key (or GRID_API_KEY)')
    .option('--user <name>', 'user for Basic auth (or GRID_USER, GRID_USER=name:password)')
    .option('--password <password>', 'password for --user (or GRID_PASSWORD)')
    .option('--context <name>', 'a context of ~/.config/grid/config.yaml instead of the current one')
    .option('--request-timeout <duration>', 'give up on a request after this long (30s)')
    .showSuggestionAfterError(true)
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true })
    .addHelpText(
      'after',
      `
Connection: flags, then GRID_URL / GRID_API_KEY / GRID_USER (+ GRID_PASSWORD), then the current
context of ~/.config/grid/config.yaml (gridctl config --help).
Exit codes: 0 ok, 1 failed, 2 usage (diff: 1 when there are differences).
Colour only on a terminal, never with NO_COLOR.`,
    );
  for (const register of groups) register(program);
  program.exitOverride();
  applyUsageExit(program);
  return program;
}

/** Commander errors (unknown flag, missing argument) are usage errors: exit 2. */
function applyUsageExit(cmd: Command): void {
  cmd.exitOverride((err) => {
    // --help and --version succeed; help shown because a subcommand is missing (`gridctl chaos`) is a usage error.
    process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
  });
  for (const sub of cmd.commands) applyUsageExit(sub);
}
