// Registration against tiny signal stand-ins: several instances, failover on a network error or a 5xx,
// no failover on a refusal, the heartbeat sent right after a re-registration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registration, signalUrls } from './registration.js';
import { createLogger } from './log.js';
import type { NodeLoad } from './cluster.js';

interface FakeSignal {
  readonly url: string;
  /** "METHOD path" of every request, in order. */
  readonly calls: string[];
  /** Status answered to POST /api/nodes and to heartbeats (204 when 2xx). */
  status: { register: number; heartbeat: number };
  close(): Promise<void>;
}

async function fakeSignal(): Promise<FakeSignal> {
  const calls: string[] = [];
  const status = { register: 201, heartbeat: 204 };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const line = `${req.method} ${req.url}`;
      calls.push(line);
      const code = req.method === 'POST' && req.url === '/api/nodes' ? status.register : req.url?.endsWith('/heartbeat') ? status.heartbeat : 204;
      res.writeHead(code, { 'content-type': 'application/json' }).end(code === 204 ? undefined : '{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed = false;
  return {
    url,
    calls,
    status,
    close: () =>
      new Promise<void>((r) => {
        if (closed) return r();
        closed = true;
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** A port nothing listens on (connection refused at once). */
async function deadUrl(): Promise<string> {
  const s = await fakeSignal();
  await s.close();
  return s.url;
}

const LOAD: NodeLoad = { viewers: 0, publishers: 0, egressBps: 0, cpu: 0, streams: ['live/a'] };

function registration(signal: string | readonly string[], intervalMs = 40): Registration {
  return new Registration(
    {
      signal,
      registration: { id: 'origin-t', kind: 'origin', region: 'eu', publicUrl: 'http://o.test:8080', capacity: 1 },
      load: () => LOAD,
      intervalMs,
      timeoutMs: 1000,
    },
    createLogger('test'),
  );
}

async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const HB = 'POST /api/nodes/origin-t/heartbeat';

test('signalUrls: comma lists and arrays, trimmed, without trailing slashes, each once', () => {
  assert.deepEqual(signalUrls('http://a:1/, http://b:2//,,http://a:1'), ['http://a:1', 'http://b:2']);
  assert.deepEqual(signalUrls(['http://a:1', 'http://b:2,http://c:3']), ['http://a:1', 'http://b:2', 'http://c:3']);
  assert.deepEqual(signalUrls(''), []);
  assert.throws(() => registration(' , '), /at least one signal/);
});

test('registers with the first signal that answers, and heartbeats there', async (t) => {
  const b = await fakeSignal();
  t.after(() => b.close());
  const r = registration([await deadUrl(), b.url]);
  t.after(() => r.stop());
  await r.start();
  assert.equal(r.isRegistered, true);
  assert.equal(r.signal, b.url);
  await until(() => b.calls.includes(HB));
});

test('a signal that dies: the node registers with the next one and heartbeats there at once', async (t) => {
  const a = await fakeSignal();
  const b = await fakeSignal();
  t.after(() => Promise.all([a.close(), b.close()]));
  const r = registration([a.url, b.url]);
  t.after(() => r.stop());
  await r.start();
  assert.equal(r.signal, a.url);
  await until(() => a.calls.includes(HB));
  await a.close();
  await until(() => b.calls.includes(HB));
  // registered first, then the heartbeat with the load (a registration lists no streams)
  assert.deepEqual(b.calls.slice(0, 2), ['POST /api/nodes', HB]);
  assert.equal(r.signal, b.url);
  assert.equal(r.isRegistered, true);
  await r.stop();
  assert.equal(b.calls.at(-1), 'DELETE /api/nodes/origin-t');
});

test('a 5xx moves on too; a refusal (4xx) does not', async (t) => {
  const a = await fakeSignal();
  const b = await fakeSignal();
  t.after(() => Promise.all([a.close(), b.close()]));
  a.status.heartbeat = 503;
  const r = registration([a.url, b.url]);
  t.after(() => r.stop());
  await r.start();
  await until(() => b.calls.includes(HB));
  assert.equal(r.signal, b.url);

  const c = await fakeSignal();
  const d = await fakeSignal();
  t.after(() => Promise.all([c.close(), d.close()]));
  c.status.register = 409;
  const refused = registration([c.url, d.url]);
  t.after(() => refused.stop());
  await refused.start();
  assert.equal(refused.isRegistered, false);
  assert.deepEqual(d.calls, []);
  assert.equal(refused.signal, c.url);
});

test('a signal that forgot the node (404) gets it registered again and the heartbeat right after', async (t) => {
  const a = await fakeSignal();
  t.after(() => a.close());
  const r = registration(a.url);
  t.after(() => r.stop());
  await r.start();
  await until(() => a.calls.includes(HB));
  a.status.heartbeat = 404;
  const from = a.calls.length;
  await until(() => a.calls.slice(from).includes('POST /api/nodes'));
  a.status.heartbeat = 204;
  await until(() => a.calls.slice(from).filter((c) => c === HB).length >= 2);
});

test('with one signal, a failure keeps the node registered there (no re-registration storm)', async (t) => {
  const a = await fakeSignal();
  t.after(() => a.close());
  const r = registration(a.url);
  t.after(() => r.stop());
  await r.start();
  a.status.heartbeat = 500;
  const from = a.calls.length;
  await until(() => a.calls.slice(from).filter((c) => c === HB).length >= 3);
  assert.equal(a.calls.slice(from).includes('POST /api/nodes'), false);
  assert.equal(r.isRegistered, true);
});
