// Runs every *.test.ts under the given folders (default: src, test and fuzz) with node's test runner via tsx.
// Node 20's --test does not expand globs itself, so the files are listed here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

const roots = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('-'));
const walk = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.ts') ? [p] : [];
  });
const files = (roots.length ? roots : ['src', 'test', 'fuzz']).flatMap((r) => (statSync(r).isDirectory() ? walk(r) : [r])).sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// Files named *.alone.test.ts assert what a viewer sees in real time (a browser playing LL-HLS with
// 0.6 s of buffer): a neighbour test's CPU burst on a 2-core machine would stall them for reasons of its
// own. They run after the others, one at a time.
const alone = files.filter((f) => f.endsWith('.alone.test.ts'));
const together = files.filter((f) => !f.endsWith('.alone.test.ts'));
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const run = (list, n) =>
  new Promise((resolve) => {
    if (list.length === 0) return resolve(0);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', `--test-concurrency=${n}`, '--test-timeout=300000', ...passThrough, ...list],
      { stdio: 'inherit' },
    );
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
const first = await run(together, concurrency);
const second = await run(alone, '1');
process.exit(first || second);
