// The one place that finds and spawns ffmpeg and ffprobe, for tests, fuzz seeds and benchmarks (a
// transcoder in src/ would take it back there). Production code spawns neither.
import { spawn } from 'node:child_process';
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

/** FFMPEG_PATH, then Debian's ffmpeg, then @ffmpeg-installer/ffmpeg when installed, then PATH. */
export function ffmpegPath(): string {
  if (process.env.FFMPEG_PATH) return process.env.FFMPEG_PATH;
  if (existsSync('/usr/bin/ffmpeg')) return '/usr/bin/ffmpeg';
  try {
    // Optional and not a dependency: present only where someone installed it.
    const installed = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path?: unknown }).path;
    if (typeof installed === 'string' && existsSync(installed)) return installed;
  } catch {
    // not installed
  }
  return 'ffmpeg';
}

/** FFPROBE_PATH, then Debian's ffprobe, then PATH (@ffmpeg-installer ships no ffprobe). */
export const ffprobePath = (): string => process.env.FFPROBE_PATH ?? (existsSync('/usr/bin/ffprobe') ? '/usr/bin/ffprobe' : 'ffprobe');

export interface SpawnOptions {
  /** Default: stdin ignored, stdout and stderr piped. */
  readonly stdio?: StdioOptions;
  readonly env?: NodeJS.ProcessEnv;
  /** Spawn ffprobe instead of ffmpeg. */
  readonly probe?: boolean;
}

export interface FfmpegProcess {
  readonly child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal) once the process has exited. */
  readonly exited: Promise<number | null>;
  /** Asks the process to quit (SIGTERM, then SIGKILL after `graceMs`) and waits for it. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnFfmpeg(args: readonly string[], opts: SpawnOptions = {}): FfmpegProcess {
  const child = spawn(opts.probe ? ffprobePath() : ffmpegPath(), args, {
    stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    // A missing binary emits 'error' and never 'exit'.
    child.once('error', () => resolve(child.exitCode ?? -1));
  });
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 2000): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };
  return { child, exited, stop };
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs to completion (killed after `timeoutMs`) and collects the output as text. */
export async function runFfmpeg(args: readonly string[], opts: { timeoutMs?: number; probe?: boolean } = {}): Promise<RunResult> {
  const p = spawnFfmpeg(args, { probe: opts.probe });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  p.child.stdout?.on('data', (b: Buffer) => out.push(b));
  p.child.stderr?.on('data', (b: Buffer) => err.push(b));
  // 'exit' can precede the last 'data' events; 'close' (or a spawn 'error') means the pipes are drained.
  const drained = new Promise<void>((resolve) => {
    p.child.once('close', () => resolve());
    p.child.once('error', () => resolve());
  });
  const timer = setTimeout(() => void p.stop(), opts.timeoutMs ?? 30_000);
  try {
    const code = await p.exited;
    await drained;
    return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
  } finally {
    clearTimeout(timer);
  }
}

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
