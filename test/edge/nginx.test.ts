// Real nginx (Debian) with nginx/edge.conf.template in front of a real origin with FFmpeg publishing:
// HLS through nginx decodes clean, the origin sees one fetch per segment, HTTP-FLV passes through, and a
// recording's VOD playlist and segments (nested below /{app}/{stream}/rec/) are cached like the live ones.
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMediaPlaylist } from '../../src/media/hls/playlist.js';
import { TagType } from '../../src/media/packet.js';
import { vodPlaylistPath } from '../../src/shared/url-contract.js';
import { FlvViewer } from '../helpers/http.js';
import { startOrigin } from '../helpers/origin.js';
import { publishTestStream } from '../helpers/publish.js';
import { recordTestStream } from '../record/record-helpers.js';
import { checkSegment, hlsClient } from './media-checks.js';
import { startNginx } from './nginx.js';
import { startCountingProxy } from './proxy.js';
import { get, startFakeUpstream } from './util.js';
import { waitFor, sleep } from '../helpers/wait.js';

test('nginx edge: HLS decodes clean with one origin fetch per segment; FLV passes through; bad names 400', async (t) => {
  const origin = await startOrigin({ hlsSegmentMs: 1000 }, t);
  const publisher = publishTestStream(origin.rtmpUrl('live', 'ng'), 'baseline+aac-mono', { gopS: 1 });
  t.after(() => publisher.stop());
  const proxy = await startCountingProxy(origin.httpBase);
  t.after(() => proxy.kill());
  const nginx = await startNginx(new URL(proxy.url).host);
  t.after(() => nginx.stop());

  await waitFor(
    'playlist through nginx',
    async () => {
      const r = await get(`${nginx.base}/live/ng.m3u8`);
      return r.status === 200 && parseMediaPlaylist(r.body.toString()).segments.length >= 2 ? true : undefined;
    },
    20_000,
    300,
  ).catch(async (e: unknown) => {
    throw new Error(`${String(e)}\nnginx: ${await nginx.errorLog()}\nffmpeg: ${publisher.log()}`);
  });

  const results = await Promise.all(Array.from({ length: 20 }, () => hlsClient(`${nginx.base}/live/ng.m3u8`, Date.now() + 4000, 500)));
  for (const r of results) {
    assert.deepEqual(r.errors, []);
    assert.ok(r.segments.size >= 2);
  }
  const segmentPaths = [...proxy.counts.keys()].filter((p) => p.startsWith('/live/ng/'));
  assert.ok(segmentPaths.length >= 2);
  for (const p of segmentPaths) assert.equal(proxy.count(p), 1, `${p} fetched once by nginx`);

  const segs = [...(results[0]?.segments.values() ?? [])].slice(-2);
  for (const body of segs) {
    const c = await checkSegment(body);
    assert.equal(c.errors, '');
    assert.equal(c.firstKey, true);
  }
  const hit = await get(new URL([...(results[0]?.segments.keys() ?? [])][0] ?? '', nginx.base).toString());
  assert.equal(hit.headers['x-cache'], 'HIT');

  const viewer = await FlvViewer.open(`${nginx.base}/live/ng.flv`);
  try {
    assert.equal(viewer.status, 200);
    await viewer.waitFor((p) => p.type === TagType.Video && p.payload[0] === 0x17 && p.payload[1] === 1);
  } finally {
    viewer.close();
  }
  assert.equal((await get(`${nginx.base}/live/bad!name.m3u8`)).status, 400);
  assert.equal((await get(`${nginx.base}/live/ng/.hidden`)).status, 400);
  // nginx normalizes dot segments first: /x.ts is outside the URL space, so 404, never the upstream.
  assert.equal((await get(`${nginx.base}/live/ng/../../x.ts`)).status, 404);
  assert.equal(proxy.count('/x.ts'), 0);
});

test('nginx edge: a recording\'s VOD playlist and segments are cached objects, fetched upstream once', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'livecdn-nginx-vod-'));
  const origin = await startOrigin({ hlsSegmentMs: 1000, hlsGraceMs: 0, record: { dir, patterns: ['live/*'] } }).catch(async (e: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw e;
  });
  t.after(async () => {
    await origin.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const rec = await recordTestStream(origin, 'live', 'vod', 'baseline+aac-mono', { gopS: 1, durationS: 4 });
  const proxy = await startCountingProxy(origin.httpBase);
  t.after(() => proxy.kill());
  const nginx = await startNginx(new URL(proxy.url).host);
  t.after(() => nginx.stop());

  const playlistPath = vodPlaylistPath(rec.app, rec.stream, rec.name);
  const first = await get(`${nginx.base}${playlistPath}`);
  assert.equal(first.status, 200, `${first.body.toString()}\nnginx: ${await nginx.errorLog()}`);
  const playlist = parseMediaPlaylist(first.body.toString());
  assert.ok(playlist.endList && playlist.segments.length >= 2, first.body.toString());
  // Past the location's 1 s validity (nginx counts whole seconds): still a HIT, because the origin's
  // `max-age=3600, immutable` wins over proxy_cache_valid.
  await sleep(2100);
  const again = await get(`${nginx.base}${playlistPath}`);
  assert.equal(again.headers['x-cache'], 'HIT', 'the VOD playlist (immutable upstream) is served from the cache');
  assert.equal(proxy.count(playlistPath), 1);

  const segmentUrl = new URL(playlist.segments[0]?.uri ?? '', `${nginx.base}${playlistPath}`);
  const seg = await get(segmentUrl.toString());
  assert.equal(seg.status, 200, `${segmentUrl.pathname}: ${await nginx.errorLog()}`);
  const c = await checkSegment(seg.body);
  assert.equal(c.errors, '');
  assert.equal(c.firstKey, true);
  const hit = await get(segmentUrl.toString());
  assert.equal(hit.headers['x-cache'], 'HIT');
  assert.ok(hit.body.equals(seg.body));
  assert.equal(proxy.count(segmentUrl.pathname), 1, `${segmentUrl.pathname} fetched once by nginx`);
});

/** GET with the request target sent exactly as given (no URL normalisation on our side). */
function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

test('nginx edge: the cache key and the upstream path agree, so `//` requests never change what a path answers', async (t) => {
  // An upstream that answers any path with `//` with a different, cacheable body: were nginx to send the
  // raw path upstream while storing under the normalised key, that body would become the playlist's.
  const upstreamPaths: string[] = [];
  const up = await startFakeUpstream((req, res) => {
    const url = req.url ?? '';
    upstreamPaths.push(url);
    const path = url.split('?')[0] ?? '';
    if (path.includes('//')) {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=600' });
      res.end('EVIL');
    } else if (path === '/live/s.m3u8') {
      res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl', 'cache-control': 'max-age=1' });
      res.end('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:5\n#EXTINF:2.000,\ns/5.ts\n');
    } else if (path === '/live/s/5.ts') {
      res.writeHead(200, { 'content-type': 'video/mp2t', 'cache-control': 'max-age=600' });
      res.end('SEGMENT-5');
    } else {
      res.writeHead(404, { 'cache-control': 'no-cache' });
      res.end();
    }
  });
  t.after(() => up.close());
  const nginx = await startNginx(`127.0.0.1:${up.port}`);
  t.after(() => nginx.stop());

  const hostile = ['/live//s.m3u8', '//live/s.m3u8', '/live/./s.m3u8', '/live/s//5.ts', '/live//s/5.ts', '//live//s//5.ts?token=x'];
  const fetchesOf = (path: string): number => upstreamPaths.filter((p) => p.split('?')[0] === path).length;
  // Twice, the second time after the playlist's 1 s validity: a `//` request then refills the key.
  for (const round of [0, 1]) {
    if (round === 1) await sleep(2500);
    for (const path of hostile) {
      const r = await rawGet(nginx.port, path);
      assert.equal(r.status, 200, `${path}: ${await nginx.errorLog()}`);
      assert.notEqual(r.body, 'EVIL', path);
    }
    const playlist = await rawGet(nginx.port, '/live/s.m3u8');
    assert.equal(playlist.status, 200);
    assert.match(playlist.body, /^#EXTM3U/, 'the playlist answers the playlist');
    const segment = await rawGet(nginx.port, '/live/s/5.ts');
    assert.equal(segment.body, 'SEGMENT-5');
  }
  assert.equal(fetchesOf('/live/s.m3u8'), 2, `a \`//\` request refilled the expired playlist: ${upstreamPaths.join(' ')}`);
  assert.equal((await rawGet(nginx.port, '//live//s//6.ts?token=x')).status, 404);
  assert.ok(upstreamPaths.includes('/live/s/6.ts?token=x'), `the normalised path and the query go upstream: ${upstreamPaths.join(' ')}`);
  for (const p of upstreamPaths) assert.ok(!p.split('?')[0]?.includes('//') && !p.includes('/./'), `upstream got the raw path ${p}`);
});
