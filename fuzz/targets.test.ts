import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzz, runOne } from './harness.js';
import { loadCorpus } from './corpus.js';
import { TARGETS } from './targets/index.js';

test('every target has a checked-in seed corpus, and the whole corpus stays small', () => {
  let total = 0;
  for (const t of TARGETS) {
    const seeds = loadCorpus(t.name);
    assert.ok(seeds.length > 0, `no seeds for ${t.name} (run npm run fuzz:seeds)`);
    total += seeds.reduce((n, s) => n + s.length, 0);
  }
  assert.ok(total < 2 * 1024 * 1024, `corpus of ${total} bytes`);
});

for (const t of TARGETS) {
  test(`${t.name}: every seed runs without a finding, and fuzzing from them covers more`, async () => {
    const seeds = loadCorpus(t.name);
    for (const s of seeds) assert.equal((await runOne(t, s))?.error, undefined, `seed of ${s.length} bytes`);
    // A short run: the harness works on this target (coverage grows past the seeds). Findings are the CI
    // fuzz step's business (npm run fuzz), not this test's.
    const r = await fuzz(t, { corpus: seeds, maxExecutions: 1000, seconds: 3, seed: 1, minimize: false });
    assert.ok(r.blocksInitial > 0, 'the seeds cover nothing');
    assert.ok(r.blocks >= r.blocksInitial);
  });
}
