import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PART_TARGET_SLACK, PartCutter, effectivePartTargetMs, videoFrameMs } from './part-cutter.js';

test('parts: a held unit opens a new part when its end would overrun the target, unless it is the first', () => {
  const p = new PartCutter(200);
  p.fixTarget(undefined);
  assert.equal(p.targetMs, 200, 'no frame duration known: the configured target');
  p.beginSegment(1000, true);
  assert.equal(p.cutBefore(1160, 1200, 40), false, 'ends exactly at the target');
  assert.equal(p.cutBefore(1200, 1240, 40), true);
  assert.equal(p.cutBefore(1000, 1500, 40), false, "a part's first unit stays, however long");
  assert.deepEqual(p.next(1200, false), { durationMs: 200, independent: true });
  assert.deepEqual([p.index, p.startDts, p.independent], [1, 1200, false]);
  assert.equal(p.cutAtKeyframe(1200, 40), false, 'a keyframe at the start of the open part opens nothing');
  assert.equal(p.cutAtKeyframe(1280, 40), false, 'an 80 ms part (40%) would be too short to end before a keyframe');
  assert.equal(p.cutAtKeyframe(1369, 40), false, '169 ms: just under 85% of 200');
  assert.equal(p.cutAtKeyframe(1370, 40), true, '170 ms: 85%');
  assert.deepEqual(p.next(1370, true), { durationMs: 170, independent: false });
  p.beginSegment(2000, false);
  assert.deepEqual([p.index, p.startDts, p.independent], [0, 2000, false]);
  assert.throws(() => new PartCutter(0), RangeError);
});

test('effective part target: whole frames nearest the configured target, plus the slack, whole ms', () => {
  const cases: [configured: number, frameMs: number, want: number][] = [
    [200, 1000 / 24, 217], // 5 frames (208.3 ms): 4 frames (167 ms) would be 83% of 200
    [200, 40, 208], // 25 fps
    [200, 1001 / 30, 208], // 29.97 fps, 6 frames
    [200, 1000 / 30, 208],
    [200, 20, 208], // 50 fps, 10 frames
    [200, 1000 / 60, 208], // 60 fps, 12 frames
    [200, 1024000 / 48000, 200], // AAC at 48 kHz: 9 frames, 192 ms
    [200, 1024000 / 44100, 217], // AAC at 44.1 kHz: 9 frames, 209 ms
    [1000, 1000 / 24, 1040],
    [20, 40, 42], // at least one frame
  ];
  for (const [configured, frameMs, want] of cases) {
    const t = effectivePartTargetMs(configured, frameMs);
    assert.equal(t, want, `${configured} ms at ${frameMs} ms frames`);
    const n = Math.max(1, Math.round(configured / frameMs));
    // n frames fit with room for jitter, and n frames are >= 85% of it.
    assert.ok(n * frameMs + 1 <= t && n * frameMs >= 0.85 * t, `${n} frames of ${frameMs} ms in ${t} ms`);
  }
  assert.ok(PART_TARGET_SLACK > 0 && PART_TARGET_SLACK < 0.15);
});

test('video frame duration: the SPS rate when the timestamps agree with it, else the measured steps', () => {
  assert.equal(videoFrameMs(25, 40.5), 40);
  assert.equal(videoFrameMs(25, 1000 / 24), 1000 / 24, 'an SPS announcing 25 fps for a 24 fps stream');
  assert.equal(videoFrameMs(50, 40), 40, 'a field rate');
  assert.equal(videoFrameMs(undefined, 33.5), 33.5);
  assert.equal(videoFrameMs(30, undefined), 1000 / 30);
  assert.equal(videoFrameMs(0, undefined), undefined);
  assert.equal(videoFrameMs(Infinity, 20), 20);
});

test('measured frame duration: the mean DTS step, whole-ms jitter averaged, repeats ignored; frozen once the target is fixed', () => {
  const p = new PartCutter(200);
  assert.equal(p.measuredFrameMs, undefined);
  for (const t of [0, 33, 67, 67, 100, 133]) p.observeFrame(t);
  assert.equal(p.measuredFrameMs, 133 / 4);
  assert.equal(p.fixTarget(p.measuredFrameMs), 207); // 6 x 33.25 ms + 4%
  p.observeFrame(1000);
  assert.equal(p.measuredFrameMs, 133 / 4);
  assert.equal(p.fixTarget(10), 207, 'fixed once');
  // Timestamps 10 s apart do not make a 10 s PART-TARGET.
  assert.equal(new PartCutter(200).fixTarget(10_000), 400);
});

test('the target is provisional until the first cut, which fixes it at no less than the part it closes', () => {
  const p = new PartCutter(150);
  p.beginSegment(0, true);
  // 42.5 ms frames: 4 of them + 4% = 177 ms; 170 ms fits.
  assert.equal(p.cutBefore(120, 170, 42.5), false);
  assert.equal(p.targetMs, undefined);
  // 40 ms frames: 166 ms; the part 0..170 was within the estimate before: the target becomes 170.
  assert.equal(p.cutBefore(170, 200, 40), true);
  assert.equal(p.targetMs, 170);
  p.next(170, false);
  assert.equal(p.cutBefore(300, 341, 10), true, 'fixed: the frame duration no longer matters');
});
