// Shared by the recording tests: FFmpeg publishing a small test stream while writing the very same
// packets to a local FLV (the tee muxer), and ffprobe's packet lists (pts, keyframe flag, MD5 of the
// data) to compare a recording with what was published, packet for packet.
import { ffprobeJson, spawnFfmpeg } from '../helpers/ffmpeg.js';
import type { FfmpegProcess } from '../helpers/ffmpeg.js';
import { waitFor } from '../helpers/wait.js';
import type { Recording, RecordingCatalogue } from '../../src/record/catalogue.js';
import type { TestOrigin } from '../helpers/origin.js';
import { publishTestStream, withLog } from '../helpers/publish.js';
import type { PublishOptions, StreamShape } from '../helpers/publish.js';

export interface TeePublish extends FfmpegProcess {
  log(): string;
}

/**
 * Publishes testsrc2 320x240 (25 fps, 1 s GOP) + a sine for `durationS` to rtmpUrl and, with the same
 * packets, to `copyFile` (unless omitted). `kbps`: video bit rate.
 */
export function publishTee(rtmpUrl: string, copyFile: string | undefined, durationS: number, kbps = 300): TeePublish {
  const out = copyFile ? ['-f', 'tee', '-map', '0:v', '-map', '1:a', `[f=flv]${rtmpUrl}|[f=flv]${copyFile}`] : ['-f', 'flv', rtmpUrl];
  return withLog(spawnFfmpeg([
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-t', String(durationS),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '0', '-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-b:v', `${kbps}k`,
    '-c:a', 'aac', '-ac', '1', '-b:a', '48k',
    '-flags', '+global_header',
    ...out,
  ]));
}

export interface ProbedPacket {
  /** In the stream's time base. */
  readonly pts: number;
  /** pts in seconds. */
  readonly time: number;
  readonly key: boolean;
  /** MD5 of the packet's data. */
  readonly hash: string;
}

/**
 * The packets of one stream ('v' or 'a') of a file (FLV, MPEG-TS, MP4), in order. JSON, not CSV: MPEG-TS
 * packets carry side data that CSV prints in the middle of a packet's line.
 */
export async function probePackets(file: string, stream: 'v' | 'a'): Promise<ProbedPacket[]> {
  const probe = (await ffprobeJson(file, ['-select_streams', stream, '-show_entries', 'packet=pts,pts_time,flags,data_hash', '-show_data_hash', 'md5'], 60_000)) as {
    packets?: { pts?: number; pts_time?: string; flags?: string; data_hash?: string }[];
  };
  return (probe.packets ?? []).map((p) => ({ pts: p.pts ?? NaN, time: Number(p.pts_time), key: (p.flags ?? '').startsWith('K'), hash: p.data_hash ?? '' }));
}

/** ffprobe's format duration, seconds. */
export async function probeDuration(file: string): Promise<number> {
  const probe = (await ffprobeJson(file, ['-show_entries', 'format=duration'])) as { format?: { duration?: string } };
  return Number(probe.format?.duration);
}

/** Waits until every recording of app/stream has ended (at least `min` of them), and returns them. */
export function recordingsEnded(catalogue: RecordingCatalogue, app: string, stream: string, min = 1, timeoutMs = 30_000): Promise<Recording[]> {
  return waitFor(
    `recordings of ${app}/${stream} to end`,
    () => {
      const list = catalogue.list({ app, stream });
      return list.length >= min && list.every((r) => r.state !== 'recording') ? list : undefined;
    },
    timeoutMs,
    100,
  );
}

/**
 * Publishes FFmpeg's test stream (publish.ts shapes) to `o` for `opts.durationS` seconds, waits for it to
 * end and for its recording (the origin records app/stream) to close, and returns that recording.
 */
export async function recordTestStream(o: TestOrigin, app: string, stream: string, shape: StreamShape, opts: PublishOptions & { durationS: number; query?: string }): Promise<Recording> {
  const catalogue = o.origin.recordings;
  if (!catalogue) throw new Error('the origin does not record');
  const pub = publishTestStream(o.rtmpUrl(app, stream, opts.query), shape, opts);
  try {
    const code = await pub.exited;
    if (code !== 0) throw new Error(`ffmpeg exited ${code}: ${pub.log()}`);
  } finally {
    await pub.stop();
  }
  const [r] = await recordingsEnded(catalogue, app, stream);
  if (!r) throw new Error(`no recording of ${app}/${stream}`);
  return r;
}
