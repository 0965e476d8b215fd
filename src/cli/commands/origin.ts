import type { Command } from 'commander';

// Placeholder until the origin service lands; replaced by its owner.
export function registerOrigin(program: Command): void {
  program.command('origin').description('origin (not built yet)').action(() => {
    throw new Error('origin is not built yet');
  });
}
