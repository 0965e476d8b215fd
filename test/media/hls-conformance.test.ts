// The conformance checker (test/helpers/hls-conformance.ts) must catch each violation: one bad playlist (or
// reload pair, or server behaviour) per rule, and nothing on good ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseMediaPlaylist, writeMediaPlaylist, writeMultivariantPlaylist, type MediaPlaylist, type MultivariantPlaylist, type PlaylistPart, type PlaylistSegment } from '../../src/media/hls/playlist.js';
import { LL_T0 as T0, RFC_LL_EXAMPLE, llPart as part, llParts as parts, llPlaylist as good } from '../helpers/llhls-vectors.js';
import { writeFragment, writeStyp } from '../../src/media/mp4/fragment.js';
import { RULES, checkBlocking, checkMediaPlaylist, checkMultivariantPlaylist, checkReloadPair, fetchKeyframeOracle, fmp4StartsWithKeyframe } from '../helpers/hls-conformance.js';

const edit = (f: (p: MediaPlaylist) => void): string => {
  const p = good();
  f(p);
  return writeMediaPlaylist(p);
};
const text = (f: (lines: string[]) => string[]): string => f(writeMediaPlaylist(good()).trimEnd().split('\n')).join('\n') + '\n';
const seg = (p: MediaPlaylist, msn: number): PlaylistSegment => p.segments[msn - p.mediaSequence]!;

/** One bad input per playlist rule: the rule id it must raise. */
const PLAYLIST_CASES: Array<[string, string, Parameters<typeof checkMediaPlaylist>[1]?]> = [
  ['parse', '#EXTM3U\n#EXTINF:1,\na.ts\n'],
  ['tag-once', text((l) => [...l.slice(0, 3), '#EXT-X-VERSION:6', ...l.slice(3)])],
  ['header-first', text((l) => [...l, '#EXT-X-DISCONTINUITY-SEQUENCE:0'])],
  ['version', text((l) => l.map((x) => x.replace('#EXT-X-VERSION:6', '#EXT-X-VERSION:5')))],
  ['version-minimal', edit((p) => (p.version = 7))],
  ['target-duration', text((l) => l.map((x, i) => (i === l.indexOf('s/12.m4s') - 1 ? '#EXTINF:1.600,' : x)))],
  ['part-inf', text((l) => l.filter((x) => !x.startsWith('#EXT-X-PART-INF')))],
  ['part-duration', edit((p) => (p.trailingParts![1]!.durationS = 0.3))],
  ['part-min-duration', edit((p) => (p.trailingParts = [part(18, 0), part(18, 1, 0.1), part(18, 2)], (p.preloadHint = { uri: 's/18.3.m4s' })))],
  ['part-sum', edit((p) => (seg(p, 16).parts = parts(16, 3)))],
  ['part-tags-first', text((l) => l.flatMap((x) => (x.includes('URI="s/17.0.m4s"') ? [x, '#EXT-X-PROGRAM-DATE-TIME:2026-11-30T04:00:07.000Z'] : x.startsWith('#EXT-X-PROGRAM-DATE-TIME:2026-11-30T04:00:07') ? [] : [x])))],
  ['part-hold-back', edit((p) => (p.serverControl!.partHoldBackS = 0.5))],
  ['part-hold-back', edit((p) => delete p.serverControl!.partHoldBackS)],
  ['hold-back', edit((p) => (p.serverControl!.holdBackS = 2.5))],
  ['can-skip-until', edit((p) => (p.serverControl!.canSkipUntilS = 5))],
  ['parts-live-edge', edit((p) => (seg(p, 14).parts = parts(14), seg(p, 15).parts = parts(15)))],
  ['parts-live-edge', edit((p) => delete seg(p, 17).parts)],
  ['part-uri-unique', edit((p) => (p.trailingParts![1]!.uri = 's/17.3.m4s'))],
  ['uri-numbering', edit((p) => (seg(p, 17).parts![2]!.uri = 's/17.9.m4s'))],
  ['uri-numbering', edit((p) => (seg(p, 13).uri = 's/31.m4s'))],
  ['preload-hint-next', edit((p) => (p.preloadHint = { uri: 's/18.3.m4s' }))],
  ['preload-hint-next', edit((p) => (delete p.trailingParts, delete p.openSegment, (p.preloadHint = { uri: 's/18.1.m4s' })))],
  ['preload-hint-endlist', edit((p) => (p.endList = true))],
  ['independent-keyframe', writeMediaPlaylist(good()), { keyframe: (uri) => uri.endsWith('.0.m4s') || uri === 's/17.2.m4s' }],
  ['independent-keyframe', writeMediaPlaylist(good()), { keyframe: (uri) => (uri === 's/17.0.m4s' ? false : uri.endsWith('.0.m4s')) }],
  ['independent-first-part', edit((p) => (seg(p, 16).parts![0]!.independent = false))],
  ['independent-first-part', edit((p) => (p.trailingParts![0]!.independent = false))],
  ['map-in-force', edit((p) => (delete seg(p, 10).map, (seg(p, 12).map = 's/init-12.mp4')))],
  ['pdt-monotonic', edit((p) => (seg(p, 13).programDateTime! += 500))],
  ['pdt-monotonic', edit((p) => ((seg(p, 13).discontinuity = true), (seg(p, 13).programDateTime = T0)))],
  ['pdt-on-discontinuity', edit((p) => ((seg(p, 13).discontinuity = true), delete seg(p, 13).programDateTime))],
  ['skip-allowed', edit((p) => (delete p.serverControl!.canSkipUntilS, (p.skippedSegments = 2)))],
  ['skip-allowed', edit((p) => ((p.skippedSegments = 2), (p.endList = true), delete p.preloadHint))],
  ['skip-count', edit((p) => (p.skippedSegments = 2)), { full: edit((p) => p.segments.push({ uri: 's/18.m4s', durationS: 1, discontinuity: false })) }],
  ['skip-count', edit((p) => ((p.skippedSegments = 2), (p.discontinuitySequence = 1))), { full: writeMediaPlaylist(good()) }],
  ['skip-boundary', edit((p) => (p.skippedSegments = 1)), { full: writeMediaPlaylist(good()) }],
  ['skip-boundary', edit((p) => (p.skippedSegments = 4)), { full: writeMediaPlaylist(good()) }],
];

test('the RFC 8216bis example breaks only the PDT-on-discontinuity SHOULD (its mid-roll has no PDT)', () => {
  assert.deepEqual(checkMediaPlaylist(RFC_LL_EXAMPLE).map((v) => v.split(':')[0]), ['pdt-on-discontinuity']);
});

test('a good LL-HLS playlist, its deltas at the boundary and a plain TS one raise nothing', () => {
  assert.deepEqual(checkMediaPlaylist(writeMediaPlaylist(good()), { keyframe: (uri) => uri.endsWith('.0.m4s') }), []);
  // 8 one-second segments, CAN-SKIP-UNTIL 6: the first two start further than 6 s from the end, the third exactly 6 s.
  for (const n of [2, 3]) assert.deepEqual(checkMediaPlaylist(edit((p) => (p.skippedSegments = n)), { full: writeMediaPlaylist(good()) }), [], `skip ${n}`);
  assert.deepEqual(checkMediaPlaylist(writeMediaPlaylist({ targetDurationS: 2, mediaSequence: 7, discontinuitySequence: 1, segments: [{ uri: 'live/7.ts', durationS: 2, discontinuity: false }, { uri: 'live/8.ts', durationS: 1.5, discontinuity: true }], endList: true })), []);
});

for (const [rule, input, opts] of PLAYLIST_CASES) {
  test(`checkMediaPlaylist catches ${rule}`, () => {
    const v = checkMediaPlaylist(input, opts);
    assert.ok(v.some((x) => x.startsWith(`${rule}: `)), `${rule} not raised; got ${JSON.stringify(v)} for\n${input}`);
  });
}

/** The next reload of good(): MSN 18 completed (its 4 parts), MSN 10 slid out, parts of 16 dropped. */
function next(): MediaPlaylist {
  const p = good();
  p.segments.push({ uri: 's/18.m4s', durationS: 1, discontinuity: false, programDateTime: T0 + 8000, parts: parts(18) });
  p.segments.shift();
  p.mediaSequence = 11;
  seg(p, 11).map = 's/init-10.mp4';
  delete seg(p, 16).parts;
  p.openSegment = { discontinuity: false, programDateTime: T0 + 9000 };
  p.trailingParts = parts(19, 1);
  p.preloadHint = { uri: 's/19.1.m4s' };
  return p;
}
const nextWith = (f: (p: MediaPlaylist) => void): string => {
  const p = next();
  f(p);
  return writeMediaPlaylist(p);
};

const PAIR_CASES: Array<[string, string, string]> = [
  ['parse', writeMediaPlaylist(good()), 'not a playlist'],
  ['reload-sequence', writeMediaPlaylist(good()), nextWith((p) => (p.mediaSequence = 9))],
  ['reload-sequence', writeMediaPlaylist(good()), nextWith((p) => (seg(p, 14).uri = 's/14b.m4s'))],
  ['reload-discontinuity', writeMediaPlaylist(good()), nextWith((p) => (seg(p, 13).discontinuity = true))],
  ['reload-discontinuity', edit((p) => (p.discontinuitySequence = 2)), nextWith((p) => (p.discontinuitySequence = 1))],
  ['reload-target-duration', writeMediaPlaylist(good()), nextWith((p) => (p.targetDurationS = 2))],
  ['reload-min-duration', writeMediaPlaylist(good()), nextWith((p) => (p.segments.splice(0, 6), (p.mediaSequence = 17), (seg(p, 17).map = 's/init-10.mp4')))],
  ['reload-parts', writeMediaPlaylist(good()), nextWith((p) => (seg(p, 17).parts![3]!.durationS = 0.2, seg(p, 17).parts!.push(part(17, 4, 0.05))))],
  ['reload-parts', writeMediaPlaylist(good()), nextWith((p) => (seg(p, 18).parts![1]!.uri = 's/18.1b.m4s'))],
  ['reload-skip-merge', writeMediaPlaylist(good()), nextWith((p) => ((p.mediaSequence = 5), p.segments.unshift(...Array.from({ length: 6 }, (_, i) => ({ uri: `s/${5 + i}.m4s`, durationS: 1, discontinuity: false }))), (p.skippedSegments = 8)))],
  ['reload-endlist', edit((p) => ((p.endList = true), delete p.preloadHint)), nextWith(() => undefined)],
];

test('a good reload pair, also with a delta update as the second, raises nothing', () => {
  assert.deepEqual(checkReloadPair(writeMediaPlaylist(good()), writeMediaPlaylist(next())), []);
  assert.deepEqual(checkReloadPair(writeMediaPlaylist(good()), nextWith((p) => (p.skippedSegments = 2))), []);
  assert.deepEqual(checkReloadPair(writeMediaPlaylist(good()), writeMediaPlaylist(good())), []);
});

for (const [rule, before, after] of PAIR_CASES) {
  test(`checkReloadPair catches ${rule}`, () => {
    const v = checkReloadPair(before, after);
    assert.ok(v.some((x) => x.startsWith(`${rule}: `)), `${rule} not raised; got ${JSON.stringify(v)}`);
  });
}

// ---- runtime rules against a small in-process LL-HLS server ----------------------------------------

type Fault = 'none' | 'no-block' | 'no-400' | 'bad-skip' | 'no-hint' | 'all-sync';
const BLOCK_CASES: Array<[Fault, string[]]> = [
  ['no-block', ['block-part', 'block-msn']],
  ['no-400', ['block-msn-too-far', 'block-part-without-msn']],
  ['bad-skip', ['block-skip']],
  ['no-hint', ['block-preload-hint']],
];

/** A live LL-HLS playlist that grows one 0.25 s part every 100 ms (4 parts a segment), served with one fault. */
async function fakeOrigin(fault: Fault): Promise<{ url: string; close: () => Promise<void> }> {
  const done: PlaylistSegment[] = [];
  let open: PlaylistPart[] = [];
  const waiters = new Set<() => void>();
  const produce = (): void => {
    const msn = done.length;
    open.push(part(msn, open.length));
    if (open.length === 4) {
      done.push({ uri: `s/${msn}.m4s`, durationS: 1, discontinuity: false, parts: open, programDateTime: T0 + msn * 1000, ...(msn === 0 ? { map: 's/init-0.mp4' } : {}) });
      open = [];
    }
    for (const w of [...waiters]) w();
  };
  // Nine segments and a part of the tenth at once; then a part every 100 ms. A server that does not hold
  // requests is also frozen: nothing produced between the checker's requests can hide the fault.
  for (let i = 0; i < 37; i++) produce();
  const timer = fault === 'no-block' || fault === 'no-hint' ? undefined : setInterval(produce, 100);
  const lastMsn = (): number => done.length - 1;
  const has = (msn: number, i?: number): boolean => lastMsn() >= msn || (i !== undefined && msn === done.length && open.length > i);
  const playlist = (skip: boolean): string => {
    const segments = done.slice(-8).map((s, i, all) => (i < all.length - 2 ? { ...s, parts: undefined } : s));
    const p: MediaPlaylist = {
      targetDurationS: 1,
      mediaSequence: Math.max(0, done.length - 8),
      discontinuitySequence: 0,
      segments: segments.map((s) => Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as unknown as PlaylistSegment),
      endList: false,
      independentSegments: true,
      partTargetS: 0.25,
      serverControl: { canBlockReload: true, partHoldBackS: 0.75, canSkipUntilS: 6 },
      openSegment: { discontinuity: false, programDateTime: T0 + done.length * 1000 },
      trailingParts: open.length ? [...open] : undefined,
      preloadHint: { uri: `s/${done.length}.${open.length}.m4s` },
    };
    if (!p.trailingParts) delete p.trailingParts;
    if (skip) p.skippedSegments = Math.max(0, p.segments.length - 6) + (fault === 'bad-skip' ? 2 : 0);
    return writeMediaPlaylist(p);
  };
  const until = (cond: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      if (cond()) return resolve();
      const w = (): void => {
        if (!cond()) return;
        waiters.delete(w);
        resolve();
      };
      waiters.add(w);
    });
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body: string | Buffer): void => void res.writeHead(status).end(body);
    void (async () => {
      if (u.pathname === '/live/s.m3u8') {
        const msn = u.searchParams.get('_HLS_msn');
        const partIndex = u.searchParams.get('_HLS_part');
        if (partIndex !== null && msn === null) return send(fault === 'no-400' ? 200 : 400, fault === 'no-400' ? playlist(false) : 'bad');
        if (msn !== null) {
          const m = Number(msn);
          if (m > lastMsn() + 2 && fault !== 'no-400') return send(400, 'too far');
          if (fault !== 'no-block') await until(() => has(m, partIndex === null ? undefined : Number(partIndex)));
        }
        return send(200, playlist(u.searchParams.get('_HLS_skip') === 'YES'));
      }
      const m = /^\/live\/s\/(\d+)\.(\d+)\.m4s$/.exec(u.pathname);
      if (m) {
        const [msn, i] = [Number(m[1]), Number(m[2])];
        const hinted = msn === done.length && i === open.length;
        if (!has(msn, i) && !(hinted && fault !== 'no-hint')) return send(404, '');
        await until(() => has(msn, i));
        // One video sample: a keyframe opening each segment (or in every part, with the fault).
        const sample = { duration: 22_500, size: 4, sync: i === 0 || fault === 'all-sync', cts: 0 };
        const fragment = writeFragment(msn * 4 + i + 1, [{ trackId: 1, baseDecodeTime: (msn * 4 + i) * 22_500, samples: [sample], data: [Buffer.alloc(4, i)] }]);
        return send(200, Buffer.concat(i === 0 ? [writeStyp(), ...fragment] : fragment));
      }
      send(404, '');
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/live/s.m3u8`,
    close: async () => {
      clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

test('checkBlocking: a correct LL-HLS server raises nothing; the keyframe oracle reads its parts', async (t) => {
  const origin = await fakeOrigin('none');
  t.after(origin.close);
  assert.deepEqual(await checkBlocking(origin.url, { timeoutMs: 1500 }), []);
  const text = await (await fetch(origin.url)).text();
  const keyframe = await fetchKeyframeOracle(origin.url, text);
  assert.equal(keyframe(parseMediaPlaylist(text).trailingParts?.[0]?.uri ?? parseMediaPlaylist(text).segments.at(-1)!.parts![0]!.uri), true);
  assert.deepEqual(checkMediaPlaylist(text, { keyframe }), []);
});

test('fetchKeyframeOracle: INDEPENDENT missing on parts whose bytes start with a keyframe is caught', async (t) => {
  const origin = await fakeOrigin('all-sync');
  t.after(origin.close);
  const text = await (await fetch(origin.url)).text();
  const v = checkMediaPlaylist(text, { keyframe: await fetchKeyframeOracle(origin.url, text) });
  assert.ok(v.length > 0 && v.every((x) => x.startsWith('independent-keyframe: ') && x.includes('starts with a keyframe but lacks')), JSON.stringify(v));
});

for (const [fault, rules] of BLOCK_CASES) {
  test(`checkBlocking catches ${rules.join(', ')} (${fault})`, async (t) => {
    const origin = await fakeOrigin(fault);
    t.after(origin.close);
    const v = await checkBlocking(origin.url, { timeoutMs: 1500 });
    for (const rule of rules) assert.ok(v.some((x) => x.startsWith(`${rule}: `)), `${rule} not raised; got ${JSON.stringify(v)}`);
  });
}

const LADDER = (): MultivariantPlaylist => ({
  independentSegments: true,
  variants: [
    { uri: 'cam_source.m3u8', bandwidthBps: 900_000, averageBandwidthBps: 800_000, codecs: 'avc1.64001e,mp4a.40.2', resolution: { width: 426, height: 240 }, frameRate: 30 },
    { uri: 'cam_180p.m3u8', bandwidthBps: 400_000, codecs: 'avc1.64000d,mp4a.40.2', resolution: { width: 320, height: 180 }, frameRate: 30 },
    { uri: 'cam_120p.m3u8', bandwidthBps: 200_000, codecs: 'avc1.64000c,mp4a.40.2', resolution: { width: 214, height: 120 }, frameRate: 15 },
  ],
});
const ladder = (f: (p: MultivariantPlaylist) => void): string => {
  const p = LADDER();
  f(p);
  return writeMultivariantPlaylist(p);
};

/** One bad multivariant playlist per mv-* rule. */
const MULTIVARIANT_CASES: Array<[string, string]> = [
  ['mv-parse', '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n'],
  ['mv-bandwidth', writeMultivariantPlaylist(LADDER()).replace('BANDWIDTH=400000,', '')],
  ['mv-bandwidth', ladder((p) => (p.variants[0]!.averageBandwidthBps = 1_000_000))],
  ['mv-codecs', ladder((p) => delete p.variants[1]!.codecs)],
  ['mv-resolution', ladder((p) => delete p.variants[2]!.resolution)],
  ['mv-resolution', ladder((p) => delete p.variants[2]!.frameRate)],
  ['mv-uri', ladder((p) => (p.variants[1]!.uri = 'cam/180p.m3u8'))],
  ['mv-uri', ladder((p) => (p.variants[2]!.uri = 'cam_180p.m3u8?token=x'))],
  ['mv-order', ladder((p) => (p.variants[2]!.bandwidthBps = 500_000))],
];

test('multivariant: a good ladder raises nothing (audio-only variants need no RESOLUTION); each bad one raises its rule', () => {
  assert.deepEqual(checkMultivariantPlaylist(writeMultivariantPlaylist(LADDER())), []);
  assert.deepEqual(checkMultivariantPlaylist(ladder((p) => (p.variants = [{ uri: 'radio.m3u8', bandwidthBps: 130_000, codecs: 'mp4a.40.2' }]))), []);
  for (const [rule, text] of MULTIVARIANT_CASES) {
    const v = checkMultivariantPlaylist(text);
    assert.ok(v.length > 0 && v.every((x) => x.startsWith(`${rule}: `)), `${rule}: got ${JSON.stringify(v)}`);
  }
});

test('gap segments: exempt from the parts listing rule, but list no parts themselves', () => {
  const gapAt = (msn: number, withParts: boolean): string =>
    edit((p) => {
      const s = seg(p, msn);
      s.gap = true;
      if (!withParts) delete s.parts;
    });
  assert.deepEqual(checkMediaPlaylist(gapAt(17, false)), []);
  assert.deepEqual(checkMediaPlaylist(gapAt(17, true)), ['gap-no-parts: s/17.m4s is a gap but lists 4 parts']);
});

test('every rule has a case that raises it', () => {
  const covered = new Set([...PLAYLIST_CASES, ...PAIR_CASES, ...MULTIVARIANT_CASES, ['gap-no-parts']].map(([rule]) => rule).concat(BLOCK_CASES.flatMap(([, r]) => r)));
  assert.deepEqual(RULES.map((r) => r.id).filter((id) => !covered.has(id)), []);
  assert.equal(new Set(RULES.map((r) => r.id)).size, RULES.length, 'rule ids are unique');
});

test('fmp4StartsWithKeyframe reads the first video sample flags of a part', () => {
  const sample = (sync: boolean) => ({ duration: 3000, size: 4, sync, cts: 0 });
  const frag = (sync: boolean): Buffer =>
    Buffer.concat([writeStyp(), ...writeFragment(1, [{ trackId: 2, baseDecodeTime: 0, samples: [sample(true)], data: [Buffer.alloc(4)] }, { trackId: 1, baseDecodeTime: 0, samples: [sample(sync), sample(false)], data: [Buffer.alloc(8)] }])]);
  assert.equal(fmp4StartsWithKeyframe(frag(true)), true);
  assert.equal(fmp4StartsWithKeyframe(frag(false)), false);
  assert.equal(fmp4StartsWithKeyframe(Buffer.concat(writeFragment(1, [{ trackId: 2, baseDecodeTime: 0, samples: [sample(true)], data: [Buffer.alloc(4)] }]))), true, 'audio only');
  assert.equal(fmp4StartsWithKeyframe(Buffer.from('no boxes here')), undefined);
});
