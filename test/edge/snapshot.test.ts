// Snapshots through a Node edge (issue 12): /{app}/{stream}.jpg is a live object the edge keeps for 1 s
// (max-age=1 from the origin, never longer), coalesced: any number of viewers within that second cost the
// origin one request and one FFmpeg decode. Each width is an object of its own; a bad width never
// reaches the origin. Real FFmpeg publishes; the origin decodes with FFmpeg. nginx with
// nginx/edge.conf.template does the same behind a counting proxy.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Edge } from '../../src/edge/edge.js';
import { snapshotPath } from '../../src/shared/url-contract.js';
import { get, type Fetched } from './util.js';
import { startNginx } from './nginx.js';
import { startCountingProxy } from './proxy.js';
import { startOrigin, type TestOrigin } from '../helpers/origin.js';
import { publishTestStream } from '../helpers/publish.js';
import { fetchMetric } from '../helpers/metrics.js';
import { sleep, waitFor } from '../helpers/wait.js';

/** A counter's value summed over its label sets (0 when absent). */
async function metric(base: string, name: string, labels = ''): Promise<number> {
  const v = await fetchMetric(base, name, labels);
  return Number.isNaN(v) ? 0 : v;
}

describe('snapshots through a Node edge', { timeout: 120_000 }, () => {
  let o: TestOrigin;
  let edge: Edge;
  let edgeBase = '';
  let publisher: ReturnType<typeof publishTestStream> | undefined;
  const snap = (query = ''): Promise<Fetched> => get(`${edgeBase}${snapshotPath('live', 'cam')}${query}`);
  const upstream = (): Promise<number> => metric(edgeBase, 'livecdn_edge_upstream_requests_total');
  const decodes = (): Promise<number> => metric(o.httpBase, 'livecdn_snapshot_decodes_total');

  before(async () => {
    o = await startOrigin({ hlsSegmentMs: 1000 });
    publisher = publishTestStream(o.rtmpUrl('live', 'cam'), 'video-only', { gopS: 1 });
    edge = new Edge({ upstreams: [o.httpBase], httpPort: 0, host: '127.0.0.1', prefetch: false });
    edgeBase = `http://127.0.0.1:${(await edge.start()).httpPort}`;
    await waitFor('a snapshot through the edge', async () => (await snap()).status === 200 || undefined, 20_000, 200).catch((e: unknown) => {
      throw new Error(`${String(e)}\nffmpeg: ${publisher?.log() ?? ''}`);
    });
  });

  after(async () => {
    await publisher?.stop();
    await edge?.stop();
    await o?.stop();
  });

  test('many viewers within 1 s: one upstream request, one decode; fresh again after the second', async () => {
    await sleep(1200);
    const [up0, dec0] = [await upstream(), await decodes()];
    // 50 at once (a cold miss, coalesced), then batches of 10 for the next ~0.6 s (hits); under load
    // fewer batches fit, but every one is well within the second the edge keeps the picture.
    const responses = await Promise.all(Array.from({ length: 50 }, () => snap()));
    const arrived = Date.now();
    while (Date.now() - arrived < 600) {
      responses.push(...(await Promise.all(Array.from({ length: 10 }, () => snap()))));
      await sleep(100);
    }
    assert.equal((await upstream()) - up0, 1, 'one upstream request');
    assert.equal((await decodes()) - dec0, 1, 'one decode at the origin');
    const body = (responses[0] as Fetched).body;
    assert.equal(body[0], 0xff);
    assert.equal(body[1], 0xd8);
    for (const r of responses) {
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'image/jpeg');
      assert.equal(r.headers['cache-control'], 'public, max-age=1');
      assert.ok(r.body.equals(body));
      assert.ok(Number(r.headers['x-livecdn-age-ms']) <= 1000, `age ${String(r.headers['x-livecdn-age-ms'])} ms`);
    }
    assert.ok(responses.slice(50).every((r) => r.headers['x-cache'] === 'HIT'));
    assert.equal(await metric(edgeBase, 'livecdn_edge_cache_requests_total', 'kind="snapshot",result="miss"') >= 1, true);

    // Kept 1 s, not longer: past it, the next viewer's request goes upstream again.
    await sleep(1200);
    const later = await snap();
    assert.equal(later.status, 200);
    assert.equal(later.headers['x-cache'], 'MISS');
    assert.equal((await upstream()) - up0, 2);
    assert.ok(!later.body.equals(body), 'a newer picture');
  });

  test('each width is its own object, in canonical form; a bad width is a 400 at the edge', async () => {
    await sleep(1200);
    const up0 = await upstream();
    const [a, b] = await Promise.all([snap('?width=160'), snap('?width=0160')]);
    assert.equal(a.status, 200);
    assert.ok(a.body.equals(b.body));
    assert.equal((await upstream()) - up0, 1, '160 and 0160 are one object');
    for (const q of ['?width=8', '?width=4000', '?width=x', '?width=160&width=320']) assert.equal((await snap(q)).status, 400, q);
    assert.equal((await upstream()) - up0, 1, 'nothing bad went upstream');
    assert.equal((await get(`${edgeBase}${snapshotPath('live', 'none')}`)).status, 404);
  });

  test('nginx edge (edge.conf.template): one upstream request per 1-2 s and width, however many viewers', async (t) => {
    const proxy = await startCountingProxy(o.httpBase);
    t.after(() => proxy.kill());
    const nginx = await startNginx(new URL(proxy.url).host);
    t.after(() => nginx.stop());
    const path = snapshotPath('live', 'cam');
    const first = await waitFor('a snapshot through nginx', async () => {
      const r = await get(`${nginx.base}${path}?token=a`);
      return r.status === 200 ? r : undefined;
    });
    // nginx counts validity in whole seconds: max-age=1 keeps an object up to 2 s.
    await sleep(2100);
    const n0 = proxy.count(path);
    const rs = await Promise.all(Array.from({ length: 40 }, (_, i) => get(`${nginx.base}${path}?token=${i}`)));
    assert.equal(proxy.count(path) - n0, 1, 'one upstream request for 40 viewers (play tokens are not in the key)');
    for (const r of rs) {
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'image/jpeg');
      assert.ok(r.body.equals((rs[0] as Fetched).body));
    }
    // The expired picture was served while one background update fetched the next one.
    assert.ok(rs.some((r) => r.headers['x-cache'] === 'UPDATING'));
    const next = await waitFor('the updated picture', async () => {
      const r = await get(`${nginx.base}${path}`);
      return r.headers['x-cache'] === 'HIT' && !r.body.equals(first.body) ? r : undefined;
    });
    assert.equal(proxy.count(path) - n0, 1);
    assert.equal(next.status, 200);
    const small = await get(`${nginx.base}${path}?width=160`);
    assert.equal(small.status, 200);
    assert.equal(proxy.count(path) - n0, 2, 'a width is an object of its own');
    assert.ok(small.body.length < (rs[0] as Fetched).body.length);
  });
});
