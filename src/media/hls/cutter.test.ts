import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FOLLOW_TOLERANCE_MS, SegmentCutter } from './cutter.js';
import type { Cut, OpenSegment, SegmentLeader } from './cutter.js';

const c = (end: Cut['end'], open: Cut['open'], write = true): Cut => ({ end, open, write });

// Applies a decision as the segmenter does; returns it for the assertion.
function step(k: SegmentCutter, cut: Cut, dts: number, bytes = 0): Cut {
  if (cut.end === 'close') k.close();
  else if (cut.end === 'discard') k.discard();
  if (cut.open !== 'none') k.begin(dts, cut.open === 'keyframe');
  if (cut.write && k.open) {
    k.open.frames++;
    k.open.bytes += bytes;
    k.open.videoEnd = Math.max(k.open.videoEnd, dts + 40);
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

// ---- follow mode (ABR renditions) ----

/** A leader whose segments started at these times, numbered from `first`. */
function leaderAt(starts: readonly number[], first: number): SegmentLeader {
  return {
    boundaryAt(at, tol = FOLLOW_TOLERANCE_MS) {
      let best: number | undefined;
      starts.forEach((s, i) => {
        if (Math.abs(s - at) <= tol && (best === undefined || Math.abs(s - at) < Math.abs((starts[best - first] ?? 0) - at))) best = first + i;
      });
      return best;
    },
  };
}

test('follow: frames before the first leader boundary are skipped; keyframes open only at boundaries, with its numbers', () => {
  const k = new SegmentCutter({ targetDurationMs: 2000, follow: leaderAt([0, 2000, 4000, 6000], 100) });
  // Joined mid-segment: a keyframe that is no boundary opens nothing.
  assert.deepEqual(step(k, k.video(1000, true), 1000), c('none', 'none', false));
  assert.deepEqual(step(k, k.audio(1010, 23, true), 1010), c('none', 'none', false));
  // The keyframe's PTS is what matches (DTS may lag by B-frame reordering).
  assert.deepEqual(step(k, k.video(1930, true, false, 2010), 1930), c('none', 'keyframe'));
  assert.equal(k.open?.sequence, 101);
  // A keyframe past the own target but at no boundary does not cut.
  assert.deepEqual(step(k, k.video(3000, true), 3000), c('none', 'none'));
  assert.deepEqual(step(k, k.video(3990, true), 3990), c('close', 'keyframe'));
  assert.equal(k.open?.sequence, 102);
  // The boundary at 4000 again (a second keyframe within the tolerance) is not reopened.
  assert.deepEqual(step(k, k.video(4040, true), 4040), c('none', 'none'));
  // Keyframes lost around 4000: the follower's next segment is 103 after 101 (the playlist lists 102 as a gap).
  const late = new SegmentCutter({ targetDurationMs: 2000, follow: leaderAt([0, 2000, 4000, 6000, 8000], 100) });
  step(late, late.video(2000, true), 2000);
  step(late, late.video(2500, false), 2500);
  assert.equal(late.open?.sequence, 101);
  // The segment before the hole ends with its last frame; the lost time is the gap's.
  assert.equal(late.endAt(6000), 2540);
  assert.deepEqual(step(late, late.video(6000, true), 6000), c('close', 'keyframe'));
  assert.equal(late.open?.sequence, 103);
  assert.equal(late.endAt(6040), 6040);
});

test('follow: frames resuming after a hole of a target duration or more end the open segment; the next boundary reopens', () => {
  const k = new SegmentCutter({ targetDurationMs: 1000, follow: leaderAt([0, 1000, 2000, 3000, 4000], 0) });
  step(k, k.video(0, true), 0);
  step(k, k.video(400, false), 400);
  assert.deepEqual(step(k, k.video(1440, false), 1440), c('close', 'none', false));
  assert.deepEqual(step(k, k.video(2500, true), 2500), c('none', 'none', false));
  assert.deepEqual(step(k, k.video(3000, true), 3000), c('none', 'keyframe'));
  assert.equal((k.open as OpenSegment | undefined)?.sequence, 3); // (TS keeps the narrowing of the assertion above)
});

test('follow: a segment past the duration cap ends and nothing opens until the next boundary', () => {
  const k = new SegmentCutter({ targetDurationMs: 1000, maxDurationMs: 3000, follow: leaderAt([0, 5000], 7) });
  step(k, k.video(0, true), 0);
  assert.deepEqual(step(k, k.video(3000, false), 3000), c('close', 'none', false));
  assert.equal(k.open, undefined);
  assert.deepEqual(step(k, k.video(4000, true), 4000), c('none', 'none', false));
  assert.deepEqual(step(k, k.video(5000, true), 5000), c('none', 'keyframe'));
  assert.equal((k.open as OpenSegment | undefined)?.sequence, 8); // (TS keeps the narrowing of the assertion above)
});

test('follow without video: an audio frame within half a frame of a boundary opens it', () => {
  const k = new SegmentCutter({ targetDurationMs: 1000, follow: leaderAt([0, 1003], 0) });
  assert.deepEqual(step(k, k.audio(0, 23, false), 0), c('none', 'continued'));
  assert.deepEqual(step(k, k.audio(990, 23, false), 990), c('none', 'none'));
  assert.deepEqual(step(k, k.audio(1000, 23, false), 1000), c('close', 'continued'));
  assert.equal(k.open?.sequence, 1);
});

test('follow (property): the follower numbers only leader segments, increasing, each opened at its leader boundary', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 200, max: 3000 }), { minLength: 2, maxLength: 40 }), // the source's GOP lengths
      fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }), // which source keyframes the rung lost
      fc.array(fc.integer({ min: -60, max: 60 }), { minLength: 40, maxLength: 40 }), // the rung's keyframe PTS shift
      fc.integer({ min: 0, max: 10 }), // GOPs the rung joins late
      (gops, lost, shift, late) => {
        // The leader cuts the source's keyframes by its own policy.
        const leader = new SegmentCutter({ targetDurationMs: 2000, firstSequence: 50 });
        const starts = new Map<number, number>();
        const keys: number[] = [];
        let t = 0;
        for (const g of gops) {
          keys.push(t);
          const cutNow = leader.video(t, true);
          if (cutNow.end === 'close') leader.close();
          if (cutNow.open !== 'none') starts.set(leader.begin(t, true).sequence, t);
          t += g;
        }
        const lead: SegmentLeader = {
          boundaryAt(at, tol = FOLLOW_TOLERANCE_MS) {
            for (const [seq, s] of starts) if (Math.abs(s - at) <= tol) return seq;
            return undefined;
          },
        };
        const follower = new SegmentCutter({ targetDurationMs: 2000, follow: lead });
        const opened: { seq: number; at: number }[] = [];
        keys.forEach((k, i) => {
          if (i < late || lost[i]) return;
          const at = k + (shift[i] ?? 0);
          const d = follower.video(at, true, false, at);
          if (d.end === 'close') follower.close();
          if (d.open !== 'none') opened.push({ seq: follower.begin(at, true).sequence, at });
          // Before the first boundary nothing is written.
          if (opened.length === 0) assert.equal(d.write, false);
        });
        for (const [i, o] of opened.entries()) {
          assert.ok(starts.has(o.seq), `follower opened ${o.seq}, which the leader never had`);
          assert.ok(Math.abs((starts.get(o.seq) ?? NaN) - o.at) <= FOLLOW_TOLERANCE_MS);
          if (i > 0) assert.ok(o.seq > (opened[i - 1]?.seq ?? Infinity), 'sequences increase');
        }
        // Every leader boundary the follower got a keyframe for (after joining) is one of its segments.
        const got = new Set(opened.map((o) => o.seq));
        keys.forEach((k, i) => {
          if (i < late || lost[i] || opened.length === 0) return;
          for (const [seq, s] of starts) if (s === k && seq >= (opened[0]?.seq ?? 0)) assert.ok(got.has(seq), `boundary ${seq} missed`);
        });
      },
    ),
  );
});
