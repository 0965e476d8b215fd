// The HLS viewer estimate of a real `livecdn edge` process (issue 8, item 15): keyed by client address,
// so one client varying its User-Agent counts once and cannot inflate the load reported for placement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EdgeStatus } from '../../src/edge/edge.js';
import { waitListening } from '../helpers/cli-process.js';
import { get, startCliEdge, startFakeUpstream } from './util.js';

test('edge process: a client varying its User-Agent counts as one HLS viewer; distinct addresses count each', async (t) => {
  const up = await startFakeUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl', 'cache-control': 'max-age=1' });
    res.end('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2.000,\ns/0.ts\n');
  });
  t.after(() => up.close());
  const edge = await startCliEdge(['--upstream', up.url, '--no-prefetch']);
  t.after(() => edge.stop());
  await waitListening(edge, `${edge.base}/healthz`);
  const rss = edge.rss();
  for (let i = 0; i < 2000; i++) {
    const r = await get(`${edge.base}/live/s.m3u8`, { 'user-agent': `flood-${i}` });
    assert.equal(r.status, 200);
  }
  for (const address of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) {
    assert.equal((await get(`${edge.base}/live/s.m3u8`, { 'user-agent': 'player' }, 'GET', address)).status, 200);
  }
  const status = JSON.parse((await get(`${edge.base}/api/edge`)).body.toString()) as EdgeStatus;
  assert.equal(status.viewers.hls, 4, '127.0.0.1 (2000 user agents) and three other addresses');
  assert.ok(edge.alive());
  assert.ok(edge.rss() - rss < 64 * 1024 * 1024);
});
