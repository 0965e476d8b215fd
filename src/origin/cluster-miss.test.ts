import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { createLogger } from '../shared/log.js';
import { signPlayToken } from '../shared/token.js';
import { waitFor } from '../../test/helpers/wait.js';
import { HttpServer } from './http-server.js';
import { ClusterMiss, missStep, otherOrigin, proxiedHeaders, streamRequestOf, targetUrl } from './cluster-miss.js';

test('live stream requests are the media routes of a live stream, GET or HEAD only', () => {
  const live = { app: 'live', stream: 'cam' };
  for (const path of ['/live/cam.flv', '/live/cam.m3u8', '/live/cam.jpg', '/live/cam/12.ts', '/live/cam/12.m4s', '/live/cam/12.3.m4s', '/live/cam/init-4.mp4', '/live/cam/dvr.m3u8'])
    assert.deepEqual(streamRequestOf('GET', path), live, path);
  assert.deepEqual(streamRequestOf('HEAD', '/live/cam_low.m3u8'), { app: 'live', stream: 'cam_low' });
  // Recordings, VOD, the API, other methods and bad names are not ours.
  for (const path of ['/live/cam/rec/20260101-120000.m3u8', '/live/cam/rec/20260101-120000/0.ts', '/api/streams', '/api/recordings/live/cam/20260101-120000.flv', '/metrics', '/player/', '/live/ca%20m.flv', '/live/cam/x.txt'])
    assert.equal(streamRequestOf('GET', path), undefined, path);
  assert.equal(streamRequestOf('POST', '/live/cam.flv'), undefined);
  assert.equal(streamRequestOf('OPTIONS', '/live/cam.m3u8'), undefined);
  assert.equal(streamRequestOf('GET', `/live/${'a'.repeat(65)}.flv`), undefined);
});

test('a loop is refused before anything else, a Via keeps the answer local, a direct miss is looked up', () => {
  let asked = 0;
  const holds = (v: boolean) => () => (asked++, v);
  assert.equal(missStep('1.1 edge-1, 1.1 origin-a', 'origin-a', 8, holds(true)).step, 'loop');
  const many = Array.from({ length: 8 }, (_, i) => `1.1 n${i}`).join(', ');
  assert.equal(missStep(many, 'origin-a', 8, holds(true)).step, 'loop');
  assert.equal(asked, 0, 'a loop is refused before the stream is looked at');
  assert.equal(missStep(Array.from({ length: 7 }, (_, i) => `1.1 n${i}`).join(', '), 'origin-a', 8, holds(false)).step, 'local');
  assert.deepEqual(missStep(undefined, 'origin-a', 8, holds(true)), { step: 'pass' });
  assert.deepEqual(missStep('1.1 edge-1', 'origin-a', 8, holds(true)), { step: 'pass' });
  assert.deepEqual(missStep('1.1 edge-1', 'origin-a', 8, holds(false)), { step: 'local' });
  assert.deepEqual(missStep(undefined, 'origin-a', 8, holds(false)), { step: 'lookup' });
  // An empty or malformed Via names no hop.
  assert.deepEqual(missStep('', 'origin-a', 8, holds(false)), { step: 'lookup' });
  // Another node whose id merely contains ours is not us.
  assert.deepEqual(missStep('1.1 origin-ab', 'origin-a', 8, holds(false)), { step: 'local' });
  const loop = missStep(['1.1 x', '1.1 origin-a'], 'origin-a', 8, holds(false));
  assert.ok(loop.step === 'loop' && loop.reason.includes('origin-a'));
});

test('the origin asked is the first other one; none when the signal did not answer', () => {
  const a = { id: 'origin-a', url: 'http://a:1', publishing: true };
  const b = { id: 'origin-b', url: 'http://b:1', publishing: true };
  const c = { id: 'origin-c', url: 'http://c:1', publishing: false };
  assert.equal(otherOrigin({ ok: true, origins: [a, b, c] }, 'origin-a'), b);
  assert.equal(otherOrigin({ ok: true, origins: [c, b] }, 'origin-a'), c);
  assert.equal(otherOrigin({ ok: true, origins: [a] }, 'origin-a'), undefined);
  assert.equal(otherOrigin({ ok: true, origins: [] }, 'origin-a'), undefined);
  assert.equal(otherOrigin({ ok: false, reason: 'down' }, 'origin-a'), undefined);
});

test('the target keeps path and query; the proxied head keeps content headers and adds this origin to Via', () => {
  assert.equal(targetUrl('http://b:8080/', '/live/cam.m3u8', '?token=x.y'), 'http://b:8080/live/cam.m3u8?token=x.y');
  assert.equal(targetUrl('http://b:8080/base', '/live/cam/3.ts', ''), 'http://b:8080/base/live/cam/3.ts');
  const h = proxiedHeaders(
    {
      'content-type': 'video/mp2t',
      'content-length': '1234',
      'cache-control': 'public, max-age=3600, immutable',
      connection: 'close',
      'transfer-encoding': 'chunked',
      'set-cookie': ['a=b'],
      'access-control-allow-origin': '*',
    },
    'origin-a',
  );
  assert.deepEqual(h, { 'content-type': 'video/mp2t', 'content-length': '1234', 'cache-control': 'public, max-age=3600, immutable', via: '1.1 origin-a' });
  assert.equal(proxiedHeaders({ via: '1.1 origin-b' }, 'origin-a').via, '1.1 origin-b, 1.1 origin-a');
});

// The proxy shell against a tiny upstream: what a stalled, vanished or refusing holder and a leaving
// client cost. The signal is a stub; a route behind the hook stands for the origin's own answer.
interface Shell {
  readonly base: string;
  readonly forgotten: string[];
  readonly lookups: () => number;
  readonly upstreamClosed: () => number;
  readonly miss: ClusterMiss;
}

async function shell(t: TestContext, opts: { maxProxies?: number; playKey?: Buffer; holds?: boolean; upstream?: string } = {}): Promise<Shell> {
  let upstreamClosed = 0;
  const upstream = http.createServer((req, res) => {
    req.socket.once('close', () => upstreamClosed++);
    const path = (req.url ?? '').split('?')[0];
    if (path === '/live/gone.m3u8') return void res.writeHead(404, { 'Content-Type': 'text/plain' }).end('no\n');
    if (path === '/live/silent.m3u8') return;
    if (path === '/live/cam.m3u8') return void res.writeHead(200, { 'Content-Type': 'application/vnd.apple.mpegurl', 'Cache-Control': 'public, max-age=1', Connection: 'close', 'X-Secret': 'internal' }).end(req.method === 'HEAD' ? undefined : `#EXTM3U\n# via ${req.headers.via}\n# for ${req.headers['x-forwarded-for']}\n`);
    res.writeHead(200, { 'Content-Type': 'video/x-flv' });
    res.write(Buffer.alloc(1000, 1));
    if (path === '/live/stall.flv') return;
    if (path === '/live/cut.flv') return void setTimeout(() => req.socket.destroy(), 50);
    // A live body: a chunk every 20 ms until the proxy goes.
    const timer = setInterval(() => res.write(Buffer.alloc(500, 2)), 20);
    res.once('close', () => clearInterval(timer));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => (upstream.closeAllConnections(), upstream.close(() => r()))));
  const upstreamBase = opts.upstream ?? `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const forgotten: string[] = [];
  let lookups = 0;
  const miss = new ClusterMiss({
    mode: 'proxy',
    nodeId: () => 'origin-a',
    route: {
      lookup: () => {
        lookups++;
        return Promise.resolve({ ok: true, origins: [{ id: 'origin-a', url: 'http://127.0.0.1:1', publishing: false }, { id: 'origin-b', url: upstreamBase, publishing: true }] });
      },
      forget: (app, stream) => void forgotten.push(`${app}/${stream}`),
    },
    holds: () => opts.holds ?? false,
    playKey: opts.playKey,
    maxHops: 8,
    maxProxies: opts.maxProxies ?? 10,
    idleTimeoutMs: 300,
    registry: new Registry(),
    log: createLogger('test', 'silent'),
  });
  const server = new HttpServer(createLogger('test', 'silent')).before(miss.intercept).route(['GET', 'HEAD'], /^\/live\/[^/]+\.(m3u8|flv)$/, (_req, res) => void res.writeHead(404).end('local\n'));
  const port = await server.listen(0, '127.0.0.1');
  t.after(async () => {
    await server.close();
    miss.close();
  });
  return { base: `http://127.0.0.1:${port}`, forgotten, lookups: () => lookups, upstreamClosed: () => upstreamClosed, miss };
}

test('proxied: status, content headers and body pass; Via and X-Forwarded-For go upstream; HEAD too', async (t) => {
  const s = await shell(t);
  const res = await fetch(`${s.base}/live/cam.m3u8?token=abc`);
  const text = await res.text();
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/vnd.apple.mpegurl');
  assert.equal(res.headers.get('cache-control'), 'public, max-age=1');
  assert.equal(res.headers.get('via'), '1.1 origin-a');
  assert.equal(res.headers.get('x-secret'), null);
  assert.match(text, /# via 1\.1 origin-a\n# for 127\.0\.0\.1\n/);
  const head = await fetch(`${s.base}/live/cam.m3u8`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(s.miss.proxies, 0);
});

test('a 404 from the holder passes through and forgets the route; a refused connection is 502 and forgets too', async (t) => {
  const s = await shell(t);
  const gone = await fetch(`${s.base}/live/gone.m3u8`);
  assert.equal(gone.status, 404);
  assert.equal(await gone.text(), 'no\n');
  assert.deepEqual(s.forgotten, ['live/gone']);
  const dead = await shell(t, { upstream: 'http://127.0.0.1:1' });
  const res = await fetch(`${dead.base}/live/cam.m3u8`);
  assert.equal(res.status, 502);
  await res.text();
  assert.deepEqual(dead.forgotten, ['live/cam']);
  assert.equal(dead.miss.proxies, 0);
});

test('a silent holder is cut after the idle timeout: 504 before the head, a cut body after it', async (t) => {
  const s = await shell(t);
  const t0 = Date.now();
  const silent = await fetch(`${s.base}/live/silent.m3u8`);
  assert.equal(silent.status, 504);
  await silent.text();
  assert.ok(Date.now() - t0 >= 250, 'after the idle timeout');
  const stalled = await fetch(`${s.base}/live/stall.flv`);
  assert.equal(stalled.status, 200);
  await assert.rejects(stalled.arrayBuffer(), 'a body cut short is an error, not a complete body');
  const cut = await fetch(`${s.base}/live/cut.flv`);
  await assert.rejects(cut.arrayBuffer());
  await waitFor('every slot back', () => s.miss.proxies === 0, 2000);
});

test('a client that leaves closes its upstream request; past the cap, 503', async (t) => {
  const s = await shell(t, { maxProxies: 1 });
  const ctl = new AbortController();
  const live = await fetch(`${s.base}/live/cam.flv`, { signal: ctl.signal });
  assert.equal(live.status, 200);
  const reader = live.body?.getReader();
  await reader?.read();
  assert.equal(s.miss.proxies, 1);
  const over = await fetch(`${s.base}/live/other.flv`);
  assert.equal(over.status, 503);
  assert.equal(over.headers.get('retry-after'), '2');
  await over.text();
  const closedBefore = s.upstreamClosed();
  ctl.abort();
  await waitFor('the upstream connection closed', () => s.upstreamClosed() > closedBefore && s.miss.proxies === 0, 2000);
});

test('the hook: a held stream and a Via miss go to the routes, a loop is 508, a missing token 403 before any lookup', async (t) => {
  const key = Buffer.alloc(32, 7);
  const held = await shell(t, { holds: true });
  assert.equal(await (await fetch(`${held.base}/live/cam.m3u8`)).text(), 'local\n');
  assert.equal(held.lookups(), 0);
  assert.equal((await fetch(`${held.base}/live/cam.m3u8`, { headers: { Via: '1.1 origin-a' } })).status, 508);
  const s = await shell(t, { playKey: key });
  assert.equal(await (await fetch(`${s.base}/live/cam.m3u8`, { headers: { Via: '1.1 edge-1' } })).text(), 'local\n');
  const refused = await fetch(`${s.base}/live/cam.m3u8`);
  assert.equal(refused.status, 403);
  await refused.text();
  assert.equal(s.lookups(), 0);
  const token = signPlayToken({ app: 'live', stream: 'cam', expSec: Math.floor(Date.now() / 1000) + 60 }, key);
  const ok = await fetch(`${s.base}/live/cam.m3u8?token=${token}`);
  assert.equal(ok.status, 200);
  await ok.text();
  assert.equal(s.lookups(), 1);
  // Not a live stream request: untouched.
  assert.equal((await fetch(`${s.base}/metrics`)).status, 404);
});
