// An edge's rewrite of each upstream playlist (src/edge/playlist-continuity.ts) on upstream bytes: after a
// livecdn playlist, each form-feed-separated piece of the input is the upstream's next answer (a restart,
// a slide, junk). It never throws; what it rewrites parses; its output grows no more than what came in;
// and a second edge fed the first one's answers (tiers, sibling workers) changes nothing.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseMediaPlaylist, writeMediaPlaylist } from '../../src/media/hls/playlist.js';
import { PlaylistContinuity } from '../../src/edge/playlist-continuity.js';
import type { FuzzTarget } from '../harness.js';
import { bound, text } from './util.js';

/** What the edge served before the input: fMP4 with PDT and a discontinuity, 4 segments from 1000. */
const BEFORE = Buffer.from(
  writeMediaPlaylist({
    targetDurationS: 2,
    mediaSequence: 1000,
    discontinuitySequence: 3,
    endList: false,
    segments: [1000, 1001, 1002, 1003].map((seq, i) => ({
      uri: `s/${seq}.m4s`,
      durationS: 2,
      discontinuity: seq === 1002,
      programDateTime: 1_767_225_600_000 + i * 2000,
      ...(i === 0 || seq === 1002 ? { map: `s/init-${seq}.mp4` } : {}),
    })),
  }),
);
const MAX_ANSWERS = 8;

const TAGS = [
  '#EXTM3U',
  '#EXT-X-VERSION:6',
  '#EXT-X-TARGETDURATION:2',
  '#EXT-X-TARGETDURATION:9',
  '#EXT-X-MEDIA-SEQUENCE:7',
  '#EXT-X-MEDIA-SEQUENCE:5000',
  '#EXT-X-DISCONTINUITY-SEQUENCE:1',
  '#EXTINF:2.000,',
  '#EXTINF:0.400,',
  '#EXTINF:6.000,',
  '#EXT-X-DISCONTINUITY',
  '#EXT-X-GAP',
  '#EXT-X-MAP:URI="n/init.mp4"',
  '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:01:00.000Z',
  '#EXT-X-ENDLIST',
  '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES',
];

export const target: FuzzTarget = {
  name: 'playlist-continuity',
  description: 'PlaylistContinuity.apply on successive upstream answers: no throw, rewrites parse, bounded output, idempotent through a second edge',
  expected: [],
  run(input) {
    const edge = new PlaylistContinuity();
    const tier = new PlaylistContinuity();
    let inBytes = BEFORE.length;
    for (const body of [BEFORE, ...input.toString('utf8').split('\f').slice(0, MAX_ANSWERS).map((s) => Buffer.from(s, 'utf8'))]) {
      if (body !== BEFORE) inBytes += body.length;
      const out = edge.apply('/live/s.m3u8', body);
      bound('continuity output', out.length, inBytes, 1);
      if (!out.equals(body)) parseMediaPlaylist(out.toString('utf8'));
      assert.equal(tier.apply('/live/s.m3u8', out).toString('utf8'), out.toString('utf8'), 'a second edge changed the first one\'s answer');
    }
  },
  arbitrary: fc
    .array(fc.array(fc.oneof(fc.constantFrom(...TAGS), fc.constantFrom('n/1.m4s', 'n/2.m4s', 's/1003.m4s', 's/1002.m4s', '', ' '), fc.string({ maxLength: 12 })), { maxLength: 14 }), { minLength: 1, maxLength: 4 })
    .map((answers) => new Uint8Array(text(answers.map((lines) => ['#EXTM3U', ...lines].join('\n')).join('\f')))),
  dictionary: [...TAGS.map(text), text('\f'), text('\r\n'), text('s/1003.m4s'), text('n/1.m4s')],
};

/** Seeds: answers after BEFORE, joined as the target splits them. */
export function continuitySeeds(): Record<string, Buffer> {
  const playlist = (name: string, from: number, to: number, opts: { map?: boolean; durationS?: number } = {}): string =>
    writeMediaPlaylist({
      targetDurationS: 2,
      mediaSequence: from,
      discontinuitySequence: 0,
      endList: false,
      segments: Array.from({ length: to - from }, (_, i) => ({
        uri: `${name}/${from + i}.${opts.map ? 'm4s' : 'ts'}`,
        durationS: opts.durationS ?? 2,
        discontinuity: false,
        programDateTime: 1_767_225_700_000 + (from + i) * 2000,
        ...(opts.map && i === 0 ? { map: `${name}/init.mp4` } : {}),
      })),
    });
  const answers = (...bodies: string[]): Buffer => Buffer.from(bodies.join('\f'), 'utf8');
  return {
    // A failover: the new origin's playlist grows from one segment, old ones kept ahead of it, then slides.
    'restart-grows': answers(playlist('n', 7, 8, { map: true }), playlist('n', 7, 9, { map: true }), playlist('n', 7, 11, { map: true }), playlist('n', 8, 12, { map: true })),
    // Wall-clock numbers, TS after fMP4 (no init section to carry), short segments, then a second restart.
    'restart-forwards-ts': answers(playlist('w', 5000, 5001), playlist('w', 5000, 5003, { durationS: 0.5 }), playlist('x', 3, 4, { map: true })),
    // The same upstream continuing, an LL-HLS answer passing through, and no MEDIA-SEQUENCE.
    'continue-ll-bare': answers(
      writeMediaPlaylist({ targetDurationS: 2, mediaSequence: 1001, discontinuitySequence: 3, endList: false, segments: [{ uri: 's/1001.m4s', durationS: 2, discontinuity: false, map: 's/init-1000.mp4' }, { uri: 's/1002.m4s', durationS: 2, discontinuity: true, map: 's/init-1002.mp4' }, { uri: 's/1003.m4s', durationS: 2, discontinuity: false }, { uri: 's/1004.m4s', durationS: 2, discontinuity: false }] }),
      '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n#EXTINF:1.000,\nl/1.m4s\n',
      '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.000,\nb/0.ts\n#EXT-X-ENDLIST\n',
    ),
  };
}
