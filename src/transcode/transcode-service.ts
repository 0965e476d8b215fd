// The origin's transcoding: a hub observer that runs one Transcoder per live source of an app with a
// ladder, and the Renditions directory the HLS service, the FLV route and the APIs ask. A source starts
// its ladder at its first keyframe (then its height, frame rate and audio codec are known), or, on
// demand, at the first keyframe after a viewer asked for one of its rungs; an on-demand ladder stops when
// no rung has had a viewer for idleMs. Rung streams ({stream}_{rung}) are never sources themselves.
// With `local: false` (--transcode-remote) nothing is spawned: a remote transcoder publishes the rungs,
// and this only answers from the ladder config.
import type { Hub } from '../hub/hub.js';
import type { OutPacket } from '../hub/out-packet.js';
import type { RenditionInfo, Renditions } from '../hub/renditions.js';
import type { Stream, StreamObserver } from '../hub/stream.js';
import type { TranscodeJob, TranscodeStat } from '../shared/cluster.js';
import { requireFfmpeg } from '../shared/ffmpeg.js';
import type { Logger } from '../shared/log.js';
import { isValidName, renditionStream, SOURCE_RUNG, streamKey } from '../shared/url-contract.js';
import type { AudioHandling } from './ffmpeg-args.js';
import { rungsFor } from './ladder.js';
import type { LadderConfig, Rung, TranscodeSettings } from './ladder.js';
import { Transcoder } from './transcoder.js';
import type { TranscoderLimits } from './transcoder.js';

export interface TranscodeServiceOptions {
  readonly hub: Hub;
  readonly ladders: LadderConfig;
  readonly settings: TranscodeSettings;
  /** Ladders start when a viewer asks for a rung (demand()) and stop after idleMs without rung viewers. */
  readonly onDemand: boolean;
  readonly idleMs: number;
  /** false: a remote transcoder makes the rungs; nothing is spawned here. */
  readonly local: boolean;
  /** HLS viewers of a stream (the origin's HLS service), counted with hub viewers for on-demand idling. */
  readonly hlsViewers?: (app: string, stream: string) => number;
  readonly limits?: Partial<TranscoderLimits>;
  readonly log: Logger;
}

interface SourceState {
  readonly app: string;
  readonly name: string;
  /** Start a transcoder at the next keyframe. */
  wanted: boolean;
  transcoder: Transcoder | undefined;
  lastWatched: number;
  /** When its transcoder started, or was last seen with every rung up (on-demand idling, checkIdle). */
  upOrStartedAt: number;
  /** Restarts of this source's earlier transcoders (on demand: stopped and started again). */
  restartsBefore: number;
}

/**
 * How long an on-demand ladder coming up counts as watched (at least idleMs): FFmpeg's start to its first
 * rung frames, after a restart delay of up to TRANSCODER_DEFAULTS.restartMaxMs (10 s).
 */
const STARTUP_ALLOWANCE_MS = 15_000;

/** A rung stream's name split: {source}_{rung} (rung names have no '_'). */
function splitRendition(name: string): { source: string; rung: string } | undefined {
  const at = name.lastIndexOf('_');
  return at > 0 ? { source: name.slice(0, at), rung: name.slice(at + 1) } : undefined;
}

/** AAC is copied into every rung; other audio is encoded (once per rung) to AAC. */
function audioHandling(stream: Stream): AudioHandling {
  const audio = stream.info.toJSON().audio;
  if (!audio) return 'none';
  return audio.codec === 'aac' ? 'copy' : 'encode';
}

export class TranscodeService implements StreamObserver, Renditions {
  private readonly sources = new Map<string, SourceState>();
  private idleTimer: NodeJS.Timeout | undefined;
  /** Restarts and skipped source frames of transcoders that have ended (the metrics' running totals). */
  private retiredRestarts = 0;
  private retiredSkippedFrames = 0;
  /** Transcoders being stopped: close() waits for their children to exit. */
  private readonly stopping = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly o: TranscodeServiceOptions) {}

  /** Checks that FFmpeg runs (throws requireFfmpeg's error when not) and starts the idle checks. */
  async start(): Promise<void> {
    if (this.o.local && this.o.ladders.size > 0) {
      const path = await requireFfmpeg();
      this.o.log.info({ ffmpeg: path, apps: [...this.o.ladders.keys()], onDemand: this.o.onDemand }, 'transcoding on');
    }
    if (this.o.local && this.o.onDemand && !this.idleTimer) {
      this.idleTimer = setInterval(() => this.checkIdle(), Math.max(250, Math.min(5000, this.o.idleMs / 4)));
      this.idleTimer.unref();
    }
  }

  /** Stops every transcoder (shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.idleTimer = undefined;
    for (const s of this.sources.values()) void this.stopTranscoder(s);
    this.sources.clear();
    await Promise.all([...this.stopping]);
  }

  // ---- StreamObserver ----

  onPublish(stream: Stream): void {
    if (this.closed || !this.isSource(stream.app, stream.name)) return;
    const prev = this.sources.get(stream.key);
    if (prev) void this.stopTranscoder(prev);
    this.sources.set(stream.key, {
      app: stream.app,
      name: stream.name,
      wanted: this.o.local && !this.o.onDemand,
      transcoder: undefined,
      lastWatched: Date.now(),
      upOrStartedAt: Date.now(),
      restartsBefore: prev?.restartsBefore ?? 0,
    });
  }

  onPacket(stream: Stream, p: OutPacket): void {
    const s = this.sources.get(stream.key);
    if (!s) return;
    if (s.transcoder) return s.transcoder.packet(p);
    if (s.wanted && p.kind === 'video-key') this.begin(s, stream, p);
  }

  onUnpublish(stream: Stream): void {
    const s = this.sources.get(stream.key);
    if (!s) return;
    this.sources.delete(stream.key);
    void this.stopTranscoder(s);
  }

  // ---- Renditions ----

  /**
   * Local: the configured rungs, which run or start on demand. Remote: only the rungs a transcoder
   * publishes now; one that none makes would be picked by players and answer nothing but 503s.
   */
  ladderOf(app: string, stream: string): readonly RenditionInfo[] | undefined {
    const ladder = this.configuredLadder(app, stream);
    if (!ladder || this.o.local) return ladder;
    return ladder.filter((r) => r.rung === SOURCE_RUNG || this.o.hub.get(app, r.stream));
  }

  sourceOf(app: string, name: string): { readonly source: string; readonly info: RenditionInfo } | undefined {
    const split = splitRendition(name);
    if (!split) return undefined;
    // The configured ladder: a remote rung is a rung before it publishes, too (the origin's RTMP publish).
    const info = this.configuredLadder(app, split.source)?.find((r) => r.rung === split.rung);
    return info ? { source: split.source, info } : undefined;
  }

  /** The source's ladder as configured: the source, then its rungs highest first; undefined without one. */
  private configuredLadder(app: string, stream: string): RenditionInfo[] | undefined {
    const rungs = this.rungsOf(app, stream);
    if (!rungs) return undefined;
    const height = this.o.hub.get(app, stream)?.info.toJSON().video?.height;
    return [
      { rung: SOURCE_RUNG, stream, ...(height !== undefined ? { height } : {}) },
      ...rungs.map((r) => ({
        rung: r.name,
        stream: renditionStream(stream, r.name),
        height: r.height,
        videoBps: r.videoKbps * 1000,
        audioBps: r.audioKbps * 1000,
        maxFps: r.maxFps,
      })),
    ];
  }

  demand(app: string, name: string): boolean {
    const found = this.sourceOf(app, name);
    if (!found || found.info.rung === SOURCE_RUNG) return false;
    const s = this.sources.get(streamKey(app, found.source));
    if (!s) return false;
    s.lastWatched = Date.now();
    if (this.o.local && !s.transcoder && !s.wanted) {
      this.o.log.info({ stream: streamKey(app, found.source), rung: found.info.rung }, 'transcoder wanted by a viewer');
      s.wanted = true;
    }
    return true;
  }

  // ---- for the APIs and metrics ----

  /** The transcoder of a source with a ladder (/api/streams, heartbeats). */
  stats(app: string, stream: string): TranscodeStat | undefined {
    const ladder = this.configuredLadder(app, stream);
    if (!ladder) return undefined;
    if (!this.o.local) {
      const rungsUp = ladder.filter((r) => r.rung !== SOURCE_RUNG && this.o.hub.get(app, r.stream)).length;
      return { where: 'remote', rungsUp, restarts: 0, speed: null };
    }
    const s = this.sources.get(streamKey(app, stream));
    const t = s?.transcoder;
    return { where: 'local', rungsUp: t?.rungsUp ?? 0, restarts: (s?.restartsBefore ?? 0) + (t?.restarts ?? 0), speed: t?.speed ?? null };
  }

  /** What a transcoder must make of a source (its rungs below the source's height, settings, audio, fps). */
  jobOf(app: string, stream: string): TranscodeJob | undefined {
    const rungs = this.rungsOf(app, stream);
    const source = this.o.hub.get(app, stream);
    if (!rungs || !source) return undefined;
    return {
      rungs,
      preset: this.o.settings.preset,
      tune: this.o.settings.tune ?? null,
      audio: audioHandling(source),
      sourceFps: source.info.toJSON().video?.fps ?? null,
    };
  }

  /**
   * Totals over all sources: running transcoders, rung streams up, restarts and source frames skipped
   * (FFmpeg fell behind) so far, the slowest speed.
   */
  totals(): { transcoders: number; rungsUp: number; restarts: number; skippedFrames: number; slowestSpeed: number | undefined } {
    let transcoders = 0;
    let rungsUp = 0;
    let restarts = this.retiredRestarts;
    let skippedFrames = this.retiredSkippedFrames;
    let slowest: number | undefined;
    for (const s of this.sources.values()) {
      const t = s.transcoder;
      if (!t) continue;
      if (t.running) transcoders++;
      rungsUp += t.rungsUp;
      restarts += t.restarts;
      skippedFrames += t.skippedFrames;
      if (t.speed !== undefined) slowest = Math.min(slowest ?? Infinity, t.speed);
    }
    return { transcoders, rungsUp, restarts, skippedFrames, slowestSpeed: slowest };
  }

  // ---- internals ----

  /** app/name may have a ladder: its app has one and the name is not a rendition's. */
  private isSource(app: string, name: string): boolean {
    const ladder = this.o.ladders.get(app);
    if (!ladder) return false;
    const split = splitRendition(name);
    return !(split && (split.rung === SOURCE_RUNG || ladder.some((r) => r.name === split.rung)));
  }

  /**
   * The rungs of a live source: its app's ladder below the source's height, once the height is known
   * (its video header). Undefined when there are none, or when a rung's stream name would be too long.
   * H.264 sources only: FFmpeg reads HEVC and AV1 from enhanced FLV only from version 6.1 on.
   */
  private rungsOf(app: string, stream: string): Rung[] | undefined {
    const ladder = this.o.ladders.get(app);
    if (!ladder || !this.isSource(app, stream)) return undefined;
    const video = this.o.hub.get(app, stream)?.info.toJSON().video;
    const height = video?.codec === 'h264' ? video.height : undefined;
    if (height === undefined) return undefined;
    const rungs = rungsFor(ladder, { height });
    if (rungs.length === 0 || !rungs.every((r) => isValidName(renditionStream(stream, r.name)))) return undefined;
    return rungs;
  }

  private begin(s: SourceState, stream: Stream, key: OutPacket): void {
    s.wanted = false;
    const rungs = this.rungsOf(s.app, s.name);
    if (!rungs) {
      const video = stream.info.toJSON().video;
      this.o.log.info({ stream: stream.key, codec: video?.codec ?? null, height: video?.height ?? null }, 'not transcoded: not H.264, no rung below the source, or a rung name too long');
      return;
    }
    const t = new Transcoder({
      hub: this.o.hub,
      app: s.app,
      source: s.name,
      rungs,
      settings: this.o.settings,
      sourceFps: stream.info.toJSON().video?.fps,
      audio: audioHandling(stream),
      log: this.o.log,
      ...(this.o.limits ? { limits: this.o.limits } : {}),
    });
    s.transcoder = t;
    s.lastWatched = s.upOrStartedAt = Date.now();
    // A spawn that fails (no file descriptors left) is retried like a restart.
    t.start();
    t.packet(key);
  }

  private async stopTranscoder(s: SourceState): Promise<void> {
    const t = s.transcoder;
    if (!t) return;
    s.transcoder = undefined;
    s.restartsBefore += t.restarts;
    this.retiredRestarts += t.restarts;
    const stopped = t.stop().catch((err: unknown) => this.o.log.error({ stream: streamKey(s.app, s.name), err: String(err) }, 'transcoder stop failed'));
    // stop() has ended the child's feed at once: its count is final.
    this.retiredSkippedFrames += t.skippedFrames;
    this.stopping.add(stopped);
    await stopped;
    this.stopping.delete(stopped);
  }

  /**
   * On demand: a ladder whose rungs had no viewer (hub or HLS) for idleMs is stopped. A ladder coming up
   * (started, or restarting after it had every rung up) has viewers waiting for it (play waits, held
   * playlist requests) that no stream counts yet: it counts as watched for a start-up allowance. Past
   * that, viewers alone count, so that a rung that stays closed or an FFmpeg that keeps dying before its
   * rungs are up does not keep the ladder forever.
   */
  private checkIdle(): void {
    try {
      const now = Date.now();
      const allowanceMs = Math.max(this.o.idleMs, STARTUP_ALLOWANCE_MS);
      for (const s of this.sources.values()) {
        const t = s.transcoder;
        if (!t) continue;
        let viewers = 0;
        for (const r of t.rungs) {
          const name = renditionStream(s.name, r.name);
          viewers += (this.o.hub.get(s.app, name)?.viewers().length ?? 0) + (this.o.hlsViewers?.(s.app, name) ?? 0);
        }
        const up = t.rungsUp === t.rungs.length;
        if (up) s.upOrStartedAt = now;
        const comingUp = !up && now - s.upOrStartedAt <= allowanceMs;
        if (viewers > 0 || comingUp) s.lastWatched = now;
        else if (now - s.lastWatched > this.o.idleMs) {
          this.o.log.info({ stream: streamKey(s.app, s.name), idleMs: now - s.lastWatched }, 'transcoder idle: stopping');
          void this.stopTranscoder(s);
        }
      }
    } catch (err) {
      this.o.log.error({ err: String(err) }, 'transcoder idle check failed');
    }
  }
}
