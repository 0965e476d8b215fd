// The checked-in seed corpus: fuzz/corpus/<target>/<name>.bin, written by fuzz/seeds.ts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FUZZ_DIR } from './harness.js';

export const corpusDir = (target: string): string => join(FUZZ_DIR, 'corpus', target);

export function loadCorpus(target: string): Buffer[] {
  const dir = corpusDir(target);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((f) => readFileSync(join(dir, f)));
}
