// HLS ABR on the origin (issue 11): rung playlists follow their source's segments (same numbers, gaps
// where a rung lost segments), /{app}/{stream}.m3u8 is the multivariant playlist with measured BANDWIDTH,
// the source's media playlist moves to {stream}_source.m3u8, a rung playlist that does not exist yet
// waits for its first segment, LL-HLS playlists report their siblings, each variant gets a play token of
// its own. The first tests drive the HLS service with a fake ladder whose "rung" is the source's own
// frames (manual publishers: each segment completes when the test says); the last ones run the real
// transcoder (FFmpeg publishing a small source, the origin's TranscodeService making two small rungs).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser } from 'm3u8-parser';
import { Edge } from '../../src/edge/edge.js';
import { parseMediaPlaylist, parseMultivariantPlaylist } from '../../src/media/hls/playlist.js';
import type { RenditionInfo, Renditions } from '../../src/hub/renditions.js';
import { deriveKeys } from '../../src/shared/keys.js';
import { signPlayToken, verifyPlayToken } from '../../src/shared/token.js';
import { firstVideoPtsMs } from '../../bench/lib/segment-start.js';
import { startOrigin, type TestOrigin } from '../helpers/origin.js';
import type { OriginConfig } from '../../src/origin/origin.js';
import { manualPublisher, type ManualPublisher } from '../helpers/manual-publisher.js';
import { publishTestStream } from '../helpers/publish.js';
import { decodeBytesErrors, decodeErrors, mapUriOf } from '../helpers/hls.js';
import { ffprobeJson, runFfmpeg } from '../helpers/ffmpeg.js';
import { checkMediaPlaylist, checkMultivariantPlaylist } from '../helpers/hls-conformance.js';
import { crossCheckMultivariant, crossCheckPlaylist } from '../helpers/m3u8-crosscheck.js';
import { waitFor } from '../helpers/wait.js';
import { startTranscodingOrigin, transcoderPids } from '../transcode/helpers.js';

const LOW: RenditionInfo = { rung: 'low', stream: 'cam_low', height: 240, videoBps: 300_000, audioBps: 64_000, maxFps: 30 };

/** A ladder for live/cam: the source and one rung, cam_low; `demanded` records demand() calls. */
function fakeLadder(): Renditions & { demanded: string[] } {
  const ladder: RenditionInfo[] = [{ rung: 'source', stream: 'cam' }, LOW];
  const demanded: string[] = [];
  return {
    demanded,
    ladderOf: (app, stream) => (app === 'live' && stream === 'cam' ? ladder : undefined),
    sourceOf: (app, name) => (app === 'live' && name === 'cam_low' ? { source: 'cam', info: LOW } : undefined),
    demand: (app, name) => {
      demanded.push(name);
      return app === 'live' && name === 'cam_low';
    },
  };
}

/** An origin with the fake ladder and manual publishers for the source (cam) and its rung (cam_low). */
async function ladderOrigin(t: TestContext, config: OriginConfig): Promise<{ o: TestOrigin; ladder: ReturnType<typeof fakeLadder>; src: ManualPublisher; low: ManualPublisher }> {
  const o = await startOrigin(config, t);
  const ladder = fakeLadder();
  o.origin.hls.useRenditions(ladder);
  const src = await manualPublisher(o.origin.hub, 'live', 'cam');
  const low = await manualPublisher(o.origin.hub, 'live', 'cam_low');
  t.after(() => {
    src.end();
    low.end();
  });
  return { o, ladder, src, low };
}

async function get(o: TestOrigin, path: string): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(o.httpBase + path);
  return { status: res.status, text: await res.text(), headers: res.headers };
}

test('a rung follows its source: same numbers and boundaries, gaps where it lost segments (404), multivariant with measured BANDWIDTH, waiting rung playlist, API ladder', async (t) => {
  const { o, ladder, src, low } = await ladderOrigin(t, { hlsSegmentMs: 1000, hlsWindow: 8, hlsFormat: 'ts' });

  assert.equal((await get(o, '/live/cam.m3u8')).status, 404, 'no multivariant playlist before the source has a segment');
  src.advance(2.5);
  const master = await get(o, '/live/cam.m3u8');
  assert.equal(master.status, 200);
  assert.equal(master.headers.get('cache-control'), 'public, max-age=1');
  // The rung's CODECS come from its own stream: none before it has one.
  assert.deepEqual(checkMultivariantPlaylist(master.text), ['mv-codecs: cam_low.m3u8 has no CODECS']);
  assert.deepEqual(crossCheckMultivariant(master.text), []);
  const before = parseMultivariantPlaylist(master.text);
  assert.deepEqual(before.variants.map((v) => v.uri), ['cam_source.m3u8', 'cam_low.m3u8']);
  // The rung has no segment yet: its configured rates with 10 % headroom, the source's aspect ratio.
  assert.equal(before.variants[1]?.bandwidthBps, Math.round(364_000 * 1.1));
  assert.equal(before.variants[1]?.resolution?.height, 240);

  // The rung's playlist is asked for before it exists: the request waits for its first segment.
  const waiting = get(o, '/live/cam_low.m3u8');
  await waitFor('the rung playlist request', () => ladder.demanded.includes('cam_low'), 5000);
  low.skip(0.5); // the transcoder starts mid-segment: frames before the next source boundary are skipped
  low.advance(2); // up to 2.5 s: the rung's segment 1.0-2.0 s completes
  const first = await waiting;
  assert.equal(first.status, 200, first.text);

  // The rung loses 3.0-5.0 s (two source segments), then carries on.
  src.advance(4.5); // source up to 7.0 s
  low.advance(0.5);
  low.skip(2);
  low.advance(2); // rung up to 7.0 s
  src.advance(1);
  low.advance(0.1); // the keyframe at 7.0 s closes the rung's 6.0-7.0 s segment
  const source = parseMediaPlaylist((await get(o, '/live/cam_source.m3u8')).text);
  const rungText = (await get(o, '/live/cam_low.m3u8')).text;
  const rung = parseMediaPlaylist(rungText);
  assert.deepEqual(checkMediaPlaylist(rungText), []);
  assert.deepEqual(crossCheckPlaylist(rungText), []);
  const s0 = source.mediaSequence;
  const seqOf = (p: typeof rung, i: number): number => p.mediaSequence + i;
  // The rung starts at the source's second segment and lists every number after it, the lost ones as gaps.
  assert.equal(rung.mediaSequence, s0 + 1);
  assert.deepEqual(
    rung.segments.map((s, i) => [seqOf(rung, i), s.gap ?? false]),
    [1, 2, 3, 4, 5, 6].map((k) => [s0 + k, k === 3 || k === 4]),
  );
  for (const [i, s] of rung.segments.entries()) {
    const twin = source.segments[seqOf(rung, i) - s0];
    assert.ok(twin, `source lists ${seqOf(rung, i)}`);
    // The same number is the same media time: equal durations, except the segment cut short by the loss.
    if (seqOf(rung, i) !== s0 + 2) assert.ok(Math.abs(s.durationS - twin.durationS) < 0.05, `${s.uri}: ${s.durationS} vs ${twin.durationS}`);
    const status = (await fetch(`${o.httpBase}/live/${s.uri}`)).status;
    assert.equal(status, s.gap ? 404 : 200, s.uri);
  }

  // Measured now: BANDWIDTH is the peak of bits / EXTINF over the listed segments, AVERAGE-BANDWIDTH the mean.
  const masterText = (await get(o, '/live/cam.m3u8')).text;
  assert.deepEqual(checkMultivariantPlaylist(masterText), []);
  const after = parseMultivariantPlaylist(masterText);
  const sizes = await Promise.all(rung.segments.filter((s) => !s.gap).map(async (s) => ({ bits: (await (await fetch(`${o.httpBase}/live/${s.uri}`)).arrayBuffer()).byteLength * 8, s: s.durationS })));
  const peak = Math.max(...sizes.map((x) => x.bits / x.s));
  assert.ok(Math.abs((after.variants[1]?.bandwidthBps ?? 0) - peak) <= 1, `${after.variants[1]?.bandwidthBps} vs ${peak}`);
  assert.ok((after.variants[1]?.averageBandwidthBps ?? Infinity) <= (after.variants[1]?.bandwidthBps ?? 0));
  assert.match(after.variants[1]?.codecs ?? '', /^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);

  const api = (await (await fetch(`${o.httpBase}/api/streams`)).json()) as { streams: Array<{ name: string; ladder?: Array<{ rung: string; stream: string; live: boolean; bandwidthBps?: number }> }> };
  const cam = api.streams.find((s) => s.name === 'cam');
  assert.deepEqual(cam?.ladder?.map((r) => [r.rung, r.stream, r.live]), [['source', 'cam', true], ['low', 'cam_low', true]]);
  assert.equal(cam?.ladder?.[1]?.bandwidthBps, after.variants[1]?.bandwidthBps);
  assert.equal(api.streams.find((s) => s.name === 'cam_low')?.ladder, undefined);
});

test('a rung playlist that never comes answers 503 after the wait; a name that is no rung is a 404 at once', async (t) => {
  const o = await startOrigin({ hlsSegmentMs: 1000, hlsFormat: 'ts' }, t);
  o.origin.hls.useRenditions(fakeLadder());
  const t0 = Date.now();
  assert.equal((await get(o, '/live/nope.m3u8')).status, 404);
  assert.ok(Date.now() - t0 < 1000);
  // (the wait is ORIGIN_DEFAULTS.hlsRenditionWaitMs, 10 s)
  const r = await get(o, '/live/cam_low.m3u8');
  assert.equal(r.status, 503);
  assert.ok(Date.now() - t0 >= 9000, `${Date.now() - t0} ms`);
  assert.equal(o.origin.hls.held, 0, 'the held slot is given back');
});

test('LL-HLS: every playlist of the ladder reports its siblings (EXT-X-RENDITION-REPORT)', async (t) => {
  const { o, src, low } = await ladderOrigin(t, { hlsSegmentMs: 1000, hlsPartMs: 200, hlsFormat: 'fmp4' });
  src.advance(3.5);
  low.advance(3.3);
  src.advance(0.5); // the source renders again (parts complete): its report of the rung is current
  const source = parseMediaPlaylist((await get(o, '/live/cam_source.m3u8')).text);
  const rungText = (await get(o, '/live/cam_low.m3u8')).text;
  const rung = parseMediaPlaylist(rungText);
  assert.deepEqual(checkMediaPlaylist(rungText), []);
  assert.deepEqual(crossCheckPlaylist(rungText), []);
  const last = (p: typeof rung): { msn: number; part: number } => {
    const trailing = p.trailingParts ?? [];
    return trailing.length > 0 ? { msn: p.mediaSequence + p.segments.length, part: trailing.length - 1 } : { msn: p.mediaSequence + p.segments.length - 1, part: (p.segments.at(-1)?.parts?.length ?? 1) - 1 };
  };
  // The rung's report of the source is as of the rung's last render (the source moved on since).
  const reportOfSource = rung.renditionReports?.[0];
  assert.equal(reportOfSource?.uri, 'cam_source.m3u8');
  assert.ok((reportOfSource?.lastMsn ?? 0) <= last(source).msn && (reportOfSource?.lastMsn ?? 0) >= last(rung).msn);
  // The source was rendered last: its report of the rung is exact.
  assert.deepEqual(source.renditionReports, [{ uri: 'cam_low.m3u8', lastMsn: last(rung).msn, lastPart: last(rung).part }]);
});

test('play tokens: each variant of the multivariant playlist carries a token for its own stream; every variant, its segments, maps and parts play with them; a source token alone opens no rung', async (t) => {
  const keys = deriveKeys('origin-abr-hls-test-root-secret-32-bytes+');
  const { o, src, low } = await ladderOrigin(t, { hlsSegmentMs: 1000, hlsPartMs: 200, hlsFormat: 'fmp4', keys, playTokens: true });
  src.advance(3.5);
  low.advance(3.2);
  const expSec = Math.floor(Date.now() / 1000) + 3600;
  const token = (stream: string): string => signPlayToken({ app: 'live', stream, expSec }, keys.play);
  const tokenIn = (uri: string): string | undefined => new URL(uri, `${o.httpBase}/live/`).searchParams.get('token') ?? undefined;
  const master = await get(o, `/live/cam.m3u8?token=${token('cam')}`);
  assert.equal(master.status, 200);
  const variants = parseMultivariantPlaylist(master.text).variants;
  assert.deepEqual(variants.map((v) => v.uri.split('?')[0]), ['cam_source.m3u8', 'cam_low.m3u8']);
  // The stream whose token each variant's playlist gets, and the one its objects need (the source's
  // media playlist lists the source's objects, cam/…).
  const expected: Record<string, { playlist: string; objects: string }> = {
    'cam_source.m3u8': { playlist: 'cam_source', objects: 'cam' },
    'cam_low.m3u8': { playlist: 'cam_low', objects: 'cam_low' },
  };
  for (const v of variants) {
    const want = expected[v.uri.split('?')[0] as string];
    assert.ok(want, v.uri);
    assert.deepEqual(verifyPlayToken(tokenIn(v.uri), { app: 'live', stream: want.playlist }, keys.play), { ok: true, expSec }, `${v.uri}: its own token, the viewer's expiry`);
    const media = await get(o, `/live/${v.uri}`);
    assert.equal(media.status, 200, v.uri);
    const p = parseMediaPlaylist(media.text);
    const objects = [...new Set([...p.segments.flatMap((s) => [s.uri, s.map ?? '', ...(s.parts ?? []).map((x) => x.uri)]), p.preloadHint?.uri ?? ''])].filter((u) => u !== '');
    assert.ok(objects.some((u) => u.includes('/init-')) && objects.some((u) => /\/\d+\.\d+\.m4s/.test(u)) && p.segments.length >= 2, media.text);
    for (const uri of objects) {
      assert.ok(uri.startsWith(`${want.objects}/`), uri);
      assert.deepEqual(verifyPlayToken(tokenIn(uri), { app: 'live', stream: want.objects }, keys.play), { ok: true, expSec }, uri);
    }
    // Every object but the preload hint (it streams once its part opens) plays with the token it carries.
    for (const uri of objects.filter((u) => u !== p.preloadHint?.uri)) assert.equal((await fetch(`${o.httpBase}/live/${uri}`)).status, 200, uri);
    // Rendition reports are hints of where a sibling is: they keep the viewer's token.
    for (const r of p.renditionReports ?? []) assert.equal(tokenIn(r.uri), tokenIn(v.uri), r.uri);
  }
  assert.equal((await get(o, '/live/cam.m3u8')).status, 403);
  // A source's token alone opens no rendition: not a rung, not the source's media playlist, not a rung's segments.
  const low1 = parseMediaPlaylist((await get(o, `/live/cam_low.m3u8?token=${token('cam_low')}`)).text).segments[0]?.uri.split('?')[0];
  for (const path of ['/live/cam_low.m3u8', '/live/cam_source.m3u8', `/live/${low1}`, '/live/cam_private.m3u8']) {
    assert.equal((await get(o, `${path}?token=${token('cam')}`)).status, 403, path);
  }
  assert.equal((await get(o, `/live/cam_low.m3u8?token=${token('other')}`)).status, 403);
  // A rung's own token plays the rung, not the source.
  assert.equal((await get(o, `/live/cam_low.m3u8?token=${token('cam_low')}`)).status, 200);
  assert.equal((await get(o, `/live/cam.m3u8?token=${token('cam_low')}`)).status, 403);
});

test('without a ladder nothing changes: the stream URL is its media playlist, no reports, no ladder in the API', async (t) => {
  const o = await startOrigin({ hlsSegmentMs: 1000, hlsPartMs: 200, hlsFormat: 'fmp4' }, t);
  o.origin.hls.useRenditions(fakeLadder());
  const other = await manualPublisher(o.origin.hub, 'live', 'solo');
  t.after(() => other.end());
  other.advance(2.5);
  const text = (await get(o, '/live/solo.m3u8')).text;
  assert.equal(parseMediaPlaylist(text).renditionReports, undefined);
  assert.equal((await get(o, '/live/solo_source.m3u8')).status, 404);
  const api = (await (await fetch(`${o.httpBase}/api/streams`)).json()) as { streams: Array<{ name: string; ladder?: unknown; transcode?: unknown }> };
  assert.deepEqual([api.streams[0]?.ladder, api.streams[0]?.transcode], [undefined, undefined]);
});

test('through an edge: the multivariant playlist passes untouched, every variant and its segments are served, gap URIs are 404s', async (t) => {
  const { o, src, low } = await ladderOrigin(t, { hlsSegmentMs: 1000, hlsWindow: 8, hlsFormat: 'ts' });
  src.advance(3.5);
  low.advance(2.5);
  low.skip(2); // 2.5-4.5 s lost: gaps at 3-4 and 4-5 s
  src.advance(3);
  low.advance(1.6); // the keyframe at 6 s completes the rung's 5-6 s segment, after the gaps
  const edge = new Edge({ upstreams: [o.httpBase], httpPort: 0, host: '127.0.0.1' });
  const { httpPort } = await edge.start();
  t.after(() => edge.stop());
  const base = `http://127.0.0.1:${httpPort}`;
  const master = await (await fetch(`${base}/live/cam.m3u8`)).text();
  assert.equal(master, (await get(o, '/live/cam.m3u8')).text);
  for (const v of parseMultivariantPlaylist(master).variants) {
    const text = await (await fetch(`${base}/live/${v.uri}`)).text();
    const p = parseMediaPlaylist(text);
    assert.ok(p.segments.length >= 2, v.uri);
    for (const s of p.segments) {
      const viaEdge = await fetch(`${base}/live/${s.uri}`);
      if (s.gap) {
        assert.equal(viaEdge.status, 404, s.uri);
        continue;
      }
      assert.equal(viaEdge.status, 200, s.uri);
      assert.deepEqual(Buffer.from(await viaEdge.arrayBuffer()), Buffer.from(await (await fetch(`${o.httpBase}/live/${s.uri}`)).arrayBuffer()), s.uri);
    }
    if (v.uri === 'cam_low.m3u8') assert.equal(p.segments.filter((s) => s.gap).length, 2, text);
  }
});

// ---- with the real transcoder ----

/** 25 fps source: one frame. */
const FRAME_MS = 40;

interface Listed {
  readonly seq: number;
  readonly uri: string;
  readonly durationS: number;
  readonly gap: boolean;
  /** EXT-X-PROGRAM-DATE-TIME, epoch ms. */
  readonly pdt: number | undefined;
}

const listedOf = (text: string): Listed[] => {
  const p = parseMediaPlaylist(text);
  return p.segments.map((s, i) => ({ seq: p.mediaSequence + i, uri: s.uri, durationS: s.durationS, gap: s.gap ?? false, pdt: s.programDateTime }));
};

/** The measured peak bit rate of a media playlist's listed segments: max of bits / EXTINF. */
async function measuredPeak(base: string, text: string): Promise<number> {
  let peak = 0;
  for (const s of listedOf(text)) {
    if (s.gap || s.durationS <= 0) continue;
    const bytes = (await (await fetch(`${base}/live/${s.uri}`)).arrayBuffer()).byteLength;
    peak = Math.max(peak, (bytes * 8) / s.durationS);
  }
  return peak;
}

/** The PTS (ms) of the first video frame of an fMP4 segment, decoded with ffprobe behind its init segment. */
async function fmp4FirstPtsMs(init: Buffer, segment: Buffer): Promise<number | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'livecdn-abr-'));
  try {
    const file = join(dir, 'seg.mp4');
    writeFileSync(file, Buffer.concat([init, segment]));
    const j = (await ffprobeJson(file, ['-select_streams', 'v', '-show_entries', 'frame=pts_time', '-read_intervals', '%+#1'])) as { frames?: Array<{ pts_time?: string }> };
    const t = j.frames?.[0]?.pts_time;
    return t === undefined ? undefined : Number(t) * 1000;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('play tokens through an edge: the master lists each variant with its own token; FFmpeg plays every variant; a source token alone opens no rung', async (t) => {
  const keys = deriveKeys('origin-abr-hls-edge-test-root-secret-32+');
  const { o, src, low } = await ladderOrigin(t, { hlsSegmentMs: 1000, hlsWindow: 8, hlsFormat: 'ts', keys, playTokens: true });
  src.advance(5.5);
  low.advance(5.2);
  const edge = new Edge({ upstreams: [o.httpBase], httpPort: 0, host: '127.0.0.1', keys, playTokens: true });
  const { httpPort } = await edge.start();
  t.after(() => edge.stop());
  const base = `http://127.0.0.1:${httpPort}`;
  const expSec = Math.floor(Date.now() / 1000) + 3600;
  const token = (stream: string): string => signPlayToken({ app: 'live', stream, expSec }, keys.play);
  const tokenIn = (uri: string): string | undefined => new URL(uri, `${base}/live/`).searchParams.get('token') ?? undefined;
  const masterUrl = `${base}/live/cam.m3u8?token=${token('cam')}`;
  // Twice: the second viewer's copy comes from the edge's cache, rewritten for it.
  for (const viewer of ['first', 'cached']) {
    const master = await fetch(masterUrl);
    assert.equal(master.status, 200, viewer);
    const variants = parseMultivariantPlaylist(await master.text()).variants;
    assert.deepEqual(variants.map((v) => v.uri.split('?')[0]), ['cam_source.m3u8', 'cam_low.m3u8'], viewer);
    for (const v of variants) {
      const name = (v.uri.split('?')[0] as string).replace(/\.m3u8$/, '');
      assert.deepEqual(verifyPlayToken(tokenIn(v.uri), { app: 'live', stream: name }, keys.play), { ok: true, expSec }, v.uri);
      const media = await fetch(`${base}/live/${v.uri}`);
      assert.equal(media.status, 200, v.uri);
      const segments = parseMediaPlaylist(await media.text()).segments;
      assert.ok(segments.length >= 4, v.uri);
      // The source's media playlist lists the source's segments (cam/…), with a token for cam.
      const objects = name === 'cam_source' ? 'cam' : name;
      for (const seg of segments) {
        assert.ok(seg.uri.startsWith(`${objects}/`), seg.uri);
        assert.deepEqual(verifyPlayToken(tokenIn(seg.uri), { app: 'live', stream: objects }, keys.play), { ok: true, expSec }, seg.uri);
        assert.equal((await fetch(`${base}/live/${seg.uri}`)).status, 200, seg.uri);
      }
    }
  }
  // FFmpeg reads the master and decodes both variants (-map 0) from the tokens the edge handed out.
  const played = await runFfmpeg(['-nostdin', '-v', 'error', '-live_start_index', '0', '-i', masterUrl, '-map', '0', '-t', '2', '-f', 'null', '-'], { timeoutMs: 60_000 });
  assert.equal(played.code, 0, played.stderr);
  assert.equal(played.stderr.trim(), '');
  // A source's token alone opens no rendition through the edge, and no other cam_ stream.
  const lowSegment = parseMediaPlaylist(await (await fetch(`${base}/live/cam_low.m3u8?token=${token('cam_low')}`)).text()).segments[0]?.uri.split('?')[0];
  for (const path of ['/live/cam_low.m3u8', '/live/cam_source.m3u8', `/live/${lowSegment}`, '/live/cam_private.m3u8', '/live/cam_private.flv']) {
    assert.equal((await fetch(`${base}${path}?token=${token('cam')}`)).status, 403, path);
  }
  assert.equal((await fetch(`${base}/live/cam.m3u8?token=${token('cam_low')}`)).status, 403);
});

test('real transcoder, MPEG-TS: multivariant BANDWIDTH within 25 % of the measured peak; every rung lists the source\'s numbers, each segment starting within a frame of the source\'s', async (t) => {
  const o = await startTranscodingOrigin(t, {}, { hlsSegmentMs: 1000, hlsWindow: 30, hlsFormat: 'ts', hlsGraceMs: 1000 });
  const pub = publishTestStream(o.rtmpUrl('live', 'cam'), 'h264-high-bframes+aac-stereo', { size: '426x240', gopS: 1, durationS: 15 });
  t.after(() => pub.stop());
  const base = o.httpBase;
  // Live: the master lists the source and both rungs once each has segments.
  const master = await waitFor(
    'three live variants with segments',
    async () => {
      const r = await get(o, '/live/cam.m3u8');
      if (r.status !== 200 || !r.text.includes('#EXT-X-STREAM-INF')) return undefined;
      const lows = await Promise.all(['cam_low', 'cam_tiny'].map(async (n) => listedOf((await get(o, `/live/${n}.m3u8`)).text || '#EXTM3U\n#EXT-X-TARGETDURATION:1\n').length));
      return lows.every((n) => n >= 5) ? r.text : undefined;
    },
    40_000,
    500,
  );
  const fresh = await get(o, '/live/cam.m3u8');
  const medias = await Promise.all(['cam_source', 'cam_low', 'cam_tiny'].map(async (n) => (await get(o, `/live/${n}.m3u8`)).text));
  assert.match(master, /#EXT-X-STREAM-INF/);
  // m3u8-parser reads it: three variants, source first.
  const parser = new Parser();
  parser.push(fresh.text);
  parser.end();
  const variants = parser.manifest.playlists ?? [];
  assert.deepEqual(variants.map((v) => v.uri), ['cam_source.m3u8', 'cam_low.m3u8', 'cam_tiny.m3u8']);
  assert.deepEqual(checkMultivariantPlaylist(fresh.text), []);
  assert.deepEqual(crossCheckMultivariant(fresh.text), []);
  assert.deepEqual(variants.map((v) => v.attributes.RESOLUTION?.height), [240, 180, 120]);
  for (const [i, v] of variants.entries()) {
    const peak = await measuredPeak(base, medias[i] ?? '');
    const bw = v.attributes.BANDWIDTH ?? 0;
    assert.ok(Math.abs(bw - peak) <= 0.25 * peak, `${v.uri}: BANDWIDTH ${bw}, measured peak ${Math.round(peak)}`);
    t.diagnostic(`${v.uri}: BANDWIDTH ${bw}, AVERAGE-BANDWIDTH ${v.attributes['AVERAGE-BANDWIDTH']}, measured peak ${Math.round(peak)}, ${v.attributes.CODECS} ${v.attributes.RESOLUTION?.width}x${v.attributes.RESOLUTION?.height}@${v.attributes['FRAME-RATE']}`);
    assert.match(v.attributes.CODECS ?? '', /^avc1\.[0-9a-f]{6},mp4a\.40\.2$/, v.uri);
    assert.ok((v.attributes['FRAME-RATE'] ?? 0) > 0, `${v.uri} FRAME-RATE`);
  }
  const api = (await (await fetch(`${base}/api/streams`)).json()) as { streams: Array<{ name: string; ladder?: Array<{ rung: string; live: boolean }>; transcode?: { where: string; rungsUp: number } }> };
  const cam = api.streams.find((x) => x.name === 'cam');
  assert.deepEqual(cam?.ladder?.map((r) => [r.rung, r.live]), [['source', true], ['low', true], ['tiny', true]]);
  assert.deepEqual([cam?.transcode?.where, cam?.transcode?.rungsUp], ['local', 2]);

  // After the publisher ends, every playlist ends (ENDLIST): compare them whole.
  await pub.exited;
  const ended = await waitFor(
    'every playlist to end',
    async () => {
      const texts = await Promise.all(['cam', 'cam_low', 'cam_tiny'].map(async (n) => (await get(o, `/live/${n}.m3u8`)).text));
      return texts.every((x) => x.includes('#EXT-X-ENDLIST')) ? texts : undefined;
    },
    20_000,
    250,
  );
  const [source, ...rungs] = ended.map(listedOf) as [Listed[], ...Listed[][]];
  const bySeq = new Map(source.map((s) => [s.seq, s]));
  const startOf = async (s: Listed): Promise<number | undefined> => firstVideoPtsMs(Buffer.from(await (await fetch(`${base}/live/${s.uri}`)).arrayBuffer()));
  for (const rung of rungs) {
    assert.ok(rung.length >= 8, `${rung.length} rung segments`);
    let worst = 0;
    // Same numbers as the source from the rung's first on (the last may end a segment early or late: the transcoder stops with the source).
    const from = source.findIndex((s) => s.seq === rung[0]?.seq);
    assert.ok(from >= 0 && from <= 2, `the rung starts at the source's segment ${from}`);
    // As many segments as the source from there (the last one may be cut differently when the source ends).
    assert.ok(Math.abs(rung.length - (source.length - from)) <= 1, `${rung.length} rung segments, ${source.length - from} in the source from #${from}`);
    const common = rung.slice(0, -1);
    assert.deepEqual(common.map((s) => s.seq), source.slice(from, from + common.length).map((s) => s.seq));
    assert.equal(common.filter((s) => s.gap).length, 0, 'no gaps without a restart');
    for (const s of common) {
      const twin = bySeq.get(s.seq) as Listed;
      const [a, b] = await Promise.all([startOf(s), startOf(twin)]);
      assert.ok(a !== undefined && b !== undefined && Math.abs(a - b) <= FRAME_MS, `${s.uri} starts at ${a} ms, the source's at ${b} ms`);
      worst = Math.max(worst, Math.abs(a - b));
      assert.ok(Math.abs(s.durationS - twin.durationS) * 1000 <= FRAME_MS, `${s.uri}: EXTINF ${s.durationS} vs ${twin.durationS}`);
      // Players line renditions up by their dates: the same number carries the source's date.
      assert.ok(s.pdt !== undefined && twin.pdt !== undefined && Math.abs(s.pdt - twin.pdt) <= FRAME_MS, `${s.uri}: PDT ${s.pdt} vs the source's ${twin.pdt}`);
    }
    assert.equal(await decodeErrors(`${base}/live/${rung[2]?.uri}`), '');
    t.diagnostic(`${rung[0]?.uri.split('/')[0]}: ${rung.length} segments from the source's #${from}, ${common.length} compared, worst start difference ${worst.toFixed(1)} ms`);
  }
});

test('real transcoder, LL-HLS through an edge: rung playlists report their siblings; master, rung playlists and segments served by the edge; first segments aligned (tfdt/PTS)', async (t) => {
  const o = await startTranscodingOrigin(t, {}, { hlsSegmentMs: 1000, hlsPartMs: 250, hlsFormat: 'fmp4' });
  const pub = publishTestStream(o.rtmpUrl('live', 'cam'), 'baseline+aac-mono', { size: '320x240', gopS: 1, durationS: 14 });
  t.after(() => pub.stop());
  const edge = new Edge({ upstreams: [o.httpBase], httpPort: 0, host: '127.0.0.1' });
  const { httpPort } = await edge.start();
  t.after(() => edge.stop());
  const base = `http://127.0.0.1:${httpPort}`;
  const names = ['cam_source', 'cam_low', 'cam_tiny'];
  const texts = await waitFor(
    'every rendition listing 4 segments',
    async () => {
      const all = await Promise.all(names.map(async (n) => {
        const r = await fetch(`${o.httpBase}/live/${n}.m3u8`);
        return r.status === 200 ? await r.text() : '';
      }));
      return all.every((x) => x !== '' && parseMediaPlaylist(x).segments.length >= 4) ? all : undefined;
    },
    40_000,
    500,
  );
  for (const [i, text] of texts.entries()) {
    const reports = parseMediaPlaylist(text).renditionReports ?? [];
    assert.deepEqual(reports.map((r) => r.uri).sort(), names.filter((_, j) => j !== i).map((n) => `${n}.m3u8`).sort(), `${names[i]} reports`);
    for (const r of reports) assert.ok(r.lastMsn > 0 && r.lastPart !== undefined, JSON.stringify(r));
    assert.deepEqual(checkMediaPlaylist(text), [], names[i]);
    assert.deepEqual(crossCheckPlaylist(text), [], names[i]);
  }
  // Through the edge: the multivariant playlist as the origin wrote it, then each variant and its media.
  const master = await (await fetch(`${base}/live/cam.m3u8`)).text();
  assert.deepEqual(checkMultivariantPlaylist(master), []);
  const firsts: number[] = [];
  const source = parseMediaPlaylist(texts[0] ?? '');
  for (const v of parseMultivariantPlaylist(master).variants) {
    const r = await fetch(`${base}/live/${v.uri}`);
    assert.equal(r.status, 200, v.uri);
    const text = await r.text();
    const p = parseMediaPlaylist(text);
    const init = Buffer.from(await (await fetch(`${base}/live/${mapUriOf(text)}`)).arrayBuffer());
    // The first segment both this variant and the source list: where does it start?
    const seq = Math.max(p.mediaSequence, source.mediaSequence) + 1;
    const seg = p.segments[seq - p.mediaSequence];
    assert.ok(seg && !seg.gap, `${v.uri} lists ${seq}`);
    const bytes = Buffer.from(await (await fetch(`${base}/live/${seg.uri}`)).arrayBuffer());
    assert.equal(await decodeBytesErrors([init, bytes]), '', seg.uri);
    const pts = await fmp4FirstPtsMs(init, bytes);
    assert.ok(pts !== undefined, seg.uri);
    firsts.push(pts);
  }
  assert.equal(firsts.length, 3);
  t.diagnostic(`first common segment starts (source, low, tiny): ${firsts.map((x) => x.toFixed(1)).join(', ')} ms`);
  for (const pts of firsts) assert.ok(Math.abs(pts - (firsts[0] ?? NaN)) <= FRAME_MS, `first segment starts ${JSON.stringify(firsts)} ms`);
});

test('real transcoder killed (-9): the rung playlists go on with a discontinuity, the source\'s numbers (gaps for what was lost) and start times', async (t) => {
  const o = await startTranscodingOrigin(t, {}, { hlsSegmentMs: 1000, hlsWindow: 30, hlsFormat: 'ts' });
  const pub = publishTestStream(o.rtmpUrl('live', 'cam'), 'baseline+aac-mono', { gopS: 1, durationS: 30 });
  t.after(() => pub.stop());
  const rungLength = async (): Promise<number> => {
    const r = await get(o, '/live/cam_low.m3u8');
    return r.status === 200 ? parseMediaPlaylist(r.text).segments.length : 0;
  };
  await waitFor('4 rung segments', async () => (await rungLength()) >= 4, 40_000, 250);
  const [pid, ...others] = transcoderPids();
  assert.ok(pid !== undefined && others.length === 0, `one transcoder child, got ${[pid, ...others].join(', ')}`);
  process.kill(pid, 'SIGKILL');
  await waitFor('the restart', () => o.origin.transcode?.stats('live', 'cam')?.restarts === 1, 10_000);
  const [sourceText, rungText] = await waitFor(
    '4 rung segments after the discontinuity',
    async () => {
      const texts = await Promise.all(['cam_source', 'cam_low'].map(async (n) => (await get(o, `/live/${n}.m3u8`)).text));
      const rung = parseMediaPlaylist(texts[1] ?? '');
      const disc = rung.segments.findIndex((x) => x.discontinuity);
      return disc >= 0 && rung.segments.length - disc >= 4 ? texts : undefined;
    },
    40_000,
    250,
  );
  assert.deepEqual(checkMediaPlaylist(rungText ?? ''), []);
  const source = new Map(listedOf(sourceText ?? '').map((x) => [x.seq, x]));
  const rung = listedOf(rungText ?? '');
  const disc = parseMediaPlaylist(rungText ?? '').segments.findIndex((x) => x.discontinuity);
  const gaps = rung.filter((x) => x.gap).map((x) => x.seq);
  t.diagnostic(`after the kill: gaps ${JSON.stringify(gaps)}, discontinuity at ${rung[disc]?.seq}`);
  // Every rung number is one of the source's, and after the restart each segment starts where the source's does.
  for (const x of rung) assert.ok(source.has(x.seq), `${x.uri}: the source lists no ${x.seq}`);
  for (const x of rung.slice(disc, -1)) {
    const twin = source.get(x.seq) as Listed;
    const [a, b] = await Promise.all([x, twin].map(async (y) => firstVideoPtsMs(Buffer.from(await (await fetch(`${o.httpBase}/live/${y.uri}`)).arrayBuffer()))));
    assert.ok(a !== undefined && b !== undefined && Math.abs(a - b) <= FRAME_MS, `${x.uri} starts at ${a} ms, the source's at ${b} ms`);
  }
  // Gap URIs are 404s.
  for (const x of rung.filter((y) => y.gap)) assert.equal((await fetch(`${o.httpBase}/live/${x.uri}`)).status, 404);
});
