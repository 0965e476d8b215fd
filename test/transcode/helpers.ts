// Shared by the transcoder tests: a small test ladder, an origin transcoding with it, and what the
// tests read back from recorded HTTP-FLV (the bytes as a file, keyframe times, the video bit rate).
import type { TestContext } from 'node:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFlvHeader } from '../../src/media/flv/header.js';
import { encodeFlvTag } from '../../src/media/flv/tag-writer.js';
import { TagType } from '../../src/media/packet.js';
import type { OriginConfig, OriginTranscodeConfig } from '../../src/origin/origin.js';
import { parseLadderFile } from '../../src/transcode/ladder.js';
import { childPids } from '../helpers/cli-process.js';
import { ffprobeJson } from '../helpers/ffmpeg.js';
import type { FlvViewer } from '../helpers/http.js';
import { startOrigin, type TestOrigin } from '../helpers/origin.js';

/** Two small rungs under a 320x240 source; ultrafast keeps the 2-core machine free. */
export const TEST_LADDER = parseLadderFile(
  JSON.stringify({
    live: [
      { name: 'low', height: 180, videoKbps: 250 },
      { name: 'tiny', height: 120, videoKbps: 120 },
    ],
  }),
  'json',
);

export function testTranscode(over: Partial<OriginTranscodeConfig> = {}): OriginTranscodeConfig {
  return { ladders: TEST_LADDER, settings: { preset: 'ultrafast', tune: 'zerolatency' }, onDemand: false, remote: false, ...over };
}

export function startTranscodingOrigin(t: TestContext, over: Partial<OriginTranscodeConfig> = {}, config: OriginConfig = {}): Promise<TestOrigin> {
  return startOrigin({ transcode: testTranscode(over), ...config }, t);
}

/** What an HTTP-FLV viewer received, as an FLV file in a temporary directory removed after the test. */
export function flvFile(t: TestContext, v: FlvViewer, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'livecdn-transcode-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, `${name}.flv`);
  const tracks = { audio: v.header?.audio ?? false, video: v.header?.video ?? false };
  writeFileSync(file, Buffer.concat([encodeFlvHeader(tracks), ...v.packets.map((p) => encodeFlvTag(p))]));
  return file;
}

/** Presentation times (ms) of the video keyframes of an FLV file (ffprobe decodes keyframes only). */
export async function keyframePts(file: string): Promise<number[]> {
  const probe = (await ffprobeJson(file, ['-select_streams', 'v', '-skip_frame', 'nokey', '-show_entries', 'frame=pts,key_frame'], 60_000)) as {
    frames?: Array<{ pts?: number; key_frame?: number }>;
  };
  return (probe.frames ?? []).filter((f) => f.key_frame === 1 && f.pts !== undefined).map((f) => f.pts as number);
}

/** Video coded frames (no sequence headers) of a viewer: FLV video tag byte 1 is the AVC packet type, 1 = NALUs. */
export const videoFrames = (v: FlvViewer): FlvViewer['packets'] => v.packets.filter((p) => p.type === TagType.Video && p.payload[1] === 1);

/** A coded video keyframe (FLV frame type 1 in the high nibble of byte 0, AVC packet type 1 = NALUs). */
export const isVideoKeyframe = (p: FlvViewer['packets'][number]): boolean => p.type === TagType.Video && ((p.payload[0] ?? 0) >> 4) === 1 && p.payload[1] === 1;

/** The video bit rate (kbit/s) of a viewer's coded frames over their time span. */
export function videoKbps(v: FlvViewer): { kbps: number; spanMs: number } {
  const frames = videoFrames(v);
  const first = frames[0];
  const last = frames.at(-1);
  if (!first || !last || last.timestamp <= first.timestamp) return { kbps: 0, spanMs: 0 };
  // The bytes up to the last frame cover the span from the first frame to the last one's end: drop the
  // last frame's bytes instead of guessing its duration.
  const bytes = frames.slice(0, -1).reduce((n, p) => n + p.payload.length, 0);
  const spanMs = last.timestamp - first.timestamp;
  return { kbps: (bytes * 8) / spanMs, spanMs };
}

/** The transcoder FFmpeg children of this process (the publisher is one too, without -copyts). */
export function transcoderPids(): number[] {
  return childPids(process.pid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('-copyts');
    } catch {
      return false; // gone meanwhile
    }
  });
}
