// Play tokens at the edge, the viewer's query forwarded upstream, CORS and the cache figures of
// /api/edge and the heartbeat load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Edge, type EdgeConfig, type EdgeStatus } from '../../src/edge/edge.js';
import { signPlayToken, signPublishToken } from '../../src/shared/token.js';
import { get, startFakeUpstream, type FakeUpstream } from './util.js';

const SECRET = 'play-secret';
const PLAYLIST = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2.000,\ns/0.ts\n';

/** Playlist, segment and (as a 404, enough to see the request) FLV; remembers each full request URL. */
async function upstream(): Promise<FakeUpstream & { urls: string[] }> {
  const urls: string[] = [];
  const up = await startFakeUpstream((req, res) => {
    const url = req.url ?? '';
    urls.push(url);
    const path = url.split('?')[0];
    if (path === '/live/s.m3u8') {
      res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl', 'cache-control': 'max-age=5' });
      res.end(PLAYLIST);
    } else if (path === '/live/s/0.ts') {
      res.writeHead(200, { 'content-type': 'video/mp2t', 'cache-control': 'max-age=60' });
      res.end(Buffer.alloc(500, 1));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('no such stream');
    }
  });
  return Object.assign(up, { urls });
}

async function withEdge(extra: Partial<EdgeConfig>, fn: (base: string, edge: Edge, up: FakeUpstream & { urls: string[] }) => Promise<void>): Promise<void> {
  const up = await upstream();
  const edge = new Edge({ upstreams: [up.url], httpPort: 0, host: '127.0.0.1', prefetch: false, defaultMetrics: false, ...extra });
  try {
    const { httpPort } = await edge.start();
    await fn(`http://127.0.0.1:${httpPort}`, edge, up);
  } finally {
    await edge.stop();
    await up.close();
  }
}

const inAnHour = (): number => Math.floor(Date.now() / 1000) + 3600;

test('--play-secret: playlists and FLV need a valid play token; segments do not; tokens do not split the cache', async () => {
  await withEdge({ playSecret: SECRET }, async (base, _edge, up) => {
    const good = signPlayToken({ app: 'live', stream: 's', expSec: inAnHour() }, SECRET);
    const other = signPlayToken({ app: 'live', stream: 's', expSec: inAnHour() + 1 }, SECRET);
    const refusals: [string, string][] = [
      ['', 'missing'],
      ['?token=nonsense', 'malformed'],
      [`?token=${signPlayToken({ app: 'live', stream: 'other', expSec: inAnHour() }, SECRET)}`, 'forged'],
      [`?token=${signPlayToken({ app: 'live', stream: 's', expSec: inAnHour() }, 'wrong-secret')}`, 'forged'],
      [`?token=${signPublishToken({ app: 'live', stream: 's', expSec: inAnHour() }, SECRET)}`, 'forged'],
      [`?token=${signPlayToken({ app: 'live', stream: 's', expSec: Math.floor(Date.now() / 1000) - 1 }, SECRET)}`, 'expired'],
    ];
    for (const file of ['s.m3u8', 's.flv']) {
      for (const [query, reason] of refusals) {
        const r = await get(`${base}/live/${file}${query}`);
        assert.equal(r.status, 403, `${file}${query}`);
        assert.equal(r.headers['content-type'], 'application/json');
        assert.equal(r.headers['access-control-allow-origin'], '*');
        const body = JSON.parse(r.body.toString()) as { error: string; message: string };
        assert.equal(body.error, 'forbidden');
        assert.match(body.message, new RegExp(`play token ${reason}`));
      }
    }
    assert.equal(up.urls.length, 0, 'nothing refused reached the upstream');

    const a = await get(`${base}/live/s.m3u8?token=${good}`);
    assert.equal(a.status, 200);
    assert.equal(a.body.toString(), PLAYLIST);
    const b = await get(`${base}/live/s.m3u8?token=${other}`);
    assert.equal(b.status, 200);
    assert.equal(b.headers['x-cache'], 'HIT', 'another token, same cached playlist');
    assert.equal(up.count('/live/s.m3u8'), 1);
    assert.deepEqual(up.urls, [`/live/s.m3u8?token=${good}`], 'the query went upstream with the fetch');

    const seg = await get(`${base}/live/s/0.ts`);
    assert.equal(seg.status, 200, 'segments, referenced without the query, need no token');

    const flv = await get(`${base}/live/s.flv?token=${good}&x=1`);
    assert.equal(flv.status, 404, 'a valid token passes; the upstream answered 404');
    assert.ok(up.urls.includes(`/live/s.flv?token=${good}&x=1`), `FLV query forwarded: ${up.urls.join(' ')}`);
  });
});

test('without --play-secret nothing is checked, and the FLV query still goes upstream (origin on_play hooks)', async () => {
  await withEdge({}, async (base, _edge, up) => {
    assert.equal((await get(`${base}/live/s.m3u8`)).status, 200);
    assert.equal((await get(`${base}/live/s.flv?sign=abc`)).status, 404);
    assert.ok(up.urls.includes('/live/s.flv?sign=abc'), up.urls.join(' '));
  });
});

test('/api/edge and /metrics allow any origin; /api/edge and the heartbeat load carry the cache hit ratio', async () => {
  await withEdge({}, async (base, edge) => {
    const load0 = edge.nodeLoad();
    assert.equal(load0.cacheHitRatio, undefined, 'no requests, no ratio');
    assert.equal((await get(`${base}/live/s/0.ts`)).headers['x-cache'], 'MISS');
    for (let i = 0; i < 3; i++) assert.equal((await get(`${base}/live/s/0.ts`)).headers['x-cache'], 'HIT');
    const api = await get(`${base}/api/edge`);
    assert.equal(api.headers['access-control-allow-origin'], '*');
    const st = JSON.parse(api.body.toString()) as EdgeStatus;
    assert.equal(st.hits, 3);
    assert.equal(st.misses, 1);
    assert.equal(st.cacheHitRatio, 0.75);
    assert.equal(edge.nodeLoad().cacheHitRatio, 0.75);
    await get(`${base}/live/s/0.ts`);
    assert.equal(edge.nodeLoad().cacheHitRatio, 1, 'the heartbeat ratio covers the requests since the previous one');
    assert.equal(edge.nodeLoad().cacheHitRatio, undefined);
    const metrics = await get(`${base}/metrics`);
    assert.equal(metrics.status, 200);
    assert.equal(metrics.headers['access-control-allow-origin'], '*');
  });
});
