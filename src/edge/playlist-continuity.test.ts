import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMediaPlaylist, writeMediaPlaylist, writeMultivariantPlaylist, type PlaylistSegment } from '../media/hls/playlist.js';
import { checkMediaPlaylist, checkReloadPair } from '../../test/helpers/hls-conformance.js';
import { crossCheckPlaylist } from '../../test/helpers/m3u8-crosscheck.js';
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
  // The restarted origin: its own numbering from 7, a fresh discontinuity count, new segment names. Its 4 s
  // are short of 3 target durations: the newest segment served before stays listed ahead of them.
  const joined = view(c.apply('/live/s.m3u8', upstream(7, 2, { name: 'n' })));
  assert.deepEqual(joined.segs, ['1003:s/1003.ts', '1004:n/7.ts!', '1005:n/8.ts']);
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

test('an upstream that starts over numbering forwards (wall-clock sequences) with 3 target durations listed keeps its numbers, with a DISCONTINUITY', () => {
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
  // A URI listed twice: which of its numbers a reload means is anyone's guess.
  const twice = Buffer.from('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nn/9.ts\n#EXTINF:2,\nn/9.ts\n');
  assert.equal(c.apply('/live/s.m3u8', twice), twice);
});

test('what is remembered is bounded in bytes: a client naming DVR starts cannot grow it', () => {
  const c = new PlaylistContinuity();
  // ~1 MB each, as a DVR playlist of hours: 80 of them are past the budget (64 MiB).
  const big = upstream(0, 1000, { name: 'x'.repeat(1000) });
  assert.ok(big.length > 1_000_000);
  for (let i = 0; i < 80; i++) c.apply(`/live/s/dvr.m3u8?start=${i}`, big);
  assert.ok(c.playlists > 0 && c.playlists < 70, `${c.playlists} playlists remembered`);
});

test('a playlist without EXT-X-MEDIA-SEQUENCE gets one when it has to be renumbered', () => {
  const c = new PlaylistContinuity();
  c.apply('/live/s.m3u8', upstream(10, 3));
  const bare = Buffer.from('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.000,\nn/0.ts\n');
  const out = c.apply('/live/s.m3u8', bare);
  assert.deepEqual(view(out).segs, ['11:s/11.ts', '12:s/12.ts', '13:n/0.ts!']);
  assert.match(out.toString(), /^#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:11\n/);
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
  assert.deepEqual(view(c.apply('/live/s.m3u8', upstream(9, 1, { name: 'n' }))).segs, ['1002:s/1002.ts', '1003:s/1003.ts', '1004:n/9.ts!']);
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

/**
 * An origin's stream: segments `name/{seq}` from `firstSeq` with these durations, each with its PDT (from
 * `pdtMs`), fMP4 with one init segment when `map`. `window(from, to)` is its playlist listing [from, to).
 */
function origin(name: string, firstSeq: number, durationsS: readonly number[], opts: { pdtMs: number; map?: boolean; disc?: number[]; discSeq?: number; targetS?: number }) {
  let pdt = opts.pdtMs;
  const all: PlaylistSegment[] = durationsS.map((durationS, i) => {
    const s = { uri: `${name}/${firstSeq + i}.${opts.map ? 'm4s' : 'ts'}`, durationS, discontinuity: opts.disc?.includes(firstSeq + i) ?? false, programDateTime: pdt };
    pdt += durationS * 1000;
    return s;
  });
  return (from: number, to: number): Buffer => {
    const segments = all.slice(from - firstSeq, to - firstSeq);
    if (opts.map && segments[0]) segments[0] = { ...segments[0], map: `${name}/init.mp4` };
    const discSeq = (opts.discSeq ?? 0) + all.slice(0, from - firstSeq).filter((s) => s.discontinuity).length;
    return Buffer.from(writeMediaPlaylist({ targetDurationS: opts.targetS ?? 2, mediaSequence: from, discontinuitySequence: discSeq, segments, endList: false }));
  };
}

/** The edge renumbers a restarted upstream's segments: their names keep the upstream's numbers, not the MSN. */
const NO_URI_NUMBERING = { partId: () => undefined };

/** Every playlist served reads the same in m3u8-parser, conforms, and each reload keeps the rules with the one before. */
function assertConforms(served: readonly Buffer[]): void {
  served.forEach((b, i) => {
    const text = b.toString();
    assert.deepEqual(crossCheckPlaylist(text), [], `m3u8-parser reads it as we do:\n${text}`);
    assert.deepEqual(checkMediaPlaylist(text, NO_URI_NUMBERING), [], text);
    const before = served[i - 1]?.toString();
    if (before !== undefined) assert.deepEqual(checkReloadPair(before, text), [], `reload ${i}:\n${before}\n->\n${text}`);
  });
}

const secondsOf = (b: Buffer): number => parse(b).segments.reduce((n, s) => n + s.durationS, 0);

test('a restart keeps the newest segments served listed before the DISCONTINUITY until the new playlist lasts 3 target durations', () => {
  const c = new PlaylistContinuity();
  const t0 = Date.parse('2026-11-30T12:00:00Z');
  // fMP4 with PDT on every segment, its init segment named on the first listed one only; uneven durations.
  const a = origin('a', 1000, [2, 2, 1.5, 2, 1.2, 2, 1.8, 2], { pdtMs: t0, map: true });
  // The new origin: its own names and numbers, later dates, another init segment.
  const b = origin('b', 40, [1.6, 1.4, 2, 2, 2, 2], { pdtMs: t0 + 60_000, map: true });
  const inputs = [a(1000, 1005), a(1001, 1006), a(1002, 1008), b(40, 41), b(40, 42), b(40, 43), b(40, 44), b(41, 45), b(42, 46)];
  const served = inputs.map((x) => c.apply('/live/s.m3u8', x));
  assertConforms(served);
  const views = served.map(view);
  // Before the restart: byte for byte.
  for (const i of [0, 1, 2]) assert.equal(served[i]?.toString(), inputs[i]?.toString());
  // The first new segment (1.6 s) alone: the newest old ones that make up 6 s stay, numbered as they were.
  assert.deepEqual(views[3]?.segs, ['1005:a/1005.m4s', '1006:a/1006.m4s', '1007:a/1007.m4s', '1008:b/40.m4s!']);
  // Old segments leave from the front as the new playlist grows (3 s, 5 s, then 7 s of its own).
  assert.deepEqual(views[4]?.segs, ['1006:a/1006.m4s', '1007:a/1007.m4s', '1008:b/40.m4s!', '1009:b/41.m4s']);
  assert.deepEqual(views[5]?.segs, ['1007:a/1007.m4s', '1008:b/40.m4s!', '1009:b/41.m4s', '1010:b/42.m4s']);
  assert.deepEqual(views[6]?.segs, ['1008:b/40.m4s!', '1009:b/41.m4s', '1010:b/42.m4s', '1011:b/43.m4s']);
  assert.deepEqual(views[8]?.segs, ['1010:b/42.m4s', '1011:b/43.m4s', '1012:b/44.m4s', '1013:b/45.m4s']);
  for (const [i, b] of served.entries()) if (i >= 3) assert.ok(secondsOf(b) >= 6, `reload ${i} lasts ${secondsOf(b)} s`);
  // Each old segment as the old origin listed it (EXTINF, PDT), the first with the init segment in force.
  const old = parse(served[2] ?? Buffer.alloc(0)).segments;
  const joined = parse(served[3] ?? Buffer.alloc(0)).segments;
  for (const s of joined.slice(0, 3)) {
    const was = old.find((x) => x.uri === s.uri);
    assert.deepEqual([s.durationS, s.programDateTime], [was?.durationS, was?.programDateTime]);
  }
  assert.deepEqual(joined.map((s) => s.map), ['a/init.mp4', undefined, undefined, 'b/init.mp4']);
  assert.equal(parse(served[4] ?? Buffer.alloc(0)).segments[0]?.map, 'a/init.mp4', 'the init segment comes along with the first listed');
  // Never more old segments than the window listed: a 1-segment window before the restart keeps that one.
  const d = new PlaylistContinuity();
  d.apply('/live/s.m3u8', a(1000, 1001));
  assert.deepEqual(view(d.apply('/live/s.m3u8', b(40, 41))).segs, ['1000:a/1000.m4s', '1001:b/40.m4s!']);
});

test('across a restart the discontinuity sequence counts the discontinuities that slid out, old and new', () => {
  const c = new PlaylistContinuity();
  const t0 = Date.parse('2026-11-30T12:00:00Z');
  // The old origin had a republish of its own at 1003; its count started at 5.
  const a = origin('a', 1000, [2, 2, 2, 2, 2], { pdtMs: t0, disc: [1003], discSeq: 5 });
  const b = origin('b', 7, [2, 2, 2, 2, 2, 2], { pdtMs: t0 + 60_000 });
  const served = [a(1000, 1004), a(1001, 1005), b(7, 8), b(7, 9), b(7, 10), b(8, 11), b(9, 12)].map((x) => c.apply('/live/s.m3u8', x));
  assertConforms(served);
  assert.deepEqual(
    served.map((x) => [view(x).discSeq, view(x).segs.join(' ')]),
    [
      [5, '1000:a/1000.ts 1001:a/1001.ts 1002:a/1002.ts 1003:a/1003.ts!'],
      [5, '1001:a/1001.ts 1002:a/1002.ts 1003:a/1003.ts! 1004:a/1004.ts'],
      [5, '1003:a/1003.ts! 1004:a/1004.ts 1005:b/7.ts!'],
      [6, '1004:a/1004.ts 1005:b/7.ts! 1006:b/8.ts'],
      [6, '1005:b/7.ts! 1006:b/8.ts 1007:b/9.ts'],
      [7, '1006:b/8.ts 1007:b/9.ts 1008:b/10.ts'],
      [7, '1007:b/9.ts 1008:b/10.ts 1009:b/11.ts'],
    ],
  );
});

test('a new upstream numbering forwards with a short playlist: the new segments number on from the old ones kept', () => {
  const c = new PlaylistContinuity();
  const t0 = Date.parse('2026-11-30T12:00:00Z');
  const a = origin('a', 1000, [2, 2, 2, 2], { pdtMs: t0 });
  const b = origin('b', 5000, [2, 2, 2, 2, 2], { pdtMs: t0 + 60_000 });
  const served = [a(1000, 1004), b(5000, 5001), b(5000, 5002), b(5000, 5004), b(5001, 5005)].map((x) => c.apply('/live/s.m3u8', x));
  assertConforms(served);
  assert.deepEqual(view(served[1] ?? Buffer.alloc(0)).segs, ['1002:a/1002.ts', '1003:a/1003.ts', '1004:b/5000.ts!']);
  assert.deepEqual(view(served[4] ?? Buffer.alloc(0)).segs, ['1005:b/5001.ts', '1006:b/5002.ts', '1007:b/5003.ts', '1008:b/5004.ts']);
});

test('a second restart while old segments are still listed keeps the newest of everything served', () => {
  const c = new PlaylistContinuity();
  const t0 = Date.parse('2026-11-30T12:00:00Z');
  const a = origin('a', 1000, [2, 2, 2, 2], { pdtMs: t0, map: true });
  const b = origin('b', 1, [2, 2], { pdtMs: t0 + 60_000, map: true });
  const n = origin('n', 1, [1, 1, 2, 2, 2], { pdtMs: t0 + 120_000, map: true });
  const served = [a(1000, 1004), b(1, 2), b(1, 3), n(1, 2), n(1, 3), n(1, 4), n(1, 5), n(2, 6)].map((x) => c.apply('/live/s.m3u8', x));
  assertConforms(served);
  assert.deepEqual(
    served.slice(1).map((x) => view(x).segs.join(' ')),
    [
      '1002:a/1002.m4s 1003:a/1003.m4s 1004:b/1.m4s!',
      '1003:a/1003.m4s 1004:b/1.m4s! 1005:b/2.m4s',
      // b's playlist lasted 4 s when it went: with the 1 s of n, a/1003 is still needed.
      '1003:a/1003.m4s 1004:b/1.m4s! 1005:b/2.m4s 1006:n/1.m4s!',
      '1004:b/1.m4s! 1005:b/2.m4s 1006:n/1.m4s! 1007:n/2.m4s',
      '1005:b/2.m4s 1006:n/1.m4s! 1007:n/2.m4s 1008:n/3.m4s',
      '1006:n/1.m4s! 1007:n/2.m4s 1008:n/3.m4s 1009:n/4.m4s',
      '1007:n/2.m4s 1008:n/3.m4s 1009:n/4.m4s 1010:n/5.m4s',
    ],
  );
  assert.deepEqual(served.map((x) => view(x).discSeq), [0, 0, 0, 0, 0, 1, 1, 2]);
});

test('old segments longer than the new target duration raise it while listed, and 3 of it are kept', () => {
  const c = new PlaylistContinuity();
  const t0 = Date.parse('2026-11-30T12:00:00Z');
  const a = origin('a', 1000, [3, 3, 3], { pdtMs: t0, targetS: 3 });
  const b = origin('b', 1, [2, 2, 2], { pdtMs: t0 + 60_000 });
  const joined = c.apply('/live/s.m3u8', a(1000, 1003)) && c.apply('/live/s.m3u8', b(1, 2));
  assert.deepEqual(checkMediaPlaylist(joined.toString(), NO_URI_NUMBERING), [], joined.toString());
  assert.deepEqual(view(joined).segs, ['1000:a/1000.ts', '1001:a/1001.ts', '1002:a/1002.ts', '1003:b/1.ts!']);
  assert.equal(parse(joined).targetDurationS, 3);
  assert.deepEqual(crossCheckPlaylist(joined.toString()), []);
});

test('segments with an init section are not kept ahead of new ones without one (it would apply to them)', () => {
  const c = new PlaylistContinuity();
  const t0 = Date.parse('2026-11-30T12:00:00Z');
  c.apply('/live/s.m3u8', origin('a', 1000, [2, 2, 2, 2], { pdtMs: t0, map: true })(1000, 1004));
  const ts = view(c.apply('/live/s.m3u8', origin('b', 1, [2], { pdtMs: t0 + 60_000 })(1, 2)));
  assert.deepEqual(ts.segs, ['1004:b/1.ts!']);
});

test('applying it to its own output changes nothing across a restart that keeps old segments', () => {
  const t0 = Date.parse('2026-11-30T12:00:00Z');
  const a = origin('a', 1000, [2, 2, 1.5, 2, 1.2, 2, 1.8, 2], { pdtMs: t0, map: true, disc: [1004] });
  const b = origin('b', 40, [1.6, 1.4, 2, 2, 2, 2], { pdtMs: t0 + 60_000, map: true });
  const n = origin('n', 3, [0.5, 1, 2, 2, 2], { pdtMs: t0 + 120_000, map: true });
  const inputs = [a(1000, 1005), a(1001, 1006), a(1002, 1008), b(40, 41), b(40, 42), n(3, 4), n(3, 5), n(3, 6), n(3, 7), n(3, 8), n(4, 8)];
  const edge = new PlaylistContinuity();
  const tier = new PlaylistContinuity();
  const served = inputs.map((x) => {
    const once = edge.apply('/live/s.m3u8', x);
    assert.equal(tier.apply('/live/s.m3u8', once).toString(), once.toString());
    return once;
  });
  assertConforms(served);
});

test('a playlist longer than the segments remembered keeps its discontinuity sequence (a DVR window)', () => {
  const c = new PlaylistContinuity();
  const served = [upstream(100, 100, { disc: [110, 180] }), upstream(101, 100, { disc: [110, 180] }), upstream(102, 100, { disc: [110, 180] })].map((x) => c.apply('/live/s.m3u8?start=0', x));
  assert.deepEqual(served.map((x) => view(x).discSeq), [0, 0, 0]);
  for (const i of [1, 2]) assert.deepEqual(checkReloadPair(served[i - 1]?.toString() ?? '', served[i]?.toString() ?? ''), []);
});
