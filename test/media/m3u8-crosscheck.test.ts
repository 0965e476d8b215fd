// Our playlist parser against m3u8-parser on LL-HLS/fMP4 playlists: the RFC example, ours (full, delta,
// open segment after a discontinuity, plain TS) and random ones from the writer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { writeMediaPlaylist, writeMultivariantPlaylist, type MediaPlaylist } from '../../src/media/hls/playlist.js';
import { crossCheckMultivariant, crossCheckPlaylist } from '../helpers/m3u8-crosscheck.js';
import { RFC_LL_EXAMPLE, llPart, llPlaylist } from '../helpers/llhls-vectors.js';

test('m3u8-parser and ours agree on the RFC 8216bis low-latency example', () => {
  assert.deepEqual(crossCheckPlaylist(RFC_LL_EXAMPLE), []);
});

test('they agree on our LL playlist, its delta update, a new init after a discontinuity, and plain TS', () => {
  const p = llPlaylist();
  assert.deepEqual(crossCheckPlaylist(writeMediaPlaylist(p)), []);
  assert.deepEqual(crossCheckPlaylist(writeMediaPlaylist({ ...p, skippedSegments: 2, renditionReports: [{ uri: 'audio.m3u8', lastMsn: 18, lastPart: 1 }] })), []);
  assert.deepEqual(crossCheckPlaylist(writeMediaPlaylist({ ...p, openSegment: { discontinuity: true, map: 's/init-18.mp4', programDateTime: 9e12 } })), []);
  const tsPlaylist: MediaPlaylist = { targetDurationS: 2, mediaSequence: 7, discontinuitySequence: 2, endList: true, segments: [{ uri: 'live/7.ts', durationS: 2, discontinuity: false }, { uri: 'live/8.ts', durationS: 1.5, discontinuity: true }] };
  assert.deepEqual(crossCheckPlaylist(writeMediaPlaylist(tsPlaylist)), []);
});

test('a disagreement and an m3u8-parser warning are reported (PART-HOLD-BACK under 2 x PART-TARGET gets clamped)', () => {
  const v = crossCheckPlaylist(writeMediaPlaylist({ ...llPlaylist(), serverControl: { canBlockReload: true, partHoldBackS: 0.3 } }));
  assert.ok(v.some((x) => x.startsWith('playlist.header.serverControl.partHoldBack: ours 0.3, m3u8-parser 0.5')), JSON.stringify(v));
  assert.ok(v.some((x) => x.startsWith('m3u8-parser warns: ') && x.includes('PART-HOLD-BACK')), JSON.stringify(v));
});

test('property: they agree on random LL playlists the writer produces', () => {
  const part = fc.tuple(fc.integer({ min: 1, max: 250 }), fc.boolean()).map(([ms, independent]) => ({ durationS: ms / 1000, independent }));
  const segment = fc.record({ durationMs: fc.integer({ min: 1, max: 1000 }), discontinuity: fc.boolean(), pdt: fc.option(fc.integer({ min: 0, max: 4e12 }), { nil: undefined }), map: fc.boolean(), parts: fc.array(part, { maxLength: 4 }) });
  fc.assert(
    fc.property(fc.array(segment, { maxLength: 8 }), fc.array(part, { maxLength: 3 }), fc.nat(1e6), fc.nat(5), fc.boolean(), fc.nat(10), (segs, trailing, msn, skip, delta, disc) => {
      const p: MediaPlaylist = {
        ...llPlaylist(),
        mediaSequence: msn,
        discontinuitySequence: disc,
        segments: segs.map((s, i) => ({
          uri: `s/${msn + i}.m4s`,
          durationS: s.durationMs / 1000,
          discontinuity: s.discontinuity,
          ...(s.pdt === undefined ? {} : { programDateTime: s.pdt }),
          ...(s.map || i === 0 ? { map: `s/init-${msn + i}.mp4` } : {}),
          ...(s.parts.length ? { parts: s.parts.map((x, j) => ({ ...llPart(msn + i, j), ...x })) } : {}),
        })),
        trailingParts: trailing.map((x, j) => ({ ...llPart(msn + segs.length, j), ...x })),
        preloadHint: { uri: llPart(msn + segs.length, trailing.length).uri },
        ...(delta ? { skippedSegments: skip } : {}),
      };
      if (p.trailingParts!.length === 0) delete p.trailingParts;
      assert.deepEqual(crossCheckPlaylist(writeMediaPlaylist(p)), []);
    }),
    { numRuns: 300 },
  );
});

test('they agree on gap segments (EXT-X-GAP) and on a multivariant playlist', () => {
  const gapped: MediaPlaylist = {
    targetDurationS: 2,
    mediaSequence: 7,
    discontinuitySequence: 0,
    endList: false,
    segments: [
      { uri: 'cam_360p/7.ts', durationS: 2, discontinuity: false },
      { uri: 'cam_360p/8.ts', durationS: 2.1, discontinuity: false, gap: true },
      { uri: 'cam_360p/9.ts', durationS: 1.9, discontinuity: true },
    ],
  };
  assert.deepEqual(crossCheckPlaylist(writeMediaPlaylist(gapped)), []);
  // The check compares the flag: a tag only our parser takes as EXT-X-GAP is a disagreement.
  assert.deepEqual(crossCheckPlaylist(writeMediaPlaylist(gapped).replace('#EXT-X-GAP\n', '#EXT-X-GAP:\n')), ['playlist.segments.1.gap: ours true, m3u8-parser false']);
  const master = writeMultivariantPlaylist({
    independentSegments: true,
    variants: [
      { uri: 'cam_source.m3u8', bandwidthBps: 2_800_000, averageBandwidthBps: 2_500_000, codecs: 'avc1.64001f,mp4a.40.2', resolution: { width: 1280, height: 720 }, frameRate: 29.97 },
      { uri: 'cam_360p.m3u8', bandwidthBps: 880_000, codecs: 'avc1.64001e,mp4a.40.2', resolution: { width: 640, height: 360 }, frameRate: 30 },
    ],
  });
  assert.deepEqual(crossCheckMultivariant(master), []);
});
