import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMediaPlaylist, writeMediaPlaylist, writeMultivariantPlaylist } from '../media/hls/playlist.js';
import { PlaylistContinuity } from './playlist-continuity.js';

/** An origin-style playlist of `n` 2 s segments from `seq`; `disc` lists the sequences flagged. */
function upstream(seq: number, n: number, opts: { disc?: number[]; discSeq?: number; name?: string } = {}): Buffer {
  const segments = Array.from({ length: n }, (_, i) => ({
    uri: `${opts.name ?? 's'}/${seq + i}.ts`,
    durationS: 2,
    discontinuity: opts.disc?.includes(seq + i) ?? false,
  }));
  return Buffer.from(writeMediaPlaylist({ targetDurationS: 2, mediaSequence: seq, discontinuitySequence: opts.discSeq ?? 0, segments, endList: false }));
}

const parse = (b: Buffer) => parseMediaPlaylist(b.toString('utf8'));
/** Each listed segment as "seq:uri" with a "!" for a discontinuity, and the discontinuity sequence. */
const view = (b: Buffer) => {
  const p = parse(b);
  return { discSeq: p.discontinuitySequence, segs: p.segments.map((s, i) => `${p.mediaSequence + i}:${s.uri}${s.discontinuity ? '!' : ''}`) };
};

test('a continuous upstream playlist goes through byte for byte, its own discontinuities included', () => {
  const c = new PlaylistContinuity();
  for (const b of [upstream(100, 4), upstream(101, 4), upstream(102, 4, { disc: [105] }), upstream(104, 4, { disc: [105] }), upstream(106, 4, { discSeq: 1 })]) {
    assert.equal(c.apply('/live/s.m3u8', b).toString(), b.toString());
  }
});

test('an upstream that starts over numbering backwards: numbers go on from the last served, with a DISCONTINUITY at the join', () => {
  const c = new PlaylistContinuity();
  c.apply('/live/s.m3u8', upstream(1000, 4, { disc: [1002], discSeq: 3 }));
  // The restarted origin: its own numbering from 7, a fresh discontinuity count, new segment names.
  const joined = view(c.apply('/live/s.m3u8', upstream(7, 2, { name: 'n' })));
  assert.deepEqual(joined.segs, ['1004:n/7.ts!', '1005:n/8.ts']);
  assert.equal(joined.discSeq, 3 + 1, 'the discontinuity at 1002 precedes the listing');
  // Next refreshes keep the numbers and the flag while the join is listed...
  const next = view(c.apply('/live/s.m3u8', upstream(7, 4, { name: 'n' })));
  assert.deepEqual(next.segs, ['1004:n/7.ts!', '1005:n/8.ts', '1006:n/9.ts', '1007:n/10.ts']);
  assert.equal(next.discSeq, 4);
  // ...and count it once it has slid out.
  const later = view(c.apply('/live/s.m3u8', upstream(8, 4, { name: 'n' })));
  assert.deepEqual(later.segs, ['1005:n/8.ts', '1006:n/9.ts', '1007:n/10.ts', '1008:n/11.ts']);
  assert.equal(later.discSeq, 5);
});

test('an upstream that starts over numbering forwards (wall-clock sequences) keeps its numbers, with a DISCONTINUITY', () => {
  const c = new PlaylistContinuity();
  c.apply('/live/s.m3u8', upstream(1000, 4));
  const joined = view(c.apply('/live/s.m3u8', upstream(5000, 3, { name: 'n' })));
  assert.deepEqual(joined.segs, ['5000:n/5000.ts!', '5001:n/5001.ts', '5002:n/5002.ts']);
  assert.equal(joined.discSeq, 0);
  // A discontinuity of the new upstream's own (a republish there) is kept, and counted after the join.
  const rep = view(c.apply('/live/s.m3u8', upstream(5001, 4, { name: 'n', disc: [5004] })));
  assert.deepEqual(rep.segs, ['5001:n/5001.ts', '5002:n/5002.ts', '5003:n/5003.ts', '5004:n/5004.ts!']);
  assert.equal(rep.discSeq, 1);
});

test('applying it to its own output changes nothing (edge tiers, sibling workers)', () => {
  const a = new PlaylistContinuity();
  const b = new PlaylistContinuity();
  const inputs = [upstream(1000, 4), upstream(1001, 4), upstream(3, 2, { name: 'n' }), upstream(3, 4, { name: 'n' }), upstream(5, 4, { name: 'n' })];
  for (const i of inputs) {
    const once = a.apply('/live/s.m3u8', i);
    assert.equal(b.apply('/live/s.m3u8', once).toString(), once.toString());
  }
});

test('the same body is answered from memory; master playlists and other text go through', () => {
  const c = new PlaylistContinuity();
  c.apply('/live/s.m3u8', upstream(10, 3));
  const joined = upstream(1, 3, { name: 'n' });
  const out = c.apply('/live/s.m3u8', joined);
  assert.equal(c.apply('/live/s.m3u8', joined), out, 'a cache hit of the same object: the same buffer');
  assert.equal(c.apply('/live/s.m3u8', Buffer.from(joined)), out, 'an equal body: the same answer, no second join');
  const master = Buffer.from('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\nlow.m3u8\n');
  assert.equal(c.apply('/live/m.m3u8', master), master);
  const junk = Buffer.from('not a playlist');
  assert.equal(c.apply('/live/j.m3u8', junk), junk);
});

test('a playlist without EXT-X-MEDIA-SEQUENCE gets one when it has to be renumbered', () => {
  const c = new PlaylistContinuity();
  c.apply('/live/s.m3u8', upstream(10, 3));
  const bare = Buffer.from('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.000,\nn/0.ts\n');
  assert.deepEqual(view(c.apply('/live/s.m3u8', bare)).segs, ['13:n/0.ts!']);
});

test('an LL-HLS playlist goes through untouched, also where a plain one would be renumbered', () => {
  const c = new PlaylistContinuity();
  c.apply('/live/s.m3u8', upstream(1000, 4));
  // The upstream restarted with LL-HLS and a lower numbering: viewers' _HLS_msn must stay the upstream's.
  const ll = Buffer.from(
    writeMediaPlaylist({
      targetDurationS: 1,
      mediaSequence: 7,
      discontinuitySequence: 0,
      segments: [{ uri: 's/7.m4s', durationS: 1, discontinuity: false, map: 's/init-7.mp4', parts: [{ uri: 's/7.0.m4s', durationS: 0.5, independent: true }, { uri: 's/7.1.m4s', durationS: 0.5, independent: false }] }],
      endList: false,
      partTargetS: 0.5,
      serverControl: { canBlockReload: true, partHoldBackS: 1.5, canSkipUntilS: 6 },
      trailingParts: [{ uri: 's/8.0.m4s', durationS: 0.5, independent: true }],
      preloadHint: { uri: 's/8.1.m4s' },
    }),
  );
  assert.equal(c.apply('/live/s.m3u8', ll), ll);
  // So does a delta update, and a playlist that only offers blocking reloads.
  const delta = Buffer.from(ll.toString().replace('#EXT-X-MEDIA-SEQUENCE:7', '#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-SKIP:SKIPPED-SEGMENTS=0'));
  assert.equal(c.apply('/live/s.m3u8', delta), delta);
  const blockingOnly = Buffer.from(upstream(3, 2).toString().replace('#EXTM3U\n', '#EXTM3U\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n'));
  assert.equal(c.apply('/live/s.m3u8', blockingOnly), blockingOnly);
  // A plain playlist afterwards is still kept continuous with what was served plain before.
  assert.deepEqual(view(c.apply('/live/s.m3u8', upstream(9, 1, { name: 'n' }))).segs, ['1004:n/9.ts!']);
});

test('ABR: a multivariant playlist goes through untouched; a rung playlist keeps its gaps across an upstream restart', () => {
  const c = new PlaylistContinuity();
  const master = Buffer.from(
    writeMultivariantPlaylist({ independentSegments: true, variants: [{ uri: 'cam_source.m3u8', bandwidthBps: 900_000 }, { uri: 'cam_low.m3u8', bandwidthBps: 300_000 }] }),
  );
  assert.equal(c.apply('/live/cam.m3u8', master), master);
  const gapped = (seq: number): Buffer =>
    Buffer.from(
      writeMediaPlaylist({
        targetDurationS: 2,
        mediaSequence: seq,
        discontinuitySequence: 0,
        endList: false,
        segments: [0, 1, 2].map((i) => ({ uri: `cam_low/${seq + i}.ts`, durationS: 2, discontinuity: false, gap: i === 1 })),
      }),
    );
  assert.equal(c.apply('/live/cam_low.m3u8', gapped(100)).toString(), gapped(100).toString());
  // The upstream restarts with lower numbers: renumbered, the gap still marked on its segment.
  const after = parse(c.apply('/live/cam_low.m3u8', gapped(10)));
  assert.equal(after.mediaSequence, 103);
  assert.deepEqual(after.segments.map((s) => [s.uri, s.gap ?? false, s.discontinuity]), [['cam_low/10.ts', false, true], ['cam_low/11.ts', true, false], ['cam_low/12.ts', false, false]]);
});
