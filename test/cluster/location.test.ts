// Stream location through the signal (issue 13): two origins, two edges, one signal, a stream published
// on each origin. Every edge serves every stream over HLS and HTTP-FLV, going straight to the origin that
// holds it (the other origin is never asked), and each origin sees, per edge, one FLV connection and one
// fetch per segment: counted at the origin's door (a counting proxy it registers as its public URL).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireFfmpeg } from '../helpers/ffmpeg.js';
import { hlsClient } from '../edge/media-checks.js';
import { flvPath, playlistPath } from '../../src/shared/url-contract.js';
import { waitFor } from '../helpers/wait.js';
import { checkHls, edgeStatus, isKeyframe, publishSmall, startEdgeProc, startOriginProc, startSignalProc, waitOriginLive, waitRouted, watchFlv, type OriginProc } from './cluster-procs.js';

test('two origins, two edges, one signal: every edge serves every stream, one FLV connection and one fetch per segment per edge at its origin', { timeout: 180_000 }, async (t) => {
  await requireFfmpeg();
  const signal = await startSignalProc(t);
  const [oa, ob] = await Promise.all([startOriginProc(t, { id: 'origin-a', signal: signal.url }), startOriginProc(t, { id: 'origin-b', signal: signal.url })]);
  // Both origins as upstreams (the fallback), origin-a first: only the signal sends the edges to origin-b.
  const edges = await Promise.all(['edge-1', 'edge-2'].map((id) => startEdgeProc(t, { id, upstreams: [oa.url, ob.url], signal: signal.url })));
  const streams: [string, OriginProc, OriginProc][] = [
    ['sa', oa, ob],
    ['sb', ob, oa],
  ];
  for (const [s, holder] of streams) publishSmall(t, holder.rtmpUrl('live', s));
  await Promise.all(streams.map(([s, holder]) => waitOriginLive(holder, 'live', s)));
  await Promise.all(streams.map(([s, holder]) => waitRouted(signal.url, 'live', s, holder.id)));

  // HTTP-FLV: two viewers per edge and stream.
  const viewers = await Promise.all(edges.flatMap((e) => streams.flatMap(([s]) => [watchFlv(t, e.base + flvPath('live', s)), watchFlv(t, e.base + flvPath('live', s))])));
  // HLS: the playlist read by m3u8-parser, segments MPEG-TS and decoding, then a player loop for 5 s.
  for (const e of edges) for (const [s] of streams) await checkHls(e.base + playlistPath('live', s));
  const until = Date.now() + 5000;
  const players = await Promise.all(edges.flatMap((e) => streams.map(([s]) => hlsClient(e.base + playlistPath('live', s), until, 1000))));
  for (const p of players) {
    assert.deepEqual(p.errors, []);
    assert.ok(p.segments.size >= 3, `segments played: ${p.segments.size}`);
  }
  // The FLV viewers kept receiving all along.
  const counts = viewers.map((v) => v.packets.length);
  await new Promise((r) => setTimeout(r, 1000));
  viewers.forEach((v, i) => assert.ok(v.packets.length > (counts[i] ?? 0) && !v.ended, `FLV viewer ${i} still receiving`));

  for (const [s, holder, other] of streams) {
    const hp = holder.proxy;
    const op = other.proxy;
    assert.ok(hp && op);
    for (const e of edges) {
      const via = `1.1 ${e.id}`;
      assert.equal(hp.countVia(flvPath('live', s), via), 1, `${e.id}: one FLV connection to ${holder.id} for ${s}`);
      // Every segment this edge's player got was fetched once from the holder by this edge (prefetched or not).
      const played = players[edges.indexOf(e) * streams.length + streams.findIndex(([x]) => x === s)];
      assert.ok(played);
      for (const url of played.segments.keys()) {
        const path = new URL(url).pathname;
        assert.equal(hp.countVia(path, via), 1, `${e.id}: ${path} fetched once from ${holder.id}`);
      }
    }
    // The other origin was never asked anything about this stream: located by the signal, not by trying.
    const asked = [...op.counts.keys()].filter((p) => p.startsWith(`/live/${s}.`) || p.startsWith(`/live/${s}/`));
    assert.deepEqual(asked, [], `${other.id} asked about ${s}`);
    // Segments: one fetch per edge at most, whoever asked.
    for (const [path, n] of hp.counts) if (path.startsWith(`/live/${s}/`)) assert.ok(n <= edges.length, `${path} fetched ${n} times from ${holder.id}`);
  }
  // One FLV connection per edge and stream in all: 2 edges x 1 stream per origin.
  assert.equal(oa.proxy?.flv.opened, 2);
  assert.equal(ob.proxy?.flv.opened, 2);

  for (const e of edges) {
    const st = await edgeStatus(e.base);
    assert.equal(st.locator?.mode, 'signal');
    assert.ok((st.locator?.routed ?? 0) > 0, `${e.id} located through the signal: ${JSON.stringify(st.locator)}`);
    const relays = new Map(st.flv.map((r) => [r.stream, r.upstream]));
    assert.equal(relays.get('live/sa'), oa.url);
    assert.equal(relays.get('live/sb'), ob.url);
  }
});

test('a stream that moves to the other origin is followed: the FLV viewer stays connected, the edge serves it from its new origin', { timeout: 180_000 }, async (t) => {
  await requireFfmpeg();
  const signal = await startSignalProc(t);
  const [oa, ob] = await Promise.all([startOriginProc(t, { id: 'origin-a', signal: signal.url }), startOriginProc(t, { id: 'origin-b', signal: signal.url })]);
  const edge = await startEdgeProc(t, { id: 'edge-1', upstreams: [oa.url, ob.url], signal: signal.url });
  const first = publishSmall(t, oa.rtmpUrl('live', 'mv'));
  await waitOriginLive(oa, 'live', 'mv');
  await waitRouted(signal.url, 'live', 'mv', 'origin-a');
  const viewer = await watchFlv(t, edge.base + flvPath('live', 'mv'));
  await checkHls(edge.base + playlistPath('live', 'mv'));

  // The publisher moves: origin-a ends the relay's connection, the stream appears on origin-b.
  await first.stop();
  const movedAt = viewer.packets.length;
  publishSmall(t, ob.rtmpUrl('live', 'mv'));
  await waitOriginLive(ob, 'live', 'mv');
  // Within the edge's --flv-grace (10 s): the same response goes on with frames from origin-b.
  await viewer.waitFor((p) => viewer.packets.indexOf(p) > movedAt && isKeyframe(p), 20_000);
  assert.ok(!viewer.ended, 'the FLV viewer stayed connected');
  const st = await edgeStatus(edge.base);
  const relay = st.flv.find((r) => r.stream === 'live/mv');
  assert.equal(relay?.upstream, ob.url);
  assert.ok((relay?.reconnects ?? 0) >= 1);
  // HLS follows too: the playlist lists segments that come from origin-b.
  await waitFor('HLS segments from origin-b', async () => {
    await checkHls(edge.base + playlistPath('live', 'mv'));
    return [...(ob.proxy?.counts.keys() ?? [])].some((p) => p.startsWith('/live/mv/') && p.endsWith('.ts'));
  }, 30_000, 1000);
});
