// Location without a signal (issue 13, its reproduction): two origins, an edge with both as --upstream,
// FFmpeg publishing live/onb to the second. The edge asks the first, takes its 404 as "not here", finds the
// stream on the second, and remembers it: the first is not asked again for that stream (HLS or FLV).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireFfmpeg } from '../helpers/ffmpeg.js';
import { hlsClient } from '../edge/media-checks.js';
import { get } from '../edge/util.js';
import { flvPath, playlistPath } from '../../src/shared/url-contract.js';
import { checkHls, edgeStatus, publishSmall, startEdgeProc, startOriginProc, waitOriginLive, watchFlv } from './cluster-procs.js';

/** Requests the origin behind `proxy` got from `via` about live/onb, by path. */
function askedAbout(counts: Map<string, number>, countVia: (path: string, via: string) => number, via: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const path of counts.keys()) {
    if (!path.startsWith('/live/onb.') && !path.startsWith('/live/onb/')) continue;
    const n = countVia(path, via);
    if (n > 0) out[path] = n;
  }
  return out;
}

test('no signal: an edge with two --upstreams finds a stream on the second one over HLS and HTTP-FLV, and remembers it', { timeout: 180_000 }, async (t) => {
  await requireFfmpeg();
  const [o1, o2] = await Promise.all([startOriginProc(t, { id: 'origin-1' }), startOriginProc(t, { id: 'origin-2' })]);
  const p1 = o1.proxy;
  assert.ok(p1);
  publishSmall(t, o2.rtmpUrl('live', 'onb'));
  await waitOriginLive(o2, 'live', 'onb');
  // As in the issue: the origin serves it, the first upstream does not have it.
  assert.equal((await get(o2.url + playlistPath('live', 'onb'))).status, 200);
  assert.equal((await get(o1.url + playlistPath('live', 'onb'))).status, 404);

  const upstreams = [o1.url, o2.url];
  // HLS first: one playlist request to the first upstream (404), then never again.
  const eh = await startEdgeProc(t, { id: 'edge-hls-first', upstreams });
  await checkHls(eh.base + playlistPath('live', 'onb'), 3);
  const played = await hlsClient(eh.base + playlistPath('live', 'onb'), Date.now() + 4000, 1000);
  assert.deepEqual(played.errors, []);
  assert.ok(played.segments.size >= 3);
  await watchFlv(t, eh.base + flvPath('live', 'onb'));
  assert.deepEqual(askedAbout(p1.counts, p1.countVia, '1.1 edge-hls-first'), { '/live/onb.m3u8': 1 });

  // FLV first: one FLV request to the first upstream (404), then HLS goes to the second straight away.
  const ef = await startEdgeProc(t, { id: 'edge-flv-first', upstreams });
  const viewer = await watchFlv(t, ef.base + flvPath('live', 'onb'));
  await checkHls(ef.base + playlistPath('live', 'onb'), 3);
  assert.deepEqual(askedAbout(p1.counts, p1.countVia, '1.1 edge-flv-first'), { '/live/onb.flv': 1 });
  assert.ok(!viewer.ended);

  const p2 = o2.proxy;
  assert.ok(p2);
  for (const e of [eh, ef]) {
    assert.equal(p2.countVia(flvPath('live', 'onb'), `1.1 ${e.id}`), 1, `${e.id}: one FLV connection to the second origin`);
    const st = await edgeStatus(e.base);
    assert.equal(st.locator?.mode, 'upstreams');
    assert.equal(st.locator?.remembered, 1);
    assert.equal(st.flv.find((r) => r.stream === 'live/onb')?.upstream, o2.url);
    // A 404 is no failure: the first upstream is not marked down.
    assert.ok(st.upstreams.every((u) => u.up), JSON.stringify(st.upstreams));
  }
});
