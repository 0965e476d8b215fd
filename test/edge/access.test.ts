// Play tokens at the edge, the viewer's query forwarded upstream, CORS and the cache figures of
// /api/edge and the heartbeat load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Edge, type EdgeConfig, type EdgeStatus } from '../../src/edge/edge.js';
import { signPlayToken, signPublishToken } from '../../src/shared/token.js';
import { deriveKeys } from '../../src/shared/keys.js';
import { get, startFakeUpstream, type FakeUpstream } from './util.js';
import { waitFor } from '../helpers/wait.js';

const KEYS = deriveKeys('edge-access-test-root-secret-32-bytes!');
const SECRET = KEYS.play;
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

test('--play-tokens: playlists, segments and FLV need a valid play token; tokens do not split the cache', async () => {
  await withEdge({ keys: KEYS, playTokens: true }, async (base, _edge, up) => {
    const good = signPlayToken({ app: 'live', stream: 's', expSec: inAnHour() }, SECRET);
    const other = signPlayToken({ app: 'live', stream: 's', expSec: inAnHour() + 1 }, SECRET);
    const refusals: [string, string][] = [
      ['', 'a play token is required'],
      ['?token=nonsense', 'malformed'],
      [`?token=${signPlayToken({ app: 'live', stream: 'other', expSec: inAnHour() }, SECRET)}`, 'not valid'],
      [`?token=${signPlayToken({ app: 'live', stream: 's', expSec: inAnHour() }, 'wrong-secret')}`, 'not valid'],
      [`?token=${signPublishToken({ app: 'live', stream: 's', expSec: inAnHour() }, KEYS.publish)}`, 'not valid'],
      [`?token=${signPlayToken({ app: 'live', stream: 's', expSec: Math.floor(Date.now() / 1000) - 1 }, SECRET)}`, 'expired'],
    ];
    for (const file of ['s.m3u8', 's.flv', 's/0.ts', 's/1.ts']) {
      for (const [query, reason] of refusals) {
        const r = await get(`${base}/live/${file}${query}`);
        assert.equal(r.status, 403, `${file}${query}`);
        assert.equal(r.headers['content-type'], 'application/json');
        assert.equal(r.headers['access-control-allow-origin'], '*');
        const body = JSON.parse(r.body.toString()) as { error: string; message: string };
        assert.equal(body.error, 'forbidden');
        assert.match(body.message, new RegExp(reason));
      }
    }
    assert.equal(up.urls.length, 0, 'nothing refused reached the upstream');

    const a = await get(`${base}/live/s.m3u8?token=${good}`);
    assert.equal(a.status, 200);
    assert.equal(a.body.toString(), PLAYLIST.replace('s/0.ts', `s/0.ts?token=${good}`), 'the segment URI carries the viewer\'s token');
    assert.equal(Number(a.headers['content-length']), a.body.length);
    const b = await get(`${base}/live/s.m3u8?token=${other}`);
    assert.equal(b.status, 200);
    assert.equal(b.headers['x-cache'], 'HIT', 'another token, same cached playlist');
    assert.equal(b.body.toString(), PLAYLIST.replace('s/0.ts', `s/0.ts?token=${other}`), 'its own token, never the first viewer\'s');
    assert.equal(up.count('/live/s.m3u8'), 1);
    assert.deepEqual(up.urls, [`/live/s.m3u8?token=${good}`], 'the query went upstream with the fetch');

    const seg = await get(`${base}/live/s/0.ts?token=${good}`);
    assert.equal(seg.status, 200, 'a segment with a valid token');
    assert.equal((await get(`${base}/live/s/0.ts?token=${other}`)).headers['x-cache'], 'HIT');

    const flv = await get(`${base}/live/s.flv?token=${good}&x=1`);
    assert.equal(flv.status, 404, 'a valid token passes; the upstream answered 404');
    assert.ok(up.urls.includes(`/live/s.flv?token=${good}&x=1`), `FLV query forwarded: ${up.urls.join(' ')}`);
  });
});

test('a playlist cached with one viewer\'s token never hands it to another; prefetch carries the listed token upstream', async () => {
  const listed = signPlayToken({ app: 'live', stream: 't', expSec: inAnHour() }, SECRET);
  const viewer = signPlayToken({ app: 'live', stream: 't', expSec: inAnHour() + 5 }, SECRET);
  // As an origin with play tokens answers a request that carried `listed`.
  const text = `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n#EXTINF:2.000,\nt/7.ts?token=${listed}\n#EXTINF:2.000,\nt/8.ts?token=${listed}\n`;
  const urls: string[] = [];
  const up = await startFakeUpstream((req, res) => {
    urls.push(req.url ?? '');
    const path = (req.url ?? '').split('?')[0];
    if (path === '/live/t.m3u8') {
      res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl', 'cache-control': 'max-age=5' });
      res.end(text);
    } else {
      res.writeHead(200, { 'content-type': 'video/mp2t', 'cache-control': 'max-age=60' });
      res.end(Buffer.alloc(188, 0x47));
    }
  });
  for (const extra of [{ keys: KEYS, playTokens: true }, {}] as const) {
    const edge = new Edge({ upstreams: [up.url], httpPort: 0, host: '127.0.0.1', defaultMetrics: false, ...extra });
    try {
      const base = `http://127.0.0.1:${(await edge.start()).httpPort}`;
      if (extra.playTokens) {
        const r = await get(`${base}/live/t.m3u8?token=${viewer}`);
        assert.equal(r.status, 200);
        assert.ok(!r.body.toString().includes(listed), 'the cached token is replaced by the viewer\'s');
        assert.equal((r.body.toString().match(new RegExp(`\\?token=${viewer.replace('.', '\\.')}`, 'g')) ?? []).length, 2);
        await waitFor('prefetches', () => (urls.includes(`/live/t/8.ts?token=${listed}`) ? true : undefined), 5000);
        assert.ok(urls.includes(`/live/t/7.ts?token=${listed}`), urls.join(' '));
      } else {
        // An edge without play tokens in front of one with them: tokenless viewers get no one's token.
        const r = await get(`${base}/live/t.m3u8`);
        assert.equal(r.status, 200);
        assert.ok(!r.body.toString().includes('token='), r.body.toString());
        assert.match(r.body.toString(), /^t\/8\.ts$/m);
      }
    } finally {
      await edge.stop();
    }
  }
  await up.close();
});

test('without --play-tokens nothing is checked, and the FLV query still goes upstream (origin on_play hooks)', async () => {
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
