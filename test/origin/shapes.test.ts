// Real FFmpeg publishing each stream shape to one origin, all at once: HTTP-FLV probed by ffprobe,
// RTMP played by ffmpeg, a late HTTP-FLV joiner, and the HLS segments decoded and checked.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startOrigin } from '../helpers/origin.js';
import type { TestOrigin } from '../helpers/origin.js';
import { SHAPES, publishTestStream, shapeTracks } from '../helpers/publish.js';
import type { StreamShape } from '../helpers/publish.js';
import { FlvViewer } from '../helpers/http.js';
import { decodeErrors, fetchPlaylist, probeSegment, segmentUrl } from '../helpers/hls.js';
import { ffprobeJson, runFfmpeg } from '../helpers/ffmpeg.js';
import { TagType } from '../../src/media/packet.js';
import { waitFor } from '../helpers/wait.js';

let o: TestOrigin;
const publishers: Array<ReturnType<typeof publishTestStream>> = [];
const key = (shape: StreamShape): string => shape.replace(/[^A-Za-z0-9_-]/g, '_');

before(async () => {
  o = await startOrigin({ hlsSegmentMs: 1000, hlsWindow: 6 });
  for (const shape of SHAPES) publishers.push(publishTestStream(o.rtmpUrl('live', key(shape)), shape, { gopS: 1 }));
});

after(async () => {
  await Promise.all(publishers.map((p) => p.stop()));
  await o?.stop();
});

interface FfStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  channels?: number;
  profile?: string;
  has_b_frames?: number;
}

describe('each stream shape, published by FFmpeg', { concurrency: true }, () => {
  for (const [i, shape] of SHAPES.entries()) {
    it(shape, async () => {
      const name = key(shape);
      const want = shapeTracks(shape);
      const pub = publishers[i];
      assert.ok(pub);
      await waitFor(`${shape} live`, () => (o.origin.hub.get('live', name)?.info.tracks() ? true : undefined), 15_000).catch((e: unknown) => {
        throw new Error(`${String(e)}\nffmpeg: ${pub.log()}`);
      });

      // ffprobe reads the HTTP-FLV: exactly the tracks published, with their parameters.
      const probe = (await ffprobeJson(o.flvUrl('live', name), ['-show_streams'], 20_000)) as { streams: FfStream[] };
      const video = probe.streams.filter((s) => s.codec_type === 'video');
      const audio = probe.streams.filter((s) => s.codec_type === 'audio');
      assert.equal(video.length, want.video ? 1 : 0, JSON.stringify(probe.streams));
      assert.equal(audio.length, want.audio ? 1 : 0, JSON.stringify(probe.streams));
      if (want.video) {
        assert.equal(video[0]?.codec_name, 'h264');
        assert.equal(video[0]?.width, 320);
        assert.equal(video[0]?.height, 240);
      }
      if (shape === 'h264-high-bframes+aac-stereo') {
        assert.equal(video[0]?.profile, 'High');
        assert.ok((video[0]?.has_b_frames ?? 0) > 0, 'B-frames');
      }
      if (shape === 'baseline+aac-mono') assert.match(video[0]?.profile ?? '', /Baseline/);
      if (want.audio) {
        assert.equal(audio[0]?.codec_name, want.audio);
        assert.equal(audio[0]?.channels, want.channels);
      }

      // A late HTTP-FLV joiner gets its first frame within 1 s.
      const viewer = await FlvViewer.open(o.flvUrl('live', name));
      try {
        assert.equal(viewer.status, 200);
        assert.equal(viewer.headers['content-type'], 'video/x-flv');
        assert.equal(viewer.headers['access-control-allow-origin'], '*');
        const first = await viewer.waitFor((p) => p.type !== TagType.Script, 2000);
        assert.ok(first.receivedAfterMs < 1000, `first frame after ${first.receivedAfterMs} ms`);
        assert.deepEqual({ audio: viewer.header?.audio, video: viewer.header?.video }, { audio: !!want.audio, video: !!want.video });
      } finally {
        viewer.close();
      }

      // FFmpeg plays the RTMP.
      const play = await runFfmpeg(['-nostdin', '-v', 'error', '-i', o.rtmpUrl('live', name), '-t', '2', '-f', 'null', '-'], { timeoutMs: 20_000 });
      assert.equal(play.code, 0, play.stderr);

      // HLS: wait for 3 complete segments, then check each.
      const plUrl = o.hlsUrl('live', name);
      const pl = await waitFor(
        `${shape} 3 HLS segments`,
        async () => {
          const r = await fetchPlaylist(plUrl);
          return r.playlist && r.playlist.segments.length >= 3 ? r : undefined;
        },
        20_000,
      );
      assert.equal(pl.headers.get('content-type'), 'application/vnd.apple.mpegurl');
      assert.match(pl.headers.get('cache-control') ?? '', /max-age=1\b/);
      const playlist = pl.playlist;
      assert.ok(playlist);
      const probed = [];
      for (const seg of playlist.segments) {
        assert.ok(Math.round(seg.durationS) <= playlist.targetDurationS, `EXTINF ${seg.durationS} > ${playlist.targetDurationS}`);
        const url = segmentUrl(plUrl, seg.uri);
        assert.equal(await decodeErrors(url), '', `${seg.uri} decodes cleanly`);
        const p = await probeSegment(url);
        if (want.video) assert.equal(p.firstVideoKey, true, `${seg.uri} starts with a keyframe`);
        probed.push(p);
      }
      // Timestamps continue across segment boundaries, per track.
      for (let k = 1; k < probed.length; k++) {
        for (const track of ['video', 'audio'] as const) {
          const prev = probed[k - 1]?.packets[track] ?? [];
          const next = probed[k]?.packets[track] ?? [];
          if (!prev.length || !next.length) continue;
          const last = prev[prev.length - 1] as { dts: number; duration: number };
          const gap = (next[0]?.dts ?? NaN) - (last.dts + last.duration);
          assert.ok(Math.abs(gap) < 0.05, `${track} gap of ${gap.toFixed(3)} s between segments ${k - 1} and ${k}`);
        }
      }
    });
  }
});
