// gridctl: a thin client of Grid's REST API (README: gridctl).
import { CommanderError } from 'commander';
import { EXIT_USAGE } from './errors.js';
import { buildProgram } from './program.js';
import { printError } from './run.js';
import { seedArgv } from './commands/ops.cmd.js';

// `gridctl get pods | head -1` closes the pipe early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

buildProgram()
  .parseAsync(seedArgv(process.argv))
  .catch((e: unknown) => {
    process.exitCode = e instanceof CommanderError ? EXIT_USAGE : printError(e);
  });
