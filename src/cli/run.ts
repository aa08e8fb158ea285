// The glue between commander and a command's implementation: resolve the connection from the
// global flags, run, turn errors into one line each and an exit code.
import type { Command } from 'commander';
import { GridClient } from './client.js';
import { resolveConnection, type Connection, type GlobalOptions } from './config.js';
import { CliError, EXIT_FAILED, EXIT_OK } from './errors.js';
import { guardTerminal, paint, sanitize, useColor } from './output.js';

export interface Ctx {
  client: GridClient;
  conn: Connection;
  /** The command's own options merged with the global ones. */
  opts: Record<string, unknown>;
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
  color: boolean;
  /** Aborted on SIGINT/SIGTERM, so a watch can end cleanly. */
  signal: AbortSignal;
}

/** What a command returns: its exit code (default 0). */
export type CommandResult = number | void;

/** stdout and stderr as commands get them: on a terminal, nothing the server sent can drive it. */
export const STDOUT = guardTerminal(process.stdout);
export const STDERR = guardTerminal(process.stderr);

const stop = new AbortController();
let signalled = false;
function onSignal(): void {
  if (signalled) process.exit(130);
  signalled = true;
  stop.abort();
}

/** Wraps a command that talks to Grid: `.action(online((ctx, name) => …))`. Positional args come first, as commander passes them. */
export function online<A extends unknown[]>(fn: (ctx: Ctx, ...args: A) => Promise<CommandResult>) {
  return async (...argv: unknown[]): Promise<void> => {
    const cmd = argv[argv.length - 1] as Command;
    const args = argv.slice(0, -2) as A;
    const opts = cmd.optsWithGlobals() as Record<string, unknown>;
    await report(async () => {
      const conn = await resolveConnection(opts as GlobalOptions);
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      return fn({ client: new GridClient(conn), conn, opts, out: STDOUT, err: STDERR, color: useColor(), signal: stop.signal }, ...args);
    });
  };
}

/** Wraps a command that needs no server (config, completion). */
export function offline<A extends unknown[]>(fn: (opts: Record<string, unknown>, ...args: A) => Promise<CommandResult>) {
  return async (...argv: unknown[]): Promise<void> => {
    const cmd = argv[argv.length - 1] as Command;
    const args = argv.slice(0, -2) as A;
    await report(() => fn(cmd.optsWithGlobals() as Record<string, unknown>, ...args));
  };
}

async function report(fn: () => Promise<CommandResult>): Promise<void> {
  try {
    const code = await fn();
    process.exitCode = code ?? EXIT_OK;
  } catch (e) {
    process.exitCode = printError(e);
  }
}

/** Prints `error: …` (each line of a multi-line message prefixed) and returns the exit code. */
export function printError(e: unknown): number {
  const colour = useColor(process.stderr);
  // Messages carry what the server said: escaped always, whether or not stderr is a terminal.
  const say = (line: string) => process.stderr.write(`${paint('error:', 'red', colour)} ${sanitize(line)}\n`);
  if (e instanceof CliError) {
    for (const line of e.message.split('\n')) say(line);
    return e.exitCode;
  }
  // Not one of ours: most likely an answer of a shape this gridctl does not know (another Grid version).
  say(`${(e as Error)?.message ?? String(e)} (an answer gridctl did not expect: is Grid the same version as gridctl?)`);
  return EXIT_FAILED;
}

/** Adds an Examples section to a command's --help. */
export function examples(cmd: Command, lines: string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
}
