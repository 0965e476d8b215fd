// GET /api/route/{app}/{stream} (where a stream lives, for edges and origins) and the origin/edges fields of
// /api/streams, on a real HTTP port, from the heartbeats of fake origins and edges (signed like real nodes).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Signal } from '../../src/signal/signal.js';
import type { RouteAnswer, StreamStat } from '../../src/shared/cluster.js';
import { deriveKeys } from '../../src/shared/keys.js';
import { SIGNATURE_HEADER, signRequest } from '../../src/shared/signed-request.js';
import { SIGNAL_DEFAULTS } from '../../src/signal/defaults.js';
import { fetchMetric } from '../helpers/metrics.js';
import { sleep } from '../helpers/wait.js';
import { TEST_KEYS, admin, edge, load, nodeReq, req } from './util.js';

const origin = (id: string) => ({ id, kind: 'origin' as const, region: 'eu', publicUrl: `http://${id}.test:8080`, rtmpUrl: `rtmp://${id}.test:1935`, capacity: 10 });

/** An origin's heartbeat: the streams it lists, those in `publishing` with a publisher connected. */
const originLoad = (streams: string[], publishing: string[] = []) => ({
  ...load(0, streams, publishing.length),
  streamStats: streams.map((stream): StreamStat => ({ stream, viewers: 0, publishing: publishing.includes(stream) })),
});

async function beat(base: string, id: string, body: object): Promise<void> {
  const r = await nodeReq(base, 'POST', `/api/nodes/${id}/heartbeat`, { id, load: body });
  assert.equal(r.status, 204, JSON.stringify(r.body));
}

const route = (base: string, app: string, stream: string) => nodeReq(base, 'GET', `/api/route/${app}/${stream}`);

describe('GET /api/route', () => {
  let signal: Signal;
  let base: string;

  before(async () => {
    signal = new Signal({ apiPort: 0, host: '127.0.0.1', keys: TEST_KEYS });
    base = `http://127.0.0.1:${(await signal.start()).apiPort}`;
    for (const id of ['origin-a', 'origin-b', 'origin-c']) assert.equal((await nodeReq(base, 'POST', '/api/nodes', origin(id))).status, 201);
    for (const id of ['edge-1', 'edge-2']) assert.equal((await nodeReq(base, 'POST', '/api/nodes', edge(id, 'eu'))).status, 201);
  });

  after(async () => {
    await signal?.stop();
  });

  test('lists the origins holding a stream: publishing first, then the freshest heartbeat; edges never', async () => {
    // live/moved: origin-a lost its publisher (republish grace) and it came back on origin-b.
    // live/both: nobody publishing (both in a grace): origin-c beat last, so it comes first.
    // A stream listed twice by one origin is one entry.
    await beat(base, 'origin-a', originLoad(['live/moved', 'live/both', 'live/solo', 'live/solo']));
    await sleep(5);
    await beat(base, 'origin-b', originLoad(['live/moved'], ['live/moved']));
    await sleep(5);
    await beat(base, 'origin-c', originLoad(['live/both']));
    await beat(base, 'edge-1', load(3, ['live/moved', 'live/edge-only']));

    const moved = await route(base, 'live', 'moved');
    assert.equal(moved.status, 200);
    assert.equal(moved.headers.get('content-type'), 'application/json');
    assert.deepEqual(moved.body as unknown as RouteAnswer, {
      app: 'live',
      stream: 'moved',
      origins: [
        { id: 'origin-b', url: 'http://origin-b.test:8080', rtmpUrl: 'rtmp://origin-b.test:1935', publishing: true },
        { id: 'origin-a', url: 'http://origin-a.test:8080', rtmpUrl: 'rtmp://origin-a.test:1935', publishing: false },
      ],
      ttlMs: SIGNAL_DEFAULTS.routeTtlMs,
    });
    assert.equal(SIGNAL_DEFAULTS.routeTtlMs, 2000);
    const both = (await route(base, 'live', 'both')).body as unknown as RouteAnswer;
    assert.deepEqual(both.origins.map((o) => o.id), ['origin-c', 'origin-a']);
    const solo = (await route(base, 'live', 'solo')).body as unknown as RouteAnswer;
    assert.deepEqual(solo.origins.map((o) => o.id), ['origin-a']);

    // origin-a's next heartbeat makes it the freshest of the two idle holders
    await sleep(5);
    await beat(base, 'origin-a', originLoad(['live/moved', 'live/both', 'live/solo']));
    assert.deepEqual(((await route(base, 'live', 'both')).body as unknown as RouteAnswer).origins.map((o) => o.id), ['origin-a', 'origin-c']);
    // publishing wins over freshness
    assert.deepEqual(((await route(base, 'live', 'moved')).body as unknown as RouteAnswer).origins.map((o) => o.id), ['origin-b', 'origin-a']);
  });

  test('404 with the same JSON shape when no origin holds the stream (an edge listing it does not count)', async () => {
    for (const stream of ['nowhere', 'edge-only']) {
      const r = await route(base, 'live', stream);
      assert.equal(r.status, 404);
      assert.equal(r.headers.get('content-type'), 'application/json');
      assert.deepEqual(r.body, { app: 'live', stream, origins: [], ttlMs: 2000 });
    }
    // an origin that stops listing a stream is no longer a holder
    await beat(base, 'origin-c', originLoad([]));
    assert.deepEqual(((await route(base, 'live', 'both')).body as unknown as RouteAnswer).origins.map((o) => o.id), ['origin-a']);
    // nor is an origin that left
    assert.equal((await nodeReq(base, 'DELETE', '/api/nodes/origin-a')).status, 204);
    assert.equal((await route(base, 'live', 'solo')).status, 404);
    assert.equal((await nodeReq(base, 'POST', '/api/nodes', origin('origin-a'))).status, 201);
    await beat(base, 'origin-a', originLoad(['live/moved', 'live/both', 'live/solo']));
  });

  test('needs a request signed with the node key, or the admin bearer', async () => {
    const unsigned = await req(base, 'GET', '/api/route/live/moved');
    assert.equal(unsigned.status, 401);
    assert.equal(unsigned.body.error, 'unauthorized');
    const otherCluster = await nodeReq(base, 'GET', '/api/route/live/moved', undefined, deriveKeys('another-cluster-root-secret-0123456789ab'));
    assert.equal(otherCluster.status, 401);
    const wrongBearer = await req(base, 'GET', '/api/route/live/moved', undefined, admin(deriveKeys('another-cluster-root-secret-0123456789ab')));
    assert.equal(wrongBearer.status, 401);
    const asAdmin = await req(base, 'GET', '/api/route/live/moved', undefined, admin());
    assert.equal(asAdmin.status, 200);
    assert.deepEqual((asAdmin.body as unknown as RouteAnswer).origins.map((o) => o.id), ['origin-b', 'origin-a']);
    // a signature covers the path: one made for another stream is refused
    const replayed = await req(base, 'GET', '/api/route/live/solo', undefined, { [SIGNATURE_HEADER]: signRequest(TEST_KEYS.node, 'GET', '/api/route/live/moved', '') });
    assert.equal(replayed.status, 401);
  });

  test('a lookup the direct path leaves to express (a query string) gets the same answer', async () => {
    const direct = await route(base, 'live', 'moved');
    const routed = await nodeReq(base, 'GET', '/api/route/live/moved?from=test');
    assert.equal(routed.status, 200);
    assert.deepEqual(routed.body, direct.body);
    const missing = await nodeReq(base, 'GET', '/api/route/live/nowhere?from=test');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { app: 'live', stream: 'nowhere', origins: [], ttlMs: 2000 });
    assert.equal((await req(base, 'GET', '/api/route/live/moved?from=test')).status, 401);
  });

  test('invalid names are a 400 (signed)', async () => {
    const r = await nodeReq(base, 'GET', '/api/route/live/bad.name');
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'bad_request');
    assert.equal((await nodeReq(base, 'GET', `/api/route/live/${'x'.repeat(65)}`)).status, 400);
  });

  test('/api/streams and /api/streams/:id show the origin (route order) and the edges pulling the stream', async () => {
    await beat(base, 'edge-2', load(1, ['live/moved']));
    const one = await req(base, 'GET', '/api/streams/live.moved');
    assert.equal(one.status, 200);
    assert.deepEqual(one.body.origin, { id: 'origin-b', url: 'http://origin-b.test:8080' });
    assert.deepEqual([...(one.body.edges as string[])].sort(), ['edge-1', 'edge-2']);
    const list = (await req(base, 'GET', '/api/streams')).body.streams as Array<{ id: string; origin: unknown; edges: string[] }>;
    const solo = list.find((s) => s.id === 'live.solo');
    assert.deepEqual(solo?.origin, { id: 'origin-a', url: 'http://origin-a.test:8080' });
    assert.deepEqual(solo?.edges, []);
    assert.deepEqual(list.find((s) => s.id === 'live.moved')?.origin, { id: 'origin-b', url: 'http://origin-b.test:8080' });
    // a stream only an edge lists has edges and no origin
    const edgeOnly = await req(base, 'GET', '/api/streams/live.edge-only');
    assert.equal(edgeOnly.status, 200);
    assert.equal(edgeOnly.body.origin, null);
    assert.deepEqual(edgeOnly.body.edges, ['edge-1']);
  });

  test('the lookups are counted by result', async () => {
    const before = await counts();
    await route(base, 'live', 'moved');
    await route(base, 'live', 'nowhere');
    await route(base, 'live', 'nowhere');
    const now = await counts();
    assert.equal(now.found - before.found, 1);
    assert.equal(now.notFound - before.notFound, 2);

    async function counts(): Promise<{ found: number; notFound: number }> {
      // A series not counted yet is absent (NaN): 0.
      const value = async (result: string): Promise<number> => (await fetchMetric(base, 'livecdn_signal_route_lookups_total', `result="${result}"`)) || 0;
      return { found: await value('found'), notFound: await value('not_found') };
    }
  });
});

describe('GET /api/route on an --insecure signal', () => {
  let signal: Signal;
  let base: string;

  before(async () => {
    signal = new Signal({ apiPort: 0, host: '127.0.0.1', insecure: true });
    base = `http://127.0.0.1:${(await signal.start()).apiPort}`;
  });

  after(async () => {
    await signal?.stop();
  });

  test('is open, like the other node routes', async () => {
    assert.equal((await req(base, 'POST', '/api/nodes', origin('origin-x'))).status, 201);
    assert.equal((await req(base, 'POST', '/api/nodes/origin-x/heartbeat', { id: 'origin-x', load: originLoad(['live/open'], ['live/open']) })).status, 204);
    const r = await req(base, 'GET', '/api/route/live/open');
    assert.equal(r.status, 200);
    assert.deepEqual((r.body as unknown as RouteAnswer).origins, [{ id: 'origin-x', url: 'http://origin-x.test:8080', rtmpUrl: 'rtmp://origin-x.test:1935', publishing: true }]);
    assert.equal((await req(base, 'GET', '/api/route/live/closed')).status, 404);
  });
});
