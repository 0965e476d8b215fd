import type { Command } from 'commander';

// Placeholder until the signal service lands; replaced by its owner.
export function registerSignal(program: Command): void {
  program.command('signal').description('signal (not built yet)').action(() => {
    throw new Error('signal is not built yet');
  });
}
