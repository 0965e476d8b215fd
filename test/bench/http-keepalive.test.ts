// The load generator's HTTP/1.1 keep-alive client (bench/lib/http-keepalive.ts) against a scripted TCP
// server: Content-Length and chunked bodies split at every byte, reuse of the connection, and the
// failures (malformed head, close mid-body, timeout) followed by a working request on a new connection.
// Node's own HTTP server is the real peer for the ordinary case.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { KeepAliveConnection } from '../../bench/lib/http-keepalive.js';

/** A server answering each request on a connection with the next scripted reply, written in the given pieces. */
async function scripted(replies: (string | Buffer)[][]): Promise<{ port: number; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  let next = 0;
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    let buf = '';
    s.on('data', async (d: Buffer) => {
      buf += d.toString('latin1');
      while (buf.includes('\r\n\r\n')) {
        const end = buf.indexOf('\r\n\r\n') + 4;
        requests.push(buf.slice(0, end));
        buf = buf.slice(end);
        const pieces = replies[next++] ?? [];
        for (const p of pieces) {
          if (p === 'CLOSE') {
            s.destroy();
            return;
          }
          s.write(p);
          await new Promise((r) => setImmediate(r));
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const bytesOf = (s: string): string[] => [...s];

describe('KeepAliveConnection', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of closers) await c();
  });

  it('reads Content-Length and chunked bodies split at every byte, on one reused connection', async () => {
    const fixed = 'HTTP/1.1 200 OK\r\nContent-Length: 11\r\nContent-Type: text/plain\r\n\r\nhello world';
    const chunked = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\nA\r\nworld, too\r\n0\r\nX-Trailer: y\r\n\r\n';
    const srv = await scripted([bytesOf(fixed), bytesOf(chunked), [fixed], [chunked]]);
    closers.push(srv.close);
    const c = new KeepAliveConnection('127.0.0.1', srv.port, 5000);
    for (const expected of ['hello world', 'hello world, too', 'hello world', 'hello world, too']) {
      const r = await c.get('/x.m3u8?_HLS_msn=1', true);
      assert.equal(r.status, 200);
      assert.equal(r.body?.toString(), expected);
    }
    assert.equal(c.bytes, 2 * (fixed.length + chunked.length));
    assert.equal(srv.requests.length, 4);
    assert.match(srv.requests[0] ?? '', /^GET \/x\.m3u8\?_HLS_msn=1 HTTP\/1\.1\r\nHost: 127\.0\.0\.1:\d+\r\n/);
    c.close();
  });

  it('counts a body it does not keep, and reports a 404', async () => {
    const srv = await scripted([['HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found'], ['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n']]);
    closers.push(srv.close);
    const c = new KeepAliveConnection('127.0.0.1', srv.port, 5000);
    assert.deepEqual(await c.get('/a', false), { status: 404, body: undefined });
    assert.deepEqual(await c.get('/b', true), { status: 200, body: Buffer.alloc(0) });
    c.close();
  });

  it('fails on a malformed head, a close mid-body, a missing length and a timeout, then works on a new connection', async () => {
    const ok = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
    const srv = await scripted([
      ['SPDY/3 200 OK\r\n\r\n'],
      [ok],
      ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', 'CLOSE'],
      [ok],
      ['HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody until close'],
      [ok],
      ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'],
      [ok],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
      [ok],
      [ok],
    ]);
    closers.push(srv.close);
    const c = new KeepAliveConnection('127.0.0.1', srv.port, 300);
    for (const why of [/bad status line/, /connection closed/, /without a length/, /timeout/, /bad chunk size/]) {
      await assert.rejects(c.get('/bad', true), why);
      assert.equal((await c.get('/good', true)).body?.toString(), 'ok');
    }
    const first = c.get('/first', true);
    await assert.rejects(c.get('/second', true), /request in flight/);
    assert.equal((await first).body?.toString(), 'ok');
    c.close();
  });

  it("talks to Node's HTTP server", async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/chunked') {
        res.write('a'.repeat(70_000));
        res.end('b');
      } else res.end('plain');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => server.close(() => r())));
    const c = new KeepAliveConnection('127.0.0.1', (server.address() as AddressInfo).port, 5000);
    assert.equal((await c.get('/chunked', true)).body?.toString(), 'a'.repeat(70_000) + 'b');
    assert.equal((await c.get('/plain', true)).body?.toString(), 'plain');
    c.close();
    server.closeAllConnections();
  });
});
