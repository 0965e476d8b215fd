import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SegmentCutter } from './cutter.js';
import type { Cut, OpenSegment } from './cutter.js';

const c = (end: Cut['end'], open: Cut['open'], write = true): Cut => ({ end, open, write });

// Applies a decision as the segmenter does; returns it for the assertion.
function step(k: SegmentCutter, cut: Cut, dts: number, bytes = 0): Cut {
  if (cut.end === 'close') k.close();
  else if (cut.end === 'discard') k.discard();
  if (cut.open !== 'none') k.begin(dts, cut.open === 'keyframe');
  if (cut.write && k.open) {
    k.open.frames++;
    k.open.bytes += bytes;
  }
  return cut;
}

test('video: nothing before the first keyframe; a keyframe past the target cuts, one before it does not', () => {
  const k = new SegmentCutter({ targetDurationMs: 2000, firstSequence: 7 });
  assert.deepEqual(step(k, k.video(0, false), 0), c('none', 'none', false));
  assert.deepEqual(step(k, k.video(40, true), 40), c('none', 'keyframe'));
  assert.deepEqual([k.open?.sequence, k.open?.startDts, k.open?.keyframeStart], [7, 40, true]);
  assert.deepEqual(step(k, k.video(1000, true), 1000), c('none', 'none'));
  assert.deepEqual(step(k, k.video(2040, true), 2040), c('close', 'keyframe'));
  assert.deepEqual([k.open?.sequence, k.open?.startDts], [8, 2040]);
});

test('video: the duration cap cuts without a keyframe, and the next keyframe cuts again', () => {
  const k = new SegmentCutter({ targetDurationMs: 1000, maxDurationMs: 5000 });
  step(k, k.video(0, true), 0);
  assert.deepEqual(step(k, k.video(5000, false), 5000), c('close', 'continued'));
  assert.equal(k.open?.keyframeStart, false);
  assert.deepEqual(step(k, k.video(5100, true), 5100), c('close', 'keyframe'));
});

test('audio-only: cut before the frame that would end past the target', () => {
  const k = new SegmentCutter({ targetDurationMs: 100 });
  assert.deepEqual(step(k, k.audio(0, 23, false), 0), c('none', 'continued'));
  assert.deepEqual(step(k, k.audio(69, 23, false), 69), c('none', 'none'));
  assert.deepEqual(step(k, k.audio(92, 23, false), 92), c('close', 'continued'));
});

test('audio with video: waits for the keyframe, cut only at the duration cap', () => {
  const k = new SegmentCutter({ targetDurationMs: 1000, maxDurationMs: 3000 });
  assert.deepEqual(step(k, k.audio(0, 23, true), 0), c('none', 'none', false));
  step(k, k.video(0, true), 0);
  assert.deepEqual(step(k, k.audio(1500, 23, true), 1500), c('none', 'none'));
  assert.deepEqual(step(k, k.audio(3000, 23, true), 3000), c('close', 'continued'));
});

test('constant timestamps: the frame cap drops a segment that spans too little time, then waits for a keyframe', () => {
  const k = new SegmentCutter({ targetDurationMs: 1000, maxSegmentFrames: 3, firstSequence: 1 });
  step(k, k.video(0, true), 0);
  step(k, k.video(0, false), 0);
  step(k, k.video(0, false), 0);
  assert.deepEqual(step(k, k.video(0, false), 0), c('discard', 'none', false));
  assert.equal(k.droppedSegments, 1);
  assert.equal(k.open, undefined);
  assert.deepEqual(step(k, k.audio(0, 23, true), 0), c('none', 'none', false));
  assert.deepEqual(step(k, k.video(0, true), 0), c('none', 'keyframe'));
  // The dropped segment's number is reused, and players are told to resync.
  const reopened = k.open as OpenSegment | undefined; // (TS keeps the narrowing of the assertion above)
  assert.deepEqual([reopened?.sequence, reopened?.discontinuity], [1, true]);
});

test('the byte cap cuts a segment that spans at least half the target; audio-only continues at once', () => {
  const k = new SegmentCutter({ targetDurationMs: 1000, maxSegmentBytes: 1000 });
  step(k, k.video(0, true), 0, 600);
  step(k, k.video(500, false), 500, 600);
  assert.deepEqual(step(k, k.video(533, false), 533), c('close', 'continued'));
  assert.equal(k.open?.discontinuity, false);

  const a = new SegmentCutter({ targetDurationMs: 1000, maxSegmentBytes: 100 });
  step(a, a.audio(0, 23, false), 0, 100);
  assert.deepEqual(step(a, a.audio(0, 23, false), 0), c('discard', 'continued'));
  assert.equal(a.open?.discontinuity, true);
});

test('markDiscontinuity flags the next segment only', () => {
  const k = new SegmentCutter({ targetDurationMs: 1000 });
  k.markDiscontinuity();
  assert.equal(k.begin(0, true).discontinuity, true);
  k.close();
  assert.equal(k.begin(1000, true).discontinuity, false);
  assert.throws(() => new SegmentCutter({ targetDurationMs: 0 }), RangeError);
});
