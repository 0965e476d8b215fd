// LL-HLS through the edge against a small in-test upstream that holds blocking reloads and streams parts
// in chunks the test releases one at a time, and counts every request with its query: one upstream
// request per playlist version and per part, whatever the number of viewers, workers or tiers.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Edge, type EdgeConfig, type EdgeStatus } from '../../src/edge/edge.js';
import { EDGE_DEFAULTS } from '../../src/edge/defaults.js';
import { defaultFreshness } from '../../src/edge/freshness.js';
import { HOLD_TARGETS } from '../../src/edge/held-requests.js';
import { ORIGIN_DEFAULTS } from '../../src/origin/defaults.js';
import { deriveKeys } from '../../src/shared/keys.js';
import { signPlayToken } from '../../src/shared/token.js';
import { Log, M3U8, PLAYLIST, directives, llPlaylist, streamingGet } from './llhls-upstream.js';
import { bytes, get, startCliEdge, startFakeUpstream, type FakeUpstream } from './util.js';
import { sleep, waitFor } from '../helpers/wait.js';

/** A held request that the test answers later. */
interface Held {
  readonly url: string;
  readonly res: ServerResponse;
}

async function startEdge(t: TestContext, upstreams: readonly FakeUpstream[], extra: Partial<EdgeConfig> = {}): Promise<string> {
  const edge = new Edge({ upstreams: upstreams.map((u) => u.url), httpPort: 0, host: '127.0.0.1', prefetch: false, defaultMetrics: false, ...extra });
  const { httpPort } = await edge.start();
  t.after(async () => {
    await edge.stop();
    for (const u of upstreams) await u.close();
  });
  return `http://127.0.0.1:${httpPort}`;
}

test('100 viewers blocking on one playlist version make one upstream request; no other version answers them', async (t) => {
  const log = new Log();
  const held: Held[] = [];
  const up = await startFakeUpstream((req, res) => {
    log.add(req.url ?? '');
    const path = (req.url ?? '').split('?')[0];
    if (path !== PLAYLIST) {
      res.writeHead(404).end();
      return;
    }
    if (directives(req.url ?? '') === '') {
      // Fresh for the whole test: a fresh plain playlist must not answer a blocking request either.
      res.writeHead(200, { ...M3U8, 'cache-control': 'max-age=30' }).end(llPlaylist(100, 1));
      return;
    }
    held.push({ url: req.url ?? '', res });
  });
  // A short headers timeout: held requests must not be bound by it.
  const base = await startEdge(t, [up], { upstream: { headersTimeoutMs: 300 } });

  // The plain playlist is cached and lists part 100.0; viewers then block on 100.1.
  const plain = await get(`${base}${PLAYLIST}`);
  assert.equal(plain.status, 200);
  const pending = Array.from({ length: 100 }, (_, i) => get(`${base}${PLAYLIST}?_HLS_msn=100&_HLS_part=1&token=viewer${i}`));
  await waitFor('the blocking request upstream', () => held.length === 1);
  await sleep(500); // longer than headersTimeoutMs: still held, nobody answered from the cached plain playlist
  assert.equal(held.length, 1, log.toString());
  assert.equal(directives(held[0]?.url ?? ''), '_HLS_msn=100&_HLS_part=1');
  assert.match(held[0]?.url ?? '', /token=viewer\d+/, "the first viewer's token goes upstream");
  const version = llPlaylist(100, 2);
  held[0]?.res.writeHead(200, { ...M3U8, 'cache-control': 'max-age=6' }).end(version);
  const all = await Promise.all(pending);
  for (const r of all) {
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), version, 'the version asked for, not the cached plain playlist');
  }
  // A later viewer of the same version is a hit; the plain reload still gets the plain playlist.
  const again = await get(`${base}${PLAYLIST}?token=late&_HLS_part=1&_HLS_msn=100`);
  assert.equal(again.headers['x-cache'], 'HIT');
  assert.equal(again.body.toString(), version);
  assert.equal((await get(`${base}${PLAYLIST}`)).body.toString(), plain.body.toString());
  // The next version goes upstream again, once.
  const next = Array.from({ length: 20 }, () => get(`${base}${PLAYLIST}?_HLS_msn=100&_HLS_part=2`));
  await waitFor('the next blocking request upstream', () => held.length === 2);
  held[1]?.res.writeHead(200, { ...M3U8, 'cache-control': 'max-age=6' }).end(llPlaylist(100, 3));
  for (const r of await Promise.all(next)) assert.equal(r.body.toString(), llPlaylist(100, 3));
  const upstreamCalls = [...log.seen.keys()].filter((u) => u.includes('_HLS_msn')).map(directives);
  assert.deepEqual(upstreamCalls, ['_HLS_msn=100&_HLS_part=1', '_HLS_msn=100&_HLS_part=2']);
  for (const u of log.seen.keys()) assert.equal(log.count(u), 1, `${u} once`);
});

test('play tokens: viewers with their own tokens share one blocking fetch; each gets its token on every URI', async (t) => {
  const keys = deriveKeys('edge-llhls-test-root-secret-of-32-bytes!');
  const token = (s: number): string => signPlayToken({ app: 'live', stream: 's', expSec: Math.floor(Date.now() / 1000) + 3600 + s }, keys.play);
  const tokens = [token(1), token(2)];
  const log = new Log();
  const up = await startFakeUpstream((req, res) => {
    log.add(req.url ?? '');
    setTimeout(() => res.writeHead(200, { ...M3U8, 'cache-control': 'max-age=6' }).end(llPlaylist(100, 2)), 200);
  });
  const base = await startEdge(t, [up], { keys, playTokens: true });
  assert.equal((await get(`${base}${PLAYLIST}?_HLS_msn=100&_HLS_part=1`)).status, 403);
  const all = await Promise.all(Array.from({ length: 40 }, (_, i) => get(`${base}${PLAYLIST}?_HLS_msn=100&_HLS_part=1&token=${tokens[i % 2] ?? ''}`)));
  for (const [i, r] of all.entries()) {
    assert.equal(r.status, 200);
    const uris = [...r.body.toString().matchAll(/URI="([^"]+)"/g)].map((m) => m[1] ?? '');
    assert.ok(uris.length >= 8, 'maps, parts and the preload hint');
    for (const uri of uris) assert.equal(new URL(uri, 'http://x/').searchParams.get('token'), tokens[i % 2], uri);
  }
  assert.equal(log.seen.size, 1, log.toString());
  assert.match([...log.seen.keys()][0] ?? '', /token=/, 'a token goes upstream, for a parent that checks it');
});

test('a 503 at the end of the upstream hold is passed through, not cached, and does not mark the upstream down', async (t) => {
  let calls = 0;
  const first = await startFakeUpstream((_req, res) => {
    calls++;
    setTimeout(() => res.writeHead(503, { 'content-type': 'text/plain' }).end('hold expired'), 100);
  });
  const second = await startFakeUpstream((_req, res) => res.writeHead(500).end());
  const base = await startEdge(t, [first, second]);
  for (let i = 0; i < 2; i++) {
    const r = await get(`${base}${PLAYLIST}?_HLS_msn=7`);
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-cache'], 'MISS');
  }
  assert.equal(calls, 2, 'not cached');
  assert.equal(second.counts.size, 0, 'not retried elsewhere: the hold ran out, the upstream is fine');
});

test('malformed delivery directives are a 400 at the edge and never reach the upstream', async (t) => {
  const up = await startFakeUpstream((_req, res) => res.writeHead(200).end('#EXTM3U\n'));
  const base = await startEdge(t, [up]);
  for (const q of ['_HLS_msn=abc', '_HLS_msn=1&_HLS_msn=2', '_HLS_part=1', '_HLS_msn=1&_HLS_part=99999', `_HLS_msn=${'1'.repeat(40)}`, '_HLS_skip=no']) {
    const r = await get(`${base}${PLAYLIST}?${q}`);
    assert.equal(r.status, 400, q);
  }
  assert.equal(up.counts.size, 0);
});

test('the edge waits for held requests longer than the origin holds them', () => {
  assert.ok(HOLD_TARGETS > ORIGIN_DEFAULTS.hlsHoldTargets);
  // With the default 1 s LL-HLS segments and up to 6 s segments, the floor alone covers the hold.
  assert.ok(EDGE_DEFAULTS.upstream.heldTimeoutMs > ORIGIN_DEFAULTS.hlsHoldTargets * 6000);
  assert.ok(EDGE_DEFAULTS.upstream.heldTimeoutMs > EDGE_DEFAULTS.upstream.headersTimeoutMs);
});

test('100 simultaneous preload-hint requests: one upstream request, every chunk relayed at once, identical bytes', async (t) => {
  const PART = '/live/s/100.2.m4s';
  const chunks = [0, 1, 2, 3, 4].map((i) => bytes(3000 + i * 500, 40 + i));
  let res: ServerResponse | undefined;
  const up = await startFakeUpstream((req: IncomingMessage, r: ServerResponse) => {
    if (req.url?.split('?')[0] !== PART) {
      r.writeHead(404).end();
      return;
    }
    // Chunked: no content-length, the part is being produced.
    r.writeHead(200, { 'content-type': 'video/iso.segment', 'cache-control': 'public, max-age=3600, immutable' });
    res = r;
  });
  const base = await startEdge(t, [up], { upstream: { headersTimeoutMs: 300 } });
  const viewers = Array.from({ length: 100 }, () => streamingGet(`${base}${PART}`));
  await waitFor('the part request upstream', () => res !== undefined);
  let sent = 0;
  for (const [i, c] of chunks.entries()) {
    // The next chunk is produced only once every viewer has the previous ones: nothing waits in a buffer.
    res?.write(c);
    sent += c.length;
    await waitFor(`chunk ${i} at every viewer`, () => viewers.every((v) => v.received() === sent), 5000, 5);
    if (i === 2) {
      // A viewer arriving mid-part gets what was produced so far at once, then the rest.
      viewers.push(streamingGet(`${base}${PART}`));
      await waitFor('the late viewer caught up', () => viewers.at(-1)?.received() === sent, 5000, 5);
    }
    await sleep(400); // longer than headersTimeoutMs and than the part-404 TTL: the stream is just slow
  }
  res?.end();
  const want = Buffer.concat(chunks);
  for (const v of viewers) {
    assert.equal(await v.status, 200);
    assert.ok((await v.done).equals(want), 'identical bytes');
  }
  assert.equal(up.count(PART), 1);
  const hit = await get(`${base}${PART}`);
  assert.equal(hit.headers['x-cache'], 'HIT');
  assert.ok(hit.body.equals(want));
  assert.equal(up.count(PART), 1);
});

test("a part's 404 (not produced yet) is cached only briefly", async (t) => {
  let exists = false;
  const up = await startFakeUpstream((_req, res) => {
    if (exists) res.writeHead(200, { 'content-type': 'video/iso.segment', 'cache-control': 'max-age=3600' }).end(bytes(100, 1));
    // A moment's delay: the 20 concurrent requests below overlap with the one upstream request.
    else setTimeout(() => res.writeHead(404, { 'content-type': 'text/plain' }).end('no such part yet'), 200);
  });
  const base = await startEdge(t, [up]);
  const PART = '/live/s/100.5.m4s';
  const early = await Promise.all(Array.from({ length: 20 }, () => get(`${base}${PART}`)));
  for (const r of early) assert.equal(r.status, 404);
  assert.equal(up.count(PART), 1, 'concurrent 404s coalesce');
  exists = true;
  await sleep(3 * defaultFreshness.partNegativeTtlMs);
  const now = await get(`${base}${PART}`);
  assert.equal(now.status, 200, 'the part is served as soon as it exists');
  // A plain segment's 404 stays cached for the usual second.
  exists = false;
  assert.equal((await get(`${base}/live/s/100.m4s`)).status, 404);
  exists = true;
  await sleep(3 * defaultFreshness.partNegativeTtlMs);
  assert.equal((await get(`${base}/live/s/100.m4s`)).status, 404);
});

test('prefetch: a new playlist version starts the preload-hint fetch; viewers of the part join it', async (t) => {
  const log = new Log();
  let partRes: ServerResponse | undefined;
  const up = await startFakeUpstream((req, res) => {
    log.add(req.url ?? '');
    const path = (req.url ?? '').split('?')[0];
    if (path === PLAYLIST) {
      res.writeHead(200, { ...M3U8, 'cache-control': 'max-age=1' }).end(llPlaylist(100, 1));
    } else if (path === '/live/s/100.1.m4s') {
      res.writeHead(200, { 'content-type': 'video/iso.segment', 'cache-control': 'max-age=3600' });
      res.write(bytes(1000, 9));
      partRes = res;
    } else if (path === '/live/s/init-98.mp4') {
      res.writeHead(200, { 'content-type': 'video/mp4', 'cache-control': 'max-age=3600' }).end(bytes(500, 3));
    } else res.writeHead(404).end();
  });
  const base = await startEdge(t, [up], { prefetch: true });
  await get(`${base}${PLAYLIST}`);
  await waitFor('the hint prefetched', () => partRes !== undefined);
  const viewers = Array.from({ length: 10 }, () => get(`${base}/live/s/100.1.m4s`));
  await sleep(100);
  partRes?.end(bytes(1000, 10));
  for (const r of await Promise.all(viewers)) assert.ok(r.body.equals(Buffer.concat([bytes(1000, 9), bytes(1000, 10)])));
  assert.equal((await get(`${base}/live/s/init-98.mp4`)).headers['x-cache'], 'HIT', 'the init segment was prefetched');
  assert.deepEqual(
    [...log.seen.keys()].sort(),
    ['/live/s.m3u8', '/live/s/100.1.m4s', '/live/s/init-98.mp4'],
    'segments of an LL playlist are not prefetched: LL viewers load parts',
  );
  for (const u of log.seen.keys()) assert.equal(log.count(u), 1, u);
});

/** A playlist upstream that answers every blocking version after `holdMs`, counting them. */
async function versionUpstream(holdMs: number): Promise<{ up: FakeUpstream; log: Log }> {
  const log = new Log();
  const up = await startFakeUpstream((req, res) => {
    log.add(req.url ?? '');
    const m = /_HLS_msn=(\d+)&_HLS_part=(\d+)/.exec(req.url ?? '');
    if (m) {
      setTimeout(() => res.writeHead(200, { ...M3U8, 'cache-control': 'max-age=6' }).end(llPlaylist(Number(m[1]), Number(m[2]) + 1)), holdMs);
      return;
    }
    const p = /^\/live\/s\/(\d+)\.(\d+)\.m4s/.exec(req.url ?? '');
    if (p) {
      setTimeout(() => res.writeHead(200, { 'content-type': 'video/iso.segment', 'cache-control': 'max-age=3600' }).end(bytes(2000, Number(p[1]) * 10 + Number(p[2]))), holdMs);
      return;
    }
    res.writeHead(404).end();
  });
  return { up, log };
}

test('--workers 2: blocking versions and parts spread over both workers make one upstream request each', async (t) => {
  const { up, log } = await versionUpstream(300);
  const edge = await startCliEdge(['--upstream', up.url, '--workers', '2', '--no-prefetch']);
  t.after(async () => {
    await edge.stop();
    await up.close();
  });
  // Both workers up and knowing each other (until then a worker fetches its sibling's objects itself).
  await waitFor(
    'both workers knowing their sibling',
    async () => {
      const answers = await Promise.all(Array.from({ length: 6 }, () => get(`${edge.base}/api/edge`).catch(() => undefined)));
      const shards = answers.map((a) => (a?.status === 200 ? (JSON.parse(a.body.toString()) as EdgeStatus).shard : undefined));
      return new Set(shards.map((s) => s?.index)).size === 2 && shards.every((s) => s?.peers.every((p) => p !== null));
    },
    20_000,
    200,
  );
  // New connections (and a token each): the cluster hands them round both workers.
  const urls = [0, 1, 2].flatMap((p) => [`${edge.base}${PLAYLIST}?_HLS_msn=100&_HLS_part=${p}&`, `${edge.base}/live/s/100.${p}.m4s?`]);
  const all = await Promise.all(Array.from({ length: 120 }, (_, i) => get(`${urls[i % urls.length] ?? ''}token=${i}`)));
  for (const [i, r] of all.entries()) {
    assert.equal(r.status, 200, urls[i % urls.length]);
    if (i % 2 === 0) assert.equal(r.body.toString(), llPlaylist(100, ((i / 2) % 3) + 1));
  }
  const upstreamKeys = [...log.seen.keys()].map((u) => u.split('?')[0] + (directives(u) ? `?${directives(u)}` : ''));
  assert.equal(new Set(upstreamKeys).size, 6, log.toString());
  assert.equal(upstreamKeys.length, 6, `one request per version and part: ${log.toString()}`);
});

test('tiers: two child edges behind one parent make one origin request per version and part', async (t) => {
  const { up, log } = await versionUpstream(300);
  const parentEdge = new Edge({ upstreams: [up.url], httpPort: 0, host: '127.0.0.1', prefetch: false, defaultMetrics: false, nodeId: 'parent' });
  const parentPort = (await parentEdge.start()).httpPort;
  t.after(() => parentEdge.stop());
  const children = await Promise.all(
    ['child-a', 'child-b'].map(async (nodeId) => {
      const c = new Edge({ upstreams: [`http://127.0.0.1:${parentPort}`], httpPort: 0, host: '127.0.0.1', prefetch: false, defaultMetrics: false, nodeId });
      const port = (await c.start()).httpPort;
      t.after(() => c.stop());
      return `http://127.0.0.1:${port}`;
    }),
  );
  t.after(() => up.close());
  const paths = [`${PLAYLIST}?_HLS_msn=100&_HLS_part=0`, `${PLAYLIST}?_HLS_msn=100&_HLS_part=0&_HLS_skip=YES`, '/live/s/100.0.m4s'];
  const all = await Promise.all(Array.from({ length: 60 }, (_, i) => get(`${children[i % 2] ?? ''}${paths[i % 3] ?? ''}`)));
  for (const r of all) assert.equal(r.status, 200);
  assert.equal([...log.seen.values()].reduce((a, b) => a + b, 0), 3, log.toString());
  assert.deepEqual([...log.seen.keys()].map(directives).sort(), ['', '_HLS_msn=100&_HLS_part=0', '_HLS_msn=100&_HLS_part=0&_HLS_skip=YES']);
});
