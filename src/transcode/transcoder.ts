// One source stream's ladder: one FFmpeg child that reads the source as FLV on stdin (flv-feed.ts),
// decodes it once and writes each rung as FLV to its own pipe (fd 3, 4, …; ffmpeg-args.ts). Each pipe is
// read with the FLV reader and published into the hub as the stream {source}_{rung}, so every output
// (HTTP-FLV, RTMP play, HLS, the edges) serves rungs as ordinary streams. A child that dies is restarted
// with backoff; its rung publications end and publish again (the hub keeps FLV viewers over the gap and
// HLS marks a discontinuity). Every child-process, pipe and timer callback here catches what it throws:
// a dying FFmpeg must cost its ladder a restart, never the origin.
import type { Readable, Writable } from 'node:stream';
import type { Hub, PublishOutcome } from '../hub/hub.js';
import { classify } from '../hub/out-packet.js';
import type { OutPacket } from '../hub/out-packet.js';
import { FlvReader } from '../media/flv/reader.js';
import type { MediaPacket } from '../media/packet.js';
import { spawnFfmpeg } from '../shared/ffmpeg.js';
import type { FfmpegProcess } from '../shared/ffmpeg.js';
import type { Logger } from '../shared/log.js';
import { renditionStream, streamKey } from '../shared/url-contract.js';
import { FIRST_OUTPUT_FD, pipeOutputs, transcodeArgs } from './ffmpeg-args.js';
import type { AudioHandling } from './ffmpeg-args.js';
import { FlvFeed } from './flv-feed.js';
import type { Rung, TranscodeSettings } from './ladder.js';
import { ProgressParser } from './progress.js';

export interface TranscoderLimits {
  /** Source bytes queued for FFmpeg's stdin before the feed skips to a later keyframe. */
  readonly maxBacklogBytes: number;
  /** Largest FLV tag accepted from a rung pipe (FlvReader's maxTagSize). */
  readonly maxTagBytes: number;
  /** First restart delay; doubled per restart up to restartMaxMs. */
  readonly restartInitialMs: number;
  readonly restartMaxMs: number;
  /** A child that ran this long restarts after restartInitialMs again. */
  readonly restartResetAfterMs: number;
  /** SIGTERM, then SIGKILL after this. */
  readonly stopGraceMs: number;
}

export const TRANSCODER_DEFAULTS: TranscoderLimits = {
  maxBacklogBytes: 8 * 1024 * 1024,
  maxTagBytes: 8 * 1024 * 1024,
  restartInitialMs: 500,
  restartMaxMs: 10_000,
  restartResetAfterMs: 30_000,
  stopGraceMs: 2000,
};

/**
 * Delays between restarts of a child that keeps dying: restartInitialMs, doubling up to restartMaxMs; a
 * child that ran restartResetAfterMs counts as healthy and the next delay is the first again. Shared
 * with the remote transcoder (remote-job.ts).
 */
export class RestartBackoff {
  private nextMs: number;

  constructor(private readonly limits: Pick<TranscoderLimits, 'restartInitialMs' | 'restartMaxMs' | 'restartResetAfterMs'> = TRANSCODER_DEFAULTS) {
    this.nextMs = limits.restartInitialMs;
  }

  /** The delay before the next start, given how long the last one ran. */
  next(upMs: number): number {
    if (upMs >= this.limits.restartResetAfterMs) this.nextMs = this.limits.restartInitialMs;
    const delay = this.nextMs;
    this.nextMs = Math.min(this.nextMs * 2, this.limits.restartMaxMs);
    return delay;
  }
}

/** FFmpeg's warnings logged per child (the rest are counted), and kept for the exit log. */
const STDERR_LOG_LINES = 20;
const STDERR_KEEP_LINES = 5;
const STDERR_MAX_LINE = 500;

export interface TranscoderOptions {
  readonly hub: Hub;
  readonly app: string;
  /** The source stream's name. */
  readonly source: string;
  /** Highest first; all below the source's height. */
  readonly rungs: readonly Rung[];
  readonly settings: TranscodeSettings;
  readonly sourceFps: number | undefined;
  readonly audio: AudioHandling;
  readonly log: Logger;
  readonly limits?: Partial<TranscoderLimits>;
}

/** A rung's hub publication in one child's life: none yet, live, or closed by the hub (take-over, kick). */
type Publication = Extract<PublishOutcome, { ok: true }> | 'none' | 'closed';

/** One FFmpeg child and what hangs off it. */
interface Child {
  readonly proc: FfmpegProcess;
  readonly feed: FlvFeed;
  readonly stdin: Writable;
  readonly pubs: Publication[];
  /** Per rung: FFmpeg's metadata and codec headers, held until its first frame (see publish()). */
  readonly held: MediaPacket[][];
  readonly startedAt: number;
  /** Set once the child is gone or being stopped: nothing more is fed or published. */
  dead: boolean;
  stderrLines: number;
  readonly lastLines: string[];
}

export class Transcoder {
  /** Children restarted after dying on their own. */
  restarts = 0;
  /** Encoding speed (x real time) from the latest progress block of the running child. */
  speed: number | undefined;
  private readonly limits: TranscoderLimits;
  private readonly key: string;
  private child: Child | undefined;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly backoff: RestartBackoff;
  private stopping: Promise<void> | undefined;
  /** Frames skipped by the feeds of children that have ended. */
  private skippedBefore = 0;

  constructor(private readonly o: TranscoderOptions) {
    this.limits = { ...TRANSCODER_DEFAULTS, ...o.limits };
    this.backoff = new RestartBackoff(this.limits);
    this.key = streamKey(o.app, o.source);
  }

  get rungs(): readonly Rung[] {
    return this.o.rungs;
  }

  /** Rung streams published now. */
  get rungsUp(): number {
    return this.child ? this.child.pubs.filter((p) => typeof p === 'object').length : 0;
  }

  /** Whether a child is running (false between a crash and its restart). */
  get running(): boolean {
    return this.child !== undefined && !this.child.dead;
  }

  /** Source frames the feeds dropped because FFmpeg fell behind, over every child so far. */
  get skippedFrames(): number {
    return this.skippedBefore + (this.child && !this.child.dead ? this.child.feed.skippedFrames : 0);
  }

  /** Spawns the first child; it is fed from the source's next keyframe on. */
  start(): void {
    if (this.stopped || this.child || this.restartTimer) return;
    this.trySpawn();
  }

  /** A source packet (the hub's observer call): fed to the running child. */
  packet(p: OutPacket): void {
    const c = this.child;
    if (!c || c.dead) return;
    c.feed.packet(p);
  }

  /** Stops the child and ends the rung streams (source unpublished, no more viewers, shutdown). */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      if (this.restartTimer) clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
      const c = this.child;
      if (!c) return;
      this.retire(c);
      await c.proc.stop(this.limits.stopGraceMs);
    })();
    return this.stopping;
  }

  private spawn(): void {
    const { rungs } = this.o;
    const args = transcodeArgs({
      input: 'pipe:0',
      rungs,
      outputs: pipeOutputs(rungs.length),
      settings: this.o.settings,
      sourceFps: this.o.sourceFps,
      audio: this.o.audio,
    });
    const proc = spawnFfmpeg(args, { stdio: ['pipe', 'pipe', 'pipe', ...rungs.map(() => 'pipe' as const)] });
    const { stdin, stdout, stderr } = proc.child;
    const rungPipes = rungs.map((_, i) => proc.child.stdio[FIRST_OUTPUT_FD + i] as Readable | null);
    if (!stdin || !stdout || !stderr || rungPipes.some((pipe) => !pipe)) {
      // Node made no pipes (EMFILE, ENFILE: its 'error' event follows, which spawnFfmpeg listens to).
      void proc.stop(this.limits.stopGraceMs);
      throw new Error('FFmpeg was spawned without its pipes');
    }
    const c: Child = {
      proc,
      stdin,
      feed: new FlvFeed({ write: (b) => this.write(c, b), get backlog() { return stdin.writableLength; } }, this.limits.maxBacklogBytes),
      pubs: rungs.map(() => 'none'),
      held: rungs.map(() => []),
      startedAt: Date.now(),
      dead: false,
      stderrLines: 0,
      lastLines: [],
    };
    this.child = c;
    this.speed = undefined;
    this.o.log.info({ stream: this.key, rungs: rungs.map((r) => r.name), pid: proc.child.pid }, 'transcoder started');
    // EPIPE when the child dies with bytes queued: the exit is handled once, below.
    stdin.on('error', (err) => this.o.log.debug({ stream: this.key, err: String(err) }, 'transcoder stdin error'));
    this.readProgress(c, stdout);
    this.readStderr(c, stderr);
    (rungPipes as Readable[]).forEach((pipe, i) => this.readRung(c, i, pipe));
    let closed = false;
    const onGone = (code: number | null, signal: string | null): void => {
      if (closed) return;
      closed = true;
      try {
        this.exited(c, code, signal);
      } catch (err) {
        this.o.log.error({ stream: this.key, err: String(err) }, 'transcoder exit handling failed');
      }
    };
    // 'close' comes after the exit once every pipe is drained (the last rung frames are published); a
    // spawn failure emits 'error' and then 'close' too.
    proc.child.once('close', (code, signal) => onGone(code, signal));
    proc.child.once('error', (err) => this.o.log.error({ stream: this.key, err: String(err) }, 'transcoder spawn failed'));
    const source = this.o.hub.get(this.o.app, this.o.source);
    const join = source?.joinState();
    c.feed.begin(join?.tracks ?? { audio: this.o.audio !== 'none', video: true }, join?.packets ?? []);
  }

  private write(c: Child, bytes: Buffer): void {
    if (c.dead || c.stdin.destroyed || !c.stdin.writable) return;
    c.stdin.write(bytes);
  }

  private readProgress(c: Child, stdout: Readable): void {
    const parser = new ProgressParser();
    stdout.setEncoding('latin1');
    stdout.on('data', (text: string) => {
      try {
        for (const p of parser.push(text)) if (!c.dead && p.speed !== undefined) this.speed = p.speed;
      } catch (err) {
        this.o.log.error({ stream: this.key, err: String(err) }, 'transcoder progress failed');
      }
    });
    stdout.on('error', () => undefined);
  }

  private readStderr(c: Child, stderr: Readable): void {
    let partial = '';
    stderr.setEncoding('utf8');
    stderr.on('data', (text: string) => {
      const lines = (partial + text).split('\n');
      partial = (lines.pop() ?? '').slice(0, STDERR_MAX_LINE);
      for (const raw of lines) {
        const line = raw.trim().slice(0, STDERR_MAX_LINE);
        if (!line) continue;
        c.lastLines.push(line);
        if (c.lastLines.length > STDERR_KEEP_LINES) c.lastLines.shift();
        if (++c.stderrLines <= STDERR_LOG_LINES) this.o.log.warn({ stream: this.key, ffmpeg: line }, 'transcoder says');
      }
    });
    stderr.on('error', () => undefined);
  }

  private readRung(c: Child, i: number, pipe: Readable): void {
    const reader = new FlvReader({ maxTagSize: this.limits.maxTagBytes });
    pipe.on('data', (chunk: Buffer) => {
      if (c.dead) return;
      let packets: MediaPacket[];
      try {
        packets = reader.push(chunk);
      } catch (err) {
        // Not FLV as FFmpeg writes it: this child is broken; a restart gets a clean one.
        this.o.log.error({ stream: this.key, rung: this.o.rungs[i]?.name, err: String(err) }, 'transcoder output unreadable');
        void c.proc.stop(this.limits.stopGraceMs);
        return;
      }
      try {
        for (const p of packets) this.publish(c, i, p);
      } catch (err) {
        this.o.log.error({ stream: this.key, rung: this.o.rungs[i]?.name, err: String(err) }, 'transcoder publish failed');
      }
    });
    pipe.on('error', () => undefined);
  }

  /**
   * Publishes rung i at its first frame, so that a rung is live only once it has one. FFmpeg's FLV muxer
   * stamps the metadata and codec headers it writes first 0, while the frames carry the source's times
   * (-copyts): the headers are held and pushed with the first frame's time, or the hub's timeline would
   * see a jump from 0 and move the rung off the source's times.
   */
  private publish(c: Child, i: number, p: MediaPacket): void {
    let pub = c.pubs[i];
    if (pub === 'closed') return;
    if (pub === 'none' || pub === undefined) {
      const kind = classify(p);
      const held = c.held[i] as MediaPacket[];
      if (kind !== 'video' && kind !== 'video-key' && kind !== 'audio') {
        // A header replaces an earlier one of its kind: at most metadata and two codec headers are kept.
        const same = held.findIndex((h) => h.type === p.type && classify(h) === kind);
        if (same >= 0) held.splice(same, 1);
        held.push(p);
        return;
      }
      const rung = this.o.rungs[i] as Rung;
      const name = renditionStream(this.o.source, rung.name);
      const outcome = this.o.hub.publish(this.o.app, name, {
        id: `transcode:${this.o.source}`,
        remoteAddress: '127.0.0.1',
        query: {},
        // The rung's times are its source's (-copyts), across restarts too.
        keepClock: true,
        // Take-over by another publisher, a kick, shutdown: this rung stays off until the next child.
        close: (reason) => {
          if (c.pubs[i] !== 'closed') this.o.log.info({ stream: streamKey(this.o.app, name), reason }, 'rung publication closed');
          c.pubs[i] = 'closed';
        },
      });
      if (!outcome.ok) {
        this.o.log.warn({ stream: streamKey(this.o.app, name), reason: outcome.reason }, 'rung stream refused by the hub');
        c.pubs[i] = 'closed';
        return;
      }
      pub = outcome;
      c.pubs[i] = pub;
      for (const h of held) pub.push({ ...h, timestamp: p.timestamp });
      held.length = 0;
    }
    pub.push(p);
  }

  /** Ends this child's rung publications; it gets no more input. */
  private retire(c: Child): void {
    if (c.dead) return;
    c.dead = true;
    this.skippedBefore += c.feed.skippedFrames;
    c.pubs.forEach((pub, i) => {
      if (typeof pub === 'object') pub.end();
      c.pubs[i] = 'closed';
    });
    c.stdin.destroy();
  }

  private exited(c: Child, code: number | null, signal: string | null): void {
    this.retire(c);
    if (this.child !== c) return;
    this.child = undefined;
    this.speed = undefined;
    const upMs = Date.now() - c.startedAt;
    if (this.stopped) {
      this.o.log.info({ stream: this.key, code, signal, upMs }, 'transcoder stopped');
      return;
    }
    this.o.log.warn({ stream: this.key, code, signal, upMs, stderr: c.lastLines }, 'transcoder exited');
    this.scheduleRestart(upMs);
  }

  private scheduleRestart(upMs: number): void {
    const delay = this.backoff.next(upMs);
    this.restarts++;
    this.o.log.info({ stream: this.key, delayMs: delay, restarts: this.restarts }, 'transcoder restart scheduled');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopped) this.trySpawn();
    }, delay);
    this.restartTimer.unref();
  }

  /** Spawns a child; when that fails (out of file descriptors, …), tries again later like after an exit. */
  private trySpawn(): void {
    try {
      this.spawn();
    } catch (err) {
      this.o.log.error({ stream: this.key, err: String(err) }, 'transcoder spawn failed');
      const c = this.child;
      this.child = undefined;
      if (c) {
        this.retire(c);
        void c.proc.stop(this.limits.stopGraceMs);
      }
      this.scheduleRestart(0);
    }
  }
}
