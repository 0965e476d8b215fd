// Chat over WebSocket on one signal instance (memory store): delivery, error frames, join-flood bounds,
// and a flooder muted while everyone else chats on undisturbed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Signal } from '../../src/signal/signal.js';
import { ChatClient, TEST_KEYS, admin, req, upgradeStatus } from './util.js';
import { sleep } from '../helpers/wait.js';

describe('chat', () => {
  let signal: Signal;
  let base: string;
  let ws: string;
  const clients: ChatClient[] = [];
  const join = async (path: string, addr?: string): Promise<ChatClient> => {
    const c = await ChatClient.join(ws + path, addr);
    clients.push(c);
    return c;
  };

  before(async () => {
    signal = new Signal({
      apiPort: 0,
      host: '127.0.0.1',
      keys: TEST_KEYS,
      originRtmp: 'rtmp://o:1935',
      originHttp: 'http://o:8080',
      chat: { joinBurstPerAddr: 8, joinRatePerAddr: 0.2, maxConnsPerAddr: 6 },
    });
    const { apiPort } = await signal.start();
    base = `http://127.0.0.1:${apiPort}`;
    ws = `ws://127.0.0.1:${apiPort}`;
    for (const name of ['room1', 'errors', 'flood', 'joins']) assert.equal((await req(base, 'POST', '/api/streams', { name }, admin())).status, 201);
  });

  after(async () => {
    for (const c of clients) c.close();
    await signal?.stop();
  });

  test('messages reach every member with sender, time and a growing seq', async () => {
    const alice = await join('/api/streams/live.room1/chat?name=alice', '127.0.0.2');
    const bob = await join('/api/streams/live.room1/chat?name=bob', '127.0.0.3');
    const t0 = Date.now();
    alice.send('hello');
    bob.send('  hi alice  ');
    for (const c of [alice, bob]) {
      await c.waitFor((f) => f.type === 'msg' && f.text === 'hi alice');
      const msgs = c.messages().map((m) => m.frame);
      assert.deepEqual(msgs.map((m) => [m.from, m.text, m.seq]), [['alice', 'hello', 1], ['bob', 'hi alice', 2]]);
      for (const m of msgs) assert.ok(Math.abs(Number(m.ts) - t0) < 2000);
    }
  });

  test('unknown rooms, bad ids and bad names are refused at the upgrade', async () => {
    assert.equal(await upgradeStatus(`${ws}/api/streams/live.nope/chat`, '127.0.0.4'), 404);
    assert.equal(await upgradeStatus(`${ws}/api/streams/..%2F/chat`, '127.0.0.4'), 400);
    assert.equal(await upgradeStatus(`${ws}/api/streams/live.room1/chat?name=${encodeURIComponent('<script>')}`, '127.0.0.4'), 400);
    assert.equal(await upgradeStatus(`${ws}/api/elsewhere`, '127.0.0.4'), 404);
  });

  test('error frames for bad JSON, wrong shape, empty and long text; an oversized frame closes 1009', async () => {
    const c = await join('/api/streams/live.errors/chat', '127.0.0.5');
    c.ws.send('{not json');
    await c.waitFor((f) => f.type === 'error' && f.code === 'bad_json');
    c.ws.send(JSON.stringify({ type: 'shout', text: 'x' }));
    await c.waitFor((f) => f.type === 'error' && f.code === 'bad_message');
    c.send('   ');
    c.send('x'.repeat(501));
    await c.waitFor((f) => f.type === 'error' && f.code === 'too_long');
    c.send('x'.repeat(500));
    await c.waitFor((f) => f.type === 'msg' && String(f.text).length === 500);
    c.ws.send('x'.repeat(5000));
    const closed = await c.closed;
    assert.equal(closed.code, 1009);
  });

  test('join floods are bounded per address: concurrent connections and join rate', async () => {
    const url = `${ws}/api/streams/live.joins/chat`;
    // 6 concurrent connections allowed from one address, the 7th is refused
    const held: ChatClient[] = [];
    for (let i = 0; i < 6; i++) held.push(await join('/api/streams/live.joins/chat', '127.0.0.6'));
    assert.equal(await upgradeStatus(url, '127.0.0.6'), 429);
    for (const c of held) c.close();
    // burst of 8 joins, then one per 5 s: a rapid series from a fresh address runs out
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push(await upgradeStatus(url, '127.0.0.7'));
    assert.ok(statuses.slice(0, 8).every((s) => s === 101), statuses.join(','));
    assert.ok(statuses.slice(8).includes(429), statuses.join(','));
    // other addresses are unaffected
    assert.equal(await upgradeStatus(url, '127.0.0.8'), 101);
  });

  test('a client sending 10,000 messages/s is muted; the others get theirs in order with bounded delay', async (t) => {
    const room = '/api/streams/live.flood/chat';
    const normal = await Promise.all([2, 3, 4, 5, 9].map((n, i) => join(`${room}?name=user${i}`, `127.0.1.${n}`)));
    const flooder = await join(`${room}?name=flooder`, '127.0.2.1');
    const PER_USER = 10;
    // the flood: 100 messages every 10 ms for 1.5 s
    let floodSent = 0;
    const flood = setInterval(() => {
      for (let i = 0; i < 100 && flooder.ws.readyState === flooder.ws.OPEN; i++) {
        flooder.send(`spam ${floodSent++}`);
      }
    }, 10);
    // everyone else: 4 messages/s each (under the 5/s per connection)
    for (let k = 0; k < PER_USER; k++) {
      normal.forEach((c, i) => c.send(`user${i} #${k}`));
      await sleep(250);
    }
    clearInterval(flood);
    // every member has every user's last message
    await Promise.all(normal.flatMap((c) => normal.map((_x, i) => c.waitFor((f) => f.text === `user${i} #${PER_USER - 1}`, 5000))));

    assert.ok(floodSent >= 5000, `the flooder sent ${floodSent}`);
    assert.ok(flooder.frames.some((f) => f.frame.type === 'error' && f.frame.code === 'muted'), 'the flooder was told it is muted');
    const closed = await Promise.race([flooder.closed, sleep(2000).then(() => undefined)]);
    assert.equal(closed?.code, 1008, 'a flooder that keeps going is disconnected');
    const delays: number[] = [];
    for (const c of normal) {
      assert.deepEqual(c.frames.filter((f) => f.frame.type === 'error'), [], 'nobody else gets an error');
      const msgs = c.messages().map((m) => m.frame);
      const seqs = msgs.map((m) => Number(m.seq));
      assert.ok(seqs.every((s, i) => i === 0 || s > (seqs[i - 1] as number)), 'seq grows');
      const spam = msgs.filter((m) => m.from === 'flooder').length;
      assert.ok(spam <= 10, `only the flooder's burst got through, got ${spam}`);
      for (let i = 0; i < normal.length; i++) {
        const mine = msgs.filter((m) => m.from === `user${i}`).map((m) => m.text);
        assert.deepEqual(mine, Array.from({ length: PER_USER }, (_, k) => `user${i} #${k}`), `user${i}'s messages, in order`);
      }
      for (const m of c.messages()) if (m.frame.from !== 'flooder') delays.push(m.at - Number(m.frame.ts));
    }
    delays.sort((a, b) => a - b);
    const p99 = delays[Math.floor(delays.length * 0.99)] as number;
    const max = delays[delays.length - 1] as number;
    t.diagnostic(`flood: ${floodSent} sent; others' delivery delay p99 ${p99} ms, max ${max} ms over ${delays.length} deliveries`);
    assert.ok(p99 <= 200 && max <= 500, `delivery delay p99 ${p99} ms, max ${max} ms`);
    // still usable afterwards
    normal[0]?.send('after the flood');
    await normal[1]?.waitFor((f) => f.text === 'after the flood');
  });

  test('revoking a stream ends its chat', async () => {
    const c = await join('/api/streams/live.room1/chat', '127.0.0.10');
    assert.equal((await req(base, 'DELETE', '/api/streams/live.room1', undefined, admin())).status, 200);
    await c.waitFor((f) => f.type === 'error' && f.code === 'stream_revoked');
    assert.equal((await c.closed).code, 1000);
  });
});

test('stopping the service closes chat members with 1001 (going away)', async () => {
  const signal = new Signal({ apiPort: 0, host: '127.0.0.1', keys: TEST_KEYS, originRtmp: 'rtmp://o:1935', originHttp: 'http://o:8080' });
  let stopped = false;
  try {
    const { apiPort } = await signal.start();
    assert.equal((await req(`http://127.0.0.1:${apiPort}`, 'POST', '/api/streams', { name: 'bye' }, admin())).status, 201);
    const c = await ChatClient.join(`ws://127.0.0.1:${apiPort}/api/streams/live.bye/chat`);
    await signal.stop();
    stopped = true;
    assert.equal((await c.closed).code, 1001);
  } finally {
    if (!stopped) await signal.stop();
  }
});

describe('chat limits by client address', () => {
  const start = async (trustProxy: boolean): Promise<{ signal: Signal; ws: string }> => {
    const signal = new Signal({
      apiPort: 0,
      host: '127.0.0.1',
      insecure: true,
      originRtmp: 'rtmp://o:1935',
      originHttp: 'http://o:8080',
      ...(trustProxy ? { trustProxy: true } : {}),
      // 3 joins per address, then none for a long while
      chat: { joinBurstPerAddr: 3, joinRatePerAddr: 0.001, maxConnsPerAddr: 100 },
    });
    const { apiPort } = await signal.start();
    assert.equal((await req(`http://127.0.0.1:${apiPort}`, 'POST', '/api/streams', { name: 'limits' })).status, 201);
    return { signal, ws: `ws://127.0.0.1:${apiPort}/api/streams/live.limits/chat` };
  };
  const joins = async (ws: string, forwardedFor: readonly string[]): Promise<number[]> => {
    const out: number[] = [];
    for (const xff of forwardedFor) out.push(await upgradeStatus(ws, undefined, { 'x-forwarded-for': xff }));
    return out;
  };

  test('behind --trust-proxy: keyed by the X-Forwarded-For client, IPv6 by /64', async () => {
    const { signal, ws } = await start(true);
    try {
      // four addresses of one /64 share one budget of 3 joins
      assert.deepEqual(await joins(ws, ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2:ffff::9', '2001:db8:1:2::abcd']), [101, 101, 101, 429]);
      // the next /64 and another IPv4 client have budgets of their own
      assert.deepEqual(await joins(ws, ['2001:db8:1:3::1', '198.51.100.1', '198.51.100.2']), [101, 101, 101]);
      assert.deepEqual(await joins(ws, ['198.51.100.1', '198.51.100.1', '198.51.100.1']), [101, 101, 429]);
    } finally {
      await signal.stop();
    }
  });

  test('without --trust-proxy: X-Forwarded-For is ignored, a client cannot pick its key', async () => {
    const { signal, ws } = await start(false);
    try {
      assert.deepEqual(await joins(ws, ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4']), [101, 101, 101, 429]);
    } finally {
      await signal.stop();
    }
  });
});
