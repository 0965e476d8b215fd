import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Mutator, fuzz, rng, type FuzzTarget } from './harness.js';

class PlantedError extends Error {}

/**
 * A parser with a planted bug: it crashes (TypeError) only on the 4-byte magic "LCDN" followed by a
 * 16-bit length that matches the rest of the input. Each magic byte is its own branch, so coverage
 * guidance can climb them one at a time; random bytes hit all four with probability 2^-32.
 */
function planted(b: Buffer): void {
  if (b.length < 6) throw new PlantedError('short');
  if (b[0] === 0x4c) {
    if (b[1] === 0x43) {
      if (b[2] === 0x44) {
        if (b[3] === 0x4e) {
          if (b.readUInt16BE(4) === b.length - 6) {
            const o = undefined as unknown as { x: number };
            o.x = 1; // the bug: a TypeError escapes
          }
        }
      }
    }
  }
  throw new PlantedError('no');
}

const target: FuzzTarget = { name: 'planted', description: 'test target', run: planted, expected: [PlantedError], maxLength: 256 };
const BUDGET = 200_000;

test('coverage guidance finds a planted bug that random inputs miss with the same budget', async () => {
  const seedCorpus = [Buffer.from('hello world')];
  const guided = await fuzz(target, { maxExecutions: BUDGET, seconds: 120, seed: 7, corpus: seedCorpus, stopOnFinding: true });
  const random = await fuzz(target, { maxExecutions: BUDGET, seconds: 120, seed: 7, guided: false });
  assert.equal(random.findings.length, 0, 'random bytes should not reach the planted bug');
  assert.equal(random.executions, BUDGET);
  assert.equal(guided.findings.length, 1, `guided fuzzing did not find the bug in ${guided.executions} executions`);
  const f = guided.findings[0]!;
  assert.match(f.signature, /^TypeError/);
  // Minimised to the magic, the length and nothing more than the length asks for.
  assert.equal(f.input.subarray(0, 4).toString('latin1'), 'LCDN');
  assert.equal(f.input.readUInt16BE(4), f.input.length - 6);
  // The corpus grew with each magic byte reached (one entry per new branch).
  assert.ok(guided.corpus.length >= 4, `corpus ${guided.corpus.length}`);
  assert.ok(guided.blocks > guided.blocksInitial);
});

test('an expected error is a rejection; any other throw, a slow run and a large allocation are findings', async () => {
  const t: FuzzTarget = {
    name: 't',
    description: '',
    expected: [RangeError],
    run: (b) => {
      if (b[0] === 1) throw new RangeError('fine');
      if (b[0] === 2) throw new Error('bug');
      if (b[0] === 3) {
        const until = performance.now() + 30;
        while (performance.now() < until);
      }
      if (b[0] === 4) held.push(Buffer.alloc(b.length * 32 * 1024 * 1024)); // a length field believed
    },
  };
  const held: Buffer[] = [];
  const corpus = [Buffer.from([1]), Buffer.from([2, 9, 9]), Buffer.from([3]), Buffer.from([4, 0])];
  const r = await fuzz(t, { corpus, maxExecutions: 4, slowMs: 20, maxRunBytes: 48 * 1024 * 1024, minimize: false });
  held.length = 0;
  assert.deepEqual(r.findings.map((f) => f.signature.split(' ')[0]).sort(), ['Error:', 'allocation', 'slow']);
  const shrunk = await fuzz(t, { corpus: [Buffer.from([2, 9, 9])], maxExecutions: 1 });
  // The bug's input was shrunk to the byte that matters.
  assert.deepEqual([...shrunk.findings.find((f) => f.signature.startsWith('Error'))!.input], [2]);
});

test('length-field mutation writes 0, 1, max or a length around the rest of the input', () => {
  const m = new Mutator(rng(3));
  const seen = new Set<number>();
  const input = Buffer.alloc(10);
  for (let i = 0; i < 200_000; i++) {
    const out = m.mutate(input, input);
    if (out.length === 10) seen.add(out.readUInt16BE(0));
  }
  for (const v of [1, 0xffff, 8, 7, 9, 10, 11]) assert.ok(seen.has(v), `value ${v} never written`);
});
