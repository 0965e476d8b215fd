// One source on a remote transcoder: pulls the source's HTTP-FLV from its origin (or --upstream), feeds it
// to one FFmpeg (RemoteFlvFeed: from the first live keyframe) on stdin and lets FFmpeg publish each rung over
// RTMP back to the origin as {stream}_{rung}, with a publish token per rung. Restarts with backoff when
// FFmpeg exits or the pull ends, until stopped.
//
// Why stdin and not FFmpeg's own HTTP input: FFmpeg reads EOF on stdin when this process dies, even by
// SIGKILL, and then ends its RTMP publishes, so a dead transcoder leaves no orphan publishing rungs that
// would block its successor; and the play token stays out of FFmpeg's argv. The publish tokens are in
// argv (RTMP URLs): they are short-lived (signed per start), scoped to one rung stream, and never logged.
import { Readable } from 'node:stream';
import type { Writable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { TranscodeAssignment } from '../shared/cluster.js';
import type { FfmpegProcess } from '../shared/ffmpeg.js';
import { spawnFfmpeg } from '../shared/ffmpeg.js';
import type { ClusterKeys } from '../shared/keys.js';
import { redactUrl } from '../shared/log.js';
import type { Logger } from '../shared/log.js';
import { signPlayToken, signPublishToken } from '../shared/token.js';
import { flvPath, renditionStream, streamKey } from '../shared/url-contract.js';
import { transcodeArgs } from './ffmpeg-args.js';
import { ProgressParser } from './progress.js';
import { RemoteFlvFeed } from './remote-feed.js';
import { RestartBackoff, TRANSCODER_DEFAULTS } from './transcoder.js';

export interface RemoteJobOptions {
  readonly assignment: TranscodeAssignment;
  /** HTTP base to pull the source from instead of its origin's (an edge, a private address). */
  readonly upstream?: string | undefined;
  /** Publish and play tokens are signed with keys.publish and keys.play; none in an --insecure cluster. */
  readonly keys?: ClusterKeys | undefined;
  /** Lifetime of the tokens signed at each start: they are checked once, when the connection opens. */
  readonly tokenTtlSec: number;
  /** FFmpeg's stdin backlog past which media skips to the next keyframe. */
  readonly maxBacklogBytes: number;
  /** No bytes from the origin for this long ends the pull (and restarts it). */
  readonly pullIdleMs: number;
  readonly log: Logger;
}

export interface RemoteJobStats {
  /** Rungs FFmpeg is encoding (all of them once it reports progress, else 0). */
  readonly rungsUp: number;
  readonly restarts: number;
  /** Encoding speed, x real time; null until FFmpeg reports one. */
  readonly speed: number | null;
}

/**
 * Same source, same origin, same rungs and settings: the running FFmpeg can stay. The source's frame rate
 * is left out: it is measured, and a change in its rounding must not restart FFmpeg.
 */
export const sameJob = (a: TranscodeAssignment, b: TranscodeAssignment): boolean => {
  const job = ({ sourceFps: _measured, ...rest }: TranscodeAssignment): string => JSON.stringify(rest);
  return job(a) === job(b);
};

export class RemoteJob {
  readonly key: string;
  private stopped = false;
  private ffmpeg: FfmpegProcess | undefined;
  private pull: AbortController | undefined;
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private restarts = 0;
  private speed: number | null = null;
  private encoding = false;
  /** The running pull's feed, and the frames skipped by the feeds of earlier runs. */
  private feed: RemoteFlvFeed | undefined;
  private skippedBefore = 0;

  constructor(private readonly opts: RemoteJobOptions) {
    this.key = streamKey(opts.assignment.app, opts.assignment.stream);
  }

  get assignment(): TranscodeAssignment {
    return this.opts.assignment;
  }

  /** FFmpeg's process id while it runs (for CPU accounting). */
  get pid(): number | undefined {
    return this.ffmpeg?.child.pid;
  }

  start(): void {
    this.running ??= this.loop();
  }

  stats(): RemoteJobStats {
    return { rungsUp: this.encoding ? this.opts.assignment.rungs.length : 0, restarts: this.restarts, speed: this.speed };
  }

  /** Source frames not fed to FFmpeg because it fell behind, over every run so far. */
  get skippedFrames(): number {
    return this.skippedBefore + (this.feed?.skippedFrames ?? 0);
  }

  /** Ends the pull and FFmpeg (its rung publishes end with it) and waits for both. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.pull?.abort();
    this.wake?.();
    await this.ffmpeg?.stop(TRANSCODER_DEFAULTS.stopGraceMs);
    await this.running;
  }

  private async loop(): Promise<void> {
    const backoff = new RestartBackoff();
    const a = this.opts.assignment;
    this.opts.log.info({ stream: this.key, origin: a.origin, rungs: a.rungs.map((r) => r.name) }, 'transcoding');
    while (!this.stopped) {
      const startedAt = Date.now();
      try {
        await this.runOnce();
      } catch (err) {
        this.opts.log.warn({ stream: this.key, err: redactUrl(String(err)) }, 'transcode run failed');
      }
      if (this.stopped) break;
      this.restarts++;
      const delay = backoff.next(Date.now() - startedAt);
      this.opts.log.info({ stream: this.key, restarts: this.restarts, delayMs: delay }, 'transcode restarts');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    this.opts.log.info({ stream: this.key }, 'transcoding stopped');
  }

  /** One FFmpeg and one pull; resolves when either ends (the other is then ended too). */
  private async runOnce(): Promise<void> {
    const a = this.opts.assignment;
    const keys = this.opts.keys;
    const expSec = Math.floor(Date.now() / 1000) + this.opts.tokenTtlSec;
    const outputs = a.rungs.map((r) => {
      const name = renditionStream(a.stream, r.name);
      const token = keys ? `?token=${signPublishToken({ app: a.app, stream: name, expSec }, keys.publish)}` : '';
      return `${a.rtmpUrl}/${a.app}/${name}${token}`;
    });
    const args = transcodeArgs({
      input: 'pipe:0',
      rungs: a.rungs,
      outputs,
      settings: { preset: a.preset, tune: a.tune ?? undefined },
      sourceFps: a.sourceFps ?? undefined,
      audio: a.audio,
    });
    const ff = spawnFfmpeg(args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.ffmpeg = ff;
    const progress = new ProgressParser();
    ff.child.stdout?.setEncoding('utf8');
    ff.child.stdout?.on('data', (text: string) => {
      try {
        for (const p of progress.push(text)) {
          if (p.speed !== undefined) this.speed = p.speed;
          if ((p.frame ?? 0) > 0) this.encoding = true;
        }
      } catch (err) {
        this.opts.log.error({ stream: this.key, err: String(err) }, 'transcoder progress failed');
      }
    });
    // A pipe error comes with FFmpeg's exit, which is handled below; unhandled, it would end the process.
    ff.child.stdout?.on('error', () => undefined);
    let stderrTail = '';
    ff.child.stderr?.setEncoding('utf8');
    ff.child.stderr?.on('data', (text: string) => (stderrTail = (stderrTail + text).slice(-2000)));
    ff.child.stderr?.on('error', () => undefined);
    const stdin = ff.child.stdin;
    if (!stdin) throw new Error('ffmpeg has no stdin');
    // A closed pipe (FFmpeg gone) is reported by its exit; the write error itself must not crash us.
    stdin.on('error', () => undefined);

    const pull = new AbortController();
    this.pull = pull;
    const pulling = this.pullInto(stdin, pull.signal).catch((err: unknown) => {
      if (!pull.signal.aborted) this.opts.log.warn({ stream: this.key, err: redactUrl(String(err)) }, 'source pull failed');
    });
    const code = await Promise.race([ff.exited, pulling.then(() => undefined)]);
    pull.abort();
    stdin.end();
    // FFmpeg gets EOF and ends its outputs cleanly; past a grace it is killed.
    await ff.stop(TRANSCODER_DEFAULTS.stopGraceMs);
    await pulling;
    this.encoding = false;
    this.speed = null;
    this.ffmpeg = undefined;
    if (!this.stopped) {
      const exit = code === undefined ? await ff.exited : code;
      this.opts.log.warn({ stream: this.key, exit, stderr: redactUrl(stderrTail.trim().split('\n').slice(-5).join('\n')) }, 'ffmpeg ended');
    }
  }

  /** Copies the source's HTTP-FLV through RemoteFlvFeed into FFmpeg's stdin until it ends. */
  private async pullInto(stdin: Writable, signal: AbortSignal): Promise<void> {
    const a = this.opts.assignment;
    const base = (this.opts.upstream ?? a.httpUrl).replace(/\/+$/, '');
    const token = this.opts.keys ? `?token=${signPlayToken({ app: a.app, stream: a.stream, expSec: Math.floor(Date.now() / 1000) + this.opts.tokenTtlSec }, this.opts.keys.play)}` : '';
    // Until the headers arrive the body's idle timer below is not running: the request has its own.
    const answer = new AbortController();
    const answerTimer = setTimeout(() => answer.abort(new Error(`source ${this.key}: no answer in ${this.opts.pullIdleMs} ms`)), this.opts.pullIdleMs);
    let res: Response;
    try {
      res = await fetch(base + flvPath(a.app, a.stream) + token, { signal: AbortSignal.any([signal, answer.signal]) });
    } finally {
      clearTimeout(answerTimer);
    }
    if (res.status !== 200 || !res.body) {
      await res.body?.cancel();
      throw new Error(`source ${this.key}: HTTP ${res.status}`);
    }
    const feed = new RemoteFlvFeed(
      {
        get backlog() {
          return stdin.writableLength;
        },
        write: (b) => void stdin.write(b),
      },
      this.opts.maxBacklogBytes,
    );
    this.feed = feed;
    const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
    // Re-armed per chunk with refresh(): no new timer per chunk.
    const idle = setTimeout(() => body.destroy(new Error(`source ${this.key}: no data for ${this.opts.pullIdleMs} ms`)), this.opts.pullIdleMs);
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        idle.refresh();
        feed.push(chunk);
      }
    } finally {
      clearTimeout(idle);
      this.skippedBefore += feed.skippedFrames;
      this.feed = undefined;
      if (feed.skippedFrames > 0) this.opts.log.warn({ stream: this.key, skippedFrames: feed.skippedFrames }, 'FFmpeg fell behind: source frames skipped');
    }
  }
}
