// Edges in front of a real origin with FFmpeg publishing: fan-out to many viewers costs the origin one
// FLV connection and one fetch per segment; tiers serve the same bytes; failover keeps viewers playing;
// what the edge serves decodes clean.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Edge, type EdgeConfig } from '../../src/edge/edge.js';
import { parseMediaPlaylist } from '../../src/media/hls/playlist.js';
import { TagType } from '../../src/media/packet.js';
import { FlvViewer, type ReceivedPacket } from '../helpers/http.js';
import type { TestOrigin } from '../helpers/origin.js';
import { checkSegment, hlsClient, probeFlv } from './media-checks.js';
import { startLiveOrigin, type LiveOrigin } from './live-origin.js';
import { startCountingProxy } from './proxy.js';
import { get } from './util.js';
import { waitFor, sleep } from '../helpers/wait.js';

let origin: TestOrigin;
let live: LiveOrigin | undefined;

before(async () => {
  live = await startLiveOrigin('s', 'h264-high-bframes+aac-stereo', 3);
  origin = live.origin;
});

after(async () => {
  await live?.stop();
});

async function startEdge(upstreams: string[], extra: Partial<EdgeConfig> = {}): Promise<{ edge: Edge; base: string }> {
  const edge = new Edge({ upstreams, httpPort: 0, host: '127.0.0.1', ...extra });
  const { httpPort } = await edge.start();
  return { edge, base: `http://127.0.0.1:${httpPort}` };
}

const isKey = (p: ReceivedPacket): boolean => p.type === TagType.Video && p.payload[0] === 0x17 && p.payload[1] === 1;
const isVideoFrame = (p: ReceivedPacket): boolean => p.type === TagType.Video && p.payload[1] === 1;

function assertMonotonic(v: FlvViewer): void {
  for (const type of [TagType.Audio, TagType.Video]) {
    const ts = v.packets.filter((p) => p.type === type).map((p) => p.timestamp);
    for (let i = 1; i < ts.length; i++) assert.ok((ts[i] ?? 0) >= (ts[i - 1] ?? 0), `type ${type} timestamps monotonic at ${i}: ${ts[i - 1]} -> ${ts[i]}`);
  }
}

test('50 HLS and 50 HTTP-FLV clients on one edge: one FLV connection and one fetch per segment at the origin; output decodes clean', async () => {
  const proxy = await startCountingProxy(origin.httpBase);
  const { edge, base } = await startEdge([proxy.url]);
  const viewers: FlvViewer[] = [];
  try {
    viewers.push(...(await Promise.all(Array.from({ length: 50 }, () => FlvViewer.open(`${base}/live/s.flv`)))));
    for (const v of viewers) assert.equal(v.status, 200);
    const hls = Promise.all(Array.from({ length: 50 }, () => hlsClient(`${base}/live/s.m3u8`, Date.now() + 5000, 500)));
    await Promise.all(viewers.map((v) => v.waitFor(isKey, 10_000)));
    const results = await hls;

    assert.equal(proxy.flv.opened, 1, 'one upstream FLV connection for 50 viewers');
    const originMetrics = await (await fetch(`${origin.httpBase}/metrics`)).text();
    assert.match(originMetrics, /livecdn_viewers\{protocol="flv"\} 1\b/);

    const segmentPaths = [...proxy.counts.keys()].filter((p) => p.startsWith('/live/s/'));
    assert.ok(segmentPaths.length >= 3, `segments fetched: ${segmentPaths.join(' ')}`);
    for (const p of segmentPaths) assert.equal(proxy.count(p), 1, `${p} fetched once from the origin`);
    // 50 clients polling every 0.5 s for 5 s against max-age=1: about one playlist fetch per second.
    assert.ok(proxy.count('/live/s.m3u8') <= 8, `playlist fetched ${proxy.count('/live/s.m3u8')} times`);

    for (const r of results) {
      assert.deepEqual(r.errors, []);
      assert.ok(r.segments.size >= 3);
    }
    // Every client got the same bytes for the same segment.
    const first = results[0]?.segments ?? new Map<string, Buffer>();
    for (const r of results) for (const [url, body] of r.segments) if (first.has(url)) assert.ok(first.get(url)?.equals(body), url);

    const sample = [...first.values()].slice(-2);
    for (const seg of sample) {
      const c = await checkSegment(seg);
      assert.equal(c.errors, '', 'segment decodes clean');
      assert.equal(c.firstKey, true, 'segment starts on a keyframe');
    }

    for (const v of viewers) {
      const firstFrame = v.packets.find(isVideoFrame);
      assert.ok(firstFrame && isKey(firstFrame), 'FLV viewer starts on a keyframe');
      assert.equal(v.header?.video, true);
      assert.equal(v.header?.audio, true);
      assertMonotonic(v);
    }
    // Before the probe below joins as a 51st viewer.
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /livecdn_edge_viewers\{protocol="flv"\} 50\b/);
    // Not coalesced waits: with prefetch on, every client may hit and that counter then never appears.
    assert.match(metrics, /livecdn_edge_cache_requests_total\{kind="segment",result="hit"\} [1-9]\d*/);
    assert.deepEqual(await probeFlv(`${base}/live/s.flv`), ['aac', 'h264']);
    assert.equal(proxy.flv.opened, 1);

  } finally {
    for (const v of viewers) v.close();
    await edge.stop();
    await proxy.kill();
  }
});

test('two tiers (edge -> edge -> origin) serve the same bytes as the origin', async () => {
  const proxy = await startCountingProxy(origin.httpBase);
  const parent = await startEdge([proxy.url], { nodeId: 'parent' });
  const child = await startEdge([parent.base], { nodeId: 'child' });
  let viewer: FlvViewer | undefined;
  try {
    const pl = await get(`${child.base}/live/s.m3u8`);
    assert.equal(pl.status, 200);
    const segs = parseMediaPlaylist(pl.body.toString()).segments;
    const uri = segs[segs.length - 1]?.uri ?? '';
    const viaEdges = await get(new URL(uri, `${child.base}/live/s.m3u8`).toString());
    const direct = await get(new URL(uri, origin.hlsUrl('live', 's')).toString());
    assert.equal(viaEdges.status, 200);
    assert.ok(viaEdges.body.length > 1000);
    assert.ok(viaEdges.body.equals(direct.body), 'same segment bytes through two tiers');

    viewer = await FlvViewer.open(`${child.base}/live/s.flv`);
    assert.equal(viewer.status, 200);
    await viewer.waitFor(isKey, 10_000);
    assert.equal(proxy.flv.opened, 1);
    assert.equal(parent.edge.status().flv[0]?.viewers, 1, 'the child is the parent\'s one FLV viewer');
  } finally {
    viewer?.close();
    await child.edge.stop();
    await parent.edge.stop();
    await proxy.kill();
  }
});

test('failover: the first upstream dies; FLV viewers keep receiving with monotonic timestamps; HLS goes on', async () => {
  const a = await startCountingProxy(origin.httpBase);
  const b = await startCountingProxy(origin.httpBase);
  const { edge, base } = await startEdge([a.url, b.url], { flvGraceMs: 10_000 });
  const viewers: FlvViewer[] = [];
  try {
    viewers.push(...(await Promise.all([1, 2, 3].map(() => FlvViewer.open(`${base}/live/s.flv`)))));
    await Promise.all(viewers.map((v) => v.waitFor(isKey)));
    assert.equal(a.flv.opened, 1);
    assert.equal(b.flv.opened, 0);
    await a.kill();
    const killedAt = Date.now();
    const before = viewers.map((v) => v.packets.length);
    await sleep(3000);
    assert.equal(b.flv.opened, 1, 'the relay reconnected to the second upstream');
    viewers.forEach((v, i) => {
      assert.equal(v.ended, false, 'viewer still connected');
      const fresh = v.packets.slice(before[i]).filter((p) => p.type === TagType.Video && p.receivedAfterMs > 0);
      assert.ok(fresh.length >= 25, `viewer ${i} got ${fresh.length} video packets after the kill`);
      assertMonotonic(v);
    });
    assert.ok(Date.now() - killedAt < 10_000);
    const pl = await get(`${base}/live/s.m3u8`);
    assert.equal(pl.status, 200);
    const segs = parseMediaPlaylist(pl.body.toString()).segments;
    const seg = await get(new URL(segs[segs.length - 1]?.uri ?? '', `${base}/live/s.m3u8`).toString());
    assert.equal(seg.status, 200);
    const st = edge.status();
    assert.equal(st.upstreams[0]?.up, false);
  } finally {
    for (const v of viewers) v.close();
    await edge.stop();
    await a.kill();
    await b.kill();
  }
});

test('the FLV upstream is closed a linger time after the last viewer leaves; a missing stream is a 404', async () => {
  const proxy = await startCountingProxy(origin.httpBase);
  const { edge, base } = await startEdge([proxy.url], { flvLingerMs: 300 });
  try {
    const v = await FlvViewer.open(`${base}/live/s.flv`);
    await v.waitFor(isKey);
    v.close();
    await sleep(100);
    assert.equal(proxy.flv.open, 1, 'kept during the linger');
    await waitFor('upstream closed', () => (proxy.flv.open === 0 ? true : undefined), 3000);
    assert.deepEqual(edge.status().flv, []);
    const missing = await FlvViewer.open(`${base}/live/nope.flv`);
    assert.equal(missing.status, 404);
    missing.close();
  } finally {
    await edge.stop();
    await proxy.kill();
  }
});
