// Two `livecdn signal` processes on one real redis-server, and a real `livecdn origin` given both
// (`--signal s1,s2`): the origin registers with s1 and is seen by both (nodes, routes), its credential
// (a node-signed request) works on both, and when s1 is killed its heartbeats go on to s2, so it stays
// listed past the node TTL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis } from './util.js';
import { CLUSTER_SECRET, publishSmall, routeOf, startOriginProc, startSignalProc } from '../cluster/cluster-procs.js';
import { adminToken, deriveKeys } from '../../src/shared/keys.js';
import type { NodeRecord } from '../../src/shared/cluster.js';
import { sleep, waitFor } from '../helpers/wait.js';

const NODE_TTL_S = 3;

async function nodesOf(signalUrl: string): Promise<NodeRecord[]> {
  const res = await fetch(`${signalUrl}/api/nodes`, { signal: AbortSignal.timeout(2000) });
  assert.equal(res.status, 200);
  return ((await res.json()) as { nodes: NodeRecord[] }).nodes;
}

test('an origin with --signal s1,s2 is seen by both, and fails over to s2 when s1 dies', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const args = ['--redis', redis.url, '--node-ttl', String(NODE_TTL_S)];
  const s1 = await startSignalProc(t, args);
  const s2 = await startSignalProc(t, args);
  const origin = await startOriginProc(t, { id: 'origin-two', signal: [s1.url, s2.url], counted: false });

  // Registered through s1, seen by both (one registry).
  for (const s of [s1, s2]) {
    await waitFor(`origin-two listed by ${s.url}`, async () => (await nodesOf(s.url)).some((n) => n.id === 'origin-two'), 15_000, 200);
  }

  // The push URL (and its token) from s2, for the origin registered through s1.
  const created = await fetch(`${s2.url}/api/streams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken(deriveKeys(CLUSTER_SECRET))}` },
    body: JSON.stringify({ app: 'live', name: 'two' }),
  });
  assert.equal(created.status, 201);
  const { pushUrl } = (await created.json()) as { pushUrl: string };
  assert.ok(pushUrl.startsWith(`rtmp://127.0.0.1:${origin.rtmpPort}/live/two?token=`), pushUrl);
  publishSmall(t, pushUrl, 20);
  // Both answer the node-signed route lookup with the origin (its heartbeats, via Redis).
  for (const s of [s1, s2]) {
    await waitFor(`live/two routed by ${s.url}`, async () => (await routeOf(s.url, 'live', 'two')).answer?.origins[0]?.id === 'origin-two', 20_000, 200);
    const { status, answer } = await routeOf(s.url, 'live', 'two');
    assert.equal(status, 200);
    assert.equal(answer?.origins[0]?.url, origin.url);
    assert.equal(answer?.origins[0]?.publishing, true);
    assert.equal(answer?.ttlMs, 2000);
  }
  // Unsigned: refused by both (the route is for nodes of the cluster).
  for (const s of [s1, s2]) assert.equal((await fetch(`${s.url}/api/route/live/two`)).status, 401);

  // Until now everything went through s1: s2 knew the origin from Redis only.
  assert.doesNotMatch(origin.stdout(), /registering with the next one/);
  await s1.kill();
  const killedAt = Date.now();
  // Past the node TTL only heartbeats that reached s2 keep the origin listed.
  await sleep(NODE_TTL_S * 1000 + 1000);
  const nodes = await nodesOf(s2.url);
  const rec = nodes.find((n) => n.id === 'origin-two');
  assert.ok(rec, `origin-two still listed by s2 ${Date.now() - killedAt} ms after s1 died: ${JSON.stringify(nodes.map((n) => n.id))}`);
  assert.ok(Date.now() - rec.lastSeen < NODE_TTL_S * 1000, `its last heartbeat is recent (${Date.now() - rec.lastSeen} ms ago)`);
  assert.ok(rec.load.streams.includes('live/two'), `with its stream: ${JSON.stringify(rec.load.streams)}`);
  const after = await routeOf(s2.url, 'live', 'two');
  assert.equal(after.status, 200);
  assert.equal(after.answer?.origins[0]?.id, 'origin-two');
  assert.match(origin.stdout(), /signal failed; registering with the next one/);
  assert.ok(origin.alive(), 'the origin lives on');
});
