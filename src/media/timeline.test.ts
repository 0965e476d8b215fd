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
  for (const raw of [0, 5000, 5040, 7000, 5040 + 5001, 2 ** 32 - 1]) {
    const tl = new Timeline();
    run(tl, [
      ['video', 5000],
      ['video', 5040],
    ]);
    tl.discontinuity();
    assert.equal(tl.map('video', raw), 5080, `raw ${raw}`); // one observed frame (40) after 5040
    assert.equal(tl.map('video', raw + 40), 5120, `raw ${raw}`);
  }
});

test('after discontinuity({ elapsedMs }) a packet a little ahead keeps its time (a restarted transcoder, a running clock)', () => {
  const tl = new Timeline();
  run(tl, [
    ['video', 5000],
    ['video', 5040],
  ]);
  tl.discontinuity({ elapsedMs: 0 });
  assert.equal(tl.map('video', 7000), 7000);
  assert.equal(tl.map('video', 7040), 7040);
});

test('after discontinuity({ elapsedMs }) a packet behind, level or too far ahead is rebased one frame after the position', () => {
  for (const raw of [0, 5000, 5040, 5040 + 5001, 2 ** 32 - 1]) {
    const tl = new Timeline();
    run(tl, [
      ['video', 5000],
      ['video', 5040],
    ]);
    tl.discontinuity({ elapsedMs: 0 });
    assert.equal(tl.map('video', raw), 5080, `raw ${raw}`);
    assert.equal(tl.map('video', raw + 40), 5120, `raw ${raw}`);
  }
});

test('after discontinuity({ elapsedMs }) a packet ahead by up to the jump limit plus the time that passed keeps its time', () => {
  const tl = new Timeline({ forwardJumpMs: 5000 });
  run(tl, [['video', 1000]]);
  tl.discontinuity({ elapsedMs: 20_000 }); // an on-demand transcoder started again 20 s later
  assert.equal(tl.map('video', 1000 + 24_000), 25_000);
  const late = new Timeline({ forwardJumpMs: 5000 });
  run(late, [['video', 1000]]);
  late.discontinuity({ elapsedMs: 20_000 });
  assert.equal(late.map('video', 1000 + 26_000), 1033, 'beyond 5 s + 20 s: rebased');
  const negative = new Timeline({ forwardJumpMs: 5000 });
  run(negative, [['video', 1000]]);
  negative.discontinuity({ elapsedMs: -10_000 });
  assert.equal(negative.map('video', 6000), 6000, 'a negative elapsed counts as none');
});

test('a kept discontinuity keeps the other track times too, even when its last output is further back than a jump', () => {
  const tl = new Timeline({ forwardJumpMs: 5000 });
  run(tl, [
    ['audio', 1000],
    ['video', 1000],
    ['video', 5000],
    ['video', 8000], // audio stopped at 1000, video went on
  ]);
  tl.discontinuity({ elapsedMs: 0 });
  assert.equal(tl.map('video', 12_000), 12_000);
  assert.equal(tl.map('audio', 11_990), 11_990); // 10.99 s after its last output: not a jump now
  assert.equal(tl.map('audio', 12_013), 12_013);
  // Only the first step counts from the discontinuity: a later real jump is still closed up.
  assert.equal(tl.map('audio', 30_000), 12_013 + 23);
});

test('a rebased discontinuity keeps the A/V relation of the new session', () => {
  const tl = new Timeline();
  run(tl, [
    ['video', 5000],
    ['audio', 5010],
  ]);
  tl.discontinuity();
  assert.equal(tl.map('video', 100), 5010 + 33);
  assert.equal(tl.map('audio', 120), 5010 + 33 + 20);
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

test('property: a same-clock restart ahead within the jump limit keeps every time of the new session', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 ** 31 }),
      fc.integer({ min: 1, max: 5000 }),
      fc.array(fc.tuple(track, fc.integer({ min: 0, max: 100 })), { maxLength: 50 }),
      (before, gap, steps) => {
        const tl = new Timeline();
        tl.map('audio', before);
        tl.map('video', before);
        tl.discontinuity({ elapsedMs: 0 });
        let raw = before + gap;
        assert.equal(tl.map('video', raw), raw);
        const last: Partial<Record<Track, number>> = { video: raw };
        for (const [t, step] of steps) {
          raw += step;
          // Each track keeps its raw time (clamped only when it would go back on its own track).
          const out = tl.map(t, raw);
          assert.equal(out, Math.max(raw, last[t] ?? 0));
          last[t] = out;
        }
      },
    ),
  );
});
