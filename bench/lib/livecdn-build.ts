// The livecdn CLI as production runs it, compiled JS, for benchmarks that measure a server's CPU: tsx's
// loader thread adds work of its own (event-loop wake-ups) to a process run from source.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface LivecdnEntry {
  /** Node arguments that run the CLI (the command name follows). */
  args: string[];
  /** How it was obtained, for the report. */
  how: string;
}

/**
 * Compiles src with tsc -p tsconfig.build.json into `outDir` (not dist/, which the build owns), inside the
 * repository so that the compiled files resolve node_modules; falls back to tsx if tsc emitted nothing.
 */
export function compileLivecdn(root: string, outDir: string): LivecdnEntry {
  rmSync(outDir, { recursive: true, force: true });
  const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: root, encoding: 'utf8' });
  const main = join(outDir, 'cli/main.js');
  return existsSync(main)
    ? { args: [main], how: `compiled with tsc -p tsconfig.build.json into ${relative(root, outDir)}${r.status === 0 ? '' : ' (tsc reported type errors)'}` }
    : { args: ['--import', 'tsx', join(root, 'src/cli/main.ts')], how: 'run from source with tsx (tsc emitted nothing)' };
}
