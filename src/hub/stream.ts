// One live stream (app/name): its publisher session, timeline, codec headers, metadata, GOP cache and
// viewers. Packets are normalized on arrival, offered to observers (HLS) at once, and written to viewers
// in batches: one timer per stream, not per viewer.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { MAX_SCRIPT_DATA_BYTES } from '../media/flv/script.js';
import { FLV_MAX_TAG_BODY } from '../media/flv/tag-writer.js';
import { TagType } from '../media/packet.js';
import { ByteSlab, inSlab } from '../media/slab.js';
import type { ByteAlloc } from '../media/slab.js';
import type { MediaPacket } from '../media/packet.js';
import { Timeline } from '../media/timeline.js';
import type { TimelineOptions } from '../media/timeline.js';
import type { Logger } from '../shared/log.js';
import { streamKey } from '../shared/url-contract.js';
import { Fanout } from './fanout.js';
import type { FanoutCounters, JoinState } from './fanout.js';
import type { ViewerProtocol, WireFormat } from './wire-formats.js';
import { GopCache } from './gop-cache.js';
import type { GopCacheLimits } from './gop-cache.js';
import { OutPacket, classify, parseTagHeader } from './out-packet.js';
import type { TagHeader } from './out-packet.js';
import { StreamInfo } from './stream-info.js';
import { Viewer } from './viewer.js';
import type { ViewerInfo, ViewerSink } from './viewer.js';
import type { SlowViewerLimits } from './viewer-policy.js';

export interface PublisherInfo {
  readonly id: string;
  readonly remoteAddress: string;
  readonly query: Readonly<Record<string, string>>;
  /**
   * The publisher writes the previous publisher's clock (a transcoder's rung, whose times are its
   * source's). A republish then keeps packets a little ahead at their own times, and codec headers sit at
   * the timeline position rather than at their own times. Unset: a republish continues one frame after the
   * last output, and every audio/video packet is mapped.
   */
  readonly keepClock?: boolean;
  /** Ends the publisher's connection (take-over, kick, shutdown). */
  close(reason: string): void;
}

/** In-process subscribers that see every normalized packet synchronously (the HLS service). */
export interface StreamObserver {
  onPublish?(stream: Stream, republish: boolean): void;
  /** `header`: the packet's parsed tag header, valid for this call (not kept with the packet in the GOP cache). */
  onPacket?(stream: Stream, packet: OutPacket, header: TagHeader | undefined): void;
  onUnpublish?(stream: Stream): void;
}

export interface StreamOptions {
  /** Write window: packets are gathered this long and written to viewers in one go. 0 writes each packet at once. */
  readonly writeBatchMs: number;
  readonly slowViewer: SlowViewerLimits;
  readonly gop?: GopCacheLimits;
  readonly timeline?: TimelineOptions;
  /**
   * How long viewers that allow it (ViewerInfo.keepAcrossRepublish) stay connected after the publisher
   * stops, waiting for a republish. 0 or unset: viewers end with the publisher.
   */
  readonly republishGraceMs?: number;
}

/**
 * The payload, copied out when it is a small view of a larger buffer (one socket read holding other
 * messages too). Kept in the GOP cache or as a header, a view pins the whole read: a publisher that sends
 * each small frame in a read with a large discarded message would make the cache's byte cap count a
 * fraction of the memory it holds.
 */
function ownBytes(payload: Buffer, alloc: ByteAlloc, media: boolean): Buffer {
  // A media frame may stay in slab memory (the RTMP reader's): the frames it shares it with are of the same
  // stream and age, so it is freed with them.
  if (payload.buffer.byteLength <= 2 * payload.length || (media && inSlab(payload))) return payload;
  const copy = alloc(payload.length);
  payload.copy(copy);
  return copy;
}

/**
 * Memory for the media frames ownBytes copies (audio frames and small video frames, ~60 a second per
 * stream): one buffer for many, not an ArrayBuffer each. A slab lives as long as its newest frame, i.e.
 * about as long as the GOP cache keeps frames; headers and metadata, kept for the stream's life, get
 * their own memory instead so that they never pin a slab.
 */
const MEDIA_SLAB_BYTES = 64 * 1024;
const ownMemory: ByteAlloc = (bytes) => Buffer.allocUnsafeSlow(bytes); // not a slice of the shared pool

export class Stream {
  publisher: PublisherInfo | undefined;
  /** Publish sessions so far; a later one is a republish. */
  sessions = 0;
  /**
   * The current publish session's id, random (unique across restarts of this process and across nodes):
   * HTTP-FLV answers carry it (PUBLICATION_HEADER) so that a relay reconnecting to this stream knows
   * whether it continues what it relayed. '' before the first publish.
   */
  publicationId = '';
  info = new StreamInfo();
  /** app/name, built once: observers look streams up by it for every packet. */
  readonly key: string;
  private readonly mediaSlab = new ByteSlab(MEDIA_SLAB_BYTES);
  private readonly timeline: Timeline;
  private readonly gop: GopCache;
  private seq = 0;
  /** performance.now() of the last packet pushed: a republish tells the timeline how long it was away. */
  private lastPacketAt = 0;
  private metadata: OutPacket | undefined;
  private videoHeader: OutPacket | undefined;
  private audioHeader: OutPacket | undefined;
  private readonly fanouts = new Map<WireFormat, Fanout>();
  private pending: OutPacket[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Ends the viewers kept after an unpublish when no republish came in time. */
  private graceTimer: NodeJS.Timeout | undefined;
  /** Viewers were kept over a republish: compare their FLV headers' tracks with the new session's. */
  private recheckTracks = false;
  // The timer's callback: nothing may escape it (an exception there ends the process). Packets are
  // refused at ingest when no encoder can take them, so a throw here is a bug: logged, batch lost.
  private readonly flushBound = (): void => {
    try {
      this.flush();
    } catch (err) {
      this.log.error({ stream: this.key, err }, 'fan-out flush failed');
    }
  };

  constructor(
    readonly app: string,
    readonly name: string,
    private readonly opts: StreamOptions,
    private readonly counters: FanoutCounters,
    private readonly observers: readonly StreamObserver[],
    private readonly log: Logger,
  ) {
    this.key = streamKey(app, name);
    this.timeline = new Timeline(opts.timeline);
    this.gop = new GopCache(opts.gop);
  }


  get live(): boolean {
    return this.publisher !== undefined;
  }

  /** Starts a publish session. A republish continues the same timeline after the last output. */
  attach(publisher: PublisherInfo): void {
    const republish = this.sessions > 0;
    this.publisher = publisher;
    this.sessions++;
    this.publicationId = randomBytes(8).toString('hex');
    this.info = new StreamInfo();
    // The time since the last packet lets a keepClock publisher whose clock ran on meanwhile keep its times.
    if (republish) this.timeline.discontinuity(publisher.keepClock ? { elapsedMs: performance.now() - this.lastPacketAt } : undefined);
    if (this.graceTimer) {
      clearTimeout(this.graceTimer);
      this.graceTimer = undefined;
      this.recheckTracks = true;
      for (const v of this.viewers()) v.sink.publisherChanged?.('republish');
    }
    for (const o of this.observers) o.onPublish?.(this, republish);
  }

  /**
   * The publisher's source changed within its session: an edge relay's upstream now carries another
   * publication (the stream moved to another origin, or was published anew), whose times need not follow
   * ours. Its next packets are placed as a same-clock republish's (media/timeline.ts): kept when they lie
   * ahead by at most the jump limit plus the time since our last packet (an upstream that continued its
   * own timeline), else one frame after the last output. Viewers stay as they are.
   */
  sourceChanged(): void {
    if (this.publisher) this.timeline.discontinuity({ elapsedMs: performance.now() - this.lastPacketAt });
  }

  /**
   * Ends the session: pending packets are written, observers told, and viewers ended cleanly, except
   * those that wait for a republish within the grace (they keep their place in the timeline).
   */
  detach(): void {
    if (!this.publisher) return;
    this.flush();
    this.publisher = undefined;
    const graceMs = this.opts.republishGraceMs ?? 0;
    let kept = 0;
    for (const v of this.viewers()) {
      if (graceMs > 0 && v.info.keepAcrossRepublish) {
        kept++;
        v.sink.publisherChanged?.('unpublish');
      } else {
        this.closeViewer(v, 'stream ended', false);
      }
    }
    if (kept > 0) {
      this.graceTimer = setTimeout(() => this.endViewers('stream ended'), graceMs);
      this.graceTimer.unref();
    }
    this.recheckTracks = false;
    this.metadata = this.videoHeader = this.audioHeader = undefined;
    this.gop.clear();
    for (const o of this.observers) o.onUnpublish?.(this);
  }

  /** Ends the viewers kept after an unpublish (grace over, shutdown). */
  endViewers(reason: string): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    if (this.live) return;
    for (const v of this.viewers()) this.closeViewer(v, reason, false);
  }

  /** A packet from the publisher, with its raw 32-bit timestamp. */
  push(raw: MediaPacket): void {
    if (!this.publisher) return;
    if (raw.payload.length > (raw.type === TagType.Script ? MAX_SCRIPT_DATA_BYTES : FLV_MAX_TAG_BODY)) {
      // Refused here, once: later the FLV/RTMP encoders would throw for every viewer, in the flush timer.
      this.log.warn({ stream: this.key, type: raw.type, bytes: raw.payload.length }, 'oversized packet dropped');
      return;
    }
    const now = performance.now();
    this.lastPacketAt = now;
    const header = parseTagHeader(raw);
    const kind = classify(raw, header);
    // A keepClock publisher's codec headers sit at the current position like script data: FFmpeg's FLV
    // muxer writes them at 0 whatever its frames' times (-copyts, a transcoder started mid-stream), and
    // mapped they would make the first frame look like a jump, rebasing a rung off its source's timeline.
    const codecHeader = kind === 'video-header' || kind === 'audio-header';
    const timestamp =
      raw.type === TagType.Script || (codecHeader && this.publisher.keepClock === true)
        ? this.timeline.script()
        : this.timeline.map(raw.type === TagType.Video ? 'video' : 'audio', raw.timestamp);
    const randomAccess = kind === 'video-key' || (kind === 'audio' && !this.info.hasVideo);
    const media = kind === 'video' || kind === 'video-key' || kind === 'audio';
    const payload = ownBytes(raw.payload, media ? this.mediaSlab.alloc : ownMemory, media);
    const p = new OutPacket(this.seq++, { type: raw.type, timestamp, payload }, kind, randomAccess, now);
    this.info.observe(p, Date.now(), header);
    if (this.recheckTracks && p.isMedia) this.closeTrackMismatches();
    if (kind === 'metadata') this.metadata = p;
    else if (kind === 'video-header') this.videoHeader = p;
    else if (kind === 'audio-header') this.audioHeader = p;
    else this.gop.push(p);
    for (const o of this.observers) o.onPacket?.(this, p, header);
    if (this.fanouts.size === 0) return; // nobody to write to: nothing to batch
    this.pending.push(p);
    if (this.opts.writeBatchMs <= 0) this.flush();
    else this.timer ??= setTimeout(this.flushBound, this.opts.writeBatchMs);
  }

  /** Adds a viewer; it gets metadata, headers and the GOP cache at once (or as soon as tracks are known). */
  addViewer(format: WireFormat, sink: ViewerSink, info: ViewerInfo): Viewer {
    let fanout = this.fanouts.get(format);
    if (!fanout) {
      fanout = new Fanout(format, this, this.opts.slowViewer, this.counters, (v) => this.closeViewer(v, 'too slow', true));
      this.fanouts.set(format, fanout);
    }
    const v = new Viewer(format.protocol, info, sink);
    fanout.add(v);
    return v;
  }

  /** The viewer went away (socket closed, player stopped). */
  removeViewer(v: Viewer): void {
    v.closed = true;
    for (const [key, f] of this.fanouts) {
      f.remove(v);
      if (f.viewers.size === 0) this.fanouts.delete(key);
    }
  }

  viewers(): Viewer[] {
    return [...this.fanouts.values()].flatMap((f) => [...f.viewers]);
  }

  viewerCount(protocol: ViewerProtocol): number {
    let n = 0;
    for (const f of this.fanouts.values()) if (f.format.protocol === protocol) n += f.viewers.size;
    return n;
  }

  // FanoutSource
  joinState(): JoinState | undefined {
    const tracks = this.info.tracks();
    if (!tracks) return undefined;
    const packets: OutPacket[] = [];
    if (this.metadata) packets.push(this.metadata);
    packets.push(...this.headers(), ...this.gop.packets());
    return { tracks, packets, nextSeq: this.seq, waitKey: this.gop.needsKeyframe };
  }

  headers(): OutPacket[] {
    const h: OutPacket[] = [];
    if (this.videoHeader) h.push(this.videoHeader);
    if (this.audioHeader) h.push(this.audioHeader);
    return h;
  }

  /** The latest video keyframe and the codec header it decodes with (snapshots); undefined without both. */
  keyframe(): { readonly header: OutPacket; readonly key: OutPacket } | undefined {
    const key = this.gop.keyframe();
    return key && this.videoHeader ? { header: this.videoHeader, key } : undefined;
  }

  get gopBytes(): number {
    return this.gop.bytes;
  }

  /** Writes the pending window to every viewer. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const now = Date.now();
    for (const f of this.fanouts.values()) f.deliver(batch, now);
  }

  /**
   * An FLV header announces the tracks once. A kept viewer whose header does not match the new session
   * (a track added or gone) is ended so that its player reconnects, rather than wait for a missing track
   * or ignore a new one. Checked at the first media frame, when metadata and codec headers are in.
   */
  private closeTrackMismatches(): void {
    this.recheckTracks = false;
    const now = this.info.tracks();
    for (const v of this.viewers()) {
      if (v.tracks && now && (v.tracks.audio !== now.audio || v.tracks.video !== now.video)) {
        this.closeViewer(v, 'tracks changed on republish', false);
      }
    }
  }

  private closeViewer(v: Viewer, reason: string, hard: boolean): void {
    if (v.closed) return;
    this.removeViewer(v);
    this.log.info({ stream: this.key, viewer: v.info.id, protocol: v.protocol, reason, dropped: v.droppedFrames }, 'viewer closed');
    if (hard) v.sink.abort(reason);
    else v.sink.end(reason);
  }
}
