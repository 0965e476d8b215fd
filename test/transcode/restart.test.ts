// A transcoder's FFmpeg killed with SIGKILL mid-stream: the origin restarts it (restarts=1 in the stats
// and /metrics), the rung streams come back and their HTTP-FLV viewers, kept over the republish, get
// frames again, still on the source's keyframe times (the hub timeline keeps a restarted transcoder's
// times); the rung's HLS playlist continues with a discontinuity on the source's sequence numbers; the
// source's own HTTP-FLV never stalls and its playlist has no discontinuity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMediaPlaylist } from '../../src/media/hls/playlist.js';
import { FlvViewer, type ReceivedPacket } from '../helpers/http.js';
import { publishTestStream } from '../helpers/publish.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { isVideoKeyframe, startTranscodingOrigin, transcoderPids, videoFrames } from './helpers.js';


/** The longest wait between consecutive packets, by arrival. */
function longestGapMs(packets: readonly ReceivedPacket[]): number {
  let gap = 0;
  for (let i = 1; i < packets.length; i++) gap = Math.max(gap, (packets[i] as ReceivedPacket).receivedAfterMs - (packets[i - 1] as ReceivedPacket).receivedAfterMs);
  return gap;
}

test('kill -9 of the FFmpeg child: restarted with backoff, rungs continue on the source timeline, the source keeps flowing', { timeout: 120_000 }, async (t) => {
  const o = await startTranscodingOrigin(t, {}, { hlsSegmentMs: 1000, hlsWindow: 20 });
  const pub = publishTestStream(o.rtmpUrl('live', 'cam'), 'baseline+aac-mono', { gopS: 1 });
  t.after(() => pub.stop());
  const source = await FlvViewer.openLive(o.flvUrl('live', 'cam'));
  const low = await FlvViewer.open(o.flvUrl('live', 'cam_low'), 30_000);
  t.after(() => source.close());
  t.after(() => low.close());
  await waitFor('rung video', () => videoFrames(low).length > 50, 30_000);

  const [pid, ...others] = transcoderPids();
  assert.ok(pid !== undefined && others.length === 0, `one transcoder child, got ${[pid, ...others].join(', ')}`);
  const lastBefore = videoFrames(low).at(-1)?.timestamp ?? 0;
  const killedAt = Date.now();
  process.kill(pid, 'SIGKILL');

  await waitFor('the restart', () => o.origin.transcode?.stats('live', 'cam')?.restarts === 1, 10_000);
  await waitFor('both rungs up again', () => o.origin.transcode?.stats('live', 'cam')?.rungsUp === 2, 20_000);
  t.diagnostic(`rungs published again ${Date.now() - killedAt} ms after the kill`);
  const framesAtResume = videoFrames(low).length;
  await sleep(3000);
  source.close();
  low.close();

  assert.notEqual(transcoderPids()[0], pid, 'a new child');
  assert.equal(low.error, undefined);
  const newFrames = videoFrames(low).length - framesAtResume;
  assert.ok(newFrames > 25, `${newFrames} rung frames from the new child in 3 s`);
  // The rung viewer stayed connected; its timestamps never went back.
  const rungVideo = videoFrames(low);
  assert.deepEqual(
    rungVideo.filter((p, i) => i > 0 && p.timestamp < (rungVideo[i - 1] as ReceivedPacket).timestamp).map((p) => p.timestamp),
    [],
  );
  // After the restart the rung's keyframes are still the source's (no rebase of the rung's timeline).
  const sourceKeys = new Set(source.packets.filter(isVideoKeyframe).map((p) => p.timestamp));
  const afterKeys = rungVideo.filter((p) => p.timestamp > lastBefore && isVideoKeyframe(p)).map((p) => p.timestamp);
  assert.ok(afterKeys.length >= 2, `${afterKeys.length} rung keyframes after the restart`);
  assert.deepEqual(afterKeys.filter((k) => !sourceKeys.has(k)), [], 'rung keyframes after the restart are source keyframes');
  // The source never waited on the transcoder.
  assert.ok(longestGapMs(source.packets) < 3000, `source stalled ${longestGapMs(source.packets)} ms`);

  // HLS: the rung continues (a discontinuity where the new child starts) on the source's numbers.
  const playlist = async (name: string): Promise<ReturnType<typeof parseMediaPlaylist>> => parseMediaPlaylist(await (await fetch(`${o.httpBase}/live/${name}.m3u8`)).text());
  const [src, rung] = await Promise.all([playlist('cam_source'), playlist('cam_low')]);
  const numbers = (pl: typeof src): number[] => pl.segments.map((_, i) => pl.mediaSequence + i);
  assert.equal(src.segments.filter((s) => s.discontinuity).length, 0, 'the source playlist runs on');
  assert.equal(rung.segments.filter((s) => s.discontinuity).length, 1, 'one discontinuity in the rung playlist');
  assert.ok(numbers(rung).every((n) => numbers(src).includes(n)), `rung ${numbers(rung).join(',')} within source ${numbers(src).join(',')}`);
  assert.ok(rung.segments.filter((s) => !s.discontinuity && !s.gap).length >= 3);

  const metrics = await (await fetch(`${o.httpBase}/metrics`)).text();
  assert.match(metrics, /^livecdn_transcode_restarts_total 1$/m);
  assert.match(metrics, /^livecdn_transcode_rungs_up 2$/m);
  assert.match(metrics, /^livecdn_transcode_processes 1$/m);
});
