// Losing the control plane (issue 13): with the signal killed (SIGKILL), streams already flowing through
// an edge keep flowing (its FLV viewer keeps receiving, its HLS playlist keeps advancing, from the origin
// that held them, remembered: the other origin is not asked), and a stream published after the loss is
// found through the upstream list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireFfmpeg } from '../helpers/ffmpeg.js';
import { sleep } from '../helpers/wait.js';
import { get } from '../edge/util.js';
import { parseMediaPlaylist } from '../../src/media/hls/playlist.js';
import { flvPath, playlistPath } from '../../src/shared/url-contract.js';
import { checkHls, edgeStatus, isKeyframe, publishSmall, startEdgeProc, startOriginProc, startSignalProc, waitOriginLive, waitRouted, watchFlv } from './cluster-procs.js';

const about = (counts: Map<string, number>, stream: string): number =>
  [...counts].filter(([p]) => p.startsWith(`/live/${stream}.`) || p.startsWith(`/live/${stream}/`)).reduce((n, [, c]) => n + c, 0);

test('with the signal killed, flowing streams keep flowing and new lookups fall back to the upstream list', { timeout: 180_000 }, async (t) => {
  await requireFfmpeg();
  const signal = await startSignalProc(t);
  const [oa, ob] = await Promise.all([startOriginProc(t, { id: 'origin-a', signal: signal.url }), startOriginProc(t, { id: 'origin-b', signal: signal.url })]);
  const pa = oa.proxy;
  assert.ok(pa);
  const edge = await startEdgeProc(t, { id: 'edge-1', upstreams: [oa.url, ob.url], signal: signal.url });
  // On the second upstream: without the signal's answer or the edge's memory, origin-a would be asked first.
  publishSmall(t, ob.rtmpUrl('live', 'sb'));
  await waitOriginLive(ob, 'live', 'sb');
  await waitRouted(signal.url, 'live', 'sb', 'origin-b');
  const viewer = await watchFlv(t, edge.base + flvPath('live', 'sb'));
  const before = await checkHls(edge.base + playlistPath('live', 'sb'));
  assert.equal(about(pa.counts, 'sb'), 0, 'located through the signal');

  await signal.kill();
  const killedAt = Date.now();
  const packetsAtKill = viewer.packets.length;
  // Past the route answers' TTL and the route client's skip of a failed signal, several times over.
  // The newest segment's sequence number (the media sequence itself stands still until the window fills).
  const newestAtKill = before.mediaSequence + before.segments.length - 1;
  let lastSequence = newestAtKill;
  const sequences: number[] = [];
  while (Date.now() - killedAt < 8000) {
    const r = await get(edge.base + playlistPath('live', 'sb'));
    assert.equal(r.status, 200);
    const pl = parseMediaPlaylist(r.body.toString());
    const newest = pl.mediaSequence + pl.segments.length - 1;
    assert.ok(newest >= lastSequence, `the playlist went back: ${sequences.join(' ')} ${newest}`);
    lastSequence = newest;
    sequences.push(newest);
    for (const s of pl.segments.slice(-1)) assert.equal((await get(new URL(s.uri, edge.base + playlistPath('live', 'sb')).toString())).status, 200);
    await sleep(1000);
  }
  assert.ok(lastSequence >= newestAtKill + 4, `playlist advanced: ${sequences.join(' ')}`);
  assert.ok(!viewer.ended, 'the FLV viewer stays connected');
  // 8 s of 25 fps video plus audio, and a keyframe a second (generous bounds: a loaded machine).
  const since = viewer.packets.slice(packetsAtKill);
  assert.ok(since.length > 8 * 25, `FLV packets since the kill: ${since.length}`);
  assert.ok(since.filter(isKeyframe).length >= 4, 'keyframes keep coming');
  assert.equal(about(pa.counts, 'sb'), 0, 'the stream stayed where it was remembered: origin-a never asked');

  // A stream published after the signal died, on the second origin: found by asking each upstream in turn.
  publishSmall(t, ob.rtmpUrl('live', 'sc'));
  await waitOriginLive(ob, 'live', 'sc');
  await checkHls(edge.base + playlistPath('live', 'sc'));
  await watchFlv(t, edge.base + flvPath('live', 'sc'));
  assert.ok(about(pa.counts, 'sc') >= 1, 'origin-a was asked first (the configured order)');
  const st = await edgeStatus(edge.base);
  assert.ok((st.locator?.fallbacks ?? 0) > 0, JSON.stringify(st.locator));
  assert.equal(st.flv.find((r) => r.stream === 'live/sc')?.upstream, ob.url);
  assert.equal(st.flv.find((r) => r.stream === 'live/sb')?.upstream, ob.url);
  assert.ok(st.upstreams.every((u) => u.up), 'no origin marked down by the lookups');
});
