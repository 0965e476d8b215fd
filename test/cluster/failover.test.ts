// Publisher failover (issue 13, spec decision 6), with real processes: a signal handing out push URLs on
// the ingest front (`--ingest-url`), two origins registered with it behind the front (real nginx with its
// stream module, nginx/ingest.conf.template), two edges (`--signal` + both origins as `--upstream`s) with
// an HTTP-FLV viewer and an HLS poller each. FFmpeg publishes the push URL and, like an encoder with
// auto-reconnect, starts again on the same URL whenever it exits. `kill -9` of the origin that holds the
// stream: the republish lands on the other origin through the front, the FLV viewers get new frames on
// the connection they had, and the HLS viewers get the new origin's segments after an
// EXT-X-DISCONTINUITY, numbered after the old ones, all within 10 s. The gaps are measured and logged.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { FlvViewer, type ReceivedPacket } from '../helpers/http.js';
import { HlsPoller } from '../helpers/hls-poller.js';
import { crossCheckPlaylist } from '../helpers/m3u8-crosscheck.js';
import { checkReloadPair } from '../helpers/hls-conformance.js';
import { publishTestStream } from '../helpers/publish.js';
import { freePort } from '../helpers/net.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { startIngestNginx } from '../edge/nginx.js';
import { CLUSTER_SECRET, routeOf, startEdgeProc, startOriginProc, startSignalProc, waitOriginLive, waitRouted, type OriginProc } from './cluster-procs.js';
import { TagType } from '../../src/media/packet.js';
import { adminToken, deriveKeys } from '../../src/shared/keys.js';
import { flvPath, playlistPath } from '../../src/shared/url-contract.js';

const APP = 'live';
const STREAM = 'failover';
/** What the issue allows from the origin's death to viewers getting new media. */
const RESUME_WITHIN_MS = 10_000;
/** OBS's default Retry Delay (Settings → Advanced → Automatically Reconnect): the measured gaps are what an OBS user gets. */
const OBS_RETRY_DELAY_MS = 2000;

const isKeyframe = (p: { type: number; payload: Buffer }): boolean => p.type === TagType.Video && ((p.payload[0] ?? 0) >> 4) === 1;

/**
 * FFmpeg publishing one URL again and again, as an encoder with auto-reconnect does (OBS: Settings →
 * Advanced → Automatically Reconnect): when it exits, it starts again after `retryMs`. Bounded: at most
 * `maxStarts` runs.
 */
class ReconnectingEncoder {
  readonly starts: number[] = [];
  readonly exits: Array<{ at: number; code: number | null; log: string }> = [];
  private current: ReturnType<typeof publishTestStream> | undefined;
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly retryMs: number,
    private readonly maxStarts = 20,
  ) {
    this.done = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.current?.stop();
    await this.done;
  }

  private async run(): Promise<void> {
    while (!this.stopped && this.starts.length < this.maxStarts) {
      const p = publishTestStream(this.url, 'baseline+aac-mono', { gopS: 1 });
      this.current = p;
      this.starts.push(Date.now());
      const code = await p.exited;
      this.exits.push({ at: Date.now(), code, log: p.log().slice(-500) });
      if (!this.stopped) await sleep(this.retryMs);
    }
  }
}

/** Which of `origins` the signal routes the stream to (its heartbeats say who holds it). */
async function holderOf(signalUrl: string, origins: readonly OriginProc[]): Promise<OriginProc> {
  const id = await waitFor('the signal to route the stream to an origin', async () => (await routeOf(signalUrl, APP, STREAM)).answer?.origins[0]?.id, 20_000, 200);
  const holder = origins.find((o) => o.id === id);
  assert.ok(holder, `routed to ${id}, one of ours`);
  return holder;
}

/** Stops what the test started outside cluster-procs, first of all the after hooks (registered first). */
function cleanup(t: TestContext): { viewers: FlvViewer[]; pollers: HlsPoller[]; encoders: ReconnectingEncoder[] } {
  const held = { viewers: [] as FlvViewer[], pollers: [] as HlsPoller[], encoders: [] as ReconnectingEncoder[] };
  t.after(async () => {
    for (const v of held.viewers) v.close();
    await Promise.all([...held.pollers.map((p) => p.stop()), ...held.encoders.map((e) => e.stop())]);
  });
  return held;
}

test('failover: kill -9 of the origin holding a stream; the republish through the ingest front lands on the other origin and viewers on two edges resume', async (t) => {
  const held = cleanup(t);
  const ingestPort = await freePort();
  const signal = await startSignalProc(t, ['--ingest-url', `rtmp://127.0.0.1:${ingestPort}`]);
  const origins = [
    await startOriginProc(t, { id: 'origin-a', signal: signal.url, counted: false }),
    await startOriginProc(t, { id: 'origin-b', signal: signal.url, counted: false }),
  ];
  const front = await startIngestNginx([`127.0.0.1:${origins[0]?.rtmpPort}`, `127.0.0.1:${origins[1]?.rtmpPort}`], ingestPort);
  t.after(() => front.stop());
  const edges = [
    await startEdgeProc(t, { id: 'edge-1', upstreams: origins.map((o) => o.url), signal: signal.url }),
    await startEdgeProc(t, { id: 'edge-2', upstreams: origins.map((o) => o.url), signal: signal.url }),
  ];

  // The push URL is on the front, with the publish token; no origin is named (the front picks one).
  const created = await fetch(`${signal.url}/api/streams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken(deriveKeys(CLUSTER_SECRET))}` },
    body: JSON.stringify({ app: APP, name: STREAM }),
  });
  const body = (await created.json()) as { pushUrl: string; origin: unknown; obs: { server: string } };
  assert.equal(created.status, 201, JSON.stringify(body));
  assert.match(body.pushUrl, new RegExp(`^${front.rtmpBase}/${APP}/${STREAM}\\?token=`));
  assert.equal(body.obs.server, `${front.rtmpBase}/${APP}`);
  assert.equal(body.origin, null);

  const encoder = new ReconnectingEncoder(body.pushUrl, OBS_RETRY_DELAY_MS);
  held.encoders.push(encoder);
  const first = await holderOf(signal.url, origins);
  const other = origins.find((o) => o !== first);
  assert.ok(other);
  await waitOriginLive(first, APP, STREAM);

  const opened: number[] = [];
  for (const e of edges) {
    opened.push(Date.now());
    // The helper's timeout is also the socket's idle timeout: it must outlast the outage.
    const v = await FlvViewer.open(e.base + flvPath(APP, STREAM), 60_000);
    held.viewers.push(v);
    assert.equal(v.status, 200);
    held.pollers.push(new HlsPoller(e.base + playlistPath(APP, STREAM), 250));
  }
  const [viewers, pollers] = [held.viewers, held.pollers];
  for (const v of viewers) await v.waitFor(isKeyframe, 15_000);
  await waitFor('HLS playlists on both edges', () => pollers.every((p) => p.playlists.length >= 2), 15_000);

  // kill -9: no goodbye to the front, the publisher, the edges or the signal.
  const startsBefore = encoder.starts.length;
  await first.kill();
  const killedAt = Date.now();

  // FFmpeg's connection through the front ends; it starts again and the front connects it to the other origin.
  await waitFor('FFmpeg to start again', () => encoder.starts.length > startsBefore, 15_000, 20);
  const restartedAt = encoder.starts[startsBefore] ?? 0;
  await waitRouted(signal.url, APP, STREAM, other.id, 20_000);
  const routedAt = Date.now();
  await waitOriginLive(other, APP, STREAM, 1, 20_000);

  // FLV: new frames on the same connection, from a keyframe, within 10 s of the kill.
  const flvGaps: number[] = [];
  for (const [i, v] of viewers.entries()) {
    const isNew = (p: ReceivedPacket): boolean => (opened[i] ?? 0) + p.receivedAfterMs >= restartedAt;
    const firstNew = await v.waitFor(isNew, RESUME_WITHIN_MS).catch((e: unknown) => {
      throw new Error(`edge ${i + 1}: ${String(e)}; viewer ended ${v.ended} ${String(v.error)}\n${edges[i]?.stderr().slice(-3000) ?? ''}`);
    });
    flvGaps.push((opened[i] ?? 0) + firstNew.receivedAfterMs - killedAt);
    await waitFor('more new FLV frames', () => v.packets.filter(isNew).length > 50, 15_000, 100);
    const firstVideo = v.packets.filter(isNew).find((p) => p.type === TagType.Video);
    assert.ok(firstVideo && isKeyframe(firstVideo), `edge ${i + 1}: the new stream starts from a keyframe`);
    assert.ok(!v.ended, `edge ${i + 1}: the FLV viewer stayed connected (${String(v.error)})`);
  }

  // HLS: segments of the new origin listed and fetchable, after a DISCONTINUITY, numbered after the old ones.
  await waitFor('two new segments in both edges\' playlists', () => pollers.every((p) => p.newSegmentsListed(killedAt, 2)), 30_000, 200);
  await Promise.all(pollers.map((p) => p.stop()));
  const hlsGaps: number[] = [];
  for (const [i, p] of pollers.entries()) {
    const firstListing = p.newSegmentsListed(killedAt);
    assert.ok(firstListing);
    hlsGaps.push(firstListing.at - killedAt);
    p.assertContinuesAcross(killedAt, `edge ${i + 1}`);
    const old = p.listedBefore(killedAt);
    const kept = firstListing.playlist.segments.filter((s) => old.has(s.uri));
    const seconds = (list: readonly { durationS: number }[]): string => list.reduce((n, s) => n + s.durationS, 0).toFixed(3);
    t.diagnostic(`edge ${i + 1}, join: ${kept.length} old segments (${seconds(kept)} s) kept ahead of the new origin's ${firstListing.playlist.segments.length - kept.length}, ${seconds(firstListing.playlist.segments)} s listed, target ${firstListing.playlist.targetDurationS} s`);
    for (const x of p.playlists) assert.deepEqual(crossCheckPlaylist(x.text), [], 'm3u8-parser reads every playlist as we do');
    // Also where the new origin's playlist joins: the edge keeps the dead origin's newest segments listed
    // ahead of the DISCONTINUITY while they are needed for 3 target durations (RFC 8216 6.2.2, reload-min-duration).
    for (let k = 1; k < p.playlists.length; k++) {
      const problems = checkReloadPair(p.playlists[k - 1]?.text ?? '', p.playlists[k]?.text ?? '');
      assert.deepEqual(problems, [], `edge ${i + 1}: reload ${k} keeps the playlist's rules:${p.playlists.slice(k - 1, k + 1).map((x) => `\n@${x.at - killedAt} ms\n${x.text}`).join('')}`);
    }
  }

  const exit = encoder.exits[startsBefore - 1];
  t.diagnostic(
    `failover gap (ms after kill -9 of ${first.id}): FFmpeg exited +${(exit?.at ?? NaN) - killedAt}, restarted +${restartedAt - killedAt}, ` +
      `signal routes to ${other.id} by +${routedAt - killedAt}; first new FLV frame ${flvGaps.map((g) => `+${g}`).join(' / ')}; ` +
      `first new HLS segment listed ${hlsGaps.map((g) => `+${g}`).join(' / ')} (edge 1 / edge 2; HLS polled every 250 ms, encoder retry delay ${OBS_RETRY_DELAY_MS} ms)`,
  );
  for (const g of [...flvGaps, ...hlsGaps]) assert.ok(g < RESUME_WITHIN_MS, `viewers resumed within ${RESUME_WITHIN_MS} ms: ${g} ms`);
  assert.ok(edges.every((e) => e.alive()) && other.alive());
});
