// HLS playlists as an edge reads them from its upstream: the media playlist parser (RFC 8216 and the RFC
// 8216bis LL-HLS/fMP4 tags, EXT-X-GAP), the prefetcher's use of it, the multivariant parser (ABR), and
// the writers on whatever the parsers accepted.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PlaylistError, parseMediaPlaylist, parseMultivariantPlaylist, writeMediaPlaylist, writeMultivariantPlaylist, type MediaPlaylist, type MultivariantPlaylist } from '../../src/media/hls/playlist.js';
import { playlistUris } from '../../src/edge/playlist-uris.js';
import type { FuzzTarget } from '../harness.js';
import { bound, text } from './util.js';

const TAGS = [
  '#EXTM3U',
  '#EXT-X-VERSION:3',
  '#EXT-X-TARGETDURATION:2',
  '#EXT-X-MEDIA-SEQUENCE:7',
  '#EXT-X-DISCONTINUITY-SEQUENCE:1',
  '#EXTINF:2.000,',
  '#EXT-X-DISCONTINUITY',
  '#EXT-X-GAP',
  '#EXT-X-ENDLIST',
  '#EXT-X-STREAM-INF:BANDWIDTH=1',
  '#EXT-X-STREAM-INF:BANDWIDTH=880000,AVERAGE-BANDWIDTH=800000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=30.000',
  '#EXT-X-MAP:URI="init.mp4"',
  '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z',
  '#EXT-X-INDEPENDENT-SEGMENTS',
  '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.000,PART-HOLD-BACK=0.600',
  '#EXT-X-PART-INF:PART-TARGET=0.200',
  '#EXT-X-PART:DURATION=0.200,URI="s/7.0.m4s",INDEPENDENT=YES',
  '#EXT-X-PART:DURATION=0.2,URI="a,b"',
  '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="s/8.1.m4s"',
  '#EXT-X-SKIP:SKIPPED-SEGMENTS=3',
  '#EXT-X-RENDITION-REPORT:URI="r.m3u8",LAST-MSN=8,LAST-PART=1',
];

const uris = (p: MediaPlaylist): unknown => [
  p.segments.map((s) => [s.uri, s.map, s.parts?.map((x) => x.uri), s.gap]),
  p.trailingParts?.map((x) => x.uri),
  p.preloadHint,
  p.renditionReports,
  p.openSegment?.map,
];

export const target: FuzzTarget = {
  name: 'hls-playlist',
  description: 'parseMediaPlaylist, parseMultivariantPlaylist and playlistUris on the input as UTF-8; what parses is written and re-parsed to the same URIs',
  expected: [PlaylistError],
  run(input) {
    const s = input.toString('utf8');
    playlistUris(s); // must swallow its own errors: it runs on every upstream playlist
    let mv: MultivariantPlaylist | undefined;
    try {
      mv = parseMultivariantPlaylist(s);
    } catch (e) {
      if (!(e instanceof PlaylistError)) throw e;
    }
    if (mv) {
      bound('variants', mv.variants.length, input.length, 1, 0);
      // The writer takes what the parser returns, and writing is stable from then on (numbers are normalised once).
      const once = writeMultivariantPlaylist(mv);
      assert.equal(writeMultivariantPlaylist(parseMultivariantPlaylist(once)), once, 'write(parse(write(x))) differs');
      assert.deepEqual(parseMultivariantPlaylist(once).variants.map((v) => v.uri), mv.variants.map((v) => v.uri), 'write(parse(x)) changed the URIs');
    }
    const p = parseMediaPlaylist(s);
    const parts = p.segments.reduce((n, seg) => n + (seg.parts?.length ?? 0), p.trailingParts?.length ?? 0);
    bound('playlist segments', p.segments.length, input.length, 1, 0);
    bound('playlist parts', parts + (p.renditionReports?.length ?? 0), input.length, 1, 0);
    // The writer must take anything the parser returns (a delta is written whole: it lists what it has).
    const again = parseMediaPlaylist(writeMediaPlaylist({ ...p, skippedSegments: undefined }));
    assert.deepEqual(uris(again), uris(p), 'write(parse(x)) changed the URIs');
  },
  arbitrary: fc
    .array(fc.oneof(fc.constantFrom(...TAGS), fc.constantFrom('0.ts', 's/1.ts', '../x.ts', '', ' '), fc.string({ maxLength: 12 })), { maxLength: 16 })
    .chain((lines) => fc.constantFrom('\n', '\r\n').map((eol) => new Uint8Array(text(['#EXTM3U', ...lines].join(eol))))),
  dictionary: [...TAGS.map(text), text('\r\n'), text('NaN'), text('-1'), text('1e999'), text('"'), text(',URI="'), text('=YES')],
};
