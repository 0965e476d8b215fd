import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RouteLookup } from '../shared/route-client.js';
import { createLogger } from '../shared/log.js';
import { resolveEdgeConfig } from './config.js';
import { Locator } from './locator.js';
import { UpstreamPool, defaultUpstreamOptions } from './upstream.js';

/** A stand-in for RouteClient: answers from `table` (an answer is kept until forgotten), counts lookups and forgets. */
function fakeRoutes(table: Record<string, RouteLookup | undefined>) {
  const calls = { lookups: [] as string[], forgets: [] as string[] };
  const cache = new Map<string, RouteLookup>();
  return {
    calls,
    table,
    lookup: (app: string, stream: string): Promise<RouteLookup> => {
      const key = `${app}/${stream}`;
      calls.lookups.push(key);
      const kept = cache.get(key);
      if (kept) return Promise.resolve({ ...kept, cached: true });
      const r = table[key] ?? { ok: true, origins: [] };
      if (r.ok) cache.set(key, r);
      return Promise.resolve(r.ok ? { ...r, cached: false } : r);
    },
    forget: (app: string, stream: string): void => {
      calls.forgets.push(`${app}/${stream}`);
      cache.delete(`${app}/${stream}`);
    },
  };
}

const origin = (id: string, url: string): RouteLookup => ({ ok: true, origins: [{ id, url, publishing: true }] });
const S = { app: 'live', stream: 's' };

test('upstreams mode: configured order, the one that answered first once found, forgotten when lost', async () => {
  const l = new Locator({ upstreams: ['http://a:1/', 'http://b:1'] });
  assert.equal(l.mode, 'upstreams');
  assert.deepEqual((await l.candidates(S)).bases, ['http://a:1', 'http://b:1']);
  assert.equal((await l.candidates(S)).hinted, false);
  l.found(S, 'http://b:1');
  const c = await l.candidates(S);
  assert.deepEqual(c.bases, ['http://b:1', 'http://a:1']);
  assert.equal(c.hinted, true);
  assert.deepEqual((await l.candidates({ app: 'live', stream: 'other' })).bases, ['http://a:1', 'http://b:1'], 'per stream');
  l.lost(S);
  assert.deepEqual((await l.candidates(S)).bases, ['http://a:1', 'http://b:1']);
  const n = l.counts();
  assert.equal(n.found, 1);
  assert.equal(n.lost, 1);
  assert.equal(n.remembered, 0);
  assert.equal(n.fallbacks, 5);
});

test('signal mode: the route answer first, then the upstreams not listed; a signal that does not answer means the upstreams order', async () => {
  const r = fakeRoutes({ 'live/s': { ok: true, origins: [{ id: 'o2', url: 'http://b:1', publishing: true }, { id: 'o3', url: 'http://c:1', publishing: false }] } });
  const l = new Locator({ upstreams: ['http://a:1', 'http://b:1'], routes: r });
  assert.equal(l.mode, 'signal');
  const c = await l.candidates(S);
  assert.deepEqual(c.bases, ['http://b:1', 'http://c:1', 'http://a:1']);
  assert.equal(c.cachedRoute, 0);
  assert.equal(c.hinted, true);
  assert.equal((await l.candidates(S)).cachedRoute, 2, 'the second answer came from the cache');
  // No origin holds it: the upstreams, and nothing hinted.
  const none = await l.candidates({ app: 'live', stream: 'x' });
  assert.deepEqual(none.bases, ['http://a:1', 'http://b:1']);
  assert.equal(none.hinted, false);
  // The signal is down: the remembered upstream first.
  r.table['live/s'] = { ok: false, reason: 'down' };
  r.forget('live', 's');
  l.found(S, 'http://b:1');
  assert.deepEqual((await l.candidates(S)).bases, ['http://b:1', 'http://a:1']);
  l.lost(S);
  assert.deepEqual(r.calls.forgets, ['live/s', 'live/s']);
  assert.deepEqual((await l.candidates(S)).bases, ['http://a:1', 'http://b:1']);
  const n = l.counts();
  assert.equal(n.routed, 2);
  assert.equal(n.notRouted, 1);
  assert.equal(n.fallbacks, 2);
});

test("a rung ({stream}_{rung}) no heartbeat lists is located where its source is", async () => {
  const r = fakeRoutes({ 'live/s': origin('o2', 'http://b:1') });
  const l = new Locator({ upstreams: ['http://a:1'], routes: r });
  assert.deepEqual((await l.candidates({ app: 'live', stream: 's_720p' })).bases, ['http://b:1', 'http://a:1']);
  assert.deepEqual(r.calls.lookups, ['live/s_720p', 'live/s']);
  l.lost({ app: 'live', stream: 's_720p' });
  assert.deepEqual(r.calls.forgets, ['live/s_720p', 'live/s']);
});

test('the remembered upstreams are bounded', () => {
  const l = new Locator({ upstreams: ['http://a:1'], maxRemembered: 3 });
  for (let i = 0; i < 10; i++) l.found({ app: 'live', stream: `s${i}` }, 'http://b:1');
  assert.equal(l.counts().remembered, 3);
});

// ---- UpstreamPool with a locator, against real HTTP servers ----

interface Server {
  readonly url: string;
  readonly asked: string[];
  close(): Promise<void>;
}

async function server(handler: (path: string, res: http.ServerResponse) => void): Promise<Server> {
  const asked: string[] = [];
  const s = http.createServer((req, res) => {
    asked.push(req.url ?? '');
    handler(req.url ?? '', res);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    asked,
    close: () =>
      new Promise<void>((r) => {
        s.close(() => r());
        s.closeAllConnections();
      }),
  };
}

const has = (streams: string[]) => (path: string, res: http.ServerResponse): void => {
  const hit = streams.some((s) => path.startsWith(`/live/${s}.`) || path.startsWith(`/live/${s}/`));
  res.writeHead(hit ? 200 : 404);
  res.end(hit ? 'data' : 'not here');
};

const body = (res: { body: http.IncomingMessage }): Promise<string> =>
  new Promise((resolve) => {
    let s = '';
    res.body.on('data', (c: Buffer) => (s += c.toString()));
    res.body.on('end', () => resolve(s));
  });

const log = createLogger('test', 'silent');

/** A pool over `urls` locating with `routes` (upstreams mode without), closed after the test. */
function locatingPool(t: TestContext, urls: string[], routes?: ReturnType<typeof fakeRoutes>): UpstreamPool {
  const pool = new UpstreamPool(urls, defaultUpstreamOptions, log, new Locator({ upstreams: urls, routes }));
  t.after(() => pool.close());
  return pool;
}

test('pool: a 404 moves on to the next candidate, the answer is remembered, and the first is not asked again', async (t) => {
  const a = await server(has([]));
  const b = await server(has(['s']));
  t.after(() => Promise.all([a.close(), b.close()]));
  const pool = locatingPool(t, [a.url, b.url]);
  const r = await pool.get('/live/s.m3u8', { stream: S });
  assert.equal(r.status, 200);
  assert.equal(r.upstream, b.url);
  assert.equal(await body(r), 'data');
  assert.deepEqual(a.asked, ['/live/s.m3u8']);
  for (let i = 0; i < 3; i++) {
    const seg = await pool.get(`/live/s/${i}.ts`, { stream: S });
    assert.equal(seg.status, 200);
    await body(seg);
  }
  assert.deepEqual(a.asked, ['/live/s.m3u8'], 'the first upstream is not asked again for this stream');
  // No 404 is a failure: nobody is marked down.
  assert.ok(pool.status().every((s) => s.up));
  // A stream nobody has: every candidate asked, the last 404 answers, its body intact.
  const none = await pool.get('/live/zz.m3u8', { stream: { app: 'live', stream: 'zz' } });
  assert.equal(none.status, 404);
  assert.equal(await body(none), 'not here');
  // Without a stream (or a locator) the pool is what it was: the first non-failure answer, 404 included.
  const plain = await pool.get('/live/s.m3u8');
  assert.equal(plain.status, 404);
  assert.equal(plain.upstream, a.url);
  await body(plain);
});

test('pool: the stream moving to another upstream is followed after it 404s (lost, then found again)', async (t) => {
  const where = { a: ['s'], b: [] as string[] };
  const a = await server((p, res) => has(where.a)(p, res));
  const b = await server((p, res) => has(where.b)(p, res));
  t.after(() => Promise.all([a.close(), b.close()]));
  const locator = new Locator({ upstreams: [a.url, b.url] });
  const pool = new UpstreamPool([a.url, b.url], defaultUpstreamOptions, log, locator);
  t.after(() => pool.close());
  await body(await pool.get('/live/s.m3u8', { stream: S }));
  where.a = [];
  where.b = ['s'];
  const r = await pool.get('/live/s.m3u8', { stream: S });
  assert.equal(r.upstream, b.url);
  await body(r);
  assert.deepEqual((await locator.candidates(S)).bases, [b.url, a.url]);
});

test('pool: signal-routed upstreams that are not configured get states of their own; a stale cached route is asked again once', async (t) => {
  const a = await server(has([]));
  const b = await server(has([]));
  const c = await server(has(['s']));
  t.after(() => Promise.all([a.close(), b.close(), c.close()]));
  const routes = fakeRoutes({ 'live/s': origin('ob', b.url) });
  const pool = locatingPool(t, [a.url], routes);
  // First answer (not cached): b, then a; both 404.
  const first = await pool.get('/live/s.m3u8', { stream: S });
  assert.equal(first.status, 404);
  await body(first);
  assert.deepEqual(routes.calls.forgets, ['live/s'], 'a routed 404 forgets the answer');
  assert.equal(routes.calls.lookups.length, 1, 'a fresh answer is not asked again at once');
  // The signal now says c; the client's cache still says b (as a real one would for its TTL).
  await routes.lookup('live', 's');
  routes.table['live/s'] = origin('oc', c.url);
  routes.calls.lookups.length = 0;
  // Cached answer b → 404, a → 404, forget, ask again: c → 200.
  const r = await pool.get('/live/s/1.ts', { stream: S });
  assert.equal(r.status, 200);
  assert.equal(r.upstream, c.url);
  await body(r);
  assert.equal(routes.calls.lookups.length, 2);
  assert.deepEqual(b.asked, ['/live/s.m3u8', '/live/s/1.ts']);
  assert.deepEqual(a.asked, ['/live/s.m3u8', '/live/s/1.ts'], 'not asked twice in one request');
  assert.deepEqual(
    pool.status().map((s) => s.url),
    [a.url, b.url, c.url],
  );
});

test('pool: a failing candidate is marked down and retried once; a down candidate goes last', async (t) => {
  const a = await server((_p, res) => {
    res.writeHead(500);
    res.end();
  });
  const b = await server(has(['s']));
  t.after(() => Promise.all([a.close(), b.close()]));
  const pool = locatingPool(t, [a.url, b.url]);
  const r = await pool.get('/live/s.m3u8', { stream: S });
  assert.equal(r.status, 200);
  await body(r);
  assert.equal(pool.status()[0]?.up, false);
  // The stream is remembered on b; another stream tries b first (a is down).
  const other = await pool.get('/live/t.m3u8', { stream: { app: 'live', stream: 't' } });
  assert.equal(other.status, 404);
  await body(other);
  assert.equal(a.asked.length, 2, 'a was asked last for t (down), after b’s 404');
});

test('pool: at most 8 upstreams are asked for one request', async (t) => {
  const servers = await Promise.all(Array.from({ length: 10 }, () => server(has([]))));
  t.after(() => Promise.all(servers.map((s) => s.close())));
  const urls = servers.map((s) => s.url);
  const pool = locatingPool(t, urls);
  const r = await pool.get('/live/s.m3u8', { stream: S });
  assert.equal(r.status, 404);
  await body(r);
  assert.equal(servers.reduce((n, s) => n + s.asked.length, 0), 8);
});

test('pool: a 404 kept while a slow upstream answers is no idle upstream (not marked down), and is still a whole answer', async (t) => {
  const a = await server(has([]));
  const slow = (p: string, res: http.ServerResponse): void => void setTimeout(() => has(['s'])(p, res), 300);
  const b = await server(slow);
  t.after(() => Promise.all([a.close(), b.close()]));
  const opts = { ...defaultUpstreamOptions, idleTimeoutMs: 100 };
  const pool = new UpstreamPool([a.url, b.url], opts, log, new Locator({ upstreams: [a.url, b.url] }));
  t.after(() => pool.close());
  const r = await pool.get('/live/s.m3u8', { stream: S });
  assert.equal(r.status, 200);
  await body(r);
  const none = await pool.get('/live/zz.m3u8', { stream: { app: 'live', stream: 'zz' } });
  assert.equal(none.status, 404);
  assert.equal(await body(none), 'not here');
  assert.ok(pool.status().every((u) => u.up), JSON.stringify(pool.status()));
});

test('pool: a 404 held while the signal is asked again, slower than the idle watchdog, is still a whole answer', async (t) => {
  const a = await server(has([]));
  t.after(() => a.close());
  const routes = fakeRoutes({ 'live/s': origin('oa', a.url) });
  // Cached from here: the pool's first lookup reuses it, and its 404 makes the pool ask the signal again.
  await routes.lookup('live', 's');
  const slowSignal = {
    forget: routes.forget,
    lookup: async (app: string, stream: string): Promise<RouteLookup> => {
      const r = await routes.lookup(app, stream);
      if (r.ok && !r.cached) await new Promise((resolve) => setTimeout(resolve, 300));
      return r;
    },
  };
  const opts = { ...defaultUpstreamOptions, idleTimeoutMs: 100 };
  const pool = new UpstreamPool([a.url], opts, log, new Locator({ upstreams: [a.url], routes: slowSignal }));
  t.after(() => pool.close());
  const r = await pool.get('/live/s.m3u8', { stream: S });
  assert.equal(r.status, 404);
  assert.equal(routes.calls.lookups.length, 3, 'asked again once');
  assert.equal(r.body.destroyed, false, 'the watchdog did not cut the held 404');
  assert.equal(await body(r), 'not here');
  assert.ok(pool.status().every((u) => u.up), JSON.stringify(pool.status()));
});

test('pool: a 404 another answer replaced is read under its watchdog again: a stalled one is cut, not kept for ever', async (t) => {
  let cut = false;
  const a = await server((_p, res) => {
    res.socket?.once('close', () => (cut = true));
    res.writeHead(404, { 'content-length': '100' });
    res.write('not here');
  });
  const b = await server(has(['s']));
  t.after(() => Promise.all([a.close(), b.close()]));
  const opts = { ...defaultUpstreamOptions, idleTimeoutMs: 100 };
  const pool = new UpstreamPool([a.url, b.url], opts, log, new Locator({ upstreams: [a.url, b.url] }));
  t.after(() => pool.close());
  const r = await pool.get('/live/s.m3u8', { stream: S });
  assert.equal(r.upstream, b.url);
  assert.equal(await body(r), 'data');
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.ok(cut, 'the stalled 404 body was cut');
  assert.equal(pool.status()[0]?.up, false, 'a body that went silent is a sick upstream, as for any other answer');
});

test('edge config: locate defaults to signal with a signal (one or several), upstreams without; signal without one is refused', () => {
  const upstreams = ['http://o:1'];
  assert.equal(resolveEdgeConfig({ upstreams }).locate, 'upstreams');
  const one = resolveEdgeConfig({ upstreams, signal: 'http://s:1/' });
  assert.equal(one.locate, 'signal');
  assert.deepEqual(one.signals, ['http://s:1']);
  assert.deepEqual(resolveEdgeConfig({ upstreams, signal: ['http://s:1', 'http://s:2'] }).signals, ['http://s:1', 'http://s:2']);
  assert.equal(resolveEdgeConfig({ upstreams, signal: 'http://s:1', locate: 'upstreams' }).locate, 'upstreams');
  assert.throws(() => resolveEdgeConfig({ upstreams, locate: 'signal' }), /needs a signal/);
});
