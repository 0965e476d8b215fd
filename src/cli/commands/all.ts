import type { Command } from 'commander';

// Placeholder until the all service lands; replaced by its owner.
export function registerAll(program: Command): void {
  program.command('all').description('all (not built yet)').action(() => {
    throw new Error('all is not built yet');
  });
}
