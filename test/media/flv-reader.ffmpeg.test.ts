// Real-peer check: FFmpeg's FLV muxer feeds FlvReader, and our writer's output satisfies ffprobe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TagType } from '../../src/media/packet.js';
import { encodeFlvHeader } from '../../src/media/flv/header.js';
import { FlvReader } from '../../src/media/flv/reader.js';
import { parseScriptData } from '../../src/media/flv/script.js';
import { isVideoKeyframe, parseAudioTagHeader, parseVideoTagHeader } from '../../src/media/flv/tag-header.js';
import { encodeFlvTag } from '../../src/media/flv/tag-writer.js';
import { ffmpegPath, ffprobePath } from '../helpers/ffmpeg.js';

const run = promisify(execFile);
const FFMPEG = ffmpegPath();
const FFPROBE = ffprobePath();

async function probe(file: string): Promise<{ codec_type: string; codec_name: string; width?: number }[]> {
  const { stdout } = await run(FFPROBE, ['-v', 'error', '-show_streams', '-of', 'json', file], { timeout: 30_000 });
  return (JSON.parse(stdout) as { streams: { codec_type: string; codec_name: string; width?: number }[] }).streams;
}

test('FlvReader reads FFmpeg output (H.264 with B-frames + AAC), and the rewrite probes the same', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'livecdn-flv-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const src = join(dir, 'in.flv');
  await run(
    FFMPEG,
    ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=duration=2:size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=duration=2',
      '-c:v', 'libx264', '-bf', '2', '-c:a', 'aac', '-f', 'flv', src],
    { timeout: 60_000 },
  );
  const bytes = await readFile(src);

  // Odd-sized chunks so tags straddle pushes.
  const r = new FlvReader();
  const packets = [];
  for (let i = 0; i < bytes.length; i += 997) packets.push(...r.push(bytes.subarray(i, i + 997)));
  assert.deepEqual({ audio: r.header?.audio, video: r.header?.video }, { audio: true, video: true });

  const video = packets.filter((p) => p.type === TagType.Video);
  const audio = packets.filter((p) => p.type === TagType.Audio);
  assert.equal(packets[0]?.type, TagType.Script, 'onMetaData comes first');
  const meta = parseScriptData(packets[0]!.payload);
  assert.equal(meta.name, 'onMetaData');
  assert.deepEqual([(meta.value as Record<string, unknown>).width, (meta.value as Record<string, unknown>).height], [320, 240]);
  assert.equal(video.length, 1 + 50 + 1, 'sequence header, 2 s at 25 fps, end of sequence');
  assert.equal(parseVideoTagHeader(video.at(-1)!.payload).kind, 'end-of-sequence');
  const first = parseVideoTagHeader(video[0]!.payload);
  assert.deepEqual([first.codec, first.kind], ['h264', 'sequence-header']);
  assert.equal(first.data[0], 1, 'AVCDecoderConfigurationRecord version 1');
  assert.ok(video.filter(isVideoKeyframe).length >= 1);
  assert.ok(isVideoKeyframe(video[1]!), 'the first coded frame is a keyframe');
  const ctss = video.slice(1, -1).map((p) => parseVideoTagHeader(p.payload).compositionTimeMs);
  assert.ok(ctss.some((c) => c > 0), 'B-frames give composition time offsets');
  const aacHeaders = audio.filter((p) => parseAudioTagHeader(p.payload).kind === 'sequence-header');
  assert.equal(aacHeaders.length, 1);
  assert.equal(parseAudioTagHeader(audio[0]!.payload).kind, 'sequence-header');
  assert.ok(audio.slice(1).every((p) => parseAudioTagHeader(p.payload).codec === 'aac'));
  const ts = video.map((p) => p.timestamp);
  assert.ok(ts.every((v, i) => i === 0 || v >= ts[i - 1]!), 'DTS are monotonic');
  assert.ok(ts.at(-1)! >= 1900 && ts.at(-1)! <= 2000);

  const out = join(dir, 'out.flv');
  await writeFile(out, Buffer.concat([encodeFlvHeader({ audio: true, video: true }), ...packets.map(encodeFlvTag)]));
  const [orig, again] = await Promise.all([probe(src), probe(out)]);
  const summary = (s: typeof orig): string[] => s.map((x) => `${x.codec_type}:${x.codec_name}:${x.width ?? ''}`).sort();
  assert.deepEqual(summary(again), summary(orig));
  assert.deepEqual(summary(again), ['audio:aac:', 'video:h264:320']);
  // A video-only rewrite flagged as such probes as exactly one video stream.
  const videoOnly = join(dir, 'video.flv');
  await writeFile(videoOnly, Buffer.concat([encodeFlvHeader({ audio: false, video: true }), ...packets.filter((p) => p.type !== TagType.Audio).map(encodeFlvTag)]));
  assert.deepEqual(summary(await probe(videoOnly)), ['video:h264:320']);
  // Our tags are the same bytes FFmpeg wrote: only the header may differ.
  assert.ok((await readFile(out)).subarray(13).equals(bytes.subarray(13)));
});
