// Origin-to-origin (issue 13, spec decision 5), with real processes: a signal, origin B holding a stream
// FFmpeg publishes, and origins that do not hold it, asked directly. origin-a proxies (cap 2), origin-r
// redirects, origin-off answers 404. Play tokens are on everywhere: the proxying origin checks them
// before it asks the signal, and the holder checks them again (they travel in the query).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ffprobeJson } from '../helpers/ffmpeg.js';
import { fetchBuffer, fetchText, FlvViewer } from '../helpers/http.js';
import { decodeErrors, segmentUrl } from '../helpers/hls.js';
import { crossCheckPlaylist } from '../helpers/m3u8-crosscheck.js';
import { fetchMetric } from '../helpers/metrics.js';
import { waitFor } from '../helpers/wait.js';
import { CLUSTER_SECRET, isKeyframe, publishSmall, startOriginProc, startSignalProc, waitRouted, type OriginProc } from './cluster-procs.js';
import { parseMediaPlaylist } from '../../src/media/hls/playlist.js';
import { TagType, type MediaPacket } from '../../src/media/packet.js';
import { deriveKeys } from '../../src/shared/keys.js';
import { signPlayToken } from '../../src/shared/token.js';
import { flvPath, playlistPath } from '../../src/shared/url-contract.js';

const KEYS = deriveKeys(CLUSTER_SECRET);
const APP = 'live';
const STREAM = 'onb';
const expSec = Math.floor(Date.now() / 1000) + 3600;
const TOKEN = signPlayToken({ app: APP, stream: STREAM, expSec }, KEYS.play);
const Q = `?token=${TOKEN}`;
/** A raw AAC frame (with isKeyframe: media, not just the stream's headers). */
const isAacFrame = (p: MediaPacket): boolean => p.type === TagType.Audio && p.payload[1] === 1;

/** B's HTTP-FLV viewers of the stream (its /api/streams, asked directly). */
async function flvViewersOn(origin: OriginProc): Promise<number> {
  const r = await fetchText(`${origin.directUrl}/api/streams`);
  const body = JSON.parse(r.text) as { streams: Array<{ app: string; name: string; viewers: { flv: number } }> };
  const s = body.streams.find((x) => x.app === APP && x.name === STREAM);
  return s?.viewers.flv ?? 0;
}

async function missCount(origin: OriginProc, action: string): Promise<number> {
  // A series not counted yet is absent (NaN): 0.
  return (await fetchMetric(origin.directUrl, 'livecdn_cluster_miss_total', `action="${action}"`)) || 0;
}

test('an origin asked directly for a stream another origin holds proxies it or redirects; loops get 508', { timeout: 240_000 }, async (t) => {
  const signal = await startSignalProc(t);
  const tokens = ['--play-tokens'];
  const b = await startOriginProc(t, { id: 'origin-b', signal: signal.url, args: tokens });
  const [a, r, off] = await Promise.all([
    startOriginProc(t, { id: 'origin-a', signal: signal.url, counted: false, args: [...tokens, '--cluster-max-proxies', '2'] }),
    startOriginProc(t, { id: 'origin-r', signal: signal.url, counted: false, args: [...tokens, '--cluster-miss', 'redirect'] }),
    startOriginProc(t, { id: 'origin-off', signal: signal.url, counted: false, args: [...tokens, '--cluster-miss', 'off'] }),
  ]);
  // rtmpUrl carries a publish token.
  publishSmall(t, b.rtmpUrl(APP, STREAM));
  await waitRouted(signal.url, APP, STREAM, 'origin-b', 30_000);
  await waitFor('two segments on origin-b', async () => {
    const pl = await fetchText(b.directUrl + playlistPath(APP, STREAM) + Q);
    return pl.status === 200 && (pl.text.match(/#EXTINF/g)?.length ?? 0) >= 2;
  }, 30_000, 250);

  await t.test('HTTP-FLV through origin-a: the holder\'s stream, decodable, with origin-a in Via', async () => {
    const viewer = await FlvViewer.open(a.directUrl + flvPath(APP, STREAM) + Q, 10_000);
    try {
      assert.equal(viewer.status, 200);
      assert.equal(viewer.headers['content-type'], 'video/x-flv');
      assert.match(String(viewer.headers.via), /1\.1 origin-a$/);
      await viewer.waitFor(isKeyframe, 15_000);
      await viewer.waitFor(isAacFrame, 15_000);
    } finally {
      viewer.close();
    }
    const probed = (await ffprobeJson(a.directUrl + flvPath(APP, STREAM) + Q, ['-show_streams'])) as { streams: Array<{ codec_type: string; codec_name: string; width?: number }> };
    assert.deepEqual(probed.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    assert.equal(probed.streams.find((s) => s.codec_type === 'video')?.width, 320);
    assert.ok(b.proxy && b.proxy.flv.opened >= 2, 'both FLV reads went to origin-b');
  });

  await t.test('HLS through origin-a: playlist (m3u8-parser agrees) and a segment, byte for byte origin-b\'s', async () => {
    const url = a.directUrl + playlistPath(APP, STREAM) + Q;
    const pl = await fetchText(url);
    assert.equal(pl.status, 200);
    assert.equal(pl.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    assert.match(pl.headers.get('via') ?? '', /1\.1 origin-a$/);
    assert.deepEqual(crossCheckPlaylist(pl.text), []);
    const segments = parseMediaPlaylist(pl.text).segments;
    const last = segments.at(-1);
    assert.ok(last, pl.text);
    assert.match(last.uri, new RegExp(`token=${TOKEN.replace('.', '\\.')}`), 'the holder lists its URIs with the viewer\'s token');
    const seg = await fetchBuffer(segmentUrl(url, last.uri));
    assert.equal(seg.status, 200);
    assert.equal(seg.headers.get('cache-control'), 'public, max-age=3600, immutable');
    assert.ok(seg.body.length > 188 && seg.body.length % 188 === 0, `segment of ${seg.body.length} bytes`);
    for (let i = 0; i < seg.body.length; i += 188) assert.equal(seg.body[i], 0x47, `sync byte at ${i}`);
    const direct = await fetchBuffer(segmentUrl(b.directUrl + playlistPath(APP, STREAM), last.uri));
    assert.ok(direct.body.equals(seg.body), 'the same bytes as origin-b serves');
    assert.equal(await decodeErrors(segmentUrl(url, last.uri)), '');
    // What the extra hop costs a playlist request (informative: the machine is shared).
    const median = async (u: string): Promise<number> => {
      const times: number[] = [];
      for (let i = 0; i < 9; i++) {
        const t0 = performance.now();
        assert.equal((await fetchText(u)).status, 200);
        times.push(performance.now() - t0);
      }
      return times.sort((x, y) => x - y)[4] ?? NaN;
    };
    const [proxied, fromB] = [await median(url), await median(b.directUrl + playlistPath(APP, STREAM) + Q)];
    t.diagnostic(`playlist request, median of 9: ${proxied.toFixed(1)} ms through origin-a, ${fromB.toFixed(1)} ms from origin-b`);
  });

  await t.test('play tokens: origin-a refuses a request without one before it asks anyone', async () => {
    const before = b.proxy?.count(playlistPath(APP, STREAM)) ?? 0;
    const proxied = await missCount(a, 'proxy');
    const res = await fetchText(a.directUrl + playlistPath(APP, STREAM));
    assert.equal(res.status, 403);
    const forged = await fetchText(a.directUrl + playlistPath(APP, STREAM) + `?token=${signPlayToken({ app: APP, stream: 'other', expSec }, KEYS.play)}`);
    assert.equal(forged.status, 403);
    assert.equal(b.proxy?.count(playlistPath(APP, STREAM)) ?? 0, before, 'nothing reached origin-b');
    assert.equal(await missCount(a, 'proxy'), proxied);
  });

  await t.test('loops: origin-a\'s own id in Via, or 8 hops, is 508; someone else\'s Via gets the local answer', async () => {
    const url = a.directUrl + playlistPath(APP, STREAM) + Q;
    const loops = await missCount(a, 'loop');
    const own = await fetchText(url, { headers: { Via: '1.1 edge-1, 1.1 origin-a' } });
    assert.equal(own.status, 508);
    assert.match(own.text, /origin-a/);
    const hops = Array.from({ length: 8 }, (_, i) => `1.1 node-${i}`).join(', ');
    assert.equal((await fetchText(url, { headers: { Via: hops } })).status, 508);
    assert.equal((await fetchText(a.directUrl + flvPath(APP, STREAM) + Q, { headers: { Via: hops } })).status, 508);
    assert.equal(await missCount(a, 'loop'), loops + 3);
    // An edge (or another origin) locates streams itself: no proxy, no redirect.
    const viaEdge = await fetchText(url, { headers: { Via: '1.1 edge-1' } });
    assert.equal(viaEdge.status, 404);
    assert.equal(viaEdge.headers.get('via'), null);
    assert.equal((await fetchText(a.directUrl + flvPath(APP, STREAM) + Q, { headers: { Via: '1.1 origin-b' } })).status, 404);
    // Origin-b holds it: a Via naming someone else is served as ever.
    assert.equal((await fetchText(b.directUrl + playlistPath(APP, STREAM) + Q, { headers: { Via: '1.1 edge-1' } })).status, 200);
  });

  await t.test('redirect mode: 302 to the holder\'s URL with the query, and following it plays', async () => {
    const url = r.directUrl + playlistPath(APP, STREAM) + Q;
    const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), b.url + playlistPath(APP, STREAM) + Q);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const followed = await fetchText(url);
    assert.equal(followed.status, 200);
    assert.ok(parseMediaPlaylist(followed.text).segments.length >= 2);
    const flv = await fetch(r.directUrl + flvPath(APP, STREAM) + Q, { redirect: 'manual', signal: AbortSignal.timeout(5000) });
    await flv.arrayBuffer();
    assert.equal(flv.status, 302);
    assert.equal(flv.headers.get('location'), b.url + flvPath(APP, STREAM) + Q);
    // The followed request went through origin-r again.
    assert.equal(await missCount(r, 'redirect'), 3);
  });

  await t.test('off: 404 as without a cluster', async () => {
    const res = await fetchText(off.directUrl + playlistPath(APP, STREAM) + Q);
    assert.equal(res.status, 404);
    assert.equal(await missCount(off, 'proxy'), 0);
  });

  await t.test('a client leaving mid-FLV closes the upstream connection on origin-b', async () => {
    await waitFor('no FLV viewer left on origin-b', async () => (await flvViewersOn(b)) === 0, 15_000, 200);
    const viewer = await FlvViewer.open(a.directUrl + flvPath(APP, STREAM) + Q, 10_000);
    try {
      assert.equal(viewer.status, 200);
      await viewer.waitFor(isKeyframe, 15_000);
      assert.equal(await flvViewersOn(b), 1);
    } finally {
      viewer.close();
    }
    const t0 = Date.now();
    await waitFor('origin-b losing the proxied viewer', async () => (await flvViewersOn(b)) === 0, 10_000, 100);
    assert.equal(b.proxy?.flv.open, 0);
    t.diagnostic(`origin-b dropped the proxied viewer ${Date.now() - t0} ms after the client left`);
  });

  await t.test('the proxy cap: past 2 proxied requests at once, 503; a slot comes back when a client leaves', async () => {
    const viewers = [await FlvViewer.open(a.directUrl + flvPath(APP, STREAM) + Q, 10_000), await FlvViewer.open(a.directUrl + flvPath(APP, STREAM) + Q, 10_000)];
    try {
      assert.deepEqual(viewers.map((v) => v.status), [200, 200]);
      assert.equal(await fetchMetric(a.directUrl, 'livecdn_cluster_proxies'), 2);
      const over = await fetchText(a.directUrl + playlistPath(APP, STREAM) + Q);
      assert.equal(over.status, 503);
      assert.equal(over.headers.get('retry-after'), '2');
    } finally {
      viewers[0]?.close();
    }
    try {
      await waitFor('a proxy slot back', async () => (await fetchText(a.directUrl + playlistPath(APP, STREAM) + Q)).status === 200, 5000, 100);
    } finally {
      viewers[1]?.close();
    }
  });

  // Every proxied request was counted; nothing was proxied again by origin-b.
  assert.ok((await missCount(a, 'proxy')) >= 7);
  assert.ok((await missCount(a, 'local')) >= 2);
  assert.equal(await missCount(b, 'proxy'), 0);
});
