// FLV/RTMP media packets -> HLS segments: the pipeline demux (media/flv/demux.ts) -> cut (cutter.ts,
// part-cutter.ts) -> write (a SegmentWriter: MPEG-TS or fMP4). Pure: the caller feeds packets and stores
// what comes out (segments returned by push(); init segments, LL-HLS parts and their chunks through the
// sink as they are made). MPEG-TS carries H.264 video only: in TS, HEVC/AV1 video is dropped and such a
// stream is segmented as audio-only; fMP4 carries all three.
import { MP3_CODEC_STRING, aacCodecString } from '../codec.js';
import { FlvDemuxer } from '../flv/demux.js';
import type { AudioAccessUnit, VideoAccessUnit, VideoConfig } from '../flv/demux.js';
import type { AudioTagHeader, VideoTagHeader } from '../flv/tag-header.js';
import { MediaFormatError } from '../error.js';
import type { MediaPacket } from '../packet.js';
import { ms } from '../time.js';
import type { Ms } from '../time.js';
import { FOLLOW_TOLERANCE_MS, SegmentCutter } from './cutter.js';
import type { CutterOptions, Cut, OpenSegment, SegmentLeader } from './cutter.js';
import { Fmp4SegmentWriter } from './fmp4-writer.js';
import { PartCutter, videoFrameMs } from './part-cutter.js';
import type { PartInfo } from './part-cutter.js';
import type { SegmentWriter } from './segment-writer.js';
import { TsSegmentWriter } from './ts-writer.js';
import type { TsWriterOptions } from './ts-writer.js';

export type { PartInfo } from './part-cutter.js';
export type { SegmentLeader } from './cutter.js';

export type HlsFormat = 'ts' | 'fmp4';

export interface HlsSegment {
  /** Media sequence number: +1 per segment, never reset within one segmenter. */
  sequence: number;
  /** DTS of the first frame (the keyframe with video) in ms, on the input timeline. */
  startDts: Ms;
  /** Next segment's start minus this one's; for the last segment, last DTS + estimated frame duration. */
  durationMs: number;
  /** The segment's bytes: TS (whole 188-byte packets, starting with PAT and PMT), or fMP4 (styp + fragments; with LL-HLS exactly its parts' bytes in order). */
  data: Buffer;
  /** First segment after markDiscontinuity() or a dropped segment: the playlist puts EXT-X-DISCONTINUITY before it. */
  discontinuity: boolean;
  /** Starts with a video keyframe (false for audio-only segments). */
  keyframeStart: boolean;
  format: HlsFormat;
  /** fMP4: the id of the init segment it needs (HlsInit.id). */
  initId?: number;
  /** LL-HLS: its parts in order (they tile it: durations sum to durationMs). */
  parts?: PartInfo[];
}

export interface HlsCodecs {
  video?: { codec: VideoConfig['codec']; codecString: string; profile: number; level: number; width?: number; height?: number; fps?: number };
  audio?: { codec: 'aac' | 'mp3'; codecString: string; sampleRate: number; channels: number };
}

/** An fMP4 init segment. */
export interface HlsInit {
  /** The sequence number of the first segment that uses it. */
  id: number;
  data: Buffer;
  codecs: HlsCodecs;
}

/** An LL-HLS part. */
export interface HlsPart extends PartInfo {
  sequence: number;
  /** 0.. within its segment. */
  index: number;
  /** Its chunks concatenated. */
  data: Buffer;
}

export interface SegmenterSink {
  /** fMP4: a new init segment, before the first segment that needs it (first segment; codec/track change at a segment start). */
  onInit?(init: HlsInit): void;
  /** LL-HLS: bytes appended to the open part (sequence, index) as fragments are flushed, for preload-hint streaming. The part opens with its first chunk. */
  onChunk?(sequence: number, index: number, bytes: Buffer): void;
  /** LL-HLS: a part completed (data = all its chunks concatenated). Called before push() returns the segment of a segment's last part. */
  onPart?(part: HlsPart): void;
}

export interface HlsSegmenterOptions extends CutterOptions, TsWriterOptions {
  /** The container (default 'auto': fMP4 when the video is HEVC/AV1 or LL-HLS is on, else MPEG-TS; chosen when the first segment opens, then kept). */
  format?: HlsFormat | 'auto';
  /** > 0: LL-HLS parts of about this duration (needs fMP4); the exact target is fixed from the frame duration (see `HlsSegmenter.partTargetMs`). */
  partTargetMs?: number;
  sink?: SegmenterSink;
}

const DEFAULT_FRAME_MS = 1000 / 30;

const sameVideoConfig = (a: VideoConfig | undefined, b: VideoConfig): boolean => a !== undefined && a.codec === b.codec && a.record.equals(b.record);
/** LL-HLS without video: audio is flushed in chunks of about this much. */
const AUDIO_CHUNK_MS = 100;
const NO_SINK: SegmenterSink = {};
/** Segment starts a leader remembers for its followers: renditions lag the source by an encode, far less than this many segments. */
const LEADER_BOUNDARIES = 64;

/** Where a segment opened: its number and the presentation time of its first unit (a keyframe's PTS with video). */
interface Boundary {
  readonly sequence: number;
  readonly at: number;
}

/**
 * A segmenter is the leader of the renditions that follow it (HlsSegmenterOptions.follow): it tells
 * where its recent segments started.
 */
export class HlsSegmenter implements SegmentLeader {
  private readonly demux = new FlvDemuxer();
  private readonly cutter: SegmentCutter;
  private readonly requested: HlsFormat | 'auto';
  private readonly tsOptions: TsWriterOptions;
  private readonly sink: SegmenterSink;
  /** LL-HLS parts; undefined when off. */
  private readonly parts: PartCutter | undefined;
  /** Created when the first segment opens (the format is chosen then). */
  private writer: SegmentWriter | undefined;
  /** The writer when it is fMP4. */
  private fmp4: Fmp4SegmentWriter | undefined;
  /** The container, once chosen. */
  format: HlsFormat | undefined;
  private initId: number | undefined;
  /** The open part's chunks and the open segment's closed parts (LL-HLS). */
  private partChunks: Buffer[] = [];
  private segmentParts: PartInfo[] = [];
  /** Whether this publisher's stream has video the container carries (relearned after markDiscontinuity). */
  private hasVideo = false;
  private trackVideo: VideoConfig['codec'] | undefined;
  private trackAudio: 'aac' | 'mp3' | undefined;
  private lastVideoDts: number | undefined;
  private videoFrameMs = 0;
  /** The last audio frame's nominal duration (audio-only LL-HLS sizes its parts by it). */
  private audioFrameMs: number | undefined;
  /** fMP4: the video configuration changed within the open segment. */
  private configChanged = false;
  /** The last LEADER_BOUNDARIES segment starts, oldest first (the open segment's included). */
  private readonly boundaries: Boundary[] = [];

  /** Packets dropped as malformed or unsupported (waiting for the first keyframe does not count). */
  dropped = 0;

  constructor(opts: HlsSegmenterOptions) {
    this.requested = opts.format ?? 'auto';
    const ll = (opts.partTargetMs ?? 0) > 0;
    if (ll && this.requested === 'ts') throw new RangeError('LL-HLS parts need fMP4, not MPEG-TS');
    this.parts = ll ? new PartCutter(opts.partTargetMs as number) : undefined;
    this.cutter = new SegmentCutter(ll ? { ...opts, neverDiscard: true } : opts);
    this.tsOptions = opts;
    this.sink = opts.sink ?? NO_SINK;
    if (this.requested !== 'auto') this.format = this.requested;
  }

  /**
   * LL-HLS: the effective part target (PART-TARGET), ms: a whole number of frames near the configured
   * target (part-cutter.ts). Undefined until known, which is before the first part completes; then
   * fixed for the segmenter's life (republishes included).
   */
  get partTargetMs(): number | undefined {
    return this.parts?.targetMs;
  }

  /** The open segment's first DTS (ms, input timeline), for the playlist's date of its parts (LL-HLS). */
  get openSegmentStartDts(): number | undefined {
    return this.cutter.open?.startDts;
  }

  /** SegmentLeader: the recent segment that started nearest `at` (within the tolerance), by presentation time. */
  boundaryAt(at: number, toleranceMs = FOLLOW_TOLERANCE_MS): number | undefined {
    let best: Boundary | undefined;
    for (let i = this.boundaries.length - 1; i >= 0; i--) {
      const b = this.boundaries[i] as Boundary;
      if (Math.abs(b.at - at) <= toleranceMs && (!best || Math.abs(b.at - at) < Math.abs(best.at - at))) best = b;
    }
    return best?.sequence;
  }

  /** Segments dropped at a size cap (see maxSegmentBytes). */
  get droppedSegments(): number {
    return this.cutter.droppedSegments;
  }

  /**
   * Feeds one packet; returns the segments it completed (at most one). `header` is the packet's tag
   * header when the caller has already parsed it (the origin classifies every packet on arrival).
   */
  push(p: MediaPacket, header?: AudioTagHeader | VideoTagHeader): HlsSegment[] {
    const d = this.demux.push(p, header);
    if (d.kind === 'video' || d.kind === 'audio') {
      try {
        if (d.kind === 'audio') return this.onAudio(d);
        if (!this.carries(d.codec)) {
          this.dropped++;
          return [];
        }
        this.hasVideo = true;
        return this.onVideo(d);
      } catch (e) {
        // A unit the writer refuses costs that packet only; anything else is a bug and propagates.
        if (!(e instanceof MediaFormatError)) throw e;
        this.dropped++;
        return [];
      }
    }
    switch (d.kind) {
      case 'video-config':
        if (!this.carries(d.video.codec)) {
          this.dropped++;
          return [];
        }
        this.hasVideo = true;
        if (this.writer) {
          // fMP4 describes the decoder configuration in the init segment: the next keyframe starts a segment with a new one.
          if (this.fmp4 && this.cutter.open && !sameVideoConfig(this.writer.video, d.video)) this.configChanged = true;
          this.writer.video = d.video;
        }
        return [];
      case 'audio-config':
        if (this.writer) {
          this.writer.asc = d.asc;
          this.writer.ascRecord = d.record;
        }
        return [];
      case 'unconfigured-video':
        if (this.carries(d.codec)) this.hasVideo = true;
        this.dropped++;
        return [];
      case 'dropped':
        this.dropped++;
        return [];
      default:
        return [];
    }
  }

  /** Flushes the open segment at the end of the stream. */
  end(): HlsSegment[] {
    const open = this.cutter.open;
    if (!open) return [];
    return [this.close(Math.max(open.videoEnd, open.audioEnd))];
  }

  /**
   * A new publisher continues this output: the open segment is flushed (returned, as end() would) and
   * the next one is flagged as a discontinuity. Call it before pushing the new publisher's packets:
   * whether the stream has video is relearned from them (codec configs are kept until replaced).
   */
  markDiscontinuity(): HlsSegment[] {
    const out = this.end();
    this.cutter.markDiscontinuity();
    this.hasVideo = false;
    this.lastVideoDts = undefined;
    return out;
  }

  /** What the stream carries, as far as its headers tell (for /api and CODECS attributes). */
  codecs(): HlsCodecs {
    const out: HlsCodecs = {};
    const { video: v, asc, mp3, audioCodec } = this.demux;
    if (this.hasVideo && v && this.carries(v.codec)) {
      out.video = { codec: v.codec, codecString: v.codecString, profile: v.profile, level: v.level };
      if (v.width !== undefined) Object.assign(out.video, { width: v.width, height: v.height }, v.fps !== undefined ? { fps: v.fps } : {});
    }
    if (audioCodec === 'aac' && asc) {
      out.audio = { codec: 'aac', codecString: aacCodecString(asc), sampleRate: asc.extensionSampleRate ?? asc.sampleRate, channels: asc.channels };
    } else if (audioCodec === 'mp3' && mp3) {
      out.audio = { codec: 'mp3', codecString: MP3_CODEC_STRING, sampleRate: mp3.sampleRate, channels: mp3.channels };
    }
    return out;
  }

  /** Whether the container (chosen or to be) carries this video codec: MPEG-TS only H.264. */
  private carries(codec: VideoConfig['codec']): boolean {
    return codec === 'h264' || (this.format ?? this.requested) !== 'ts';
  }

  private onVideo(au: VideoAccessUnit): HlsSegment[] {
    this.parts?.observeFrame(au.dts);
    const cut = this.cutter.video(au.dts, au.key, this.configChanged, au.pts);
    if (au.key) this.configChanged = false;
    if (this.parts && this.cutter.open) this.partBeforeHeld(au.dts);
    const out = this.apply(cut, au.dts, au.key, au.pts);
    const seg = this.cutter.open;
    if (!seg || !cut.write) return out;
    const writer = this.syncTracks();
    writer.writeVideo(au);
    // LL-HLS: the frame before this one now has its duration; it goes out at once.
    if (this.parts && this.fmp4?.videoReady) this.chunk(this.fmp4.flush());
    seg.frames++;
    seg.bytes = writer.bytes;

    if (this.lastVideoDts !== undefined && au.dts > this.lastVideoDts) this.videoFrameMs = au.dts - this.lastVideoDts;
    this.lastVideoDts = au.dts;
    const fps = this.demux.video?.fps;
    seg.videoEnd = au.dts + (this.videoFrameMs || (fps ? 1000 / fps : DEFAULT_FRAME_MS));
    return out;
  }

  private onAudio(au: AudioAccessUnit): HlsSegment[] {
    const cut = this.cutter.audio(au.dts, au.durationMs, this.hasVideo);
    const audioOnly = this.fmp4 !== undefined && !this.fmp4.hasVideoTrack;
    this.audioFrameMs = au.durationMs;
    if (this.parts && audioOnly && this.cutter.open) this.partBeforeHeld(au.dts);
    const out = this.apply(cut, au.dts, false);
    const seg = this.cutter.open;
    if (!seg || !cut.write) return out;
    const writer = this.syncTracks();
    if (au.codec === 'mp3') writer.mp3 = this.demux.mp3;
    writer.writeAudio(au);
    // LL-HLS without video: audio goes out every ~100 ms.
    if (this.parts && audioOnly && (this.fmp4 as Fmp4SegmentWriter).audioReadyMs >= AUDIO_CHUNK_MS) this.chunk(this.fmp4?.flush());
    seg.frames++;
    seg.bytes = writer.bytes;
    seg.audioEnd = Math.max(seg.audioEnd, au.dts + au.durationMs);
    return out;
  }

  /** Carries out a cut at `dts` (`key`: a video keyframe is about to be written there; `at`: its PTS): the segments it completed. */
  private apply(c: Cut, dts: number, key: boolean, at = dts): HlsSegment[] {
    const out: HlsSegment[] = [];
    if (c.end === 'close') out.push(this.close(this.cutter.endAt(dts)));
    else if (c.end === 'discard') {
      this.cutter.discard();
      this.writer?.discard();
      // Its number goes to the next segment: followers must not cut where the dropped one started.
      this.boundaries.pop();
    }
    if (c.open !== 'none') this.open(dts, c.open === 'keyframe', at);
    else if (key && c.write && this.parts && this.cutter.open && this.parts.cutAtKeyframe(dts, this.partFrameMs(this.parts))) this.nextPart(dts, true);
    return out;
  }

  private open(dts: number, keyframeStart: boolean, at: number): void {
    const seg = this.cutter.begin(dts, keyframeStart);
    this.boundaries.push({ sequence: seg.sequence, at });
    if (this.boundaries.length > LEADER_BOUNDARIES) this.boundaries.shift();
    const writer = this.syncTracks();
    writer.begin();
    const init = this.fmp4?.takeInit();
    if (init) {
      this.initId = seg.sequence;
      this.sink.onInit?.({ id: seg.sequence, data: init, codecs: this.codecs() });
    }
    // Every audio frame is decodable on its own: without video, every part is INDEPENDENT (hls.js starts only on such parts).
    this.parts?.beginSegment(dts, keyframeStart || this.audioOnlyParts);
  }

  /** LL-HLS parts carry no video (the init segment has no video track): they are cut on audio frames. */
  private get audioOnlyParts(): boolean {
    return this.fmp4 !== undefined && !this.fmp4.hasVideoTrack;
  }

  /** LL-HLS: the frame duration parts are sized by (of the track they are cut on), while the part target is not yet fixed. */
  private partFrameMs(parts: PartCutter): number | undefined {
    if (parts.targetMs !== undefined) return undefined;
    return this.audioOnlyParts ? this.audioFrameMs : videoFrameMs(this.demux.video?.fps, parts.measuredFrameMs);
  }

  /** The writer, created in the container chosen now if it is not yet, with the track set brought up to date. */
  private syncTracks(): SegmentWriter {
    const writer = this.writer ?? this.createWriter();
    // The track set follows what the stream carries; it changes rarely, so it is compared first.
    const video = this.hasVideo && writer.video !== undefined && this.carries(writer.video.codec) ? writer.video.codec : undefined;
    const audio = this.demux.audioCodec;
    if (video === this.trackVideo && audio === this.trackAudio) return writer;
    this.trackVideo = video;
    this.trackAudio = audio;
    writer.setTracks({ ...(video ? { video } : {}), ...(audio ? { audio } : {}) });
    return writer;
  }

  private createWriter(): SegmentWriter {
    const v = this.demux.video;
    this.format ??= this.parts || (this.hasVideo && v !== undefined && v.codec !== 'h264') ? 'fmp4' : 'ts';
    const writer = this.format === 'fmp4' ? (this.fmp4 = new Fmp4SegmentWriter()) : new TsSegmentWriter(this.tsOptions);
    if (v && this.carries(v.codec)) writer.video = v;
    writer.asc = this.demux.asc;
    writer.ascRecord = this.demux.ascRecord;
    writer.mp3 = this.demux.mp3;
    this.writer = writer;
    return writer;
  }

  /** LL-HLS: the held unit (video, or audio without video) is now known to end at `endDts`; it opens a new part if it would overrun the target. */
  private partBeforeHeld(endDts: number): void {
    const fmp4 = this.fmp4;
    const parts = this.parts;
    if (!fmp4 || !parts) return;
    const held = fmp4.hasVideoTrack ? fmp4.heldVideoDts : fmp4.heldAudioDts;
    if (held !== undefined && parts.cutBefore(held, endDts, this.partFrameMs(parts))) this.nextPart(held, !fmp4.hasVideoTrack || fmp4.heldVideoKey);
  }

  /** LL-HLS: closes the open part at `dts` and opens the next one there. */
  private nextPart(dts: number, independent: boolean): void {
    this.chunk(this.fmp4?.flush(dts));
    this.endPart(dts, independent);
  }

  private endPart(dts: number, nextIndependent: boolean): void {
    const parts = this.parts as PartCutter;
    const seg = this.cutter.open as OpenSegment;
    const chunks = this.partChunks;
    // A part with no samples (all of a track the init segment lacks) is not one.
    if (chunks.length === 0) return;
    // The first part to close fixes the part target (if its first cut has not): PART-TARGET is in the first playlist.
    parts.fixTarget(this.partFrameMs(parts));
    const index = parts.index;
    const info = parts.next(dts, nextIndependent);
    this.partChunks = [];
    this.segmentParts.push(info);
    this.sink.onPart?.({ sequence: seg.sequence, index, durationMs: info.durationMs, independent: info.independent, data: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks) });
  }

  private chunk(bytes: Buffer | undefined): void {
    if (!bytes) return;
    this.partChunks.push(bytes);
    this.sink.onChunk?.((this.cutter.open as OpenSegment).sequence, (this.parts as PartCutter).index, bytes);
  }

  private close(nextStart: number): HlsSegment {
    let parts: PartInfo[] | undefined;
    if (this.parts) {
      this.partBeforeHeld(nextStart);
      this.chunk(this.fmp4?.flush(nextStart));
      this.endPart(nextStart, false);
      parts = this.segmentParts;
      this.segmentParts = [];
    }
    const seg = this.cutter.close() as OpenSegment;
    const writer = this.writer as SegmentWriter;
    const out: HlsSegment = {
      sequence: seg.sequence,
      startDts: ms(seg.startDts),
      durationMs: Math.max(0, nextStart - seg.startDts),
      data: writer.finish(nextStart),
      discontinuity: seg.discontinuity,
      keyframeStart: seg.keyframeStart,
      format: this.format as HlsFormat,
    };
    if (this.fmp4) out.initId = this.initId;
    if (parts) out.parts = parts;
    return out;
  }
}
