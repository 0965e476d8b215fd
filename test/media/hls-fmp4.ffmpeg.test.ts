// Real-peer checks of fMP4 HLS and LL-HLS parts: FFmpeg-made streams (H.264/MP3/AAC as FFmpeg's own FLV;
// HEVC and AV1 as enhanced-RTMP or codec-id-12 FLV crafted from an .mp4, since FFmpeg 5.1 cannot write
// those into FLV) go through HlsSegmenter. FFmpeg decodes init + each segment, and init + the parts
// concatenated, with nothing on stderr at -v error; ffprobe counts every frame that went in; mp4box reads
// back every sample with the decode times and durations the input timestamps give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlvReader } from '../../src/media/flv/reader.js';
import { parseAudioTagHeader, parseVideoTagHeader } from '../../src/media/flv/tag-header.js';
import { HlsSegmenter } from '../../src/media/hls/segmenter.js';
import type { HlsInit, HlsPart, HlsSegment } from '../../src/media/hls/segmenter.js';
import type { MediaPacket } from '../../src/media/packet.js';
import { TagType } from '../../src/media/packet.js';
import { ffprobeJson, hasEncoder, runFfmpeg } from '../helpers/ffmpeg.js';
import { flvFromMp4 } from '../helpers/enhanced-flv.js';
import { tfdtMismatch } from '../helpers/fragment-times.js';
import { readMp4 } from '../helpers/mp4box.js';

const SECONDS = 4;
const TARGET_MS = 1000;
const PART_MS = 200;
const VIDEO_SRC = ['-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=25:duration=${SECONDS}`];
const AUDIO_SRC = ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${SECONDS}`];

interface Case {
  name: string;
  /** FFmpeg output args (after the inputs); `container` says what FFmpeg writes. */
  args: string[];
  container: 'flv' | 'mp4';
  encoder?: string;
  legacyHevc?: boolean;
  partTargetMs: number;
  format: 'auto' | 'fmp4';
  video?: string;
  audio?: string;
}

const CASES: Case[] = [
  { name: 'H.264 (B-frames) + AAC, LL-HLS parts', container: 'flv', args: [...VIDEO_SRC, ...AUDIO_SRC, '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '2', '-g', '25', '-sc_threshold', '0', '-c:a', 'aac'], partTargetMs: PART_MS, format: 'auto', video: 'h264', audio: 'aac' },
  // 200 ms is 4.8 frames at 24 fps: PART-TARGET becomes 5 frames + slack, so every part can be >= 85% of it.
  { name: 'H.264 at 24 fps + AAC, LL-HLS parts', container: 'flv', args: [...VIDEO_SRC.map((a) => a.replace('rate=25', 'rate=24')), ...AUDIO_SRC, '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '24', '-sc_threshold', '0', '-c:a', 'aac'], partTargetMs: PART_MS, format: 'auto', video: 'h264', audio: 'aac' },
  { name: 'H.264 + AAC, fMP4 without parts', container: 'flv', args: [...VIDEO_SRC, ...AUDIO_SRC, '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'aac'], partTargetMs: 0, format: 'fmp4', video: 'h264', audio: 'aac' },
  { name: 'H.264 + MP3, LL-HLS parts', container: 'flv', args: [...VIDEO_SRC, '-f', 'lavfi', '-i', `sine=duration=${SECONDS}:sample_rate=44100`, '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-c:a', 'libmp3lame'], partTargetMs: PART_MS, format: 'auto', video: 'h264', audio: 'mp3' },
  { name: 'audio only (AAC), LL-HLS parts', container: 'flv', args: [...AUDIO_SRC, '-c:a', 'aac'], partTargetMs: PART_MS, format: 'auto', audio: 'aac' },
  { name: 'HEVC (x265, B-frames) as enhanced-RTMP hvc1 + AAC, LL-HLS parts', container: 'mp4', encoder: 'libx265', args: [...VIDEO_SRC, ...AUDIO_SRC, '-pix_fmt', 'yuv420p', '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error:keyint=25:min-keyint=25:bframes=3:scenecut=0', '-tag:v', 'hvc1', '-c:a', 'aac'], partTargetMs: PART_MS, format: 'auto', video: 'hevc', audio: 'aac' },
  { name: 'HEVC as legacy FLV codec id 12 + AAC, fMP4 chosen by auto', container: 'mp4', encoder: 'libx265', legacyHevc: true, args: [...VIDEO_SRC, ...AUDIO_SRC, '-pix_fmt', 'yuv420p', '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error:keyint=25:min-keyint=25:scenecut=0', '-c:a', 'aac'], partTargetMs: 0, format: 'auto', video: 'hevc', audio: 'aac' },
  { name: 'AV1 (SVT-AV1) as enhanced-RTMP av01 + AAC, LL-HLS parts', container: 'mp4', encoder: 'libsvtav1', args: [...VIDEO_SRC, ...AUDIO_SRC, '-pix_fmt', 'yuv420p', '-c:v', 'libsvtav1', '-preset', '12', '-g', '25', '-c:a', 'aac'], partTargetMs: PART_MS, format: 'auto', video: 'av1', audio: 'aac' },
];

/** What ffmpeg prints while decoding the whole file at -v error: nothing, when it decodes cleanly. */
async function decodeErrors(file: string): Promise<string> {
  const r = await runFfmpeg(['-v', 'error', '-i', file, '-f', 'null', '-'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  return r.stderr;
}

interface Probe { streams: { codec_type: string; codec_name: string; nb_read_frames?: string }[] }

async function frameCounts(file: string): Promise<Record<string, { codec: string; frames: number }>> {
  const p = (await ffprobeJson(file, ['-count_frames', '-show_entries', 'stream=codec_type,codec_name,nb_read_frames'])) as Probe;
  return Object.fromEntries(p.streams.map((s) => [s.codec_type, { codec: s.codec_name, frames: Number(s.nb_read_frames) }]));
}

for (const c of CASES) {
  test(`fMP4 HLS from FFmpeg: ${c.name}`, { timeout: 300_000 }, async (t) => {
    if (c.encoder && !(await hasEncoder(c.encoder))) return t.skip(`FFmpeg has no ${c.encoder}`);
    const dir = await mkdtemp(join(tmpdir(), 'livecdn-fmp4-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const src = join(dir, `in.${c.container}`);
    const made = await runFfmpeg(['-v', 'error', ...c.args, '-f', c.container, src], { timeoutMs: 180_000 });
    assert.equal(made.code, 0, made.stderr);

    let packets: MediaPacket[];
    if (c.container === 'flv') packets = new FlvReader().push(await readFile(src));
    else {
      const crafted = flvFromMp4(await readFile(src), { legacyHevc: c.legacyHevc === true });
      assert.equal(crafted.videoCodec, c.video);
      packets = crafted.packets;
    }
    // What went in: the coded frames of each track (FFmpeg's FLV also has an end-of-sequence tag).
    const videoIn = packets.filter((p) => p.type === TagType.Video && parseVideoTagHeader(p.payload).kind === 'coded-frames');
    const inVideo = videoIn.length;
    // Audio that arrives before the first keyframe has no segment to go in.
    const firstKey = c.video ? packets.indexOf(videoIn[0] as MediaPacket) : 0;
    const inAudio = packets.filter((p, i) => i > firstKey && p.type === TagType.Audio && parseAudioTagHeader(p.payload).kind === 'raw').length;

    const inits: HlsInit[] = [];
    const parts: HlsPart[] = [];
    const chunks = new Map<string, Buffer[]>();
    const seg = new HlsSegmenter({
      targetDurationMs: TARGET_MS,
      format: c.format,
      partTargetMs: c.partTargetMs,
      sink: {
        onInit: (i) => inits.push(i),
        onPart: (p) => parts.push(p),
        onChunk: (s, i, b) => {
          const k = `${s}.${i}`;
          chunks.set(k, [...(chunks.get(k) ?? []), b]);
        },
      },
    });
    const segments: HlsSegment[] = [];
    for (const p of packets) segments.push(...seg.push(p));
    segments.push(...seg.end());
    assert.equal(seg.dropped, 0);
    assert.equal(seg.format, 'fmp4');
    assert.equal(inits.length, 1, 'one init segment');
    const init = inits[0] as HlsInit;
    assert.equal(init.id, 0);
    assert.equal(init.codecs.video?.codec, c.video);
    assert.equal(init.codecs.audio?.codec, c.audio);
    assert.ok(segments.length >= SECONDS - 1, `${segments.length} segments`);

    const files: string[] = [];
    for (const s of segments) {
      assert.equal(s.format, 'fmp4');
      assert.equal(s.initId, 0);
      assert.equal(s.data.subarray(4, 8).toString('latin1'), 'styp');
      const f = join(dir, `${s.sequence}.mp4`);
      await writeFile(f, Buffer.concat([init.data, s.data]));
      files.push(f);
      if (c.partTargetMs > 0) {
        const own = parts.filter((p) => p.sequence === s.sequence);
        assert.deepEqual(own.map((p) => p.index), own.map((_, i) => i));
        assert.deepEqual(s.parts, own.map((p) => ({ durationMs: p.durationMs, independent: p.independent })));
        assert.ok(Buffer.concat(own.map((p) => p.data)).equals(s.data), `segment ${s.sequence} is its parts`);
        // RFC 8216bis 4.4.4.9 against the effective target: <= it; >= 85% of it unless INDEPENDENT or the
        // segment's last. (Not in the stream's last segment: at end() audio running past the last video
        // frame makes a part of its own after a short one, which stays <= the target.)
        const target = seg.partTargetMs as number;
        assert.ok(target >= c.partTargetMs - 25 && target <= c.partTargetMs * 1.3, `part target ${target} ms`);
        for (const p of own) {
          assert.ok(p.durationMs <= target, `part ${s.sequence}.${p.index}: ${p.durationMs} ms > ${target}`);
          if (!p.independent && p.index < own.length - 1 && s !== segments.at(-1)) assert.ok(p.durationMs >= 0.85 * target, `part ${s.sequence}.${p.index}: ${p.durationMs} ms < 85% of ${target}`);
          if (!c.video) assert.equal(p.independent, true, 'audio-only parts are INDEPENDENT');
          assert.ok(Buffer.concat(chunks.get(`${s.sequence}.${p.index}`) ?? []).equals(p.data), `part ${s.sequence}.${p.index} is its chunks`);
        }
        const sum = own.reduce((n, p) => n + p.durationMs, 0);
        assert.ok(Math.abs(sum - s.durationMs) < 1e-6, `parts of ${s.sequence} sum to ${sum}, segment ${s.durationMs}`);
        if (c.video) assert.equal(own[0]?.independent, true);
      } else assert.equal(s.parts, undefined);
    }
    for (const f of files) assert.equal(await decodeErrors(f), '', `${f} decodes cleanly`);

    const all = join(dir, 'all.mp4');
    await writeFile(all, Buffer.concat([init.data, ...segments.map((s) => s.data)]));
    assert.equal(await decodeErrors(all), '');
    if (c.partTargetMs > 0) {
      const fromParts = join(dir, 'parts.mp4');
      await writeFile(fromParts, Buffer.concat([init.data, ...parts.map((p) => p.data)]));
      assert.equal(await decodeErrors(fromParts), '');
    }
    const counts = await frameCounts(all);
    if (c.video) assert.deepEqual(counts.video, { codec: c.video, frames: inVideo });
    if (c.audio) assert.deepEqual(counts.audio, { codec: c.audio, frames: inAudio });

    // mp4box: every sample, durations from the input timestamps (mp4box adds them up from the first
    // tfdt), and every fragment's tfdt where those durations put its first sample.
    const r = readMp4([init.data, ...segments.map((s) => s.data)]);
    assert.deepEqual(r.errors, []);
    assert.equal(tfdtMismatch(segments.map((s) => s.data), new Map([...r.samples].map(([id, ss]) => [id, ss.map((x) => x.dts)]))), undefined);
    for (const tr of r.info.tracks) {
      const samples = r.samples.get(tr.id) ?? [];
      assert.equal(samples.length, tr.type === 'video' ? inVideo : inAudio, `${tr.type} samples`);
      if (tr.type === 'video') {
        assert.equal(tr.timescale, 90000);
        assert.deepEqual(samples.map((s) => s.dts), videoIn.map((p) => p.timestamp * 90), 'video decode times are the input DTS');
        assert.ok(samples[0]?.is_sync);
      } else {
        const rate = init.codecs.audio?.sampleRate;
        assert.equal(tr.timescale, rate);
        const nominal = c.audio === 'aac' ? 1024 : 1152;
        assert.ok(samples.slice(0, -1).every((s) => s.duration === nominal), 'audio durations are whole frames');
      }
    }
  });
}
