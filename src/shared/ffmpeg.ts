// The one place that finds ffmpeg and ffprobe (ffmpegPath, ffprobePath) and the spawner the transcoder
// (src/transcode/) runs them with. Tests, fuzz seeds and benchmarks reach both through
// test/helpers/ffmpeg.ts; a few of them spawn the located binary themselves (benchmarks pinned with
// taskset and nice, tests with their own process bookkeeping).
import { spawn } from 'node:child_process';
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const DEBIAN_FFMPEG = '/usr/bin/ffmpeg';
const INSTALLER = '@ffmpeg-installer/ffmpeg';

/** @ffmpeg-installer/ffmpeg's binary when that optional package is installed. */
function installedFfmpeg(): string | undefined {
  try {
    // Optional and not a dependency: present only where someone installed it.
    const installed = (createRequire(import.meta.url)(INSTALLER) as { path?: unknown }).path;
    if (typeof installed === 'string' && existsSync(installed)) return installed;
  } catch {
    // not installed
  }
  return undefined;
}

/** FFMPEG_PATH, then Debian's ffmpeg, then @ffmpeg-installer/ffmpeg when installed, then PATH. */
export function ffmpegPath(): string {
  if (process.env.FFMPEG_PATH) return process.env.FFMPEG_PATH;
  if (existsSync(DEBIAN_FFMPEG)) return DEBIAN_FFMPEG;
  return installedFfmpeg() ?? 'ffmpeg';
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

/** Runs to completion (killed after `timeoutMs`, or when `signal` aborts) and collects the output as text. */
export async function runFfmpeg(args: readonly string[], opts: { timeoutMs?: number; probe?: boolean; signal?: AbortSignal } = {}): Promise<RunResult> {
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
  const abort = (): void => void p.stop(500);
  if (opts.signal?.aborted) abort();
  opts.signal?.addEventListener('abort', abort, { once: true });
  try {
    const code = await p.exited;
    await drained;
    return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', abort);
  }
}

/** Where ffmpegPath() looked, for the error a missing binary gives. */
function triedPlaces(): string {
  if (process.env.FFMPEG_PATH) return `FFMPEG_PATH=${process.env.FFMPEG_PATH}`;
  return `${DEBIAN_FFMPEG}, ${INSTALLER}, ffmpeg on PATH`;
}

/** No runnable FFmpeg where ffmpegPath() looked: a configuration error, reported as one line. */
export class FfmpegMissingError extends Error {}

const checked = new Map<string, Promise<string>>();

/**
 * The FFmpeg binary, checked to run (`-version`, once per path): what a service with a transcoding
 * ladder calls at start, so that a missing binary is a clear error then rather than a crash loop later.
 */
export function requireFfmpeg(): Promise<string> {
  const path = ffmpegPath();
  let check = checked.get(path);
  if (!check) {
    check = runFfmpeg(['-hide_banner', '-version'], { timeoutMs: 10_000 }).then((r) => {
      if (r.code !== 0 || !r.stdout.startsWith('ffmpeg version')) {
        throw new FfmpegMissingError(`transcoding needs FFmpeg: set FFMPEG_PATH, install Debian's ffmpeg or npm i ${INSTALLER} (tried ${triedPlaces()})`);
      }
      return path;
    });
    // A failed check is retried next time (the operator may install it meanwhile).
    check.catch(() => checked.delete(path));
    checked.set(path, check);
  }
  return check;
}
