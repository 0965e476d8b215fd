import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Timeline } from './timeline.js';
import type { Track } from './timeline.js';

const run = (tl: Timeline, input: ReadonlyArray<readonly [Track, number]>): number[] => input.map(([t, r]) => tl.map(t, r));

test('passes ordinary timestamps through unchanged', () => {
  const tl = new Timeline();
  assert.deepEqual(
    run(tl, [
      ['video', 0],
      ['audio', 0],
      ['audio', 23],
      ['video', 33],
      ['audio', 46],
    ]),
    [0, 0, 23, 33, 46],
  );
});

test('unwraps 32-bit rollover continuously on both tracks', () => {
  const tl = new Timeline();
  const base = 2 ** 32 - 40;
  const out = run(tl, [
    ['video', base],
    ['audio', base + 10],
    ['video', (base + 33) % 2 ** 32],
    ['audio', (base + 33) % 2 ** 32],
    ['video', (base + 66) % 2 ** 32],
  ]);
  assert.deepEqual(out, [base, base + 10, base + 33, base + 33, base + 66]);
});

test('a publisher restarting at 0 continues one frame after the last output', () => {
  const tl = new Timeline();
  run(tl, [
    ['video', 10_000],
    ['audio', 10_010],
    ['video', 10_033],
  ]);
  // Backward by 10 s on video: rebase to last output (10_033, the max) + video frame (33).
  assert.equal(tl.map('video', 0), 10_066);
  // Audio shares the offset: raw 5 is 5 ms after the video's raw 0.
  assert.equal(tl.map('audio', 5), 10_071);
  assert.equal(tl.map('video', 33), 10_099);
});

test('a forward jump beyond the threshold is closed up', () => {
  const tl = new Timeline({ forwardJumpMs: 1000 });
  run(tl, [
    ['video', 0],
    ['video', 40],
  ]);
  assert.equal(tl.map('video', 100_040), 80);
  assert.equal(tl.map('video', 100_080), 120);
});

test('a forward step below the threshold is kept as elapsed time', () => {
  const tl = new Timeline({ forwardJumpMs: 1000 });
  run(tl, [['video', 0]]);
  assert.equal(tl.map('video', 900), 900);
});

test('small backward jitter on one track is clamped, not rebased', () => {
  const tl = new Timeline();
  run(tl, [
    ['audio', 1000],
    ['audio', 1023],
  ]);
  assert.equal(tl.map('audio', 1020), 1023);
  assert.equal(tl.map('audio', 1046), 1046);
});

test('discontinuity() rebases the next packet whatever its raw time', () => {
  const tl = new Timeline();
  run(tl, [
    ['video', 5000],
    ['video', 5040],
  ]);
  tl.discontinuity();
  assert.equal(tl.map('video', 5080), 5080); // one observed frame (40) after 5040
  assert.equal(tl.map('video', 5120), 5120);
});

test('script data sits at the current position and does not move the timeline', () => {
  const tl = new Timeline();
  run(tl, [['video', 7000]]);
  assert.equal(tl.script(), 7000);
  assert.equal(tl.map('video', 7033), 7033);
});

const track = fc.constantFrom<Track>('audio', 'video');

test('property: output never decreases per track, whatever the input', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(track, fc.integer({ min: 0, max: 2 ** 32 - 1 })), { maxLength: 200 }), (input) => {
      const tl = new Timeline();
      const last: Partial<Record<Track, number>> = {};
      for (const [t, raw] of input) {
        const out = tl.map(t, raw);
        const prev = last[t];
        if (prev !== undefined) assert.ok(out >= prev, `${t}: ${out} < ${prev}`);
        assert.ok(Number.isFinite(out));
        last[t] = out;
      }
    }),
  );
});

test('property: small steps across the 2^32 rollover come out as the same steps', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      fc.array(fc.tuple(track, fc.integer({ min: 0, max: 100 })), { minLength: 1, maxLength: 300 }),
      (start, steps) => {
        const tl = new Timeline();
        let raw = start;
        let expected: number = tl.map('video', start);
        for (const [t, step] of steps) {
          raw = (raw + step) % 2 ** 32;
          expected += step;
          assert.equal(tl.map(t, raw), expected);
        }
      },
    ),
  );
});

test('property: a restart keeps A/V offsets of the new session', () => {
  fc.assert(
    fc.property(fc.integer({ min: 10_000, max: 2 ** 31 }), fc.integer({ min: 0, max: 200 }), (before, av) => {
      const tl = new Timeline();
      tl.map('video', before);
      tl.map('audio', before);
      tl.discontinuity();
      const v = tl.map('video', 0);
      const a = tl.map('audio', av);
      assert.equal(a - v, av);
      assert.ok(v > before);
    }),
  );
});
