// gridctl config view|get-contexts|current-context|use-context|set-context|delete-context: names, flags, help and examples; the work is in ./config-cmd.ts, loaded on use.
import type { Command } from 'commander';
import { examples, offline } from '../run.js';

export function registerConfig(program: Command): void {
  const config = program
    .command('config')
    .description('Contexts (a server and credentials each) in ~/.config/grid/config.yaml, or $GRID_CONFIG, or $XDG_CONFIG_HOME/grid/config.yaml');
  examples(config, ['gridctl config set-context prod --server https://grid.example.com --api-key "$KEY" --current', 'gridctl config get-contexts']);

  examples(
    config
      .command('view')
      .description('Print the config file; API keys and passwords show as REDACTED')
      .option('--raw', 'show API keys and passwords')
      .option('-o, --output <format>', 'yaml (default) or json')
      .action(offline(async (opts) => (await import('./config-cmd.js')).viewCommand(opts))),
    ['gridctl config view', 'gridctl config view --raw -o json'],
  );

  examples(
    config
      .command('get-contexts')
      .description('List the contexts: CURRENT (*), NAME, SERVER, AUTH (api-key, user <name> or none)')
      .option('-o, --output <format>', 'name: only the names')
      .action(offline(async (opts) => (await import('./config-cmd.js')).getContextsCommand(opts))),
    ['gridctl config get-contexts', 'gridctl config get-contexts -o name'],
  );

  examples(
    config
      .command('current-context')
      .description('Print the name of the current context')
      .action(offline(async () => (await import('./config-cmd.js')).currentContextCommand())),
    ['gridctl config current-context'],
  );

  examples(
    config
      .command('use-context')
      .description('Make a context the current one')
      .argument('<name>', 'a context of the file')
      .action(offline(async (_opts, name: string) => (await import('./config-cmd.js')).useContextCommand(name))),
    ['gridctl config use-context local'],
  );

  examples(
    config
      .command('set-context')
      .description('Create a context, or change the fields given of an existing one (the file is written readable by its owner only). A new API key replaces the user and password, a new user the API key')
      .argument('<name>', 'the context')
      // The same flags as the global connection options, which the root program parses
      // wherever they stand: the action reads them merged (optsWithGlobals), so
      // `config set-context x --server URL` sets the context's server either way.
      .option('-s, --server <url>', "the context's Grid URL (required for a new context)")
      .option('--api-key <key>', "the context's API key")
      .option('--user <name>', "the context's user for Basic auth")
      .option('--password <password>', "that user's password")
      .option('--current', 'also make it the current context')
      .action(
        offline(async (opts, name: string) =>
          (await import('./config-cmd.js')).setContextCommand(name, {
            server: opts.server as string | undefined,
            apiKey: opts.apiKey as string | undefined,
            user: opts.user as string | undefined,
            password: opts.password as string | undefined,
            current: opts.current === true,
          }),
        ),
      ),
    ['gridctl config set-context local --server http://127.0.0.1:8080 --current', 'gridctl config set-context prod --server https://grid.example.com --user ops --password "$PW"', 'gridctl config set-context prod --api-key "$KEY"'],
  );

  examples(
    config
      .command('delete-context')
      .description('Remove a context from the file')
      .argument('<name>', 'the context')
      .action(offline(async (_opts, name: string) => (await import('./config-cmd.js')).deleteContextCommand(name))),
    ['gridctl config delete-context old'],
  );
}
