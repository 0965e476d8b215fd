// HLS media playlists as an edge reads them from its upstream: the parser and the prefetcher's use of it.
import fc from 'fast-check';
import { PlaylistError, parseMediaPlaylist } from '../../src/media/hls/playlist.js';
import { segmentUris } from '../../src/edge/playlist-uris.js';
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
  '#EXT-X-ENDLIST',
  '#EXT-X-STREAM-INF:BANDWIDTH=1',
  '#EXT-X-MAP:URI="init.mp4"',
];

export const target: FuzzTarget = {
  name: 'hls-playlist',
  description: 'parseMediaPlaylist and segmentUris on the input as UTF-8',
  expected: [PlaylistError],
  run(input) {
    const s = input.toString('utf8');
    segmentUris(s); // must swallow its own errors: it runs on every upstream playlist
    const p = parseMediaPlaylist(s);
    bound('playlist segments', p.segments.length, input.length, 1, 0);
  },
  arbitrary: fc
    .array(fc.oneof(fc.constantFrom(...TAGS), fc.constantFrom('0.ts', 's/1.ts', '../x.ts', '', ' '), fc.string({ maxLength: 12 })), { maxLength: 16 })
    .chain((lines) => fc.constantFrom('\n', '\r\n').map((eol) => new Uint8Array(text(['#EXTM3U', ...lines].join(eol))))),
  dictionary: [...TAGS.map(text), text('\r\n'), text('NaN'), text('-1'), text('1e999')],
};
