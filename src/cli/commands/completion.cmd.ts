// gridctl completion bash|zsh, and the hidden __complete that the scripts call for names.
import { Argument, type Command } from 'commander';
import { examples, offline, online } from '../run.js';

export function registerCompletion(program: Command): void {
  examples(
    program
      .command('completion')
      .description('print a shell completion script (bash or zsh)')
      .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh']))
      .action(
        offline(async (_opts, shell: string) => {
          const { bashScript, zshScript } = await import('./completion.js');
          process.stdout.write(shell === 'zsh' ? zshScript(program) : bashScript(program));
        }),
      ),
    ['source <(gridctl completion bash)            # this shell', 'gridctl completion bash > /etc/bash_completion.d/gridctl', 'source <(gridctl completion zsh)             # zsh'],
  );
  program
    .command('__complete', { hidden: true })
    .argument('<kind>')
    .option('--request-timeout <duration>', '', '2s')
    .action(online(async (ctx, kind: string) => (await import('./completion.js')).completeNames(ctx, kind)));
}
