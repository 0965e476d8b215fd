// FFmpeg for tests, fuzz seeds and benchmarks: the locator and spawner live in src/shared/ffmpeg.ts
// (the transcoder uses them too); this module re-exports them and adds what only tests need.
import { runFfmpeg } from '../../src/shared/ffmpeg.js';

export { ffmpegPath, ffprobePath, requireFfmpeg, runFfmpeg, spawnFfmpeg } from '../../src/shared/ffmpeg.js';
export type { FfmpegProcess, RunResult, SpawnOptions } from '../../src/shared/ffmpeg.js';

/** ffprobe with JSON output; `args` selects what to show (e.g. ['-show_streams']). Throws on failure. */
export async function ffprobeJson(input: string, args: readonly string[], timeoutMs = 30_000): Promise<unknown> {
  const r = await runFfmpeg(['-v', 'error', '-of', 'json', ...args, input], { timeoutMs, probe: true });
  if (r.code !== 0) throw new Error(`ffprobe ${input} exited ${r.code}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as unknown;
}

let encoderList: Promise<string> | undefined;
/** Whether this FFmpeg has an encoder (libx265, libsvtav1, …): tests of optional codecs skip without it. */
export async function hasEncoder(name: string): Promise<boolean> {
  encoderList ??= runFfmpeg(['-hide_banner', '-encoders'], { timeoutMs: 30_000 }).then((r) => r.stdout);
  return new RegExp(`\\s${name}\\s`).test(await encoderList);
}
