import type { Command } from 'commander';
import { buildProgram } from './program.js';

function allCommands(root: Command, path = 'gridctl'): Array<[string, Command]> {
  return root.commands
    .filter((c) => !(c as unknown as { _hidden?: boolean })._hidden)
    .flatMap((c): Array<[string, Command]> => [[`${path} ${c.name()}`, c], ...allCommands(c, `${path} ${c.name()}`)]);
}

function helpOf(cmd: Command): string {
  let text = '';
  cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  cmd.outputHelp();
  return text;
}

describe('gridctl --help', () => {
  const sut = buildProgram();
  const commands = allCommands(sut);

  it('has the commands the issue names', () => {
    const names = new Set(commands.map(([p]) => p));
    for (const n of ['apply', 'delete', 'diff', 'get', 'describe', 'scale', 'logs', 'events', 'top', 'rollout', 'rollout status', 'chaos', 'failover', 'audit', 'alerts', 'register', 'config', 'completion']) {
      expect(names).toContain(`gridctl ${n}`);
    }
  });

  it.each(allCommands(buildProgram()).map(([p, c]) => [p, c] as const))('%s shows an example', (path, cmd) => {
    const help = helpOf(cmd);
    expect(help).toMatch(/Examples:\n {2}\S/);
    // Each example runs gridctl (or a shell line that does).
    expect(help.split('Examples:')[1]).toContain('gridctl');
    expect(path).toBeTruthy();
  });
});
