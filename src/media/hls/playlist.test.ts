import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MAX_PLAYLIST_LINES,
  MAX_PLAYLIST_LINE_CHARS,
  MAX_VARIANTS,
  PlaylistError,
  parseAttributes,
  parseMediaPlaylist,
  parseMultivariantPlaylist,
  requiredVersion,
  writeMediaPlaylist,
  writeMultivariantPlaylist,
} from './playlist.js';
import type { MediaPlaylist, MultivariantPlaylist, PlaylistSegment } from './playlist.js';
import { RFC_LL_EXAMPLE } from '../../../test/helpers/llhls-vectors.js';

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
  assert.equal(text, ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:7', '#EXTINF:2.000,', 'live/7.ts', '#EXTINF:2.400,', 'live/8.ts', ''].join('\n'));
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

test('TARGETDURATION is the longest EXTINF rounded to the nearest second (RFC 8216 4.3.3.1), at least the configured target', () => {
  const t = (d: number): number => parseMediaPlaylist(writeMediaPlaylist({ targetDurationS: 1, mediaSequence: 0, discontinuitySequence: 0, segments: [{ uri: 's.ts', durationS: d, discontinuity: false }], endList: false })).targetDurationS;
  assert.equal(t(2.0004), 2);
  assert.equal(t(2.0006), 2);
  assert.equal(t(1.001), 1, 'a 29.97 fps stream with a 1 s GOP keeps a 1 s target');
  assert.equal(t(2.4994), 2, 'prints 2.499');
  assert.equal(t(2.5), 3);
  assert.equal(t(0.2), 1);
  assert.equal(t(6), 6);
});

test('parse reads what write writes, ignoring unknown tags and CRLF', () => {
  const p = parseMediaPlaylist('#EXTM3U\r\n#EXT-X-VERSION:3\r\n#EXT-X-TARGETDURATION:4\r\n#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00Z\r\n#EXTINF:3.5,title\r\nx.ts\r\n');
  assert.deepEqual(p, { targetDurationS: 4, mediaSequence: 0, discontinuitySequence: 0, segments: [{ uri: 'x.ts', durationS: 3.5, discontinuity: false, programDateTime: Date.UTC(2024, 0, 1) }], endList: false, version: 3 });
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
      for (const s of p.segments) assert.ok(Math.round(s.durationS) <= p.targetDurationS);
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


test('RFC 8216bis 9.11 low-latency example: every LL tag parsed', () => {
  const p = parseMediaPlaylist(RFC_LL_EXAMPLE);
  assert.equal(p.version, 6);
  assert.equal(p.targetDurationS, 4);
  assert.equal(p.mediaSequence, 268);
  assert.deepEqual(p.serverControl, { canBlockReload: true, partHoldBackS: 6.00012, canSkipUntilS: 24 });
  assert.equal(p.partTargetS, 2.00004);
  assert.equal(p.segments.length, 6);
  assert.deepEqual(p.segments[0], { uri: 'fileSequence268.mp4', durationS: 4.00008, discontinuity: false, map: 'init.mp4', programDateTime: Date.UTC(2019, 1, 14, 2, 13, 36, 106) });
  assert.equal(p.segments[1]!.parts, undefined);
  assert.deepEqual(p.segments[3]!.parts, [
    { uri: 'filePart271.0.mp4', durationS: 2.00004, independent: true },
    { uri: 'filePart271.1.mp4', durationS: 2.00004, independent: false },
  ]);
  assert.equal(p.segments[5]!.discontinuity, true);
  assert.equal(p.segments[5]!.parts?.[0]?.uri, 'midRoll273.0.mp4');
  assert.deepEqual(p.trailingParts, [{ uri: 'midRoll274.0.mp4', durationS: 2.00004, independent: true }]);
  assert.deepEqual(p.preloadHint, { uri: 'midRoll274.1.mp4' });
  assert.deepEqual(p.renditionReports, [{ uri: '/1M/LL-HLS.m3u8', lastMsn: 274, lastPart: 1 }]);
  assert.equal(p.openSegment, undefined);
  assert.equal(p.skippedSegments, undefined);
});

const LL: MediaPlaylist = {
  targetDurationS: 1,
  mediaSequence: 100,
  discontinuitySequence: 0,
  independentSegments: true,
  partTargetS: 0.2,
  serverControl: { canBlockReload: true, partHoldBackS: 0.6, canSkipUntilS: 6 },
  segments: [
    { uri: 's/100.m4s', durationS: 1, discontinuity: false, map: 's/init-100.mp4', programDateTime: Date.UTC(2026, 0, 1, 0, 0, 0) },
    { uri: 's/101.m4s', durationS: 0.4, discontinuity: false, programDateTime: Date.UTC(2026, 0, 1, 0, 0, 1), parts: [
      { uri: 's/101.0.m4s', durationS: 0.2, independent: true },
      { uri: 's/101.1.m4s', durationS: 0.2, independent: false },
    ] },
  ],
  openSegment: { discontinuity: false, programDateTime: Date.UTC(2026, 0, 1, 0, 0, 1, 400) },
  trailingParts: [{ uri: 's/102.0.m4s', durationS: 0.2, independent: true }],
  preloadHint: { uri: 's/102.1.m4s' },
  renditionReports: [{ uri: 'other.m3u8', lastMsn: 102, lastPart: 0 }],
  endList: false,
};

test('LL-HLS fMP4 playlist: exact text (tag order, MAP/PDT before the parts, 3 decimals, version 6)', () => {
  assert.equal(
    writeMediaPlaylist(LL),
    [
      '#EXTM3U',
      '#EXT-X-VERSION:6',
      '#EXT-X-TARGETDURATION:1',
      '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=6.000,PART-HOLD-BACK=0.600',
      '#EXT-X-PART-INF:PART-TARGET=0.200',
      '#EXT-X-MEDIA-SEQUENCE:100',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-MAP:URI="s/init-100.mp4"',
      '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z',
      '#EXTINF:1.000,',
      's/100.m4s',
      '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:01.000Z',
      '#EXT-X-PART:DURATION=0.200,URI="s/101.0.m4s",INDEPENDENT=YES',
      '#EXT-X-PART:DURATION=0.200,URI="s/101.1.m4s"',
      '#EXTINF:0.400,',
      's/101.m4s',
      '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:01.400Z',
      '#EXT-X-PART:DURATION=0.200,URI="s/102.0.m4s",INDEPENDENT=YES',
      '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="s/102.1.m4s"',
      '#EXT-X-RENDITION-REPORT:URI="other.m3u8",LAST-MSN=102,LAST-PART=0',
      '',
    ].join('\n'),
  );
  assert.deepEqual(parseMediaPlaylist(writeMediaPlaylist(LL)), { ...LL, version: 6 });
});

test('delta update: first N segments become EXT-X-SKIP, sequences unchanged, MAP in force repeated, version 9', () => {
  const full: MediaPlaylist = {
    ...LL,
    discontinuitySequence: 3,
    segments: [
      { uri: 'a.m4s', durationS: 1, discontinuity: false, map: 'init-a.mp4' },
      { uri: 'b.m4s', durationS: 1, discontinuity: true, map: 'init-b.mp4' },
      { uri: 'c.m4s', durationS: 1, discontinuity: false, programDateTime: 5000 },
      { uri: 'd.m4s', durationS: 1, discontinuity: false },
    ],
  };
  const text = writeMediaPlaylist({ ...full, skippedSegments: 2 });
  assert.match(text, /#EXT-X-VERSION:9\n/);
  assert.match(text, /#EXT-X-MEDIA-SEQUENCE:100\n#EXT-X-DISCONTINUITY-SEQUENCE:3\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-SKIP:SKIPPED-SEGMENTS=2\n#EXT-X-MAP:URI="init-b.mp4"\n#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:05.000Z\n#EXTINF:1.000,\nc.m4s\n#EXTINF/);
  assert.doesNotMatch(text, /a\.m4s|b\.m4s|init-a|DISCONTINUITY\n/);
  const p = parseMediaPlaylist(text);
  assert.equal(p.skippedSegments, 2);
  assert.equal(p.mediaSequence, 100);
  assert.equal(p.discontinuitySequence, 3);
  assert.deepEqual(p.segments.map((s) => s.uri), ['c.m4s', 'd.m4s']);
  assert.equal(p.segments[0]!.map, 'init-b.mp4');
  // A segment with its own MAP keeps it; skipping nothing still says SKIPPED-SEGMENTS=0.
  assert.match(writeMediaPlaylist({ ...full, skippedSegments: 1 }), /SKIPPED-SEGMENTS=1\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init-b.mp4"\n#EXTINF:1.000,\nb.m4s/);
  assert.match(writeMediaPlaylist({ ...full, skippedSegments: 0 }), /SKIPPED-SEGMENTS=0\n#EXT-X-MAP:URI="init-a.mp4"\n#EXTINF:1.000,\na.m4s/);
});

test('version: 3 plain, 6 with EXT-X-MAP (also only on the open segment), 9 with EXT-X-SKIP, never below what was asked', () => {
  const base: MediaPlaylist = { targetDurationS: 1, mediaSequence: 0, discontinuitySequence: 0, segments: [{ uri: 'a.ts', durationS: 1, discontinuity: false }], endList: false };
  assert.equal(requiredVersion(base), 3);
  assert.equal(requiredVersion({ ...base, partTargetS: 0.2, serverControl: { canBlockReload: true, canSkipUntilS: 6 } }), 3);
  assert.equal(requiredVersion({ ...base, openSegment: { discontinuity: true, map: 'i.mp4' } }), 6);
  assert.equal(requiredVersion({ ...base, skippedSegments: 0 }), 9);
  assert.equal(parseMediaPlaylist(writeMediaPlaylist({ ...base, version: 7 })).version, 7);
  assert.equal(parseMediaPlaylist(writeMediaPlaylist({ ...base, version: 4, skippedSegments: 0 })).version, 9);
});

test('open segment tags: a discontinuity and new MAP before the trailing parts and the hint round-trip', () => {
  const p: MediaPlaylist = { ...LL, openSegment: { discontinuity: true, map: 's/init-102.mp4', programDateTime: 1_000 } };
  const text = writeMediaPlaylist(p);
  assert.match(text, /s\/101\.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="s\/init-102.mp4"\n#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:01.000Z\n#EXT-X-PART:DURATION=0.200,URI="s\/102.0.m4s"/);
  assert.deepEqual(parseMediaPlaylist(text), { ...p, version: 6 });
  // With no trailing parts the hint may open the next segment: its tags still come first.
  const next = parseMediaPlaylist(writeMediaPlaylist({ ...p, trailingParts: [], preloadHint: { uri: 's/102.0.m4s' } }));
  assert.deepEqual(next.openSegment, p.openSegment);
  assert.equal(next.trailingParts, undefined);
});

test('attribute lists: quoted commas, unknown attributes and hint types ignored, strict syntax', () => {
  assert.deepEqual([...parseAttributes('URI="a,b.mp4",DURATION=0.2,X-FOO=BAR', 't')], [['URI', '"a,b.mp4"'], ['DURATION', '0.2'], ['X-FOO', 'BAR']]);
  const p = parseMediaPlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-PRELOAD-HINT:TYPE=MAP,URI="i.mp4"\n#EXT-X-PART:URI="p,1.m4s",DURATION=0.1,GAP=YES\n');
  assert.equal(p.preloadHint, undefined);
  assert.deepEqual(p.trailingParts, [{ uri: 'p,1.m4s', durationS: 0.1, independent: false }]);
  for (const bad of ['URI', 'URI="a', 'URI="a"x', 'uri="a"', 'A=1,A=2', '=1', Array.from({ length: 33 }, (_, i) => `A${i}=1`).join(',')]) {
    assert.throws(() => parseAttributes(bad, 't'), PlaylistError, bad);
  }
});

test('malformed LL-HLS tags throw PlaylistError', () => {
  const head = '#EXTM3U\n#EXT-X-TARGETDURATION:1\n';
  for (const body of [
    '#EXT-X-PART:DURATION=0.2\n', // no URI
    '#EXT-X-PART:URI="a",DURATION=x\n',
    '#EXT-X-PART:URI=a,DURATION=0.2\n', // URI must be quoted
    '#EXT-X-PART-INF:PART-TARGET=-1\n',
    '#EXT-X-PART-INF:PART-TARGET=0.2\n#EXT-X-PART-INF:PART-TARGET=0.2\n',
    '#EXT-X-SERVER-CONTROL:PART-HOLD-BACK=abc\n',
    '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n',
    '#EXT-X-SKIP:SKIPPED-SEGMENTS=1.5\n',
    '#EXT-X-SKIP:SKIPPED-SEGMENTS=1\n#EXT-X-SKIP:SKIPPED-SEGMENTS=1\n',
    '#EXTINF:1,\na.ts\n#EXT-X-SKIP:SKIPPED-SEGMENTS=1\n',
    '#EXT-X-PRELOAD-HINT:TYPE=PART\n',
    '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="a"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="b"\n',
    '#EXT-X-RENDITION-REPORT:URI="a.m3u8"\n',
    '#EXT-X-RENDITION-REPORT:URI="a.m3u8",LAST-MSN=1,LAST-PART=-1\n',
    '#EXT-X-MAP:BYTERANGE="1@0"\n',
    '#EXT-X-MAP:URI="a\rb"\n', // a quoted-string holds no CR
    '#EXT-X-PROGRAM-DATE-TIME:yesterday\n',
    '#EXT-X-PROGRAM-DATE-TIME:2024-13-45T99:99:99Z\n',
    '#EXT-X-MEDIA-SEQUENCE:1.5\n',
    '#EXT-X-MEDIA-SEQUENCE:99999999999999999999\n',
  ]) {
    assert.throws(() => parseMediaPlaylist(head + body), PlaylistError, body);
  }
});

test('bounds: over-long lines and too many lines are refused before any work on them', () => {
  assert.throws(() => parseMediaPlaylist(`#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n${'a'.repeat(MAX_PLAYLIST_LINE_CHARS + 1)}\n`), /longer than/);
  assert.throws(() => parseMediaPlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:1\n' + '\n'.repeat(MAX_PLAYLIST_LINES)), /more than .* lines/);
  // The limits are not off by one.
  assert.equal(parseMediaPlaylist(`#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n${'a'.repeat(MAX_PLAYLIST_LINE_CHARS)}`).segments.length, 1);
  assert.equal(parseMediaPlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:1' + '\n'.repeat(MAX_PLAYLIST_LINES - 2)).segments.length, 0);
});

test('writer refuses a URI that cannot be quoted', () => {
  assert.throws(() => writeMediaPlaylist({ ...LL, preloadHint: { uri: 'a"b' } }), PlaylistError);
  assert.throws(() => writeMediaPlaylist({ ...LL, trailingParts: [{ uri: 'a\nb', durationS: 0.1, independent: false }] }), PlaylistError);
});

const uri = fc.stringMatching(/^[a-z0-9/]{1,8}\.m4s$/);
const part = fc.record({ uri, durationS: fc.integer({ min: 1, max: 500 }).map((ms) => ms / 1000), independent: fc.boolean() });
const ms = fc.integer({ min: 0, max: 4e12 });
const llSegment = fc.record(
  { uri, durationS: fc.integer({ min: 0, max: 6000 }).map((v) => v / 1000), discontinuity: fc.boolean(), programDateTime: ms, map: uri, parts: fc.array(part, { minLength: 1, maxLength: 4 }) },
  { requiredKeys: ['uri', 'durationS', 'discontinuity'] },
);
const llPlaylist: fc.Arbitrary<MediaPlaylist> = fc.record(
  {
    targetDurationS: fc.integer({ min: 6, max: 10 }),
    mediaSequence: fc.nat(1e9),
    discontinuitySequence: fc.nat(100),
    segments: fc.array(llSegment, { maxLength: 8 }),
    endList: fc.boolean(),
    independentSegments: fc.constant(true),
    partTargetS: fc.integer({ min: 1, max: 2000 }).map((v) => v / 1000),
    serverControl: fc.record(
      { canBlockReload: fc.boolean(), partHoldBackS: fc.integer({ min: 0, max: 9000 }).map((v) => v / 1000), canSkipUntilS: fc.nat(100), holdBackS: fc.nat(100) },
      { requiredKeys: ['canBlockReload'] },
    ),
    openSegment: fc.record({ discontinuity: fc.constant(true), programDateTime: ms, map: uri }, { requiredKeys: ['discontinuity'] }),
    trailingParts: fc.array(part, { minLength: 1, maxLength: 4 }),
    preloadHint: fc.record({ uri }),
    renditionReports: fc.array(fc.record({ uri: fc.constant('r.m3u8'), lastMsn: fc.nat(1e9), lastPart: fc.nat(20) }, { requiredKeys: ['uri', 'lastMsn'] }), { minLength: 1, maxLength: 3 }),
  },
  { requiredKeys: ['targetDurationS', 'mediaSequence', 'discontinuitySequence', 'segments', 'endList'] },
);

test('property: LL-HLS playlists round-trip exactly (ms-precise durations, every optional tag)', () => {
  fc.assert(
    fc.property(llPlaylist, (p) => {
      const back = parseMediaPlaylist(writeMediaPlaylist(p));
      // structuredClone: fc.record builds null-prototype objects, the parser plain ones.
      assert.deepEqual(back, structuredClone({ ...p, version: requiredVersion(p) }));
    }),
  );
});

test('property: a delta update parses to the full playlist minus its first N segments', () => {
  fc.assert(
    fc.property(llPlaylist, fc.nat(10), (p, n) => {
      const skipped = Math.min(n, p.segments.length);
      const back = parseMediaPlaylist(writeMediaPlaylist({ ...p, skippedSegments: n }));
      assert.equal(back.skippedSegments, skipped);
      assert.equal(back.mediaSequence, p.mediaSequence);
      assert.equal(back.discontinuitySequence, p.discontinuitySequence);
      const fields = (s: PlaylistSegment): unknown => structuredClone([s.uri, s.durationS, s.discontinuity, s.programDateTime, s.parts]);
      assert.deepEqual(back.segments.map(fields), p.segments.slice(skipped).map(fields));
      // The init section in force at each listed segment is the full playlist's.
      const inForce = (segs: readonly PlaylistSegment[], from: number): (string | undefined)[] => {
        let m: string | undefined;
        return segs.map((s) => (m = s.map ?? m)).slice(from);
      };
      assert.deepEqual(inForce(back.segments, 0), inForce(p.segments, skipped));
    }),
  );
});

test('gap segments: EXT-X-GAP after the EXTINF of the segment it marks; parsed back', () => {
  const p: MediaPlaylist = {
    targetDurationS: 2,
    mediaSequence: 7,
    discontinuitySequence: 0,
    segments: [
      { uri: 'live_360p/7.ts', durationS: 2, discontinuity: false },
      { uri: 'live_360p/8.ts', durationS: 2.1, discontinuity: false, gap: true },
      { uri: 'live_360p/9.ts', durationS: 1.9, discontinuity: true },
    ],
    endList: false,
  };
  const text = writeMediaPlaylist(p);
  assert.equal(
    text,
    '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n#EXTINF:2.000,\nlive_360p/7.ts\n' +
      '#EXTINF:2.100,\n#EXT-X-GAP\nlive_360p/8.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:1.900,\nlive_360p/9.ts\n',
  );
  assert.deepEqual(parseMediaPlaylist(text).segments, p.segments);
  // The tag may also come before the EXTINF; it marks the next segment only.
  assert.deepEqual(parseMediaPlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-GAP\n#EXTINF:2,\na.ts\n#EXTINF:2,\nb.ts\n').segments.map((x) => x.gap ?? false), [true, false]);
});

test('EXT-X-START: written in the header with 3 decimals, parsed back (negative offsets too); malformed ones refused', () => {
  const p: MediaPlaylist = {
    targetDurationS: 2,
    mediaSequence: 7,
    discontinuitySequence: 0,
    segments: [{ uri: '7.ts', durationS: 2, discontinuity: false, programDateTime: Date.UTC(2026, 10, 30, 9) }],
    endList: false,
    start: { timeOffsetS: 0 },
  };
  const text = writeMediaPlaylist(p);
  assert.equal(
    text,
    '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-START:TIME-OFFSET=0.000\n' +
      '#EXT-X-PROGRAM-DATE-TIME:2026-11-30T09:00:00.000Z\n#EXTINF:2.000,\n7.ts\n',
  );
  assert.deepEqual(parseMediaPlaylist(text), { ...p, version: 3 });
  assert.deepEqual(parseMediaPlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-START:TIME-OFFSET=-6.5,PRECISE=YES\n').start, { timeOffsetS: -6.5 });
  for (const bad of ['#EXT-X-START:TIME-OFFSET=x', '#EXT-X-START:PRECISE=YES', '#EXT-X-START:TIME-OFFSET=--1', '#EXT-X-START:TIME-OFFSET=1\n#EXT-X-START:TIME-OFFSET=2']) {
    assert.throws(() => parseMediaPlaylist(`#EXTM3U\n#EXT-X-TARGETDURATION:2\n${bad}\n`), PlaylistError, bad);
  }
});

const LADDER: MultivariantPlaylist = {
  independentSegments: true,
  variants: [
    { uri: 'cam_source.m3u8', bandwidthBps: 2_812_345.4, averageBandwidthBps: 2_500_000, codecs: 'avc1.64001f,mp4a.40.2', resolution: { width: 1280, height: 720 }, frameRate: 29.97 },
    { uri: 'cam_360p.m3u8?token=t.1', bandwidthBps: 880_000, codecs: 'avc1.64001e,mp4a.40.2', resolution: { width: 640, height: 360 }, frameRate: 30 },
    { uri: 'cam_160p.m3u8', bandwidthBps: 300_000 },
  ],
};

test('multivariant playlist: exact text, parsed back', () => {
  const text = writeMultivariantPlaylist(LADDER);
  assert.equal(
    text,
    [
      '#EXTM3U',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-STREAM-INF:BANDWIDTH=2812345,AVERAGE-BANDWIDTH=2500000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=29.970',
      'cam_source.m3u8',
      '#EXT-X-STREAM-INF:BANDWIDTH=880000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=30.000',
      'cam_360p.m3u8?token=t.1',
      '#EXT-X-STREAM-INF:BANDWIDTH=300000',
      'cam_160p.m3u8',
      '',
    ].join('\n'),
  );
  const back = parseMultivariantPlaylist(text);
  assert.deepEqual(back, { ...LADDER, variants: LADDER.variants.map((v, i) => (i === 0 ? { ...v, bandwidthBps: 2_812_345 } : v)) });
  // A media playlist is not one, and the media parser refuses a multivariant one.
  assert.throws(() => parseMultivariantPlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:2\n'), PlaylistError);
  assert.throws(() => parseMediaPlaylist(text), PlaylistError);
});

test('multivariant parser: malformed variants are PlaylistErrors; the variant count is bounded', () => {
  for (const bad of [
    'x.m3u8\n',
    '#EXT-X-STREAM-INF:BANDWIDTH=1\n',
    '#EXT-X-STREAM-INF:BANDWIDTH=1\n#EXT-X-STREAM-INF:BANDWIDTH=2\na.m3u8\n',
    '#EXT-X-STREAM-INF:CODECS="avc1"\na.m3u8\n',
    '#EXT-X-STREAM-INF:BANDWIDTH=-1\na.m3u8\n',
    '#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=axb\na.m3u8\n',
    '#EXT-X-STREAM-INF:BANDWIDTH=1,FRAME-RATE=x\na.m3u8\n',
  ]) {
    assert.throws(() => parseMultivariantPlaylist('#EXTM3U\n' + bad), PlaylistError, bad);
  }
  const many = '#EXTM3U\n' + '#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n'.repeat(MAX_VARIANTS + 1);
  assert.throws(() => parseMultivariantPlaylist(many), /more than/);
  assert.throws(() => writeMultivariantPlaylist({ independentSegments: false, variants: [{ uri: 'a\n#EXT-X-ENDLIST', bandwidthBps: 1 }] }), PlaylistError);
});

test('property: multivariant write -> parse round-trips', () => {
  const variant = fc.record({
    uri: fc.stringMatching(/^[a-z0-9_]{1,20}\.m3u8$/),
    bandwidthBps: fc.integer({ min: 1, max: 1e9 }),
    averageBandwidthBps: fc.option(fc.integer({ min: 1, max: 1e9 }), { nil: undefined }),
    resolution: fc.option(fc.record({ width: fc.integer({ min: 1, max: 8192 }), height: fc.integer({ min: 1, max: 8192 }) }).map((r) => ({ ...r })), { nil: undefined }),
    frameRate: fc.option(fc.integer({ min: 1, max: 240_000 }).map((x) => x / 1000), { nil: undefined }),
    codecs: fc.option(fc.constantFrom('avc1.64001f', 'avc1.42e01e,mp4a.40.2', 'hvc1.1.6.L93.B0'), { nil: undefined }),
  });
  fc.assert(
    fc.property(fc.array(variant, { maxLength: 8 }), fc.boolean(), (vs, ind) => {
      const clean = vs.map((v) => Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) as unknown as MultivariantPlaylist['variants'][number]);
      const p: MultivariantPlaylist = { independentSegments: ind, variants: clean };
      assert.deepEqual(parseMultivariantPlaylist(writeMultivariantPlaylist(p)), p);
    }),
  );
});
