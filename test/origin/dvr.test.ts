// DVR end to end with real FFmpeg publishers: an origin with --dvr-window 20s, 2 s fMP4 segments and a
// small live window (2 segments listed, 4 kept in memory), play tokens on, and a Node edge in front.
// The DVR playlist is read by our parser, m3u8-parser and the conformance checker on every reload;
// window pruning deletes files; ?start= picks the segment holding a time (400 on a bad date); segments
// that left the memory window come from disk, decode, and are immutable at the edge. A second stream's
// DVR directory is removed under it: its DVR stops (404, metric), its live playlist carries on.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Edge } from '../../src/edge/edge.js';
import { Origin } from '../../src/origin/origin.js';
import { parseMediaPlaylist, type MediaPlaylist } from '../../src/media/hls/playlist.js';
import { deriveKeys } from '../../src/shared/keys.js';
import { streamTokens } from '../helpers/tokens.js';
import { dvrPlaylistPath } from '../../src/shared/url-contract.js';
import { checkMediaPlaylist, checkReloadPair } from '../helpers/hls-conformance.js';
import { crossCheckPlaylist } from '../helpers/m3u8-crosscheck.js';
import { decodeBytesErrors, mapUriOf } from '../helpers/hls.js';
import { fetchBuffer, fetchText } from '../helpers/http.js';
import { readMp4 } from '../helpers/mp4box.js';
import { startOrigin, type TestOrigin } from '../helpers/origin.js';
import { publishTestStream } from '../helpers/publish.js';
import { waitFor } from '../helpers/wait.js';

const KEYS = deriveKeys('origin-dvr-test-root-secret-0123456789');
const { play: playToken, publish: publishToken } = streamTokens(KEYS);
const WINDOW_MS = 20_000;
/** Segments that left the window stay fetchable (and on disk) 4 s more: two 2 s segments. */
const RETAIN_MS = 4000;
const RETAINED = RETAIN_MS / 2000;
const seqOf = (uri: string): number => Number(/^(\d+)\.m4s/.exec(uri)?.[1]);

describe('DVR: --dvr-window 20s, 2 s fMP4 segments, play tokens, through a Node edge', () => {
  let dir = '';
  let o: TestOrigin;
  let edge: Edge;
  let edgeBase = '';
  const publishers: ReturnType<typeof publishTestStream>[] = [];
  const token = playToken('cam');
  let dvrUrl = '';
  /** Every DVR playlist text read while the stream ran, in order. */
  const reloads: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'livecdn-dvr-'));
    o = await startOrigin({
      keys: KEYS,
      playTokens: true,
      hlsSegmentMs: 2000,
      hlsWindow: 2,
      hlsFormat: 'fmp4',
      hlsGraceMs: 1000,
      hlsRemoveAfterMs: 4000,
      dvr: { windowMs: WINDOW_MS, dir, retainMs: RETAIN_MS },
    });
    edge = new Edge({ upstreams: [o.httpBase], httpPort: 0, host: '127.0.0.1', keys: KEYS, playTokens: true, defaultMetrics: false });
    edgeBase = `http://127.0.0.1:${(await edge.start()).httpPort}`;
    dvrUrl = `${o.httpBase}${dvrPlaylistPath('live', 'cam')}?token=${token}`;
    publishers.push(publishTestStream(o.rtmpUrl('live', 'cam', `token=${publishToken('cam')}`), 'baseline+aac-mono', { gopS: 1, durationS: 44 }));
    publishers.push(publishTestStream(o.rtmpUrl('live', 'broken', `token=${publishToken('broken')}`), 'video-only', { gopS: 1, size: '160x120', durationS: 44 }));
    // Until the window has slid: the first segments were pruned.
    let first: number | undefined;
    await waitFor(
      'the DVR window to slide',
      async () => {
        const r = await fetchText(dvrUrl);
        if (r.status !== 200) return undefined;
        reloads.push(r.text);
        const p = parseMediaPlaylist(r.text);
        first ??= p.mediaSequence;
        return p.mediaSequence > first + 1 ? true : undefined;
      },
      60_000,
      1000,
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}\nffmpeg: ${publishers.map((p) => p.log()).join('\n')}`);
    });
  });

  after(async () => {
    await Promise.all(publishers.map((p) => p.stop()));
    await edge?.stop();
    await o?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('every reload parses (ours, m3u8-parser), conforms, has a PDT on every segment and follows the previous one', () => {
    assert.ok(reloads.length >= 10, `${reloads.length} reloads`);
    for (const [i, text] of reloads.entries()) {
      assert.deepEqual(checkMediaPlaylist(text), [], text);
      assert.deepEqual(crossCheckPlaylist(text), [], text);
      const p = parseMediaPlaylist(text);
      assert.equal(p.endList, false);
      assert.equal(p.start, undefined, 'the plain DVR playlist starts players at the live edge');
      for (const s of p.segments) {
        assert.ok(s.programDateTime !== undefined, `${s.uri} has a PDT`);
        assert.match(s.uri, new RegExp(`^\\d+\\.m4s\\?token=${token.replace('.', '\\.')}$`), 'relative live URIs, with the token');
      }
      if (i > 0) assert.deepEqual(checkReloadPair(reloads[i - 1] as string, text), []);
    }
    const last = parseMediaPlaylist(reloads.at(-1) as string);
    const spanS = last.segments.reduce((n, s) => n + s.durationS, 0);
    assert.ok(spanS >= WINDOW_MS / 1000 - 2.5 && spanS <= WINDOW_MS / 1000 + 2.5, `the window holds ~20 s: ${spanS}`);
  });

  test('pruning deletes the files of segments that left the window (after RETAIN_MS); the listed ones are on disk', async () => {
    const p = parseMediaPlaylist((await fetchText(dvrUrl)).text);
    const session = readdirSync(join(dir, 'live', 'cam'));
    assert.equal(session.length, 1);
    const files = readdirSync(join(dir, 'live', 'cam', session[0] as string));
    const onDisk = files.filter((f) => f.endsWith('.m4s')).map((f) => Number(f.slice(0, -4)));
    const listed = p.segments.map((s) => seqOf(s.uri));
    // A segment may be written (or pruned) between the fetch and the listing.
    for (const seq of listed.slice(1)) assert.ok(onDisk.includes(seq), `${seq} listed and on disk`);
    assert.ok(Math.min(...onDisk) >= p.mediaSequence - RETAINED - 1, `nothing older than the window and the retained segments: ${onDisk.join(' ')}`);
    assert.ok(onDisk.length <= listed.length + RETAINED + 2, `${onDisk.length} files for ${listed.length} listed`);
    // The segment that left the window last is still served: a player that loaded the playlist a moment ago gets it.
    const retained = p.mediaSequence - 1;
    assert.ok(onDisk.includes(retained), `${retained} retained`);
    assert.equal((await fetchBuffer(`${o.httpBase}/live/cam/${retained}.m4s?token=${token}`)).status, 200);
    assert.deepEqual(files.filter((f) => f.startsWith('init-')), [mapUriOf(reloads.at(-1) as string).replace(/\?.*$/, '')], 'one init segment, the one in use');
  });

  test('?start= lists from the segment holding that time, with EXT-X-START; before the window: its start; a bad date: 400', async () => {
    const full = parseMediaPlaylist((await fetchText(dvrUrl)).text);
    const k = full.segments[3];
    assert.ok(k?.programDateTime !== undefined);
    const at = (ms: number, spell = (d: Date): string => d.toISOString()): string => `${dvrUrl}&start=${encodeURIComponent(spell(new Date(ms)))}`;
    const fromK = await fetchText(at(k.programDateTime + 500));
    assert.equal(fromK.status, 200);
    assert.deepEqual(checkMediaPlaylist(fromK.text), []);
    assert.deepEqual(crossCheckPlaylist(fromK.text), []);
    const p = parseMediaPlaylist(fromK.text);
    assert.equal(p.segments[0]?.uri, k.uri);
    assert.equal(p.mediaSequence, seqOf(k.uri));
    assert.deepEqual(p.start, { timeOffsetS: 0 });
    assert.ok(p.segments[0]?.map !== undefined, 'the init segment in force is listed');
    // The same instant with an offset: the same segment.
    const offset = (d: Date): string => new Date(d.getTime() + 3_600_000).toISOString().replace('Z', '+01:00');
    assert.equal(parseMediaPlaylist((await fetchText(at(k.programDateTime + 500, offset))).text).segments[0]?.uri, k.uri);
    const early = parseMediaPlaylist((await fetchText(at(Date.now() - 3_600_000))).text);
    assert.ok(early.mediaSequence <= full.mediaSequence + 1 && early.mediaSequence >= full.mediaSequence, 'from the window start');
    for (const bad of ['yesterday', '2026-02-30T10:00:00Z', '2026-11-30T10:00:00']) {
      const r = await fetchText(`${dvrUrl}&start=${encodeURIComponent(bad)}`);
      assert.equal(r.status, 400, bad);
      assert.equal(r.headers.get('cache-control'), 'no-store');
    }
  });

  test('segments that left the memory window are served from disk, immutable, and decode (ffprobe/ffmpeg, mp4box)', async () => {
    const live = parseMediaPlaylist((await fetchText(`${o.hlsUrl('live', 'cam')}?token=${token}`)).text);
    const text = (await fetchText(dvrUrl)).text;
    const dvr = parseMediaPlaylist(text);
    const old = dvr.segments[0];
    assert.ok(old);
    // The memory keeps the live window and as many again: 4 segments.
    assert.ok(seqOf(old.uri) < live.mediaSequence - 2, `${old.uri} is no longer in memory (live from ${live.mediaSequence})`);
    const base = `${o.httpBase}/live/cam/`;
    const seg = await fetchBuffer(base + old.uri);
    assert.equal(seg.status, 200);
    assert.equal(seg.headers.get('cache-control'), 'public, max-age=3600, immutable');
    assert.equal(seg.headers.get('content-type'), 'video/iso.segment');
    assert.equal(Number(seg.headers.get('content-length')), seg.body.length);
    const init = await fetchBuffer(base + mapUriOf(text));
    assert.equal(init.status, 200);
    assert.equal(init.headers.get('cache-control'), 'public, max-age=3600, immutable');
    assert.equal(await decodeBytesErrors([init.body, seg.body]), '');
    const mp4 = readMp4([init.body, seg.body]);
    assert.deepEqual(mp4.errors, []);
    const samples = [...mp4.samples.values()].flat();
    assert.ok(samples.length > 20, `${samples.length} samples`);
    const head = await fetch(base + old.uri, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers.get('content-length')), seg.body.length);
    // A number the DVR never had: 404 as before.
    assert.equal((await fetchBuffer(`${base}${seqOf(old.uri) - 1000}.m4s?token=${token}`)).status, 404);
  });

  test('play tokens: the DVR playlist and its disk segments need a token for this stream', async () => {
    const plain = `${o.httpBase}${dvrPlaylistPath('live', 'cam')}`;
    assert.equal((await fetchText(plain)).status, 403);
    assert.equal((await fetchText(`${plain}?token=${playToken('other')}`)).status, 403);
    const old = parseMediaPlaylist((await fetchText(dvrUrl)).text).segments[0]?.uri.replace(/\?.*$/, '');
    assert.equal((await fetchBuffer(`${o.httpBase}/live/cam/${old}`)).status, 403);
    assert.equal((await fetchBuffer(`${o.httpBase}/live/cam/${old}?token=${playToken('other')}`)).status, 403);
  });

  test('/api/streams: dvr {windowMs, fromMs, segments}', async () => {
    const r = (await (await fetch(`${o.httpBase}/api/streams`)).json()) as { streams: { name: string; dvr: { windowMs: number; fromMs: number; segments: number } | null }[] };
    const cam = r.streams.find((s) => s.name === 'cam');
    const dvr = parseMediaPlaylist((await fetchText(dvrUrl)).text);
    assert.equal(cam?.dvr?.windowMs, WINDOW_MS);
    assert.ok(Math.abs((cam?.dvr?.fromMs ?? 0) - (dvr.segments[0]?.programDateTime ?? 0)) <= 4000);
    assert.ok(Math.abs((cam?.dvr?.segments ?? 0) - dvr.segments.length) <= 1);
  });

  test('through the edge: ?start= validated, canonical in the cache key; DVR segments cached as immutable objects', async () => {
    const full = parseMediaPlaylist((await fetchText(dvrUrl)).text);
    const k = full.segments[2];
    assert.ok(k?.programDateTime !== undefined);
    const path = `${edgeBase}${dvrPlaylistPath('live', 'cam')}?token=${token}`;
    const first = await fetchText(`${path}&start=${encodeURIComponent(new Date(k.programDateTime + 100).toISOString())}`);
    assert.equal(first.status, 200);
    const p = parseMediaPlaylist(first.text);
    assert.equal(p.segments[0]?.uri, k.uri);
    assert.deepEqual(p.start, { timeOffsetS: 0 });
    // The same instant spelled otherwise (an offset, no ms), another viewer's token: the cached object.
    const spelled = new Date(k.programDateTime + 100 + 3_600_000).toISOString().replace('Z', '+01:00');
    const again = await fetchText(`${edgeBase}${dvrPlaylistPath('live', 'cam')}?start=${encodeURIComponent(spelled)}&token=${playToken('cam')}`);
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('x-cache'), 'HIT');
    assert.equal(parseMediaPlaylist(again.text).segments[0]?.uri.replace(/\?.*$/, ''), k.uri.replace(/\?.*$/, ''));
    assert.equal((await fetchText(`${path}&start=notadate`)).status, 400);
    assert.equal((await fetchText(`${edgeBase}${dvrPlaylistPath('live', 'cam')}?start=${encodeURIComponent(new Date(k.programDateTime).toISOString())}`)).status, 403, 'no token');
    // A segment that only the DVR still has: fetched once, then a hit, immutable.
    const old = `${edgeBase}/live/cam/${full.segments[0]?.uri}`;
    const a = await fetchBuffer(old);
    assert.equal(a.status, 200);
    assert.equal(a.headers.get('cache-control'), 'public, max-age=3600, immutable');
    const b = await fetchBuffer(old);
    assert.equal(b.headers.get('x-cache'), 'HIT');
    assert.ok(a.body.equals(b.body));
  });

  test('a write error stops that stream\'s DVR (404, counted); its live playlist and the other DVR carry on', async () => {
    const brokenDvr = `${o.httpBase}${dvrPlaylistPath('live', 'broken')}?token=${playToken('broken')}`;
    const brokenLive = `${o.hlsUrl('live', 'broken')}?token=${playToken('broken')}`;
    assert.equal((await fetchText(brokenDvr)).status, 200);
    // The session directory goes away under the store: the next write fails (ENOENT).
    rmSync(join(dir, 'live', 'broken'), { recursive: true, force: true });
    await waitFor('the broken DVR to stop', async () => (await fetchText(brokenDvr)).status === 404, 10_000, 200);
    const before = parseMediaPlaylist((await fetchText(brokenLive)).text);
    await waitFor('a new live segment', async () => {
      const p: MediaPlaylist = parseMediaPlaylist((await fetchText(brokenLive)).text);
      return p.mediaSequence + p.segments.length > before.mediaSequence + before.segments.length;
    }, 10_000, 200);
    const metrics = (await fetchText(`${o.httpBase}/metrics`)).text;
    assert.match(metrics, /livecdn_dvr_errors_total\{code="ENOENT"\} 1/);
    assert.equal((await fetchText(dvrUrl)).status, 200, 'the other stream\'s DVR is untouched');
  });

  test('after the publisher ends and the grace passes: EXT-X-ENDLIST; after the playlist is removed: 404 and its files gone', async () => {
    await Promise.all(publishers.map((p) => p.stop()));
    const ended = await waitFor('ENDLIST', async () => {
      const r = await fetchText(dvrUrl);
      return r.status === 200 && parseMediaPlaylist(r.text).endList ? r.text : undefined;
    }, 15_000, 250);
    assert.deepEqual(checkMediaPlaylist(ended), []);
    await waitFor('the DVR playlist to go', async () => (await fetchText(dvrUrl)).status === 404, 15_000, 250);
    await waitFor('its files to go', () => readdirSync(join(dir, 'live', 'cam')).length === 0, 5000, 100);
  });
});

test('the DVR directory is wiped at start, and one the DVR did not make is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'livecdn-dvr-wipe-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Someone else's files: the origin does not start, and deletes nothing.
  writeFileSync(join(dir, 'notes.txt'), 'mine');
  const refused = new Origin({ host: '127.0.0.1', rtmpPort: 0, httpPort: 0, dvr: { windowMs: 60_000, dir } });
  await assert.rejects(refused.start(), /not a DVR directory/);
  await refused.stop();
  assert.ok(existsSync(join(dir, 'notes.txt')));
  rmSync(join(dir, 'notes.txt'));
  // A directory the DVR made: wiped.
  const o1 = await startOrigin({ dvr: { windowMs: 60_000, dir } }, t);
  await o1.stop();
  mkdirSync(join(dir, 'live', 'cam', '1'), { recursive: true });
  writeFileSync(join(dir, 'live', 'cam', '1', '1764460800.ts'), 'old');
  const o2 = await startOrigin({ dvr: { windowMs: 60_000, dir } }, t);
  assert.deepEqual(readdirSync(dir), ['.livecdn-dvr']);
  await o2.stop();
});
