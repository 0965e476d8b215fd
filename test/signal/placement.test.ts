// Placement through the HTTP API (memory store): stickiness, hot streams spreading with heartbeat loads,
// dead edges leaving after the TTL, region from the query or the CIDR map, region graph fallback.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Signal } from '../../src/signal/signal.js';
import { edge, load, nodeReq, req, TEST_KEYS } from './util.js';
import { sleep } from '../helpers/wait.js';

describe('placement over HTTP', () => {
  let signal: Signal;
  let base: string;
  const play = async (stream: string, region?: string, headers: Record<string, string> = {}) => {
    const r = await req(base, 'GET', `/api/play/live/${stream}${region ? `?region=${region}` : ''}`, undefined, headers);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as { node: { id: string; region: string | null }; region: string | null; servedRegion: string | null; via: string };
  };

  before(async () => {
    signal = new Signal({
      apiPort: 0,
      host: '127.0.0.1',
      keys: TEST_KEYS,
      nodeTtlMs: 1000,
      regionMap: '203.0.113.0/24=ap,198.51.100.0/24=eu',
      regionGraph: 'ap:eu;eu:us',
      originHttp: 'http://origin.test:8080',
      originRtmp: 'rtmp://origin.test:1935',
      trustProxy: true,
    });
    base = `http://127.0.0.1:${(await signal.start()).apiPort}`;
  });
  after(async () => {
    await signal?.stop();
  });

  const beat = (id: string, viewers: number) => nodeReq(base, 'POST', `/api/nodes/${id}/heartbeat`, { id, load: load(viewers) });

  test('sticky under the bound, spreads when hot, dead edges leave after the TTL', async () => {
    const ids = ['eu-1', 'eu-2', 'eu-3', 'eu-4'];
    for (const id of ids) assert.equal((await nodeReq(base, 'POST', '/api/nodes', edge(id, 'eu', 100))).status, 201);
    const home = (await play('sticky', 'eu')).node.id;
    for (let i = 0; i < 5; i++) assert.equal((await play('sticky', 'eu')).node.id, home);

    // the home edge reports 80 of 100 viewers, the others 10: it is above c x mean, the stream moves on
    for (const id of ids) assert.equal((await beat(id, id === home ? 80 : 10)).status, 204);
    const next = (await play('sticky', 'eu')).node.id;
    assert.notEqual(next, home);
    // a burst between heartbeats spreads too: no edge goes past the bound
    const counts = new Map<string, number>();
    for (let i = 0; i < 60; i++) {
      const id = (await play('sticky', 'eu')).node.id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    assert.equal(counts.get(home) ?? 0, 0, 'the loaded edge gets nobody');
    assert.ok(counts.size >= 2, `spread over ${[...counts.keys()].join(',')}`);

    // heartbeats keep three edges alive; the home edge stops and leaves after the 1 s TTL
    for (const id of ids) await beat(id, 0);
    const alive = ids.filter((id) => id !== home);
    for (let t = 0; t < 3; t++) {
      await sleep(500);
      for (const id of alive) assert.equal((await beat(id, 0)).status, 204);
    }
    const nodes = (await req(base, 'GET', '/api/nodes')).body.nodes as Array<{ id: string }>;
    assert.deepEqual(nodes.map((n) => n.id).sort(), alive.sort());
    for (let i = 0; i < 20; i++) assert.notEqual((await play(`s${i}`, 'eu')).node.id, home);
    assert.equal((await beat(home, 0)).status, 404, 'the dead edge must register again');
    for (const id of ids) await nodeReq(base, 'DELETE', `/api/nodes/${id}`);
  });

  test('region from the CIDR map, the region graph, then the origin', async () => {
    await nodeReq(base, 'POST', '/api/nodes', edge('us-1', 'us'));
    await nodeReq(base, 'POST', '/api/nodes', edge('eu-9', 'eu'));
    // 203.0.113.7 is ap (X-Forwarded-For, trust proxy on); ap has no edge, its neighbour eu has
    const fromAp = await play('x', undefined, { 'x-forwarded-for': '203.0.113.7' });
    assert.equal(fromAp.region, 'ap');
    assert.equal(fromAp.servedRegion, 'eu');
    assert.equal(fromAp.node.id, 'eu-9');
    // the query wins over the address
    assert.equal((await play('x', 'us', { 'x-forwarded-for': '203.0.113.7' })).node.id, 'us-1');
    // eu gone: ap -> eu -> us
    await nodeReq(base, 'DELETE', '/api/nodes/eu-9');
    const viaUs = await play('x', undefined, { 'x-forwarded-for': '203.0.113.7' });
    assert.equal(viaUs.servedRegion, 'us');
    // a region with no path to an edge: the origin
    const sa = await req(base, 'GET', '/api/play/live/x?region=sa');
    assert.equal(sa.body.via, 'origin');
    assert.equal(sa.body.flv, 'http://origin.test:8080/live/x.flv');
    await nodeReq(base, 'DELETE', '/api/nodes/us-1');
    // nothing at all but the configured origin
    assert.equal((await play('x', 'eu')).via, 'origin');
  });
});
