// gridctl export: names, flags, help and examples; the work is in ./export.ts, loaded on use.
import type { Command } from 'commander';
import { examples, online } from '../run.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function registerExport(program: Command): void {
  examples(
    program
      .command('export')
      .description('Print services and failover groups as Kubernetes objects (Deployment or Argo Rollout, Service, HPA, AnalysisTemplate) for kubectl apply -f -; what has no equivalent is a warning on stderr')
      .argument('[names...]', 'services or failover groups stored in Grid')
      .option('--all', 'every stored service and failover group')
      .option('-f, --filename <path>', 'export these Grid documents instead (a file, a directory or - for stdin; repeatable); Grid validates them and stores nothing', collect)
      .option('-R, --recursive', 'read the subdirectories of a -f directory too')
      .option('-o, --output <format>', 'yaml (the default) or json (a v1 List)')
      .option('-n, --namespace <namespace>', 'metadata.namespace of every object')
      .option('--prometheus <url>', 'the Prometheus the Canary AnalysisTemplates query (default http://prometheus-operated.monitoring.svc:9090)')
      .option('--image <service=image>', 'the container image of a process (command) service, or one replacing a simulated local:// image; repeatable', collect)
      .action(online(async (ctx, names: string[]) => (await import('./export.js')).exportCommand(ctx, names))),
    [
      'gridctl export --all | kubectl apply -f -',
      'gridctl export web --image web=registry.example/web:1.4 -n shop',
      'gridctl export -f examples/canary-demo.yaml --image shopfront=registry.example/shop:1 --prometheus http://prometheus.monitoring:9090',
      'gridctl export api -o json',
    ],
  );
}
