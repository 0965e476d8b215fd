// Test media for the benchmarks: one 720p30 H.264 + AAC FLV, generated once and cached in .bench-tmp/.
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnFfmpeg } from '../../test/helpers/ffmpeg.js';
import { frameCodeFilter } from './frame-code.js';

export const CACHE_DIR = resolve(process.cwd(), '.bench-tmp');

/** Length of the test file in ms: a whole number of 2 s GOPs, so the GOP cadence survives looping. */
export const MEDIA_DURATION_MS = 60_000;

/** Encoding recipe; the file name carries a hash-free version tag, bump it when the recipe changes. */
const FFMPEG_ARGS = [
  '-hide_banner', '-loglevel', 'error', '-y',
  '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30',
  '-f', 'lavfi', '-i', 'sine=frequency=440:beep_factor=4:sample_rate=48000',
  '-t', String(MEDIA_DURATION_MS / 1000),
  '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-pix_fmt', 'yuv420p',
  // GOP of exactly 2 s and no scene-cut keyframes: segment boundaries and window alignment rely on it.
  '-g', '60', '-keyint_min', '60', '-sc_threshold', '0',
  // CBR with HRD filler so every second carries the same bytes (viewer rate checks compare against it).
  '-b:v', '2500k', '-minrate', '2500k', '-maxrate', '2500k', '-bufsize', '1250k', '-x264-params', 'nal-hrd=cbr',
  '-c:a', 'aac', '-b:a', '128k', '-ac', '2',
  '-f', 'flv',
];

/** Returns the path of the cached test FLV, generating it with ffmpeg on first use. */
export function ensureTestMedia(): Promise<string> {
  return ensureEncodedMedia('bench-720p30-v1.flv', FFMPEG_ARGS);
}

/** Frame rate of the coded clip: frame number n is sent at n / CODED_FPS s into each loop. */
export const CODED_FPS = 30;

/**
 * The test FLV with each frame's number painted in (frame-code.ts), for publisher-to-screen latency:
 * 720p30, 1 s GOP (LL-HLS segments of 1 s), no B-frames so that frames are sent in display order.
 */
export function ensureCodedMedia(): Promise<string> {
  return ensureEncodedMedia('bench-720p30-code-v1.flv', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=${CODED_FPS}`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:beep_factor=4:sample_rate=48000',
    '-filter_complex', frameCodeFilter('0:v', 'v', CODED_FPS),
    '-map', '[v]', '-map', '1:a',
    '-t', String(MEDIA_DURATION_MS / 1000),
    '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-pix_fmt', 'yuv420p', '-bf', '0',
    '-g', String(CODED_FPS), '-keyint_min', String(CODED_FPS), '-sc_threshold', '0',
    '-b:v', '2500k', '-minrate', '2500k', '-maxrate', '2500k', '-bufsize', '1250k', '-x264-params', 'nal-hrd=cbr',
    '-c:a', 'aac', '-b:a', '128k', '-ac', '2',
    '-f', 'flv',
  ]);
}

/**
 * Returns the path of `.bench-tmp/{fileName}`, encoding it first with `ffmpegArgs` (inputs, codecs and
 * the output format; the output file is appended) when it is not there yet.
 */
export async function ensureEncodedMedia(fileName: string, ffmpegArgs: readonly string[]): Promise<string> {
  mkdirSync(CACHE_DIR, { recursive: true });
  const file = join(CACHE_DIR, fileName);
  if (existsSync(file) && statSync(file).size > 100_000) return file;
  const tmp = file + '.part';
  const code = await spawnFfmpeg([...ffmpegArgs, tmp], { stdio: ['ignore', 'inherit', 'inherit'] }).exited;
  if (code !== 0) throw new Error(`ffmpeg exited with ${code}`);
  renameSync(tmp, file);
  return file;
}
