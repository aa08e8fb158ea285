// gridctl apply -f, delete, diff: names, flags, help and examples; the work is in ./apply.ts, loaded on use.
import type { Command } from 'commander';
import { examples, online } from '../run.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function registerApply(program: Command): void {
  examples(
    program
      .command('apply')
      .description('Create or update services and failover groups from YAML/JSON documents (Grid specs, Kubernetes Deployments/StatefulSets/Rollouts/Services/HPAs, Compose files), all in one request: one bad document and nothing is applied')
      .option('-f, --filename <path>', 'a file, a directory (*.yaml, *.yml, *.json) or - for stdin; repeatable', collect)
      .option('-R, --recursive', 'read the subdirectories of a -f directory too')
      .option('--dry-run [strategy]', 'server: Grid validates and says what would happen, storing nothing')
      .option('-o, --output <format>', 'json|yaml (Grid\'s answer) or name')
      .action(online(async (ctx) => (await import('./apply.js')).applyCommand(ctx))),
    ['gridctl apply -f examples/api-v1.yaml', 'gridctl apply -f examples/api-v2.yaml --dry-run=server', 'gridctl apply -f examples/api-v1.yaml -f examples/autoscale-demo.yaml', 'cat examples/demo.yaml | gridctl apply -f -'],
  );

  examples(
    program
      .command('delete')
      .description('Delete services or failover groups by name, or those named in the documents of -f')
      .argument('[type[/name]]', 'service (svc) or failovergroup (fg), or TYPE/NAME as get -o name prints it')
      .argument('[names...]', 'their names, or more TYPE/NAME')
      .option('-f, --filename <path>', 'delete the objects the documents name (a file, a directory or -); repeatable', collect)
      .option('-R, --recursive', 'read the subdirectories of a -f directory too')
      .option('--ignore-not-found', 'a name that does not exist is not an error')
      .option('--purge', 'also remove the persistent data directories of the services (spec.storage.persistent) once their pods are gone')
      .action(online(async (ctx, type: string | undefined, names: string[]) => (await import('./apply.js')).deleteCommand(ctx, type, names))),
    ['gridctl delete service api', 'gridctl delete service/api failovergroup/shop', 'gridctl get svc -o name | xargs gridctl delete', 'gridctl delete fg shop --ignore-not-found', 'gridctl delete service store --purge', 'gridctl delete -f examples/shop.yaml'],
  );

  examples(
    program
      .command('diff')
      .description('Show what apply -f would change, as a unified diff of the stored manifest (live) against the one Grid would store (merged)')
      .option('-f, --filename <path>', 'a file, a directory or - for stdin; repeatable', collect)
      .option('-R, --recursive', 'read the subdirectories of a -f directory too')
      .addHelpText('after', '\nExit status (as kubectl diff): 0 no differences, 1 differences, 2 an error.')
      .action(online(async (ctx) => (await import('./apply.js')).diffCommand(ctx))),
    ['gridctl diff -f examples/api-v2.yaml', 'gridctl diff -f examples/demo.yaml && echo "in sync"'],
  );
}
