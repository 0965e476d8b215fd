import type { Command } from 'commander';

// Placeholder until the edge service lands; replaced by its owner.
export function registerEdge(program: Command): void {
  program.command('edge').description('edge (not built yet)').action(() => {
    throw new Error('edge is not built yet');
  });
}
