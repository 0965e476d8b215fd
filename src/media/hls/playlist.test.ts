import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PlaylistError, parseMediaPlaylist, writeMediaPlaylist } from './playlist.js';

test('live playlist: exact text', () => {
  const text = writeMediaPlaylist({
    targetDurationS: 2,
    mediaSequence: 7,
    discontinuitySequence: 0,
    segments: [
      { uri: 'live/7.ts', durationS: 2.0, discontinuity: false },
      { uri: 'live/8.ts', durationS: 2.4, discontinuity: false },
    ],
    endList: false,
  });
  assert.equal(text, ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:3', '#EXT-X-MEDIA-SEQUENCE:7', '#EXTINF:2.000,', 'live/7.ts', '#EXTINF:2.400,', 'live/8.ts', ''].join('\n'));
});

test('discontinuity sequence, discontinuity before its segment, end list, version', () => {
  const text = writeMediaPlaylist({
    targetDurationS: 2,
    mediaSequence: 10,
    discontinuitySequence: 2,
    segments: [
      { uri: 'a.ts', durationS: 1.9996, discontinuity: false },
      { uri: 'b.ts', durationS: 0.5, discontinuity: true },
    ],
    endList: true,
    version: 6,
  });
  assert.equal(
    text,
    '#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:10\n#EXT-X-DISCONTINUITY-SEQUENCE:2\n' +
      '#EXTINF:2.000,\na.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:0.500,\nb.ts\n#EXT-X-ENDLIST\n',
  );
});

test('TARGETDURATION is the ceiling of the longest EXTINF as printed (2.0004 prints 2.000 and keeps 2)', () => {
  const t = (d: number): number => parseMediaPlaylist(writeMediaPlaylist({ targetDurationS: 1, mediaSequence: 0, discontinuitySequence: 0, segments: [{ uri: 's.ts', durationS: d, discontinuity: false }], endList: false })).targetDurationS;
  assert.equal(t(2.0004), 2);
  assert.equal(t(2.0006), 3);
  assert.equal(t(0.2), 1);
  assert.equal(t(6), 6);
});

test('parse reads what write writes, ignoring unknown tags and CRLF', () => {
  const p = parseMediaPlaylist('#EXTM3U\r\n#EXT-X-VERSION:3\r\n#EXT-X-TARGETDURATION:4\r\n#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00Z\r\n#EXTINF:3.5,title\r\nx.ts\r\n');
  assert.deepEqual(p, { targetDurationS: 4, mediaSequence: 0, discontinuitySequence: 0, segments: [{ uri: 'x.ts', durationS: 3.5, discontinuity: false }], endList: false, version: 3 });
});

test('malformed playlists throw PlaylistError', () => {
  assert.throws(() => parseMediaPlaylist(''), PlaylistError);
  assert.throws(() => parseMediaPlaylist('#EXTM3U\n#EXTINF:1,\na.ts\n'), PlaylistError, 'no target duration');
  assert.throws(() => parseMediaPlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:2\na.ts\n'), PlaylistError, 'no EXTINF');
  assert.throws(() => parseMediaPlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:x\n'), PlaylistError);
  assert.throws(() => parseMediaPlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:-1,\na.ts'), PlaylistError);
  assert.throws(() => parseMediaPlaylist('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\nlow.m3u8\n'), /master playlist/);
});

test('property: write then parse round-trips; every EXTINF fits the target duration', () => {
  const seg = fc.record({ uri: fc.stringMatching(/^[a-z0-9]{1,8}\.ts$/), durationS: fc.double({ min: 0, max: 20, noNaN: true }), discontinuity: fc.boolean() });
  fc.assert(
    fc.property(fc.array(seg, { maxLength: 10 }), fc.nat(1e6), fc.nat(100), fc.boolean(), fc.integer({ min: 1, max: 10 }), (segments, mediaSequence, discontinuitySequence, endList, targetDurationS) => {
      const p = parseMediaPlaylist(writeMediaPlaylist({ targetDurationS, mediaSequence, discontinuitySequence, segments, endList }));
      assert.equal(p.mediaSequence, mediaSequence);
      assert.equal(p.discontinuitySequence, discontinuitySequence);
      assert.equal(p.endList, endList);
      assert.deepEqual(p.segments.map((s) => [s.uri, s.discontinuity]), segments.map((s) => [s.uri, s.discontinuity]));
      p.segments.forEach((s, i) => assert.ok(Math.abs(s.durationS - (segments[i]?.durationS ?? 0)) <= 0.0005 + 1e-9));
      assert.ok(p.targetDurationS >= targetDurationS);
      for (const s of p.segments) assert.ok(s.durationS <= p.targetDurationS);
    }),
  );
});

test('property: random text only ever throws PlaylistError', () => {
  const line = fc.oneof(fc.constantFrom('#EXTM3U', '#EXT-X-TARGETDURATION:2', '#EXTINF:1.5,', '#EXT-X-ENDLIST', '#EXT-X-DISCONTINUITY', 'a.ts', '#EXT-X-MEDIA-SEQUENCE:abc'), fc.string());
  fc.assert(
    fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
      try {
        parseMediaPlaylist(lines.join('\n'));
      } catch (e) {
        if (!(e instanceof PlaylistError)) throw e;
      }
    }),
  );
});
