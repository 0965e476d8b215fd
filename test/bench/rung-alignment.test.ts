// The ABR benchmark's rung alignment count (bench/lib/rung-alignment.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareRung } from '../../bench/lib/rung-alignment.js';
import type { SegmentStart } from '../../bench/lib/rung-alignment.js';

/** Segments seq from..to of 2 s starting at 10 s + 2 s per sequence number, shifted by `shiftMs`. */
function log(from: number, to: number, shiftMs = 0): Map<number, SegmentStart> {
  const m = new Map<number, SegmentStart>();
  for (let s = from; s <= to; s++) m.set(s, { durationS: 2, startMs: 10_000 + s * 2000 + shiftMs });
  return m;
}

const FRAME = 34;

describe('compareRung', () => {
  it('an aligned rung that started later is compared from its first segment; a PTS rounding within a frame is fine', () => {
    const a = compareRung(log(0, 20), log(5, 22, 1), FRAME);
    assert.deepEqual({ ...a, examples: a.examples.length }, { compared: 16, sourceUnread: 0, missing: 0, misaligned: 0, worstMs: 1, examples: 0 });
  });

  it('counts a shifted rung, a missing sequence number, a gap, a rung-only number and an EXTINF mismatch', () => {
    const rung = log(0, 10);
    rung.set(3, { durationS: 2, startMs: 10_000 + 3 * 2000 + 40 });
    rung.delete(5);
    rung.set(6, { durationS: 2, startMs: undefined });
    rung.set(8, { durationS: 2.1, startMs: 10_000 + 8 * 2000 });
    const source = log(0, 10);
    source.delete(9);
    source.set(10, { durationS: 2, startMs: undefined });
    const a = compareRung(source, rung, FRAME);
    assert.equal(a.compared, 10);
    assert.equal(a.sourceUnread, 1);
    assert.equal(a.missing, 2);
    assert.equal(a.misaligned, 3);
    assert.equal(a.worstMs, 40);
    assert.deepEqual(
      a.examples.map((e) => e.split(':')[0]),
      ['#3', '#5', '#6', '#8', '#9'],
    );
  });

  it('a rung numbering its own segments from 0 is misaligned throughout', () => {
    const a = compareRung(log(100, 130), log(0, 15, 0), FRAME);
    assert.equal(a.compared, 0, 'no common numbers: nothing compared');
    assert.equal(a.misaligned, 16);
  });

  it('nothing seen: nothing compared', () => {
    assert.equal(compareRung(new Map(), log(0, 3), FRAME).compared, 0);
    assert.equal(compareRung(log(0, 3), new Map(), FRAME).compared, 0);
  });
});
