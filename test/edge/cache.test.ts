// The HLS pull-through cache against a small in-test upstream that counts requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Edge, type EdgeConfig } from '../../src/edge/edge.js';
import { bytes, get, startFakeUpstream, type FakeUpstream } from './util.js';
import { sleep } from '../helpers/wait.js';

const SEG = 64 * 1024;

/** Serves /live/s.m3u8 (max-age=1) listing the segments in `playlist`, and /live/s/N.ts (max-age=60). */
function hlsHandler(state: { playlist: number[]; segmentDelayMs: number; status?: number }) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (state.status !== undefined) {
      res.writeHead(state.status, { 'content-type': 'text/plain' });
      res.end('forced status');
      return;
    }
    if (path === '/live/s.m3u8') {
      const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:2', `#EXT-X-MEDIA-SEQUENCE:${state.playlist[0] ?? 0}`];
      for (const n of state.playlist) lines.push('#EXTINF:2.000,', `s/${n}.ts`);
      res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl', 'cache-control': 'max-age=1' });
      res.end(lines.join('\n') + '\n');
      return;
    }
    const m = /^\/live\/s\/(\d+)\.ts$/.exec(path);
    if (m) {
      const body = bytes(SEG, Number(m[1]) + 1);
      res.writeHead(200, { 'content-type': 'video/mp2t', 'cache-control': 'max-age=60', 'content-length': body.length });
      // Half now, half later: coalesced waiters must join a response that is already streaming.
      res.write(body.subarray(0, SEG / 2));
      setTimeout(() => res.end(body.subarray(SEG / 2)), state.segmentDelayMs);
      return;
    }
    if (path === '/live/forbidden.m3u8') {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('no');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain', 'cache-control': 'no-cache' });
    res.end('not found');
  };
}

async function withEdge(
  upstreams: FakeUpstream[],
  extra: Partial<EdgeConfig>,
  fn: (base: string, edge: Edge) => Promise<void>,
): Promise<void> {
  const edge = new Edge({ upstreams: upstreams.map((u) => u.url), httpPort: 0, host: '127.0.0.1', prefetch: false, ...extra });
  try {
    const { httpPort } = await edge.start();
    await fn(`http://127.0.0.1:${httpPort}`, edge);
  } finally {
    await edge.stop();
    for (const u of upstreams) await u.close();
  }
}

test('100 simultaneous cold requests for one segment make exactly one upstream request', async () => {
  const up = await startFakeUpstream(hlsHandler({ playlist: [1], segmentDelayMs: 2000 }));
  await withEdge([up], {}, async (base) => {
    const all = await Promise.all(Array.from({ length: 100 }, () => get(`${base}/live/s/7.ts`)));
    assert.equal(up.count('/live/s/7.ts'), 1);
    const want = bytes(SEG, 8);
    for (const r of all) {
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-cache'], 'MISS');
      assert.ok(r.body.equals(want), 'every waiter gets the exact bytes');
    }
    const hit = await get(`${base}/live/s/7.ts`);
    assert.equal(hit.headers['x-cache'], 'HIT');
    assert.equal(hit.headers['content-type'], 'video/mp2t');
    assert.equal(hit.headers['cache-control'], 'max-age=60');
    assert.equal(hit.headers['content-length'], String(SEG));
    assert.ok(hit.body.equals(want));
    assert.equal(up.count('/live/s/7.ts'), 1);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /livecdn_edge_coalesced_waits_total\{kind="segment"\} 99/);
    assert.match(metrics, /livecdn_edge_cache_requests_total\{kind="segment",result="hit"\} 1/);
  });
});

test('a playlist is never served older than its max-age; Age grows', async () => {
  const state = { playlist: [1, 2, 3], segmentDelayMs: 0 };
  const up = await startFakeUpstream(hlsHandler(state));
  await withEdge([up], {}, async (base) => {
    const a = await get(`${base}/live/s.m3u8`);
    assert.equal(a.status, 200);
    assert.equal(a.headers['x-cache'], 'MISS');
    assert.equal(a.headers.age, '0');
    state.playlist = [2, 3, 4];
    await sleep(300);
    const b = await get(`${base}/live/s.m3u8`);
    assert.equal(b.headers['x-cache'], 'HIT');
    assert.ok(Number(b.headers['x-livecdn-age-ms']) >= 250, 'precise age reported');
    assert.ok(b.body.equals(a.body), 'fresh copy served within max-age');
    await sleep(800);
    const c = await get(`${base}/live/s.m3u8`);
    assert.equal(c.headers['x-cache'], 'MISS', 'expired playlist is refetched, not served stale');
    assert.match(c.body.toString(), /s\/4\.ts/);
    assert.equal(up.count('/live/s.m3u8'), 2);
  });
});

test('404 is cached about a second; other statuses pass through uncached; HEAD works', async () => {
  const up = await startFakeUpstream(hlsHandler({ playlist: [1], segmentDelayMs: 0 }));
  await withEdge([up], {}, async (base) => {
    const a = await get(`${base}/live/missing.m3u8`);
    const b = await get(`${base}/live/missing.m3u8`);
    assert.equal(a.status, 404);
    assert.equal(b.status, 404);
    assert.equal(b.headers['x-cache'], 'HIT');
    assert.equal(up.count('/live/missing.m3u8'), 1);
    await sleep(1100);
    assert.equal((await get(`${base}/live/missing.m3u8`)).status, 404);
    assert.equal(up.count('/live/missing.m3u8'), 2);

    assert.equal((await get(`${base}/live/forbidden.m3u8`)).status, 403);
    assert.equal((await get(`${base}/live/forbidden.m3u8`)).status, 403);
    assert.equal(up.count('/live/forbidden.m3u8'), 2);

    const head = await get(`${base}/live/s/3.ts`, {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    const full = await get(`${base}/live/s/3.ts`);
    assert.ok(full.body.equals(bytes(SEG, 4)));
  });
});

test('bad names are 400 and never reach the upstream', async () => {
  const up = await startFakeUpstream(hlsHandler({ playlist: [1], segmentDelayMs: 0 }));
  await withEdge([up], {}, async (base) => {
    for (const p of ['/li%20ve/s.m3u8', '/live/s!.m3u8', '/live/s/../../etc/passwd', '/live/s/..%2F..%2Fx.ts', `/live/${'a'.repeat(65)}.flv`, '/live/s.mp4']) {
      const r = await get(base + p);
      assert.equal(r.status, 400, p);
    }
    assert.equal((await get(`${base}/nothing`)).status, 404);
    assert.equal(up.counts.size, 0);
  });
});

test('the LRU keeps the cache within its byte budget and evicts the least recently used', async () => {
  const up = await startFakeUpstream(hlsHandler({ playlist: [1], segmentDelayMs: 0 }));
  const budget = 4 * SEG + 4096; // room for four segments
  await withEdge([up], { cacheBytes: budget }, async (base) => {
    for (let i = 0; i < 10; i++) {
      await get(`${base}/live/s/${i}.ts`);
      if (i === 5) await get(`${base}/live/s/3.ts`); // touch 3: it must survive longer than 4 and 5
      const st = (await (await fetch(`${base}/api/edge`)).json()) as { cache: { bytes: number; objects: number } };
      assert.ok(st.cache.bytes <= budget, `cache ${st.cache.bytes} within ${budget}`);
    }
    const st = (await (await fetch(`${base}/api/edge`)).json()) as { cache: { bytes: number; objects: number } };
    assert.equal(st.cache.objects, 4);
    assert.equal((await get(`${base}/live/s/9.ts`)).headers['x-cache'], 'HIT');
    assert.equal((await get(`${base}/live/s/0.ts`)).headers['x-cache'], 'MISS');
    assert.equal(up.count('/live/s/0.ts'), 2);
  });
});

test('failover: 5xx, connect error and timeout mark an upstream down; the request is retried on the next', async () => {
  const bad = await startFakeUpstream(hlsHandler({ playlist: [1], segmentDelayMs: 0, status: 503 }));
  const good = await startFakeUpstream(hlsHandler({ playlist: [1], segmentDelayMs: 0 }));
  await withEdge([bad, good], { upstream: { downMs: 60_000 } }, async (base, edge) => {
    const r = await get(`${base}/live/s/1.ts`);
    assert.equal(r.status, 200);
    assert.ok(r.body.equals(bytes(SEG, 2)));
    assert.equal(bad.count('/live/s/1.ts'), 1);
    // Marked down: the next miss goes straight to the good one.
    await get(`${base}/live/s/2.ts`);
    assert.equal(bad.count('/live/s/2.ts'), 0);
    assert.equal(good.count('/live/s/2.ts'), 1);
    const st = edge.status() as { upstreams: { url: string; up: boolean }[] };
    assert.deepEqual(
      st.upstreams.map((u) => u.up),
      [false, true],
    );
  });

  // Connect error: a port nobody listens on.
  const closed = await startFakeUpstream(() => {});
  await closed.close();
  const good2 = await startFakeUpstream(hlsHandler({ playlist: [1], segmentDelayMs: 0 }));
  await withEdge([closed, good2], {}, async (base) => {
    const r = await get(`${base}/live/s/1.ts`);
    assert.equal(r.status, 200);
    assert.equal(good2.count('/live/s/1.ts'), 1);
  });

  // Timeout: an upstream that accepts and never answers.
  const hang = await startFakeUpstream(() => {});
  const good3 = await startFakeUpstream(hlsHandler({ playlist: [1], segmentDelayMs: 0 }));
  await withEdge([hang, good3], { upstream: { headersTimeoutMs: 300 } }, async (base) => {
    const t0 = Date.now();
    const r = await get(`${base}/live/s/1.ts`);
    assert.equal(r.status, 200);
    assert.ok(Date.now() - t0 < 2000);
    assert.equal(hang.count('/live/s/1.ts'), 1);
    assert.equal(good3.count('/live/s/1.ts'), 1);
  });

  // All upstreams failing: the status passes through (503), or 502 when nobody answers.
  const bad1 = await startFakeUpstream(hlsHandler({ playlist: [1], segmentDelayMs: 0, status: 503 }));
  const bad2 = await startFakeUpstream(hlsHandler({ playlist: [1], segmentDelayMs: 0, status: 500 }));
  await withEdge([bad1, bad2], {}, async (base) => {
    assert.equal((await get(`${base}/live/s/1.ts`)).status, 500);
  });
  const gone = await startFakeUpstream(() => {});
  await gone.close();
  await withEdge([gone], {}, async (base) => {
    assert.equal((await get(`${base}/live/s/1.ts`)).status, 502);
  });
});

test('tiers: edge -> edge -> upstream serve the same bytes; Via carries node ids; loops get 508', async () => {
  const up = await startFakeUpstream(hlsHandler({ playlist: [1, 2], segmentDelayMs: 50 }));
  const parent = new Edge({ upstreams: [up.url], httpPort: 0, host: '127.0.0.1', nodeId: 'parent', prefetch: false });
  const { httpPort: pport } = await parent.start();
  const child = new Edge({ upstreams: [`http://127.0.0.1:${pport}`], httpPort: 0, host: '127.0.0.1', nodeId: 'child', prefetch: false });
  try {
    const { httpPort: cport } = await child.start();
    const viaChild = await get(`http://127.0.0.1:${cport}/live/s/2.ts`);
    const direct = await get(`${up.url}/live/s/2.ts`);
    assert.ok(viaChild.body.equals(direct.body));
    assert.equal(up.count('/live/s/2.ts'), 2); // once by parent, once by the direct check
    assert.equal(up.vias[0], '1.1 child, 1.1 parent');

    // A request that already passed through "child" is refused by it.
    assert.equal((await get(`http://127.0.0.1:${cport}/live/s/2.ts`, { via: '1.1 x, 1.1 child' })).status, 508);
    // Too many hops.
    const many = Array.from({ length: 8 }, (_, i) => `1.1 n${i}`).join(', ');
    assert.equal((await get(`http://127.0.0.1:${cport}/live/s/2.ts`, { via: many })).status, 508);
  } finally {
    await child.stop();
    await parent.stop();
    await up.close();
  }

  // A real loop a -> b -> a. a's upstream is a forwarder whose target is set once b has a port.
  let target = '';
  const forwarder = await startFakeUpstream((req, res) => {
    const headers: Record<string, string> = {};
    if (typeof req.headers.via === 'string') headers.via = req.headers.via;
    get(target + (req.url ?? '/'), headers).then(
      (r) => {
        res.writeHead(r.status, { 'content-type': 'text/plain' });
        res.end(r.body);
      },
      () => {
        res.writeHead(502);
        res.end();
      },
    );
  });
  const a = new Edge({ upstreams: [forwarder.url], httpPort: 0, host: '127.0.0.1', nodeId: 'a' });
  const b = new Edge({ upstreams: [`http://127.0.0.1:${(await a.start()).httpPort}`], httpPort: 0, host: '127.0.0.1', nodeId: 'b' });
  try {
    const bport = (await b.start()).httpPort;
    target = `http://127.0.0.1:${bport}`;
    const t0 = Date.now();
    const loop = await get(`http://127.0.0.1:${bport}/live/s.m3u8`);
    assert.equal(loop.status, 508, 'b -> a -> b: b finds itself in Via');
    assert.ok(Date.now() - t0 < 2000, 'refused at once, no coalescing deadlock');
    assert.equal(forwarder.count('/live/s.m3u8'), 1);
  } finally {
    await b.stop();
    await a.stop();
    await forwarder.close();
  }
});

test('prefetch: segments listed by a refreshed playlist are fetched before any viewer asks', async () => {
  const state = { playlist: [1, 2, 3, 4, 5], segmentDelayMs: 0 };
  const up = await startFakeUpstream(hlsHandler(state));
  await withEdge([up], { prefetch: true }, async (base) => {
    await get(`${base}/live/s.m3u8`);
    await sleep(100);
    // First load: the newest three only.
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => up.count(`/live/s/${n}.ts`)),
      [0, 0, 1, 1, 1],
    );
    state.playlist = [2, 3, 4, 5, 6];
    await sleep(1050);
    await get(`${base}/live/s.m3u8`);
    await sleep(100);
    assert.equal(up.count('/live/s/6.ts'), 1);
    const r = await get(`${base}/live/s/6.ts`);
    assert.equal(r.headers['x-cache'], 'HIT');
    assert.ok(r.body.equals(bytes(SEG, 7)));
    assert.equal(up.count('/live/s/6.ts'), 1);
  });
});

test('an upstream that cuts or stalls a body: viewers are cut, nothing partial is cached, the next fetch fails over', async () => {
  const half = bytes(SEG / 2, 9);
  const cutter = await startFakeUpstream((req, res) => {
    res.writeHead(200, { 'content-type': 'video/mp2t', 'cache-control': 'max-age=60', 'content-length': SEG });
    res.write(half);
    if (req.url?.includes('stall')) return; // never finishes
    setTimeout(() => res.destroy(), 50);
  });
  const good = await startFakeUpstream(hlsHandler({ playlist: [1], segmentDelayMs: 0 }));
  await withEdge([cutter, good], { upstream: { idleTimeoutMs: 400, downMs: 60_000 } }, async (base) => {
    await assert.rejects(get(`${base}/live/s/1.ts`));
    const again = await get(`${base}/live/s/1.ts`);
    assert.equal(again.status, 200);
    assert.equal(again.headers['x-cache'], 'MISS');
    assert.ok(again.body.equals(bytes(SEG, 2)));
    assert.equal(good.count('/live/s/1.ts'), 1);
  });

  const staller = await startFakeUpstream((req, res) => {
    res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': SEG });
    res.write(half);
  });
  const good2 = await startFakeUpstream(hlsHandler({ playlist: [1], segmentDelayMs: 0 }));
  await withEdge([staller, good2], { upstream: { idleTimeoutMs: 300, downMs: 60_000 } }, async (base) => {
    const t0 = Date.now();
    await assert.rejects(get(`${base}/live/s/2.ts`));
    assert.ok(Date.now() - t0 < 3000, 'the idle watchdog fired');
    assert.equal((await get(`${base}/live/s/2.ts`)).status, 200);
    assert.equal(good2.count('/live/s/2.ts'), 1);
  });
});

test('the mounted pages serve /player/; unknown top-level paths are 404', async () => {
  const up = await startFakeUpstream(hlsHandler({ playlist: [1], segmentDelayMs: 0 }));
  const pages = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (!req.url?.startsWith('/player/')) return false;
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<p>player</p>');
    return true;
  };
  await withEdge([up], { pages }, async (base) => {
    const r = await get(`${base}/player/`);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), '<p>player</p>');
    assert.equal((await get(`${base}/other`)).status, 404);
    const api = (await (await fetch(`${base}/api/edge`)).json()) as { id: string };
    assert.match(api.id, /^edge-/);
  });
});
