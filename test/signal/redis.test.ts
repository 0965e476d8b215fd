// Two signal instances sharing one real redis-server: registry, placement, revocation and chat cross over.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Signal } from '../../src/signal/signal.js';
import { ChatClient, edge, eventually, load, req, startRedis, TEST_KEYS, admin, nodeReq } from './util.js';
import type { RedisServer } from './util.js';
import { sleep } from '../helpers/wait.js';


describe('two signal instances on one Redis', () => {
  let redis: RedisServer | undefined;
  const signals: Signal[] = [];
  const clients: ChatClient[] = [];
  let a: string;
  let b: string;
  let wsA: string;
  let wsB: string;

  before(async () => {
    redis = await startRedis();
    const bases: string[] = [];
    for (let i = 0; i < 2; i++) {
      const s = new Signal({ apiPort: 0, host: '127.0.0.1', keys: TEST_KEYS, redisUrl: redis.url, nodeTtlMs: 2000, originRtmp: 'rtmp://o:1935', originHttp: 'http://127.0.0.1:9' });
      signals.push(s);
      bases.push(`127.0.0.1:${(await s.start()).apiPort}`);
    }
    [a, b] = bases.map((h) => `http://${h}`) as [string, string];
    [wsA, wsB] = bases.map((h) => `ws://${h}`) as [string, string];
  });

  after(async () => {
    for (const c of clients) c.close();
    for (const s of signals) await s.stop();
    await redis?.stop();
  });

  test('both instances use Redis', async () => {
    assert.equal((await req(a, 'GET', '/api/health')).body.store, 'redis');
    assert.equal((await req(b, 'GET', '/api/health')).body.store, 'redis');
  });

  test('an edge registered through one instance is placed by the other, heartbeats cross, TTL expires it', async () => {
    assert.equal((await nodeReq(a, 'POST', '/api/nodes', edge('edge-r1', 'eu'))).status, 201);
    const play = await req(b, 'GET', '/api/play/live/cam?region=eu');
    assert.equal(play.status, 200);
    assert.equal((play.body.node as { id: string }).id, 'edge-r1');
    assert.equal(play.body.flv, 'http://edge-r1.test:8080/live/cam.flv');
    assert.equal((await nodeReq(b, 'POST', '/api/nodes/edge-r1/heartbeat', { id: 'edge-r1', load: load(42, ['live/cam']) })).status, 204);
    const nodes = (await req(a, 'GET', '/api/nodes')).body.nodes as Array<{ id: string; load: { viewers: number } }>;
    assert.equal(nodes.find((n) => n.id === 'edge-r1')?.load.viewers, 42);
    // no heartbeat for longer than the 2 s TTL: gone from both, and its heartbeat is a 404
    await sleep(2300);
    assert.equal(((await req(a, 'GET', '/api/nodes')).body.nodes as unknown[]).length, 0);
    assert.equal((await req(b, 'GET', '/api/play/live/cam?region=eu')).body.via, 'origin');
    assert.equal((await nodeReq(a, 'POST', '/api/nodes/edge-r1/heartbeat', { id: 'edge-r1', load: load(0) })).status, 404);
    // registering and deleting through one instance reach the other through the events channel (within
    // the pub/sub latency, and at the latest when its 1 s view ages out)
    await nodeReq(a, 'POST', '/api/nodes', edge('edge-r2', 'eu'));
    assert.ok(await eventually(async () => (await req(b, 'GET', '/api/play/live/cam?region=eu')).body.via === 'edge', 1500));
    assert.equal((await nodeReq(a, 'DELETE', '/api/nodes/edge-r2')).status, 204);
    assert.ok(await eventually(async () => (await req(b, 'GET', '/api/play/live/cam?region=eu')).body.via === 'origin', 1500));
  });

  test('a stream created on one instance is published through the other; revoked on one, refused on both', async () => {
    const created = await req(a, 'POST', '/api/streams', { name: 'shared' }, admin());
    const token = String(created.body.token);
    const hook = (base: string) => req(base, 'POST', '/api/hooks/on_publish', { action: 'publish', app: 'live', stream: 'shared', query: { token }, clientId: 'c' });
    assert.equal((await hook(b)).status, 200);
    assert.equal((await req(a, 'GET', '/api/streams/live.shared')).body.live, true);
    assert.ok(((await req(b, 'GET', '/api/streams')).body.streams as Array<{ id: string }>).some((s) => s.id === 'live.shared'));
    assert.equal((await req(b, 'DELETE', '/api/streams/live.shared', undefined, admin())).status, 200);
    for (const base of [a, b]) {
      const r = await hook(base);
      assert.equal(r.status, 403);
      assert.equal(r.body.error, 'revoked');
    }
  });

  test('chat crosses instances in one order', async () => {
    assert.equal((await req(a, 'POST', '/api/streams', { name: 'talk' }, admin())).status, 201);
    const onA = await ChatClient.join(`${wsA}/api/streams/live.talk/chat?name=ann`, '127.0.0.2');
    const onB = await ChatClient.join(`${wsB}/api/streams/live.talk/chat?name=ben`, '127.0.0.3');
    clients.push(onA, onB);
    for (let i = 0; i < 5; i++) {
      onA.send(`a${i}`);
      onB.send(`b${i}`);
    }
    for (const c of [onA, onB]) {
      await c.waitFor((f) => f.text === 'a4');
      await c.waitFor((f) => f.text === 'b4');
    }
    const seqA = onA.messages().map((m) => [m.frame.seq, m.frame.from, m.frame.text]);
    const seqB = onB.messages().map((m) => [m.frame.seq, m.frame.from, m.frame.text]);
    assert.equal(seqA.length, 10);
    assert.deepEqual(seqA, seqB, 'both instances deliver the same messages in the same order');
    assert.deepEqual(seqA.map((x) => x[0]), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // revocation through one instance closes the room on the other too
    assert.equal((await req(a, 'DELETE', '/api/streams/live.talk', undefined, admin())).status, 200);
    await onB.waitFor((f) => f.code === 'stream_revoked');
  });
});
