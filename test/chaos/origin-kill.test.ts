// Chaos: `kill -9` of the origin while two edges serve HTTP-FLV and HLS viewers. The edges report the
// loss (/api/edge: the upstream down, the FLV relay reconnecting) without hanging a request, and recover
// when the publisher returns on a restarted origin: FLV viewers that stayed connected get the new stream,
// and HLS viewers keep one playlist whose media sequence only grows, with EXT-X-DISCONTINUITY where the
// restarted origin's playlist joins. The edges' memory and descriptors come back to where they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCli, waitListening, type CliProcess } from '../helpers/cli-process.js';
import { FlvViewer } from '../helpers/http.js';
import { HlsPoller } from '../helpers/hls-poller.js';
import { publishTestStream } from '../helpers/publish.js';
import { TagType } from '../../src/media/packet.js';
import { startCliEdge, type CliEdge } from '../edge/util.js';
import { timed } from './cluster.js';
import { waitFor, sleep } from '../helpers/wait.js';
import { freePort } from '../helpers/net.js';

interface EdgeStatus {
  upstreams: Array<{ url: string; up: boolean; failures: number }>;
  flv: Array<{ stream: string; reconnects: number; upstream?: string }>;
}

const isKeyframe = (p: { type: number; payload: Buffer }): boolean => p.type === TagType.Video && ((p.payload[0] ?? 0) >> 4) === 1;

test('kill -9 of the origin under two edges: loss reported, FLV and HLS viewers continue on the restarted origin', async () => {
  const [rtmpPort, httpPort] = [await freePort(), await freePort()];
  const originArgs = ['--host', '127.0.0.1', '--rtmp-port', String(rtmpPort), '--http-port', String(httpPort), '--hls-segment', '1', '--hls-window', '4'];
  const originBase = `http://127.0.0.1:${httpPort}`;
  const rtmpUrl = `rtmp://127.0.0.1:${rtmpPort}/live/chaos`;
  const procs: CliProcess[] = [];
  const edges: CliEdge[] = [];
  const viewers: FlvViewer[] = [];
  const pollers: HlsPoller[] = [];
  let publisher = undefined as ReturnType<typeof publishTestStream> | undefined;
  try {
    const origin = startCli('origin', originArgs);
    procs.push(origin);
    await waitListening(origin, `${originBase}/healthz`);
    for (let i = 0; i < 2; i++) {
      const edge = await startCliEdge(['--upstream', originBase, '--upstream-timeout', '2', '--upstream-down', '1', '--flv-grace', '30']);
      edges.push(edge);
      await waitListening(edge, `${edge.base}/healthz`);
    }
    publisher = publishTestStream(rtmpUrl, 'baseline+aac-mono', { gopS: 1 });
    await waitFor('the origin playlist', async () => ((await timed(`${originBase}/live/chaos.m3u8`)).status === 200 ? true : undefined), 20_000, 200);
    for (const e of edges) {
      // The helper's timeout is also the socket's idle timeout: it must outlast the outage.
      viewers.push(await FlvViewer.open(`${e.base}/live/chaos.flv`, 60_000));
      pollers.push(new HlsPoller(`${e.base}/live/chaos.m3u8`));
    }
    for (const v of viewers) await v.waitFor(isKeyframe, 15_000);
    await waitFor('HLS playlists on both edges', () => (pollers.every((p) => p.playlists.length >= 2) ? true : undefined), 15_000);
    const rss0 = edges.map((e) => e.rss());
    const fds0 = edges.map((e) => e.fds());

    // kill -9: no goodbye to anybody.
    await origin.kill();
    const killedAt = Date.now();
    publisher.stop();
    publisher = undefined;

    // The edges notice and say so.
    for (const e of edges) {
      await waitFor(
        'the edge to report its upstream down and its FLV relay reconnecting',
        async () => {
          const s = JSON.parse((await timed(`${e.base}/api/edge`)).text) as EdgeStatus;
          return s.upstreams[0]?.up === false && (s.flv[0]?.reconnects ?? 0) > 0 ? true : undefined;
        },
        15_000,
        100,
      );
    }
    // Viewers asking meanwhile get an answer, not a hang.
    for (const e of edges) {
      const r = await timed(`${e.base}/live/chaos.m3u8`);
      assert.ok(r.status >= 200 && r.ms < 6000, `playlist during the outage: ${r.status} in ${r.ms} ms`);
    }
    await sleep(1500);

    // The origin comes back on the same ports, then the publisher.
    const restarted = startCli('origin', originArgs);
    procs.push(restarted);
    await waitListening(restarted, `${originBase}/healthz`);
    publisher = publishTestStream(rtmpUrl, 'baseline+aac-mono', { gopS: 1 });

    // FLV viewers kept their connection and get the new stream from a keyframe.
    const before = viewers.map((v) => v.packets.length);
    for (const [i, v] of viewers.entries()) {
      await waitFor('new FLV packets after the restart', () => (v.packets.length > (before[i] ?? 0) + 50 && !v.ended ? true : undefined), 20_000, 100).catch(async (e: unknown) => {
        const state = await timed(`${edges[i]?.base ?? ''}/api/edge`);
        throw new Error(`${String(e)}; viewer ended ${v.ended} ${String(v.error)}; ${v.packets.length - (before[i] ?? 0)} new packets; edge: ${state.text}\n${edges[i]?.stderr().slice(-3000) ?? ''}`);
      });
      assert.ok(v.packets.slice(before[i]).some(isKeyframe), 'the new stream starts from a keyframe');
    }

    // HLS: the pollers reach segments of the restarted origin, after a DISCONTINUITY, numbered on.
    await waitFor('HLS playlists with segments of the restarted origin', () => pollers.every((p) => p.newSegmentsListed(killedAt, 2)), 30_000, 200);
    await Promise.all(pollers.map((p) => p.stop()));
    for (const p of pollers) {
      p.assertContinuesAcross(killedAt);
      // Meanwhile the player was told, with error statuses (a gateway error, or 404 until the publisher is back).
      const outage = p.failures.filter((f) => f.at > killedAt);
      assert.ok(outage.length > 0 && outage.every((f) => f.status >= 400), `statuses during the outage: ${outage.map((f) => f.status).join(',')}`);
    }

    // The edges say the upstream is back, and hold no more memory or descriptors than before.
    for (const [i, e] of edges.entries()) {
      const s = JSON.parse((await timed(`${e.base}/api/edge`)).text) as EdgeStatus;
      assert.ok(s.upstreams[0]?.up, 'upstream reported up again');
      assert.ok(e.alive());
      assert.doesNotMatch(e.stdout(), /"level":(50|60)/, 'a lost upstream is logged as a warning, not an error');
      assert.ok(e.rss() < (rss0[i] ?? 0) + 64 * 1024 * 1024, `edge RSS ${e.rss()} vs ${rss0[i]} before`);
      assert.ok(e.fds() <= (fds0[i] ?? 0) + 16, `edge fds ${e.fds()} vs ${fds0[i]} before`);
    }
  } finally {
    publisher?.stop();
    for (const v of viewers) v.close();
    await Promise.all(pollers.map((p) => p.stop()));
    await Promise.all([...edges, ...procs].map((p) => p.stop()));
  }
});
