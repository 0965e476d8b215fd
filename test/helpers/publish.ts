// Test helper: FFmpeg publishing lavfi testsrc + sine over RTMP in one of the shapes the origin must
// handle. Small pictures and ultrafast x264 keep several publishers affordable on a 2-core machine.
import { spawnFfmpeg } from './ffmpeg.js';
import type { FfmpegProcess } from './ffmpeg.js';

export type StreamShape = 'h264-high-bframes+aac-stereo' | 'baseline+aac-mono' | 'video-only' | 'audio-only' | 'h264+mp3';

export const SHAPES: readonly StreamShape[] = ['h264-high-bframes+aac-stereo', 'baseline+aac-mono', 'video-only', 'audio-only', 'h264+mp3'];

export interface PublishOptions {
  /** Default 320x240. */
  readonly size?: string;
  /** Default 25. */
  readonly fps?: number;
  /** Seconds between keyframes (default 2). */
  readonly gopS?: number;
  /** Stop after this many seconds; default: run until stop(). */
  readonly durationS?: number;
  /** Extra output options before the URL (e.g. ['-b:v', '2500k']). */
  readonly extraArgs?: readonly string[];
}

/** What the shape carries, for assertions. */
export function shapeTracks(shape: StreamShape): { video: 'h264' | null; audio: 'aac' | 'mp3' | null; channels: number | null } {
  switch (shape) {
    case 'h264-high-bframes+aac-stereo':
      return { video: 'h264', audio: 'aac', channels: 2 };
    case 'baseline+aac-mono':
      return { video: 'h264', audio: 'aac', channels: 1 };
    case 'video-only':
      return { video: 'h264', audio: null, channels: null };
    case 'audio-only':
      return { video: null, audio: 'aac', channels: 2 };
    case 'h264+mp3':
      return { video: 'h264', audio: 'mp3', channels: 2 };
  }
}

export function publishArgs(rtmpUrl: string, shape: StreamShape, opts: PublishOptions = {}): string[] {
  const fps = opts.fps ?? 25;
  const gop = String(Math.round(fps * (opts.gopS ?? 2)));
  const tracks = shapeTracks(shape);
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re'];
  if (tracks.video) args.push('-f', 'lavfi', '-i', `testsrc=size=${opts.size ?? '320x240'}:rate=${fps}`);
  if (tracks.audio) args.push('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100');
  if (opts.durationS !== undefined) args.push('-t', String(opts.durationS));
  if (tracks.video) {
    const profile = shape === 'baseline+aac-mono' ? ['-profile:v', 'baseline', '-bf', '0'] : shape === 'h264-high-bframes+aac-stereo' ? ['-profile:v', 'high', '-bf', '2', '-x264-params', 'cabac=1:8x8dct=1'] : ['-bf', '0'];
    args.push('-c:v', 'libx264', '-preset', 'ultrafast', ...profile, '-g', gop, '-keyint_min', gop, '-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-b:v', '400k');
  }
  if (tracks.audio === 'aac') args.push('-c:a', 'aac', '-ac', String(tracks.channels), '-b:a', '64k');
  if (tracks.audio === 'mp3') args.push('-c:a', 'libmp3lame', '-ac', '2', '-ar', '44100', '-b:a', '64k');
  args.push(...(opts.extraArgs ?? []), '-f', 'flv', rtmpUrl);
  return args;
}

/** Starts publishing; stop() it in after()/finally. Its stderr is collected in `log()` for failure messages. */
export function publishTestStream(rtmpUrl: string, shape: StreamShape, opts: PublishOptions = {}): FfmpegProcess & { log(): string } {
  return withLog(spawnFfmpeg(publishArgs(rtmpUrl, shape, opts)));
}

/** `p` with its stderr (the first 20 000 characters) collected in `log()`, for failure messages. */
export function withLog(p: FfmpegProcess): FfmpegProcess & { log(): string } {
  let err = '';
  p.child.stderr?.on('data', (b: Buffer) => {
    if (err.length < 20_000) err += b.toString();
  });
  p.child.stdout?.resume();
  return Object.assign(p, { log: () => err });
}
