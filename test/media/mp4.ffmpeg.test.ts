// Real-peer checks of the ISO BMFF writer: FFmpeg encodes H.264 (x264, B-frames), HEVC (x265, B-frames)
// and AV1 with AAC or MP3 into an ordinary .mp4; mp4box reads its decoder configuration records and
// samples; our writer re-muxes them as init + LL-HLS-style fragments (one per video frame, segments
// opened by styp at keyframes). FFmpeg must decode the result silently, ffprobe must see the same codecs,
// sizes and frame counts, and mp4box must read back our timing and sync flags.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import type { Sample } from 'mp4box';
import { parseAv1c } from '../../src/media/av1/av1c.js';
import { parseSequenceHeader } from '../../src/media/av1/sequence-header.js';
import { av1CodecString, hevcCodecString } from '../../src/media/codec.js';
import { parseHvcc } from '../../src/media/hevc/hvcc.js';
import { parseHevcSps } from '../../src/media/hevc/sps.js';
import { writeFragment, writeStyp, type Mp4Sample, type Mp4TrackRun } from '../../src/media/mp4/fragment.js';
import { AUDIO_TRACK_ID, VIDEO_TRACK_ID, writeInitSegment, type Mp4AudioTrack, type Mp4VideoTrack } from '../../src/media/mp4/init.js';
import { ffprobeJson, hasEncoder, runFfmpeg } from '../helpers/ffmpeg.js';
import { readMp4, type Mp4Read } from '../helpers/mp4box.js';

const VIDEO_TIMESCALE = 90000;
const SECONDS = 2;
const PATTERN = ['-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=30:duration=${SECONDS}`, '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${SECONDS}`];

interface Case {
  name: string;
  encoder: string;
  args: string[];
  video: { codec: Mp4VideoTrack['codec']; box: 'avcC' | 'hvcC' | 'av1C'; ffprobe: string };
  audio: { codec: Mp4AudioTrack['codec']; ffprobe: string };
}

const CASES: Case[] = [
  { name: 'H.264 + AAC', encoder: 'libx264', args: ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '15', '-bf', '2', '-c:a', 'aac'], video: { codec: 'h264', box: 'avcC', ffprobe: 'h264' }, audio: { codec: 'aac', ffprobe: 'aac' } },
  { name: 'H.264 + MP3', encoder: 'libmp3lame', args: ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '15', '-c:a', 'libmp3lame'], video: { codec: 'h264', box: 'avcC', ffprobe: 'h264' }, audio: { codec: 'mp3', ffprobe: 'mp3' } },
  { name: 'HEVC (libx265) + AAC', encoder: 'libx265', args: ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error:keyint=15:bframes=3', '-c:a', 'aac'], video: { codec: 'hevc', box: 'hvcC', ffprobe: 'hevc' }, audio: { codec: 'aac', ffprobe: 'aac' } },
  { name: 'AV1 (libsvtav1) + AAC', encoder: 'libsvtav1', args: ['-c:v', 'libsvtav1', '-preset', '12', '-g', '15', '-c:a', 'aac'], video: { codec: 'av1', box: 'av1C', ffprobe: 'av1' }, audio: { codec: 'aac', ffprobe: 'aac' } },
  { name: 'AV1 (libaom-av1) + AAC', encoder: 'libaom-av1', args: ['-c:v', 'libaom-av1', '-cpu-used', '8', '-g', '15', '-c:a', 'aac'], video: { codec: 'av1', box: 'av1C', ffprobe: 'av1' }, audio: { codec: 'aac', ffprobe: 'aac' } },
];

/** The payload of a box mp4box parsed, cut from the file bytes (mp4box keeps offsets, not the raw record). */
function boxBody(file: Buffer, b: { start: number; size: number; hdr_size: number }): Buffer {
  return file.subarray(b.start + b.hdr_size, b.start + b.size);
}

/** A time in the source timescale, in ours; the cases pick rates where this is exact. */
function rescale(t: number, from: number, to: number): number {
  const r = (t * to) / from;
  assert.ok(Number.isInteger(r), `${t}/${from} is not a whole number of 1/${to}`);
  return r;
}

interface Source {
  video: Mp4VideoTrack;
  audio: Mp4AudioTrack;
  videoSamples: Sample[];
  audioSamples: Sample[];
  audioTimescale: number;
  videoTimescale: number;
}

function source(c: Case, file: Buffer): Source {
  const r = readMp4([file]);
  const vt = r.info.videoTracks[0]!;
  const at = r.info.audioTracks[0]!;
  const ventry = r.file.getTrackById(vt.id).mdia.minf.stbl.stsd.entries[0] as unknown as Record<string, { start: number; size: number; hdr_size: number }>;
  const config = boxBody(file, ventry[c.video.box]!);
  const aentry = r.file.getTrackById(at.id).mdia.minf.stbl.stsd.entries[0] as unknown as { esds: { esd: { descs: { descs: { data: Uint8Array }[] }[] } } };
  const asc = c.audio.codec === 'aac' ? Buffer.from(aentry.esds.esd.descs[0]!.descs[0]!.data) : undefined;
  return {
    video: { codec: c.video.codec, width: vt.video!.width, height: vt.video!.height, timescale: VIDEO_TIMESCALE, config },
    audio: { codec: c.audio.codec, sampleRate: at.audio!.sample_rate, channels: at.audio!.channel_count, timescale: at.audio!.sample_rate, asc },
    videoSamples: r.samples.get(vt.id)!,
    audioSamples: r.samples.get(at.id)!,
    videoTimescale: vt.timescale,
    audioTimescale: at.timescale,
  };
}

/** Init, then per video frame one fragment with that frame and the audio before the next frame; styp at every keyframe. */
function remux(s: Source): { chunks: Buffer[]; video: Mp4Sample[]; audio: Mp4Sample[] } {
  const toSample = (x: Sample, from: number, to: number): Mp4Sample => ({ duration: rescale(x.duration, from, to), size: x.size, sync: x.is_sync, cts: rescale(x.cts - x.dts, from, to) });
  const video = s.videoSamples.map((x) => toSample(x, s.videoTimescale, VIDEO_TIMESCALE));
  const audio = s.audioSamples.map((x) => toSample(x, s.audioTimescale, s.audio.timescale));
  const chunks = [writeInitSegment({ video: s.video, audio: s.audio })];
  let a = 0;
  s.videoSamples.forEach((v, i) => {
    if (v.is_sync) chunks.push(writeStyp());
    const runs: Mp4TrackRun[] = [{ trackId: VIDEO_TRACK_ID, baseDecodeTime: rescale(v.dts, s.videoTimescale, VIDEO_TIMESCALE), samples: [video[i]!], data: [Buffer.from(v.data!)] }];
    const until = i + 1 < s.videoSamples.length ? s.videoSamples[i + 1]!.dts / s.videoTimescale : Infinity;
    const first = a;
    while (a < s.audioSamples.length && s.audioSamples[a]!.dts / s.audioTimescale < until) a++;
    if (a > first)
      runs.push({ trackId: AUDIO_TRACK_ID, baseDecodeTime: s.audioSamples[first]!.dts, samples: audio.slice(first, a), data: s.audioSamples.slice(first, a).map((x) => Buffer.from(x.data!)) });
    chunks.push(...writeFragment(i + 1, runs));
  });
  return { chunks, video, audio };
}

function assertSameSamples(r: Mp4Read, id: number, ours: readonly Mp4Sample[]): void {
  const theirs = r.samples.get(id)!;
  assert.equal(theirs.length, ours.length, `track ${id}: sample count`);
  let dts = theirs[0]!.dts;
  theirs.forEach((t, i) => {
    const o = ours[i]!;
    assert.deepEqual([t.dts, t.duration, t.size, t.is_sync, t.cts - t.dts], [dts, o.duration, o.size, o.sync, o.cts], `track ${id} sample ${i}`);
    dts += o.duration;
  });
}

interface ProbeStreams { streams: { codec_type: string; codec_name: string; codec_tag_string: string; width?: number; height?: number; nb_read_frames?: string; sample_rate?: string; channels?: number }[] }

for (const c of CASES) {
  test(`${c.name}: FFmpeg decodes our init + fragments silently; ffprobe and mp4box agree with what we wrote`, { timeout: 240_000 }, async (t) => {
    if (!(await hasEncoder(c.encoder))) return t.skip(`FFmpeg has no ${c.encoder}`);
    const dir = mkdtempSync(join(tmpdir(), 'livecdn-mp4-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const input = join(dir, 'in.mp4');
    const enc = await runFfmpeg(['-hide_banner', '-v', 'error', '-y', ...PATTERN, ...c.args, '-ar', '48000', '-ac', '2', input], { timeoutMs: 180_000 });
    assert.equal(enc.code, 0, enc.stderr);
    const s = source(c, readFileSync(input));
    assert.equal(s.videoSamples.length, 30 * SECONDS);
    const { chunks, video, audio } = remux(s);
    const output = join(dir, 'out.mp4');
    writeFileSync(output, Buffer.concat(chunks));

    const ours = readMp4(chunks);
    assert.deepEqual(ours.errors, []);
    assertSameSamples(ours, VIDEO_TRACK_ID, video);
    assertSameSamples(ours, AUDIO_TRACK_ID, audio);

    const dec = await runFfmpeg(['-hide_banner', '-v', 'error', '-i', output, '-f', 'null', '-'], { timeoutMs: 120_000 });
    assert.equal(dec.code, 0);
    assert.equal(dec.stderr, '', 'ffmpeg -v error stays silent');

    const p = (await ffprobeJson(output, ['-count_frames', '-show_entries', 'stream=codec_type,codec_name,codec_tag_string,width,height,nb_read_frames,sample_rate,channels'])) as ProbeStreams;
    const v = p.streams.find((x) => x.codec_type === 'video')!;
    const a = p.streams.find((x) => x.codec_type === 'audio')!;
    assert.deepEqual(
      { codec: v.codec_name, width: v.width, height: v.height, frames: Number(v.nb_read_frames) },
      { codec: c.video.ffprobe, width: s.video.width, height: s.video.height, frames: video.length },
    );
    assert.deepEqual({ codec: a.codec_name, rate: Number(a.sample_rate), channels: a.channels }, { codec: c.audio.ffprobe, rate: s.audio.sampleRate, channels: s.audio.channels });
    assert.ok(Number(a.nb_read_frames) >= audio.length - 1, `audio frames ${a.nb_read_frames} of ${audio.length}`);

    // Our record parsers against the peers: picture size as ffprobe decodes it, CODECS as mp4box names the track.
    const named = ours.info.videoTracks[0]!.codec.toLowerCase();
    if (c.video.codec === 'hevc') {
      const hvcc = parseHvcc(s.video.config);
      const sps = parseHevcSps(hvcc.sps[0]!);
      assert.deepEqual([sps.width, sps.height], [v.width, v.height]);
      assert.equal(hevcCodecString(hvcc).toLowerCase(), named);
    }
    if (c.video.codec === 'av1') {
      const av1c = parseAv1c(s.video.config);
      const seq = parseSequenceHeader(av1c.sequenceHeader!);
      assert.deepEqual([seq.maxWidth, seq.maxHeight], [v.width, v.height]);
      assert.equal(av1CodecString(av1c).toLowerCase(), named);
    }
  });
}
