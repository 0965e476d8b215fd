// The edge's HTTP-FLV relay after a reconnect (issue 13): the upstream names its publication
// (PUBLICATION_HEADER), so the relay knows whether the frames it gets continue what it relayed. A
// stream that moved to another origin a few seconds into its publish (its times start again near 0)
// reaches the edge's viewers at once; a connection cut under a continuing publication still drops the
// upstream's replayed GOP, with or without the header (the older guess by time).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { requireFfmpeg } from '../helpers/ffmpeg.js';
import { FlvViewer, type ReceivedPacket } from '../helpers/http.js';
import { waitListening } from '../helpers/cli-process.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { TagType } from '../../src/media/packet.js';
import type { EdgeStatus } from '../../src/edge/edge.js';
import { PUBLICATION_HEADER, flvPath } from '../../src/shared/url-contract.js';
import { CLUSTER_ENV, edgeStatus, isKeyframe, publishSmall, startOriginProc, watchFlv } from '../cluster/cluster-procs.js';
import { startCliEdge, startFakeUpstream, type CliEdge } from './util.js';

/** A coded H.264 frame (not a sequence header). */
const isCodedVideo = (p: ReceivedPacket): boolean => p.type === TagType.Video && p.payload[1] === 1;

/** Each track's times never go back; coded video frames' strictly increase. */
function assertMonotonic(packets: readonly ReceivedPacket[]): void {
  const last = new Map<number, number>();
  let lastCoded = -1;
  for (const [i, p] of packets.entries()) {
    if (p.type === TagType.Script) continue;
    assert.ok(p.timestamp >= (last.get(p.type) ?? 0), `packet ${i} (type ${p.type}) at ${p.timestamp} ms after ${last.get(p.type)} ms`);
    last.set(p.type, p.timestamp);
    if (!isCodedVideo(p)) continue;
    assert.ok(p.timestamp > lastCoded, `video frame ${i} at ${p.timestamp} ms after one at ${lastCoded} ms`);
    lastCoded = p.timestamp;
  }
}

/** No coded video frame twice (testsrc draws a counter: every encoded picture differs). */
function assertNoDuplicateFrames(packets: readonly ReceivedPacket[]): void {
  const seen = new Set<string>();
  for (const p of packets.filter(isCodedVideo)) {
    const h = createHash('sha1').update(p.payload).digest('hex');
    assert.ok(!seen.has(h), `a video frame (at ${p.timestamp} ms) reached the viewer twice`);
    seen.add(h);
  }
}

/** `livecdn edge` (info logs: the relay's connects name the upstream's publication) with these upstreams. */
async function startEdge(t: TestContext, id: string, upstreams: readonly string[]): Promise<CliEdge> {
  const edge = await startCliEdge(['--upstream', upstreams.join(','), '--node-id', id, '--flv-grace', '20', '--upstream-down', '0'], { ...CLUSTER_ENV, LOG_LEVEL: 'info' });
  t.after(() => edge.stop());
  await waitListening(edge, `${edge.base}/metrics`);
  return edge;
}

/** The upstream publication each connect of the edge's relay logged (undefined: the upstream named none). */
function connectIds(edge: CliEdge): (string | undefined)[] {
  return edge
    .stdout()
    .split('\n')
    .filter((l) => l.includes('flv relay connected'))
    .map((l) => (JSON.parse(l) as { publication?: string }).publication);
}

async function relayOf(edge: CliEdge, stream: string): Promise<EdgeStatus['flv'][number] | undefined> {
  const st = await edgeStatus(edge.base);
  return st.flv.find((r) => r.stream === stream);
}

/**
 * An HTTP proxy to `target` whose connections cut() drops (an upstream connection lost while the origin
 * and its publication live on). Answers to requests whose Via names `legacyVia` lose the publication
 * header: an upstream that does not send it.
 */
async function startCuttingProxy(t: TestContext, target: string, legacyVia: string): Promise<{ url: string; cut(): void }> {
  const open = new Set<ServerResponse>();
  const up = await startFakeUpstream((req: IncomingMessage, res: ServerResponse) => {
    const via = String(req.headers.via ?? '');
    const proxied = http.get(target + (req.url ?? '/'), { headers: { via } }, (o) => {
      const headers = { ...o.headers };
      if (via.includes(legacyVia)) delete headers[PUBLICATION_HEADER];
      res.writeHead(o.statusCode ?? 502, headers);
      o.pipe(res);
    });
    proxied.on('error', () => res.destroy());
    open.add(res);
    res.on('close', () => {
      open.delete(res);
      proxied.destroy();
    });
  });
  t.after(() => up.close());
  return { url: up.url, cut: () => open.forEach((r) => r.destroy()) };
}

test('a stream that moves to another origin 7 s into its publish reaches the edge FLV viewer at once, on the same connection, times monotonic', { timeout: 180_000 }, async (t) => {
  await requireFfmpeg();
  const [oa, ob] = await Promise.all([startOriginProc(t, { id: 'origin-a', counted: false }), startOriginProc(t, { id: 'origin-b', counted: false })]);
  const edge = await startEdge(t, 'edge-1', [oa.url, ob.url]);
  publishSmall(t, oa.rtmpUrl('live', 'mv'));
  const viewer = await watchFlv(t, edge.base + flvPath('live', 'mv'));
  // Younger than the relay's 15 s guess window: the case the publication id is for.
  await viewer.waitFor((p) => p.type === TagType.Video && p.timestamp >= 7000, 20_000);

  // origin-a dies; the publisher comes back on origin-b, its times from 0.
  await oa.kill();
  const killedAt = viewer.packets.length;
  const killedTime = Date.now();
  publishSmall(t, ob.rtmpUrl('live', 'mv'));
  // origin-b's first frames, watched there directly (its play wait answers as the publish starts).
  const direct = await FlvViewer.open(ob.directUrl + flvPath('live', 'mv'), 30_000);
  t.after(() => direct.close());
  await direct.waitFor(isKeyframe, 30_000);
  const liveOnB = Date.now();
  const first = await viewer.waitFor((p) => viewer.packets.indexOf(p) >= killedAt && isKeyframe(p), 20_000).catch((e: unknown) => {
    throw new Error(`no new keyframe at the edge viewer ${Date.now() - liveOnB} ms after origin-b went live: ${String(e)}`);
  });
  const gapMs = Date.now() - liveOnB;
  t.diagnostic(`first new keyframe at the edge viewer: ${gapMs} ms after origin-b went live, ${Date.now() - killedTime} ms after the kill (new frame at ${first.timestamp} ms)`);
  // The relay retries every 2 s at most; the guess by time would have dropped origin-b's first 7 s.
  assert.ok(gapMs < 4000, `new frames ${gapMs} ms after origin-b went live`);
  await viewer.waitFor((p) => p.type === TagType.Video && p.timestamp >= first.timestamp + 2000, 10_000);
  assert.ok(!viewer.ended, 'the FLV viewer stayed connected');
  // Only times: origin-b's publisher draws the same pictures as origin-a's did, from the first one.
  assertMonotonic(viewer.packets);
  assert.equal((await relayOf(edge, 'live/mv'))?.upstream, ob.url);
  assert.match(edge.stdout(), /flv relay follows a new publication/);
});

test('an FLV connection cut under a continuing publication: the replayed GOP is dropped, with the publication id and without', { timeout: 180_000 }, async (t) => {
  await requireFfmpeg();
  const origin = await startOriginProc(t, { id: 'origin-a', counted: false });
  const proxy = await startCuttingProxy(t, origin.directUrl, 'edge-legacy');
  const edges = await Promise.all(['edge-known', 'edge-legacy'].map((id) => startEdge(t, id, [proxy.url])));
  publishSmall(t, origin.rtmpUrl('live', 'cut'));
  const viewers = await Promise.all(edges.map((e) => watchFlv(t, e.base + flvPath('live', 'cut'))));
  for (let round = 1; round <= 2; round++) {
    await sleep(2500);
    const before = viewers.map((v) => v.packets.length);
    proxy.cut();
    for (const [i, v] of viewers.entries()) await v.waitFor((p) => v.packets.indexOf(p) >= (before[i] ?? 0) + 50 && isCodedVideo(p), 20_000);
    for (const e of edges) assert.ok(((await relayOf(e, 'live/cut'))?.reconnects ?? 0) >= round, 'the relay reconnected');
  }
  for (const [i, v] of viewers.entries()) {
    assert.ok(!v.ended, `viewer ${i} stayed connected`);
    assertMonotonic(v.packets);
    assertNoDuplicateFrames(v.packets);
  }
  // The relay behind the header knew each reconnect continued the same publication; the other guessed.
  const known = connectIds(edges[0] as CliEdge);
  assert.equal(known.length, 3);
  assert.match(known[0] ?? '', /^[0-9a-f]{16}$/);
  assert.ok(known.every((id) => id === known[0]), `publication ids ${known.join(', ')}`);
  assert.deepEqual(connectIds(edges[1] as CliEdge), [undefined, undefined, undefined]);
  for (const e of edges) assert.doesNotMatch(e.stdout(), /follows a new publication/);
});

test('a child edge relaying a parent edge: the parent keeps one publication across its reconnects, the child drops the replay', { timeout: 180_000 }, async (t) => {
  await requireFfmpeg();
  const origin = await startOriginProc(t, { id: 'origin-a', counted: false });
  const toOrigin = await startCuttingProxy(t, origin.directUrl, 'no-such-edge');
  const parent = await startEdge(t, 'edge-parent', [toOrigin.url]);
  const toParent = await startCuttingProxy(t, parent.base, 'no-such-edge');
  const child = await startEdge(t, 'edge-child', [toParent.url]);
  publishSmall(t, origin.rtmpUrl('live', 'tier'));
  const viewer = await watchFlv(t, child.base + flvPath('live', 'tier'));
  for (let round = 1; round <= 2; round++) {
    await sleep(2500);
    const before = viewer.packets.length;
    // The parent loses the origin, then (once back: it would close with no viewer left) the child loses
    // the parent; each reconnects and gets its upstream's GOP again.
    toOrigin.cut();
    await waitFor('the parent to reconnect', async () => ((await relayOf(parent, 'live/tier'))?.reconnects ?? 0) >= round, 10_000, 50);
    toParent.cut();
    await waitFor('the child to reconnect', async () => ((await relayOf(child, 'live/tier'))?.reconnects ?? 0) >= round, 10_000, 50);
    await viewer.waitFor((p) => viewer.packets.indexOf(p) >= before + 50 && isCodedVideo(p), 20_000);
  }
  assert.ok(!viewer.ended, 'the child viewer stayed connected');
  assertMonotonic(viewer.packets);
  assertNoDuplicateFrames(viewer.packets);
  // The child saw one publication of the parent's (its relay's hub publication, kept across the parent's reconnects).
  const ids = connectIds(child);
  assert.equal(ids.length, 3);
  assert.match(ids[0] ?? '', /^[0-9a-f]{16}$/);
  assert.ok(ids.every((id) => id === ids[0]), `publication ids ${ids.join(', ')}`);
  assert.ok(!connectIds(parent).includes(ids[0]), 'the parent names its own publication, not the origin\'s');
  for (const e of [parent, child]) assert.doesNotMatch(e.stdout(), /follows a new publication/);
});
