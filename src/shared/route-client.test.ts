import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RouteAnswer } from './cluster.js';
import { deriveKeys } from './keys.js';
import { RouteAnswerError, RouteClient, parseRouteAnswer } from './route-client.js';
import { SIGNATURE_HEADER, verifyRequest } from './signed-request.js';

const KEYS = deriveKeys('route-client-test-root-secret-0123456789');

interface FakeSignal {
  readonly url: string;
  /** Requests per path. */
  readonly asked: string[];
  /** Signature checks, 'ok' or the failure. */
  readonly signatures: string[];
  /** What the next requests get: status and body (a delay before answering, ms). */
  answer: (path: string) => { status: number; body: string; delayMs?: number };
  close(): Promise<void>;
}

async function fakeSignal(answer: FakeSignal['answer']): Promise<FakeSignal> {
  const asked: string[] = [];
  const signatures: string[] = [];
  const f = { answer } as { answer: FakeSignal['answer'] };
  const server = http.createServer((req, res) => {
    asked.push(req.url ?? '');
    const sig = req.headers[SIGNATURE_HEADER];
    const check = verifyRequest(KEYS.node, Array.isArray(sig) ? sig[0] : sig, req.method ?? '', req.url ?? '', '');
    signatures.push(check.ok ? 'ok' : check.reason);
    const a = f.answer(req.url ?? '');
    setTimeout(() => {
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(a.body);
    }, a.delayMs ?? 0);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(f, {
    url,
    asked,
    signatures,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  });
}

const found = (ttlMs = 2000, url = 'http://o1:8080'): { status: number; body: string } => {
  const a: RouteAnswer = { app: 'live', stream: 's', origins: [{ id: 'o1', url, publishing: true }], ttlMs };
  return { status: 200, body: JSON.stringify(a) };
};
const notFound = { status: 404, body: JSON.stringify({ app: 'live', stream: 's', origins: [], ttlMs: 2000 }) };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('an answer is signed, cached for its ttlMs, and asked again after it or after forget()', async (t) => {
  const s = await fakeSignal(() => found(300));
  t.after(() => s.close());
  const c = new RouteClient({ signals: [s.url], key: KEYS.node });
  const first = await c.lookup('live', 's');
  assert.deepEqual(first, { ok: true, origins: [{ id: 'o1', url: 'http://o1:8080', publishing: true }], cached: false });
  assert.deepEqual(s.asked, ['/api/route/live/s']);
  assert.deepEqual(s.signatures, ['ok']);
  const second = await c.lookup('live', 's');
  assert.equal(second.ok && second.cached, true);
  assert.equal(s.asked.length, 1, 'reused within the TTL');
  c.forget('live', 's');
  await c.lookup('live', 's');
  assert.equal(s.asked.length, 2, 'forget() asks again');
  await sleep(350);
  const third = await c.lookup('live', 's');
  assert.equal(third.ok && third.cached, false);
  assert.equal(s.asked.length, 3, 'asked again past the TTL');
});

test('a TTL longer than maxTtlMs is capped', async (t) => {
  const s = await fakeSignal(() => found(3_600_000));
  t.after(() => s.close());
  const c = new RouteClient({ signals: [s.url], key: KEYS.node, maxTtlMs: 100 });
  await c.lookup('live', 's');
  await sleep(150);
  await c.lookup('live', 's');
  assert.equal(s.asked.length, 2);
});

test('concurrent lookups of one stream make one request', async (t) => {
  const s = await fakeSignal(() => ({ ...found(), delayMs: 100 }));
  t.after(() => s.close());
  const c = new RouteClient({ signals: [s.url], key: KEYS.node });
  const all = await Promise.all(Array.from({ length: 20 }, () => c.lookup('live', 's')));
  assert.equal(s.asked.length, 1);
  for (const r of all) assert.equal(r.ok && r.origins[0]?.id, 'o1');
  // Another stream is another request.
  await c.lookup('live', 'other');
  assert.equal(s.asked.length, 2);
});

test('a 404 is "no origin holds it", kept for notFoundTtlMs', async (t) => {
  const s = await fakeSignal(() => notFound);
  t.after(() => s.close());
  const c = new RouteClient({ signals: [s.url], key: KEYS.node, notFoundTtlMs: 200 });
  assert.deepEqual(await c.lookup('live', 's'), { ok: true, origins: [], cached: false });
  await c.lookup('live', 's');
  assert.equal(s.asked.length, 1);
  await sleep(250);
  s.answer = () => found();
  const r = await c.lookup('live', 's');
  assert.equal(r.ok && r.origins.length, 1);
  assert.equal(s.asked.length, 2);
});

test('a failing signal fails over to the next, is skipped for signalDownMs, and the one that answered is asked first', async (t) => {
  const bad = await fakeSignal(() => ({ status: 500, body: 'oops' }));
  const good = await fakeSignal(() => found(0));
  t.after(() => Promise.all([bad.close(), good.close()]));
  const c = new RouteClient({ signals: [bad.url, good.url], key: KEYS.node, signalDownMs: 300 });
  const r = await c.lookup('live', 's');
  assert.equal(r.ok && r.origins[0]?.id, 'o1');
  assert.equal(bad.asked.length, 1);
  assert.equal(good.asked.length, 1);
  // ttlMs 0: asked every time; the good signal now comes first, the bad one is not asked.
  await c.lookup('live', 's');
  assert.equal(bad.asked.length, 1);
  assert.equal(good.asked.length, 2);
  // The good one stays first even once the bad one's skip ran out.
  await sleep(350);
  await c.lookup('live', 's');
  assert.equal(bad.asked.length, 1);
  assert.equal(good.asked.length, 3);
});

test('with every signal down the answer is ok:false at once, and a signal is retried after signalDownMs', async (t) => {
  const s = await fakeSignal(() => found(0));
  await s.close();
  const c = new RouteClient({ signals: [s.url], key: KEYS.node, signalDownMs: 200 });
  const r = await c.lookup('live', 's');
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.reason : '', /127\.0\.0\.1/);
  // Skipped: no request at all (the reason says so: a request would have named the signal and its error).
  const again = await c.lookup('live', 's');
  assert.equal(again.ok, false);
  assert.equal(!again.ok && again.reason, 'every signal is down');
  // A signal that comes back is asked once its skip ran out.
  const back = await fakeSignal(() => found(0));
  t.after(() => back.close());
  const c2 = new RouteClient({ signals: [back.url], key: KEYS.node, signalDownMs: 200 });
  back.answer = () => ({ status: 503, body: '' });
  assert.equal((await c2.lookup('live', 's')).ok, false);
  back.answer = () => found(0);
  assert.equal((await c2.lookup('live', 's')).ok, false, 'still skipped');
  assert.equal(back.asked.length, 1);
  await sleep(250);
  assert.equal((await c2.lookup('live', 's')).ok, true);
  assert.equal(back.asked.length, 2);
});

test('a slow signal times out and counts as down', async (t) => {
  // Far slower than the timeout, so that a loaded machine cannot blur the two.
  const s = await fakeSignal(() => ({ ...found(), delayMs: 3000 }));
  t.after(() => s.close());
  const c = new RouteClient({ signals: [s.url], key: KEYS.node, timeoutMs: 100 });
  const t0 = Date.now();
  const r = await c.lookup('live', 's');
  assert.equal(r.ok, false);
  assert.ok(Date.now() - t0 < 2000, `answered after ${Date.now() - t0} ms`);
  // Down: skipped, not asked again.
  const again = await c.lookup('live', 's');
  assert.equal(!again.ok && again.reason, 'every signal is down');
  assert.equal(s.asked.length, 1);
});

test('a malformed body counts as a failed signal, never as an answer', async (t) => {
  for (const body of ['not json', 'null', '[]', '{"origins":"x"}', '{}', '"str"']) {
    const s = await fakeSignal(() => ({ status: 200, body }));
    const c = new RouteClient({ signals: [s.url], key: KEYS.node });
    const r = await c.lookup('live', 's');
    assert.equal(r.ok, false, body);
    await s.close();
  }
  t.diagnostic('every malformed body gave ok:false');
});

test('parseRouteAnswer keeps well-formed origins only, at most 16, and a sane TTL', () => {
  const ok = { id: 'o', url: 'http://o:1/', publishing: true };
  const r = parseRouteAnswer(
    JSON.stringify({
      origins: [null, 1, 'x', { id: 'a' }, { id: 'b', url: 'ftp://x' }, { id: 'c', url: 'http://[' }, { id: '', url: 'http://o:1' }, { id: 'd', url: 'http://d:1', publishing: 'yes', rtmpUrl: 'rtmp://d:1935' }, ok],
      ttlMs: -1,
    }),
  );
  assert.deepEqual(r.origins, [
    { id: 'd', url: 'http://d:1', rtmpUrl: 'rtmp://d:1935', publishing: false },
    { id: 'o', url: 'http://o:1', publishing: true },
  ]);
  assert.equal(r.ttlMs, 1000, 'a negative TTL is replaced by the not-found one');
  assert.equal(parseRouteAnswer(JSON.stringify({ origins: Array.from({ length: 40 }, () => ok), ttlMs: 5 })).origins.length, 16);
  assert.equal(parseRouteAnswer(JSON.stringify({ origins: [], ttlMs: 'x' })).ttlMs, 1000);
  assert.throws(() => parseRouteAnswer('{"origins":{}}'), RouteAnswerError);
  assert.throws(() => parseRouteAnswer('{"origins":['), RouteAnswerError);
});

test('the cache is bounded: the oldest streams are dropped first', async (t) => {
  const s = await fakeSignal(() => found());
  t.after(() => s.close());
  const c = new RouteClient({ signals: [s.url], key: KEYS.node, maxEntries: 2 });
  await c.lookup('live', 'a');
  await c.lookup('live', 'b');
  await c.lookup('live', 'c');
  assert.equal(s.asked.length, 3);
  await c.lookup('live', 'c');
  await c.lookup('live', 'b');
  assert.equal(s.asked.length, 3, 'b and c kept');
  await c.lookup('live', 'a');
  assert.equal(s.asked.length, 4, 'a was dropped');
});

test('no signal URL is a construction error', () => {
  assert.throws(() => new RouteClient({ signals: [], key: undefined }), /at least one signal/);
});
