// LL-HLS on fMP4 at the origin, from a real FFmpeg publish: every playlist passes the conformance checker
// (test/helpers/hls-conformance.ts), init + segments and init + parts decode cleanly in FFmpeg and read
// in mp4box, a segment is exactly its parts, blocking reloads and their 400s behave, a preload-hinted part
// streams as it is written, and each object kind carries its Cache-Control. Plain fMP4 HLS (no parts)
// and the CLI flags are checked too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startOrigin, originCliConfig } from '../helpers/origin.js';
import { publishTestStream } from '../helpers/publish.js';
import { fetchBuffer, fetchText } from '../helpers/http.js';
import { decodeBytesErrors, fetchOk, fetchPlaylist, mapUriOf, segmentUrl } from '../helpers/hls.js';
import { checkBlocking, checkMediaPlaylist, checkReloadPair, fetchKeyframeOracle } from '../helpers/hls-conformance.js';
import { crossCheckPlaylist } from '../helpers/m3u8-crosscheck.js';
import { readMp4 } from '../helpers/mp4box.js';
import { manualPublisher } from '../helpers/manual-publisher.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { parseMediaPlaylist } from '../../src/media/hls/playlist.js';
import type { MediaPlaylist } from '../../src/media/hls/playlist.js';
import { CONTENT_TYPE } from '../../src/shared/url-contract.js';
import { OptionsError } from '../../src/cli/options.js';

/** A GET that records when each body chunk arrived. */
function timedGet(url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; firstAt: number; endAt: number; startedAt: number }> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const req = http.get(url, (res) => {
      const chunks: Buffer[] = [];
      let firstAt = NaN;
      res.on('data', (c: Buffer) => {
        if (chunks.length === 0) firstAt = performance.now();
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), firstAt, endAt: performance.now(), startedAt }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error('timed out')));
  });
}

test('LL-HLS on fMP4: conformance, decoding, parts, blocking reloads, preload hints, caching', async (t) => {
  const o = await startOrigin({ hlsSegmentMs: 1000, hlsPartMs: 200, hlsWindow: 10, playWaitMs: 0 }, t);
  const pub = publishTestStream(o.rtmpUrl('live', 'll'), 'h264-high-bframes+aac-stereo', { gopS: 1 });
  t.after(() => pub.stop());
  const url = o.hlsUrl('live', 'll');
  // More than CAN-SKIP-UNTIL (6 s) of segments, so that a delta update skips some.
  await waitFor('8 segments listed', async () => ((await fetchPlaylist(url)).playlist?.segments.length ?? 0) >= 8 || undefined, 40_000, 200).catch((e: Error) => {
    throw new Error(`${e.message}\n${pub.log()}`);
  });

  await t.test('every full and delta playlist passes the checker, also across reloads', async () => {
    let prev: string | undefined;
    let deltasChecked = 0;
    for (let i = 0; i < 10; i++) {
      const full = await fetchText(url);
      const delta = await fetchText(`${url}?_HLS_skip=YES`);
      const again = await fetchText(url);
      assert.equal(full.status, 200);
      const keyframe = await fetchKeyframeOracle(url, full.text);
      assert.deepEqual(checkMediaPlaylist(full.text, { keyframe }), [], full.text);
      assert.deepEqual(crossCheckPlaylist(full.text), [], full.text);
      assert.deepEqual(crossCheckPlaylist(delta.text), [], delta.text);
      if (again.text === full.text) {
        assert.match(delta.text, /#EXT-X-SKIP:SKIPPED-SEGMENTS=[1-9]/);
        assert.deepEqual(checkMediaPlaylist(delta.text, { full: full.text }), [], delta.text);
        deltasChecked++;
      }
      if (prev !== undefined) assert.deepEqual(checkReloadPair(prev, full.text), [], `${prev}\n----\n${full.text}`);
      prev = full.text;
      await sleep(120);
    }
    assert.ok(deltasChecked > 0, 'the playlist held still for at least one full/delta pair');
  });

  await t.test('init + segments and init + parts decode cleanly, mp4box reads them, a segment is its parts', async () => {
    const { text } = await fetchText(url);
    const p = parseMediaPlaylist(text);
    const init = await fetchOk(segmentUrl(url, mapUriOf(text)));
    const withParts = p.segments.filter((s) => (s.parts?.length ?? 0) > 0);
    assert.ok(withParts.length >= 1, text);
    for (const s of withParts) {
      const seg = await fetchOk(segmentUrl(url, s.uri));
      const parts = await Promise.all((s.parts ?? []).map((x) => fetchOk(segmentUrl(url, x.uri))));
      assert.ok(Buffer.concat(parts).equals(seg), `${s.uri} is the concatenation of its parts`);
      assert.equal(await decodeBytesErrors([init, ...parts]), '', `init + parts of ${s.uri}`);
    }
    const segs = await Promise.all(p.segments.slice(-4).map((s) => fetchOk(segmentUrl(url, s.uri))));
    assert.equal(await decodeBytesErrors([init, ...segs]), '', 'init + the last 4 segments');
    const trailing = await Promise.all((p.trailingParts ?? []).map((x) => fetchOk(segmentUrl(url, x.uri))));
    // (Right after a segment completes the open one has no parts yet.)
    if (trailing.length > 0) assert.equal(await decodeBytesErrors([init, ...trailing]), '', 'init + the open segment’s parts');

    const read = readMp4([init, ...segs]);
    assert.deepEqual(read.errors, []);
    assert.deepEqual(read.info.tracks.map((x) => x.codec.slice(0, 4)).sort(), ['avc1', 'mp4a']);
    const video = read.samples.get(1) ?? [];
    const seconds = p.segments.slice(-4).reduce((n, s) => n + s.durationS, 0);
    // 25 fps: one video sample per 40 ms, each 40 ms long (90 kHz), keyframes opening each 1 s segment.
    assert.ok(Math.abs(video.length - seconds * 25) <= 2, `${video.length} video samples in ${seconds} s`);
    assert.ok(video.every((x) => x.duration === 3600), 'video sample durations');
    assert.equal(video.filter((x) => x.is_sync).length, 4, 'one keyframe per segment');
    assert.ok((read.samples.get(2)?.length ?? 0) > seconds * 40, 'AAC frames (44.1 kHz / 1024)');
  });

  await t.test('blocking reloads, their 400s, the delta update and the preload hint (checkBlocking)', async () => {
    assert.deepEqual(await checkBlocking(url), []);
    const p = (await fetchPlaylist(url)).playlist as MediaPlaylist;
    const last = p.mediaSequence + p.segments.length - 1;
    const far = await fetchText(`${url}?_HLS_msn=${last + 3}`);
    assert.equal(far.status, 400);
    assert.equal(far.headers.get('cache-control'), 'no-store');
    assert.equal((await fetchText(`${url}?_HLS_part=1`)).status, 400);
    assert.equal((await fetchText(`${url}?_HLS_msn=abc`)).status, 400);
    assert.equal((await fetchText(`${url}?_HLS_msn=${last}&_HLS_part=99`)).status, 200, 'a satisfied request is answered at once');
    assert.equal((await fetchText(`${url}?_HLS_msn=${last + 1}&_HLS_part=99`)).status, 400, 'beyond the advance part limit');
    // The next segment: held, then listed; the answer is cacheable for 6 target durations.
    const t0 = performance.now();
    const held = await fetchText(`${url}?_HLS_msn=${last + 1}`, {}, 10_000);
    assert.equal(held.status, 200);
    assert.ok(performance.now() - t0 > 20, 'held until the segment completed');
    assert.equal(held.headers.get('cache-control'), 'public, max-age=6');
    assert.deepEqual(checkMediaPlaylist(held.text), [], held.text);
    assert.deepEqual(crossCheckPlaylist(held.text), [], held.text);
    const hp = parseMediaPlaylist(held.text);
    assert.ok(hp.mediaSequence + hp.segments.length - 1 >= last + 1, held.text);
  });

  await t.test('a preload-hinted part streams as it is written and equals the part', async () => {
    let progressive = 0;
    for (let i = 0; i < 4; i++) {
      const { text } = await fetchText(url);
      const hint = parseMediaPlaylist(text).preloadHint;
      assert.ok(hint, text);
      const r = await timedGet(segmentUrl(url, hint.uri));
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], CONTENT_TYPE.fmp4);
      assert.equal(r.headers['transfer-encoding'], 'chunked');
      assert.equal(r.headers['cache-control'], 'public, max-age=3600, immutable');
      const part = await fetchOk(segmentUrl(url, hint.uri));
      assert.ok(r.body.equals(part), 'the streamed bytes are the part');
      // 25 fps into 200 ms parts: a fragment per frame, the first ~40 ms in, the part done ~200 ms in.
      if (r.endAt - r.firstAt > 60) progressive++;
    }
    assert.ok(progressive >= 2, `first bytes well before the end in ${progressive} of 4 hinted parts`);
    // A part beyond the hint does not exist yet and is not waited for.
    const { text } = await fetchText(url);
    const hint = parseMediaPlaylist(text).preloadHint as { uri: string };
    const beyond = hint.uri.replace(/\.(\d+)\.m4s$/, (_m, i: string) => `.${Number(i) + 2}.m4s`);
    const r = await fetchText(segmentUrl(url, beyond));
    assert.equal(r.status, 404);
    assert.equal(r.headers.get('cache-control'), 'no-store');
  });

  await t.test('Cache-Control and content type per object kind; the API reports the HLS mode', async () => {
    const { text, headers } = await fetchText(url);
    assert.equal(headers.get('cache-control'), 'public, max-age=1');
    assert.equal(headers.get('content-type'), CONTENT_TYPE.playlist);
    const p = parseMediaPlaylist(text);
    const last = p.segments.at(-1);
    const part = last?.parts?.[0] ?? p.trailingParts?.[0];
    assert.ok(last && part);
    for (const [uri, type] of [
      [mapUriOf(text), CONTENT_TYPE.init],
      [last.uri, CONTENT_TYPE.fmp4],
      [part.uri, CONTENT_TYPE.fmp4],
    ] as const) {
      const r = await fetchBuffer(segmentUrl(url, uri));
      assert.equal(r.status, 200, uri);
      assert.equal(r.headers.get('content-type'), type, uri);
      assert.equal(r.headers.get('cache-control'), 'public, max-age=3600, immutable', uri);
    }
    // The same sequence as MPEG-TS does not exist.
    assert.equal((await fetchText(segmentUrl(url, last.uri.replace(/\.m4s$/, '.ts')))).status, 404);
    const api = (await (await fetch(`${o.httpBase}/api/streams`)).json()) as { streams: Array<{ name: string; hls: unknown }> };
    // The effective part target: 5 frames at 25 fps (200 ms) + 4% slack for timestamp jitter (media/hls/part-cutter.ts).
    assert.deepEqual(api.streams.find((s) => s.name === 'll')?.hls, { format: 'fmp4', partTargetS: 0.208, codecs: 'avc1.64000d,mp4a.40.2' });
  });
});

test('LL-HLS over a republish: the open segment starts with EXT-X-DISCONTINUITY and its own date', async (t) => {
  const o = await startOrigin({ hlsSegmentMs: 1000, hlsPartMs: 200, hlsGraceMs: 5000, playWaitMs: 0 }, t);
  const url = o.hlsUrl('live', 'rp');
  const first = await manualPublisher(o.origin.hub, 'live', 'rp');
  first.advance(3.5);
  const before = (await fetchText(url)).text;
  first.end();
  await sleep(300);
  const second = await manualPublisher(o.origin.hub, 'live', 'rp');
  t.after(() => second.end());
  const texts = [before];
  for (const s of [0.5, 0.5, 1.2]) {
    second.advance(s);
    texts.push((await fetchText(url)).text);
  }
  // While the first segment after the republish is open, its tags precede its parts.
  assert.match(texts[1] ?? '', /#EXT-X-DISCONTINUITY\n(#EXT-X-MAP:.*\n)?#EXT-X-PROGRAM-DATE-TIME:.*\n#EXT-X-PART:/, texts[1]);
  for (const [i, text] of texts.entries()) {
    assert.deepEqual(checkMediaPlaylist(text), [], text);
    assert.deepEqual(crossCheckPlaylist(text), [], text);
    if (i > 0) assert.deepEqual(checkReloadPair(texts[i - 1] as string, text), [], `${texts[i - 1]}\n----\n${text}`);
  }
  const p = parseMediaPlaylist(texts.at(-1) as string);
  const disc = p.segments.find((s) => s.discontinuity);
  assert.ok(disc?.parts?.length && disc.programDateTime !== undefined, texts.at(-1));
});

test('fMP4 HLS without parts (--hls-format fmp4): EXT-X-MAP, no LL tags, directives ignored, decodes', async (t) => {
  const o = await startOrigin({ hlsSegmentMs: 1000, hlsFormat: 'fmp4', playWaitMs: 0 }, t);
  const pub = publishTestStream(o.rtmpUrl('live', 'f'), 'baseline+aac-mono', { gopS: 1 });
  t.after(() => pub.stop());
  const url = o.hlsUrl('live', 'f');
  const { text } = await waitFor('3 segments', async () => {
    const r = await fetchPlaylist(url);
    return (r.playlist?.segments.length ?? 0) >= 3 ? r : undefined;
  }, 30_000, 200);
  assert.deepEqual(checkMediaPlaylist(text), [], text);
  assert.deepEqual(crossCheckPlaylist(text), [], text);
  assert.doesNotMatch(text, /EXT-X-PART|EXT-X-SERVER-CONTROL|EXT-X-PRELOAD-HINT/);
  assert.match(text, /#EXT-X-VERSION:6\n/);
  const p = parseMediaPlaylist(text);
  // Without CAN-BLOCK-RELOAD the directives mean nothing: answered at once, whatever they say.
  const far = await fetchText(`${url}?_HLS_msn=${p.mediaSequence + 100}&_HLS_part=0`);
  assert.equal(far.status, 200);
  const init = await fetchOk(segmentUrl(url, mapUriOf(text)));
  const segs = await Promise.all(p.segments.map((s) => fetchOk(segmentUrl(url, s.uri))));
  assert.equal(await decodeBytesErrors([init, ...segs]), '');
  const api = (await (await fetch(`${o.httpBase}/api/streams`)).json()) as { streams: Array<{ hls: { codecs: string } }> };
  assert.deepEqual({ ...api.streams[0]?.hls, codecs: undefined }, { format: 'fmp4', partTargetS: null, codecs: undefined });
  assert.match(api.streams[0]?.hls.codecs ?? '', /^avc1\.42c0[0-9a-f]{2},mp4a\.40\.2$/, 'constrained baseline, AAC-LC');
});

test('--hls-format and --hls-part: validated, LL-HLS with MPEG-TS refused at start-up (defaults: test/cli/defaults.test.ts)', () => {
  const ll = originCliConfig(['--hls-format', 'fmp4', '--hls-part', '0.2', '--hls-segment', '1']);
  assert.equal(ll.hlsFormat, 'fmp4');
  assert.equal(ll.hlsPartMs, 200);
  assert.equal(originCliConfig(['--hls-part', '0.333']).hlsPartMs, 333);
  for (const bad of [
    ['--hls-format', 'ts', '--hls-part', '0.2'],
    ['--hls-format', 'mp4'],
    ['--hls-part', '0.05'],
    ['--hls-part', '-1'],
    ['--hls-part', '3', '--hls-segment', '2'],
  ]) {
    assert.throws(() => originCliConfig(bad), OptionsError, bad.join(' '));
  }
});
