// The local transcoder with real FFmpeg on both ends: FFmpeg publishes a 320x240 source with B-frames and
// AAC into an origin with a two-rung ladder (180p at 250 kbit/s, 120p at 120 kbit/s); the rungs come back
// as hub streams. Over HTTP-FLV each rung decodes cleanly (ffmpeg -v error prints nothing), has its
// height, its bit rate within ±20% of its setting over more than 10 s, the source's AAC copied, and its
// keyframes exactly at the source's keyframe presentation times (ffprobe -skip_frame nokey), also when a
// rung's frame rate cap drops frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlvViewer } from '../helpers/http.js';
import { ffprobeJson } from '../helpers/ffmpeg.js';
import { decodeErrors } from '../helpers/hls.js';
import { publishTestStream } from '../helpers/publish.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { parseLadderFile } from '../../src/transcode/ladder.js';
import { flvFile, keyframePts, startTranscodingOrigin, TEST_LADDER, videoFrames, videoKbps } from './helpers.js';

const RECORD_MS = 13_000;

test('rungs decode cleanly at their heights and bit rates, keyframes at the source keyframe times', { timeout: 120_000 }, async (t) => {
  const o = await startTranscodingOrigin(t);
  // A GOP of 1.2 s: the rungs' GOP is 9999 frames, so every rung keyframe must come from the source.
  const pub = publishTestStream(o.rtmpUrl('live', 'cam'), 'h264-high-bframes+aac-stereo', { gopS: 1.2 });
  t.after(() => pub.stop());
  const source = await FlvViewer.openLive(o.flvUrl('live', 'cam'));
  t.after(() => source.close());
  // Play before publish: the rung requests wait for their streams.
  const low = await FlvViewer.open(o.flvUrl('live', 'cam_low'), 30_000);
  const tiny = await FlvViewer.open(o.flvUrl('live', 'cam_tiny'), 30_000);
  t.after(() => low.close());
  t.after(() => tiny.close());
  assert.equal(low.status, 200);
  assert.equal(tiny.status, 200);
  await waitFor('rung video', () => videoFrames(low).length > 0 && videoFrames(tiny).length > 0, 30_000);
  await sleep(RECORD_MS);
  for (const v of [source, low, tiny]) v.close();
  assert.equal(pub.child.exitCode, null, `publisher died: ${pub.log()}`);

  const stats = o.origin.transcode?.stats('live', 'cam');
  assert.deepEqual({ where: stats?.where, rungsUp: stats?.rungsUp, restarts: stats?.restarts }, { where: 'local', rungsUp: 2, restarts: 0 });
  assert.ok((stats?.speed ?? 0) > 0, 'FFmpeg reports its speed');

  const sourceFile = flvFile(t, source, 'source');
  const sourceKeys = await keyframePts(sourceFile);
  for (const [rung, viewer] of [['low', low], ['tiny', tiny]] as const) {
    const setting = TEST_LADDER.get('live')?.find((r) => r.name === rung);
    assert.ok(setting);
    const file = flvFile(t, viewer, rung);
    assert.equal(await decodeErrors(file), '', `${rung} decodes cleanly`);
    const probe = (await ffprobeJson(file, ['-show_streams'])) as { streams: Array<{ codec_type: string; codec_name: string; height?: number; width?: number }> };
    const video = probe.streams.find((s) => s.codec_type === 'video');
    const audio = probe.streams.find((s) => s.codec_type === 'audio');
    assert.equal(video?.codec_name, 'h264');
    assert.equal(video?.height, setting.height, `${rung} height`);
    assert.equal(video?.width, (setting.height * 4) / 3, `${rung} keeps the 4:3 aspect`);
    assert.equal(audio?.codec_name, 'aac', `${rung} carries the source's AAC`);

    const rate = videoKbps(viewer);
    assert.ok(rate.spanMs >= 10_000, `${rung}: ${rate.spanMs} ms of media`);
    assert.ok(Math.abs(rate.kbps - setting.videoKbps) <= setting.videoKbps * 0.2, `${rung}: ${rate.kbps.toFixed(1)} kbit/s for a setting of ${setting.videoKbps}`);

    const keys = await keyframePts(file);
    assert.ok(keys.length >= 8, `${rung}: ${keys.length} keyframes`);
    t.diagnostic(`${rung}: ${rate.kbps.toFixed(1)} kbit/s (setting ${setting.videoKbps}) over ${rate.spanMs} ms, ${keys.length} keyframes, speed ${stats?.speed}x`);
    const first = keys[0] as number;
    const last = keys.at(-1) as number;
    // Every rung keyframe is a source keyframe, and every source keyframe in the rung's span is one.
    assert.deepEqual(keys.filter((k) => !sourceKeys.includes(k)), [], `${rung} keyframes not in the source`);
    assert.deepEqual(
      sourceKeys.filter((k) => k >= first && k <= last && !keys.includes(k)),
      [],
      `source keyframes missing from ${rung}`,
    );
  }
});

test('a rung capped below the source frame rate keeps about its cap, and every source keyframe', { timeout: 120_000 }, async (t) => {
  const ladders = parseLadderFile(JSON.stringify({ live: [{ name: 'low', height: 120, videoKbps: 150, maxFps: 25 }] }), 'json');
  const o = await startTranscodingOrigin(t, { ladders });
  // 50 fps with a GOP of 63 frames: every other keyframe falls between the frames of a 25 fps grid.
  const pub = publishTestStream(o.rtmpUrl('live', 'cam'), 'baseline+aac-mono', { fps: 50, gopS: 1.26 });
  t.after(() => pub.stop());
  const source = await FlvViewer.openLive(o.flvUrl('live', 'cam'));
  const low = await FlvViewer.open(o.flvUrl('live', 'cam_low'), 30_000);
  t.after(() => source.close());
  t.after(() => low.close());
  await waitFor('rung video', () => videoFrames(low).length > 0, 30_000);
  await sleep(8000);
  source.close();
  low.close();
  const frames = videoFrames(low);
  const spanS = ((frames.at(-1)?.timestamp ?? 0) - (frames[0]?.timestamp ?? 0)) / 1000;
  const fps = (frames.length - 1) / spanS;
  assert.ok(fps > 23 && fps < 27.5, `${fps.toFixed(2)} fps`);
  const sourceKeys = await keyframePts(flvFile(t, source, 'source'));
  const keys = await keyframePts(flvFile(t, low, 'low'));
  assert.ok(keys.length >= 5, `${keys.length} keyframes`);
  assert.deepEqual(keys.filter((k) => !sourceKeys.includes(k)), []);
  assert.deepEqual(sourceKeys.filter((k) => k >= (keys[0] as number) && k <= (keys.at(-1) as number) && !keys.includes(k)), []);
});
