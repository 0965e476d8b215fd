// The simulated hls.js client's choice of the next blocking playlist request (bench/lib/llhls-client.ts),
// on playlists written by the origin's writer and read back by our parser, as the client reads them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nextDirectives } from '../../bench/lib/llhls-client.js';
import { parseMediaPlaylist, writeMediaPlaylist } from '../../src/media/hls/playlist.js';
import type { MediaPlaylist, PlaylistPart } from '../../src/media/hls/playlist.js';

const parts = (seq: number, n: number): PlaylistPart[] =>
  Array.from({ length: n }, (_, i) => ({ uri: `s/${seq}.${i}.m4s`, durationS: 0.2, independent: i === 0 }));

function playlist(over: Partial<MediaPlaylist>): MediaPlaylist {
  return {
    targetDurationS: 1,
    mediaSequence: 100,
    discontinuitySequence: 0,
    segments: [100, 101, 102].map((seq) => ({ uri: `s/${seq}.m4s`, durationS: 1, discontinuity: false, parts: seq === 102 ? parts(seq, 5) : undefined })),
    endList: false,
    partTargetS: 0.2,
    serverControl: { canBlockReload: true, partHoldBackS: 0.6, canSkipUntilS: 6 },
    ...over,
  };
}

const directives = (p: MediaPlaylist): string | undefined => nextDirectives(parseMediaPlaylist(writeMediaPlaylist(p)))?.toString();

describe('LL-HLS client: next blocking request (as hls.js lowLatencyMode)', () => {
  it('asks for the part after the trailing parts of the open segment', () => {
    assert.equal(directives(playlist({ trailingParts: parts(103, 2) })), '_HLS_msn=103&_HLS_part=2&_HLS_skip=YES');
  });

  it('asks for part 0 of the next segment when the last part closed a segment', () => {
    assert.equal(directives(playlist({})), '_HLS_msn=103&_HLS_part=0&_HLS_skip=YES');
  });

  it('counts skipped segments in a delta update, and asks no skip without CAN-SKIP-UNTIL', () => {
    const p = playlist({ trailingParts: parts(103, 1), serverControl: { canBlockReload: true, partHoldBackS: 0.6 } });
    assert.equal(directives(p), '_HLS_msn=103&_HLS_part=1');
    const delta = parseMediaPlaylist(writeMediaPlaylist(playlist({ skippedSegments: 2, trailingParts: parts(103, 1) })));
    assert.equal(delta.segments.length, 1);
    assert.equal(nextDirectives(delta)?.toString(), '_HLS_msn=103&_HLS_part=1&_HLS_skip=YES');
  });

  it('gives no directives when the server cannot block', () => {
    assert.equal(directives(playlist({ serverControl: undefined, partTargetS: undefined, segments: playlist({}).segments.map((s) => ({ ...s, parts: undefined })) })), undefined);
  });
});
