// The workload flags the DSR seed's register and rollout share, declared once so both read alike.
import type { Command } from 'commander';

export function dsrWorkloadOptions(cmd: Command, prefix: string, replicas: string): Command {
  return cmd
    .option('--image <image>', `${prefix}a Docker image (docker runtime)`)
    .option('--command <line>', `${prefix}a command line, split like a shell would (process runtime; no pipes, globs or $VAR — $(VAR) is expanded by Grid)`)
    .option('--internal-port <port>', `${prefix}the port the container listens on (network: bridge, published on 127.0.0.1)`)
    .option('--replicas <n>', `${prefix}replicas`, replicas);
}

export function dsrOutputOptions(cmd: Command, prefix: string): Command {
  return cmd.option('--dry-run', `${prefix}validate on the server, change nothing`).option('-o, --output <format>', `${prefix}print the generated spec as json|yaml`);
}
