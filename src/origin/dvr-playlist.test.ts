import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dvrPlaylistText, entryIndexAt } from './dvr-playlist.js';
import type { DvrEntry } from './dvr-playlist.js';
import { parseMediaPlaylist } from '../media/hls/playlist.js';
import { checkMediaPlaylist } from '../../test/helpers/hls-conformance.js';
import { crossCheckPlaylist } from '../../test/helpers/m3u8-crosscheck.js';

const T0 = Date.UTC(2026, 10, 30, 9, 0, 0);

/** Segments 100.. of 2 s each, fMP4 with init 100 then 103; a discontinuity at 103 (a republish: 1 s later) and one before (at 100). */
function entries(): DvrEntry[] {
  const out: DvrEntry[] = [];
  let discontinuities = 0;
  let at = T0;
  for (let seq = 100; seq < 106; seq++) {
    const discontinuity = seq === 100 || seq === 103;
    if (discontinuity) discontinuities++;
    if (seq === 103) at += 1000;
    out.push({ sequence: seq, durationS: 2, programDateTime: at, discontinuity, format: 'fmp4', initId: seq < 103 ? 100 : 103, gap: seq === 104, bytes: 1000, discontinuities });
    at += 2000;
  }
  return out;
}

test('DVR playlist: the live URIs relative to dvr.m3u8, PDT on every segment, MAP where the init changes, discontinuities counted before the first listed', () => {
  const e = entries();
  const text = dvrPlaylistText(e, 0, { targetDurationS: 2, ended: false, startHere: false });
  assert.deepEqual(checkMediaPlaylist(text), []);
  assert.deepEqual(crossCheckPlaylist(text), []);
  const p = parseMediaPlaylist(text);
  assert.equal(p.mediaSequence, 100);
  assert.equal(p.discontinuitySequence, 0);
  assert.equal(p.endList, false);
  assert.equal(p.start, undefined);
  assert.deepEqual(p.segments.map((s) => s.uri), ['100.m4s', '101.m4s', '102.m4s', '103.m4s', '104.m4s', '105.m4s']);
  assert.deepEqual(p.segments.map((s) => s.map), ['init-100.mp4', undefined, undefined, 'init-103.mp4', undefined, undefined]);
  assert.deepEqual(p.segments.map((s) => s.programDateTime), e.map((x) => x.programDateTime));
  assert.deepEqual(p.segments.map((s) => s.gap ?? false), [false, false, false, false, true, false]);

  // From segment 104: the MAP in force is repeated, the two discontinuities before it are counted, EXT-X-START at 0, ENDLIST.
  const later = parseMediaPlaylist(dvrPlaylistText(e, 4, { targetDurationS: 2, ended: true, startHere: true }));
  assert.equal(later.mediaSequence, 104);
  assert.equal(later.discontinuitySequence, 2);
  assert.deepEqual(later.start, { timeOffsetS: 0 });
  assert.equal(later.endList, true);
  assert.equal(later.segments[0]?.map, 'init-103.mp4');
  // From the discontinuity itself: it is listed, and not counted in DISCONTINUITY-SEQUENCE.
  const atDisc = parseMediaPlaylist(dvrPlaylistText(e, 3, { targetDurationS: 2, ended: false, startHere: true }));
  assert.equal(atDisc.discontinuitySequence, 1);
  assert.equal(atDisc.segments[0]?.discontinuity, true);
});

test('MPEG-TS entries: .ts URIs, no MAP', () => {
  const e = entries().map((x) => ({ ...x, format: 'ts' as const, initId: undefined, gap: false }));
  const p = parseMediaPlaylist(dvrPlaylistText(e, 0, { targetDurationS: 2, ended: false, startHere: false }));
  assert.deepEqual(p.segments.map((s) => [s.uri, s.map]), e.map((x) => [`${x.sequence}.ts`, undefined]));
});

test('entryIndexAt: the segment holding a time; before the window its start; after the newest the newest', () => {
  const e = entries();
  assert.equal(entryIndexAt(e, T0 - 60_000), 0);
  assert.equal(entryIndexAt(e, T0), 0);
  assert.equal(entryIndexAt(e, T0 + 1999), 0);
  assert.equal(entryIndexAt(e, T0 + 2000), 1);
  // In the 1 s hole before the republish: still the segment before it.
  assert.equal(entryIndexAt(e, T0 + 6500), 2);
  assert.equal(entryIndexAt(e, T0 + 7000), 3);
  assert.equal(entryIndexAt(e, T0 + 3_600_000), 5);
  assert.equal(entryIndexAt([], T0), 0);
});
