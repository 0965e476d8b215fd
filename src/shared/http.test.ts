// The one error answer: an HttpError says what it says; anything else is a 500 "internal error" whose
// detail (file names, hosts, internals) goes to the log and never to the client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from './log.js';
import { HttpError, allowCrossOrigin, createHttpServer, reply, replyThrown } from './http.js';

/** A logger whose lines the test reads. */
function capturingLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

/** Serves `handler` on 127.0.0.1 for one test. */
async function serve(t: { after(fn: () => Promise<void>): void }, handler: http.RequestListener, crossOrigin = false): Promise<string> {
  const server = createHttpServer(handler, {}, { crossOrigin });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('a handler that throws answers 500 "internal error"; the exception text is logged, not sent', async (t) => {
  const { log, lines } = capturingLog();
  const base = await serve(t, (req, res) => {
    try {
      throw new Error('ENOENT: open /srv/livecdn/secret-config.json');
    } catch (err) {
      replyThrown(res, err, log, { url: req.url });
    }
  });
  const res = await fetch(`${base}/x`);
  const text = await res.text();
  assert.equal(res.status, 500);
  assert.deepEqual(JSON.parse(text), { error: 'internal', message: 'internal error' });
  assert.ok(!text.includes('secret') && !text.includes('ENOENT'), text);
  assert.match(lines.join(''), /secret-config\.json/, 'the detail is in the log');
});

test('an HttpError answers its status, code and message', async (t) => {
  const { log, lines } = capturingLog();
  const base = await serve(t, (_req, res) => replyThrown(res, new HttpError(409, 'taken', 'live/s is already publishing'), log));
  const res = await fetch(base);
  assert.equal(res.status, 409);
  assert.deepEqual(await res.json(), { error: 'taken', message: 'live/s is already publishing' });
  assert.deepEqual(lines, [], 'a client error is no server failure');
});

test('reply: text or JSON, never cached; after the head went out the connection is cut', async (t) => {
  const base = await serve(t, (req, res) => {
    if (req.url === '/text') return reply(res, 404, 'not found', { 'Retry-After': '5' });
    if (req.url === '/json') return reply(res, 200, { ok: true });
    res.writeHead(200, { 'Content-Type': 'video/x-flv' });
    res.write('FLV');
    setTimeout(() => reply(res, 500, 'too late'), 50);
  });
  const text = await fetch(`${base}/text`);
  assert.equal(text.status, 404);
  assert.equal(text.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(text.headers.get('cache-control'), 'no-store');
  assert.equal(text.headers.get('retry-after'), '5');
  assert.equal(await text.text(), 'not found\n');
  const json = await fetch(`${base}/json`);
  assert.equal(json.headers.get('content-type'), 'application/json');
  assert.deepEqual(await json.json(), { ok: true });
  const live = await fetch(`${base}/live`);
  assert.equal(live.status, 200);
  await assert.rejects(live.text(), 'a cut body, not one that looks complete');
});

/** The raw header lines of a GET, lower-cased names: duplicates stay visible. */
function rawHeaders(url: string): Promise<[string, string][]> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        res.resume();
        const pairs: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([(res.rawHeaders[i] ?? '').toLowerCase(), res.rawHeaders[i + 1] ?? '']);
        res.on('end', () => resolve(pairs));
      })
      .on('error', reject);
  });
}

test('crossOrigin responses carry the CORS headers however the head is written; the handler\'s own win, once', async (t) => {
  const handler: http.RequestListener = (req, res) => {
    if (req.url === '/list') res.writeHead(200, ['content-type', 'video/mp2t', 'content-length', '2']);
    else if (req.url === '/object') res.writeHead(200, 'Fine', { 'Content-Type': 'text/plain' });
    else if (req.url === '/own') res.writeHead(204, { 'access-control-allow-methods': 'GET', 'ACCESS-CONTROL-MAX-AGE': '60' });
    else if (req.url === '/set') res.setHeader('Access-Control-Allow-Origin', 'https://example.com');
    else if (req.url === '/reply') return reply(res, 404, 'not found');
    res.end(req.url === '/list' ? 'ok' : undefined);
  };
  const base = await serve(t, handler, true);
  // What allowCrossOrigin, called first, gives: the same headers.
  const reference = await serve(t, (req, res) => {
    allowCrossOrigin(res);
    handler(req, res);
  });
  for (const path of ['/list', '/object', '/own', '/set', '/reply', '/implicit']) {
    const got = await rawHeaders(base + path);
    const want = await rawHeaders(reference + path);
    const cors = (h: [string, string][]): [string, string][] => h.filter(([n]) => n.startsWith('access-control-')).sort();
    assert.deepEqual(cors(got), cors(want), path);
    assert.equal(new Set(got.map(([n]) => n)).size, got.length, `${path}: no header twice`);
  }
  const plain = await serve(t, handler);
  assert.deepEqual((await rawHeaders(plain + '/list')).filter(([n]) => n.startsWith('access-control-')), [], 'off unless asked');
});
