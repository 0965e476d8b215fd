// Real nginx (Debian) with nginx/edge.conf.template in front of a real origin with FFmpeg publishing:
// HLS through nginx decodes clean, the origin sees one fetch per segment, HTTP-FLV passes through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMediaPlaylist } from '../../src/media/hls/playlist.js';
import { TagType } from '../../src/media/packet.js';
import { FlvViewer, waitFor } from '../helpers/http.js';
import { startOrigin } from '../helpers/origin.js';
import { publishTestStream } from '../helpers/publish.js';
import { checkSegment, hlsClient } from './media-checks.js';
import { startNginx } from './nginx.js';
import { startCountingProxy } from './proxy.js';
import { get } from './util.js';

test('nginx edge: HLS decodes clean with one origin fetch per segment; FLV passes through; bad names 400', async (t) => {
  const origin = await startOrigin({ hlsSegment: 1 }, t);
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
