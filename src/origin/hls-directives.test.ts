import { test } from 'node:test';
import assert from 'node:assert/strict';
import { advancePartLimit, blockingVerdict, parseDirectives } from './hls-directives.js';
import type { ListedPosition } from './hls-directives.js';

const q = (s: string): URLSearchParams => new URLSearchParams(s);

test('directives parse, and malformed ones are refused with a reason', () => {
  assert.deepEqual(parseDirectives(q('')), { ok: true, directives: { skip: false } });
  assert.deepEqual(parseDirectives(q('_HLS_msn=12&_HLS_part=3&_HLS_skip=YES&token=x')), { ok: true, directives: { msn: 12, part: 3, skip: true } });
  assert.deepEqual(parseDirectives(q('_HLS_skip=v2')), { ok: true, directives: { skip: true } });
  for (const bad of ['_HLS_part=1', '_HLS_msn=-1', '_HLS_msn=1.5', '_HLS_msn=', '_HLS_msn=1e3', `_HLS_msn=${'9'.repeat(16)}`, '_HLS_msn=1&_HLS_part=12345', '_HLS_skip=NO', '_HLS_msn=0x10']) {
    const r = parseDirectives(q(bad));
    assert.equal(r.ok, false, bad);
  }
});

test('blocking verdicts: ready, wait, and the 400s of RFC 8216bis 6.2.5.2', () => {
  // Segments up to 100 complete; parts 0..1 of 101 listed; parts of 0.2 s: 15 parts may be asked ahead.
  const p: ListedPosition = { lastSegment: 100, lastPart: { sequence: 101, index: 1 }, partTargetS: 0.2 };
  assert.equal(advancePartLimit(0.2), 15);
  assert.equal(advancePartLimit(1), 3);
  assert.equal(blockingVerdict(p, 100, undefined), 'ready');
  assert.equal(blockingVerdict(p, 101, undefined), 'wait');
  assert.equal(blockingVerdict(p, 101, 1), 'ready');
  assert.equal(blockingVerdict(p, 101, 0), 'ready');
  assert.equal(blockingVerdict(p, 50, 7), 'ready');
  assert.equal(blockingVerdict(p, 101, 2), 'wait');
  assert.equal(blockingVerdict(p, 102, 0), 'wait');
  assert.equal(blockingVerdict(p, 102, undefined), 'wait', 'the last complete segment (100) + 2');
  assert.equal(typeof blockingVerdict(p, 103, undefined), 'object', 'beyond the last complete segment + 2, open segment or not');
  assert.equal(blockingVerdict(p, 101, 16), 'wait');
  assert.equal(typeof blockingVerdict(p, 101, 17), 'object', 'beyond the advance part limit');
  assert.equal(typeof blockingVerdict(p, 102, 15), 'object');
  const q2: ListedPosition = { lastSegment: 100, lastPart: { sequence: 100, index: 4 }, partTargetS: 1 };
  assert.equal(typeof blockingVerdict(q2, 103, 0), 'object');
  assert.equal(blockingVerdict(q2, 102, 0), 'wait');
  assert.equal(blockingVerdict(q2, 100, 6), 'wait', 'a part past the end of a segment is satisfied by the next segment');
  assert.equal(typeof blockingVerdict(q2, 100, 8), 'object');
});
