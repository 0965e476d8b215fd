// FLV/RTMP media packets -> MPEG-TS segments for HLS. Pure: the caller feeds packets and stores what comes out.
//
// Cutting rules: with video, a segment opens on a keyframe and is cut by the first keyframe whose DTS is
// at least targetDurationMs after the segment's start (that keyframe opens the next one, and the closed
// segment is returned by the same push()). Without video (audio-only), segments are cut by time at audio
// frame boundaries, just before the target is exceeded. Only H.264 video goes into TS here: HEVC/AV1/VP9 video is ignored, so such a stream
// is segmented as audio-only (TS carriage of those codecs is not what HLS players expect from TS).
// Whatever the timestamps say, the open segment is bounded in bytes and frames (see maxSegmentBytes).
import { AacError } from '../aac/error.js';
import { adtsHeader } from '../aac/adts.js';
import { aacCodecString, parseAsc } from '../aac/asc.js';
import type { AudioSpecificConfig } from '../aac/asc.js';
import { FlvError, parseAudioTagHeader, parseVideoTagHeader } from '../flv/tag-header.js';
import type { AudioTagHeader, VideoTagHeader } from '../flv/tag-header.js';
import { H264Error } from '../h264/error.js';
import { parseAvcConfig } from '../h264/avc-config.js';
import type { AvcConfig } from '../h264/avc-config.js';
import { START_CODE } from '../h264/annexb.js';
import { splitAvcc } from '../h264/avcc.js';
import { AUD_NALU, NalType, nalType } from '../h264/nal.js';
import { parseSps } from '../h264/sps.js';
import type { SpsInfo } from '../h264/sps.js';
import { Mp3Error, parseMpegAudioHeader } from '../mp3/frame-header.js';
import type { MpegAudioFrameHeader } from '../mp3/frame-header.js';
import { TsError } from '../mpegts/error.js';
import { TsMuxer } from '../mpegts/muxer.js';
import { TS_PACKET_SIZE } from '../mpegts/packetizer.js';
import { ByteSlab, joinContiguous } from '../mpegts/slab.js';
import type { TsTracks } from '../mpegts/muxer.js';
import { TagType } from '../packet.js';
import type { MediaPacket } from '../packet.js';
import { ms, msToTicks90k } from '../time.js';
import type { Ms } from '../time.js';

export interface TsSegment {
  /** Media sequence number: +1 per segment, never reset within one segmenter. */
  sequence: number;
  /** DTS of the first frame (the keyframe with video) in ms, on the input timeline. */
  startDts: Ms;
  /** Next segment's start minus this one's; for the last segment, last DTS + estimated frame duration. */
  durationMs: number;
  /** Whole TS packets (a multiple of 188 bytes), starting with PAT and PMT. */
  data: Buffer;
  /** First segment after markDiscontinuity(): the playlist puts EXT-X-DISCONTINUITY before it. */
  discontinuity: boolean;
  /** Starts with a video keyframe (false for audio-only segments). */
  keyframeStart: boolean;
}

export interface HlsCodecs {
  video?: { codec: 'h264'; codecString: string; profile: number; level: number; width?: number; height?: number; fps?: number };
  audio?: { codec: 'aac' | 'mp3'; codecString: string; sampleRate: number; channels: number };
}

export interface HlsSegmenterOptions {
  targetDurationMs: number;
  /** Sequence number of the first segment (default 0). */
  firstSequence?: number;
  /**
   * Hard cap on a segment's length (default max(10 x target, 30 s)): a stream whose keyframes stop, or
   * whose video stalls while audio flows, is cut anyway so memory stays bounded. The segment after such
   * a cut does not start on a keyframe; the next keyframe cuts again.
   */
  maxDurationMs?: number;
  /** Audio frames gathered into one PES (default 5): fewer PES headers and packets, still well under 100 ms of delay per packet at 48 kHz. */
  audioFramesPerPes?: number;
  /**
   * Caps on the open segment (default 32 MiB and 20 000 frames), which timing alone cannot bound: a
   * publisher whose timestamps never advance would grow one segment forever. A segment that reaches a
   * cap is cut, or dropped if it spans less than half the target (no real stream packs that much into so
   * little time, and near-empty segments serve no player); after a drop the next segment is flagged as a
   * discontinuity and, with video, waits for a keyframe.
   */
  maxSegmentBytes?: number;
  maxSegmentFrames?: number;
}

interface OpenSegment {
  sequence: number;
  startDts: number;
  chunks: Buffer[];
  discontinuity: boolean;
  keyframeStart: boolean;
  /** End of the last video frame (its dts + estimated duration) and of the latest audio, for a segment nobody cuts. */
  videoEnd: number;
  audioEnd: number;
  /** TS bytes and media frames in it so far, for the caps. */
  bytes: number;
  frames: number;
}

// Bad input from a publisher costs that packet only; anything else is a bug and propagates.
const isInputError = (e: unknown): boolean =>
  e instanceof FlvError || e instanceof H264Error || e instanceof AacError || e instanceof Mp3Error || e instanceof TsError;

const DEFAULT_FRAME_MS = 1000 / 30;
const DEFAULT_MAX_SEGMENT_BYTES = 32 * 1024 * 1024;
// 30 s (the default duration cap) of 120 fps video and 96 kHz AAC is ~6 400 frames.
const DEFAULT_MAX_SEGMENT_FRAMES = 20_000;

/** Output memory of the first segment; later ones size it from the previous segment. */
const FIRST_SLAB_BYTES = 256 * 1024;
/** Headroom over the previous segment's size, so that a segment usually fits in one slab. */
const SLAB_HEADROOM = 1.15;

export class HlsSegmenter {
  private readonly targetMs: number;
  private readonly framesPerPes: number;
  private readonly maxMs: number;
  private readonly maxBytes: number;
  private readonly maxFrames: number;
  private sequence: number;
  private muxer: TsMuxer | undefined;
  private open: OpenSegment | undefined;
  private discontinuityPending = false;
  /** The open segment's output memory: its TS packets are written here back to back. */
  private slab = new ByteSlab(FIRST_SLAB_BYTES);
  private nextSlabBytes = FIRST_SLAB_BYTES;

  private hasVideo = false;
  private avc: { config: AvcConfig; params: Buffer[]; sps?: SpsInfo } | undefined;
  private lastVideoDts: number | undefined;
  private videoFrameMs = 0;

  private audioCodec: 'aac' | 'mp3' | undefined;
  private asc: AudioSpecificConfig | undefined;
  private mp3: MpegAudioFrameHeader | undefined;
  /** Pending audio frames as pieces (ADTS header, raw frame, ...), joined only in the PES packets. */
  private pending: Buffer[] = [];
  private pendingFrames = 0;
  private pendingPts = 0;
  private pendingEnd = 0;

  /** Packets dropped as malformed or unsupported (waiting for the first keyframe does not count). */
  dropped = 0;
  /** Segments dropped at a size cap (see maxSegmentBytes). */
  droppedSegments = 0;

  constructor(opts: HlsSegmenterOptions) {
    if (!(opts.targetDurationMs > 0)) throw new RangeError(`targetDurationMs must be > 0, got ${opts.targetDurationMs}`);
    this.targetMs = opts.targetDurationMs;
    this.sequence = opts.firstSequence ?? 0;
    this.framesPerPes = Math.max(1, opts.audioFramesPerPes ?? 5);
    this.maxMs = Math.max(this.targetMs, opts.maxDurationMs ?? Math.max(10 * this.targetMs, 30000));
    this.maxBytes = opts.maxSegmentBytes ?? DEFAULT_MAX_SEGMENT_BYTES;
    this.maxFrames = opts.maxSegmentFrames ?? DEFAULT_MAX_SEGMENT_FRAMES;
  }

  /**
   * Feeds one packet; returns the segments it completed (at most one). `header` is the packet's tag
   * header when the caller has already parsed it (the origin classifies every packet on arrival).
   */
  push(p: MediaPacket, header?: AudioTagHeader | VideoTagHeader): TsSegment[] {
    try {
      if (p.type === TagType.Video) return this.onVideo(p, header && 'frameType' in header ? header : parseVideoTagHeader(p.payload));
      if (p.type === TagType.Audio) return this.onAudio(p, header && 'soundFormat' in header ? header : parseAudioTagHeader(p.payload));
      return [];
    } catch (e) {
      if (!isInputError(e)) throw e;
      this.dropped++;
      return [];
    }
  }

  /** Flushes the open segment at the end of the stream. */
  end(): TsSegment[] {
    if (!this.open) return [];
    return [this.close(Math.max(this.open.videoEnd, this.open.audioEnd))];
  }

  /**
   * A new publisher continues this output: the open segment is flushed (returned, as end() would) and
   * the next one is flagged as a discontinuity. Call it before pushing the new publisher's packets:
   * whether the stream has video is relearned from them (codec configs are kept until replaced).
   */
  markDiscontinuity(): TsSegment[] {
    const out = this.end();
    this.discontinuityPending = true;
    this.hasVideo = false;
    this.lastVideoDts = undefined;
    return out;
  }

  /** What the stream carries, as far as its headers tell (for /api and CODECS attributes). */
  codecs(): HlsCodecs {
    const out: HlsCodecs = {};
    if (this.hasVideo && this.avc) {
      const { config, sps } = this.avc;
      const hex = (n: number): string => n.toString(16).padStart(2, '0');
      out.video = { codec: 'h264', codecString: `avc1.${hex(config.profile)}${hex(config.compat)}${hex(config.level)}`, profile: config.profile, level: config.level };
      if (sps) Object.assign(out.video, { width: sps.width, height: sps.height }, sps.fps !== undefined ? { fps: sps.fps } : {});
    }
    if (this.audioCodec === 'aac' && this.asc) {
      out.audio = { codec: 'aac', codecString: aacCodecString(this.asc), sampleRate: this.asc.extensionSampleRate ?? this.asc.sampleRate, channels: this.asc.channels };
    } else if (this.audioCodec === 'mp3' && this.mp3) {
      out.audio = { codec: 'mp3', codecString: 'mp4a.40.34', sampleRate: this.mp3.sampleRate, channels: this.mp3.channels };
    }
    return out;
  }

  private onVideo(p: MediaPacket, h: VideoTagHeader): TsSegment[] {
    if (h.codec !== 'avc') {
      if (h.kind === 'coded-frames' || h.kind === 'sequence-header') this.dropped++;
      return [];
    }
    if (h.kind === 'sequence-header') {
      const config = parseAvcConfig(h.data);
      let sps: SpsInfo | undefined;
      try {
        sps = parseSps(config.sps[0] ?? Buffer.alloc(0));
      } catch (e) {
        // The SPS only feeds codecs(); the decoder gets the bytes either way.
        if (!(e instanceof H264Error)) throw e;
      }
      this.avc = { config, params: [...config.sps, ...config.pps], ...(sps ? { sps } : {}) };
      this.hasVideo = true;
      return [];
    }
    if (h.kind !== 'coded-frames') return [];
    this.hasVideo = true;
    if (!this.avc) {
      this.dropped++;
      return [];
    }
    const nalus = splitAvcc(h.data, this.avc.config.lengthSize);
    if (nalus.length === 0) return [];
    const keyframe = h.frameType === 'key' || h.frameType === 'generated-key';
    const dts: number = p.timestamp;
    const pts = dts + Math.max(0, h.compositionTimeMs);

    const out: TsSegment[] = [];
    const open = this.open;
    const overlong = open !== undefined && dts - open.startDts >= this.maxMs;
    // A segment cut mid-GOP (too long, or full) is followed by one that continues without a keyframe.
    let continued = overlong;
    if (open && ((keyframe && (!open.keyframeStart || dts - open.startDts >= this.targetMs)) || overlong)) out.push(this.close(dts));
    else if (open && this.isFull(open)) {
      const cut = this.cutFull(dts);
      out.push(...cut);
      continued = cut.length > 0;
    }
    if (!this.open) {
      if (!keyframe && !continued) return out; // nothing decodable before the first keyframe
      this.openSegment(dts, keyframe);
    }
    const seg = this.open;
    if (!seg) return out;
    const muxer = this.syncTracks(seg);

    // AUD first (required by TS for H.264), then parameter sets before every IDR so each segment decodes alone.
    // The pieces go to the PES as they are: no joined Annex B copy of the access unit.
    const au: Buffer[] = [START_CODE, AUD_NALU];
    let hasParams = false;
    for (const u of nalus) if (nalType(u) === NalType.Sps) hasParams = true;
    if (keyframe && !hasParams) for (const u of this.avc.params) au.push(START_CODE, u);
    for (const u of nalus) if (nalType(u) !== NalType.Aud) au.push(START_CODE, u);
    this.append(seg, muxer.video(au, msToTicks90k(ms(pts)), msToTicks90k(ms(dts)), keyframe));
    seg.frames++;

    if (this.lastVideoDts !== undefined && dts > this.lastVideoDts) this.videoFrameMs = dts - this.lastVideoDts;
    this.lastVideoDts = dts;
    const frameMs = this.videoFrameMs || (this.avc.sps?.fps ? 1000 / this.avc.sps.fps : DEFAULT_FRAME_MS);
    seg.videoEnd = dts + frameMs;
    return out;
  }

  private onAudio(p: MediaPacket, h: AudioTagHeader): TsSegment[] {
    let frame: readonly Buffer[];
    let durationMs: number;
    if (h.codec === 'aac') {
      if (h.kind === 'sequence-header') {
        const asc = parseAsc(h.data);
        adtsHeader(asc, 0); // refuse now a config ADTS cannot express, rather than on every frame
        this.asc = asc;
        this.audioCodec = 'aac';
        return [];
      }
      if (!this.asc || h.data.length === 0) {
        this.dropped++;
        return [];
      }
      this.audioCodec = 'aac';
      frame = [adtsHeader(this.asc, h.data.length), h.data];
      durationMs = (this.asc.frameLength * 1000) / this.asc.sampleRate;
    } else if (h.codec === 'mp3') {
      if (h.data.length === 0) return [];
      frame = [h.data];
      durationMs = this.mp3Duration(h.data);
      this.audioCodec = 'mp3';
    } else {
      this.dropped++;
      return [];
    }

    const dts: number = p.timestamp;
    const out: TsSegment[] = [];
    if (!this.hasVideo) {
      const open = this.open;
      // Cut before the frame that would end past the target, so audio-only EXTINFs stay <= the target
      // and TARGETDURATION does not round up to the next second.
      if (open && dts + durationMs - open.startDts > this.targetMs) out.push(this.close(dts));
      else if (open && this.isFull(open)) out.push(...this.cutFull(dts));
      if (!this.open) this.openSegment(dts, false);
    } else if (this.open && dts - this.open.startDts >= this.maxMs) {
      out.push(this.close(dts));
      this.openSegment(dts, false);
    } else if (this.open && this.isFull(this.open)) {
      const cut = this.cutFull(dts);
      out.push(...cut);
      if (cut.length > 0) this.openSegment(dts, false); // after a drop, video waits for its next keyframe
    }
    const seg = this.open;
    if (!seg) return out; // video stream still waiting for its first keyframe
    this.syncTracks(seg);

    // Frames are grouped only while they follow each other; a gap starts a new PES with its own PTS.
    if (this.pendingFrames > 0 && Math.abs(dts - this.pendingEnd) > Math.max(2, durationMs / 2)) this.flushAudio(seg);
    if (this.pendingFrames === 0) {
      this.pendingPts = dts;
      this.pendingEnd = dts;
    }
    this.pending.push(...frame);
    this.pendingFrames++;
    seg.frames++;
    this.pendingEnd += durationMs;
    if (this.pendingFrames >= this.framesPerPes) this.flushAudio(seg);
    seg.audioEnd = Math.max(seg.audioEnd, dts + durationMs);
    return out;
  }

  private mp3Duration(data: Buffer): number {
    // An FLV MP3 tag usually holds one frame; count them in case it holds more.
    let frames = 0;
    let at = 0;
    while (at + 4 <= data.length) {
      let hdr: MpegAudioFrameHeader;
      try {
        hdr = parseMpegAudioHeader(data, at);
      } catch (e) {
        if (!(e instanceof Mp3Error)) throw e;
        break;
      }
      this.mp3 = hdr;
      frames++;
      if (hdr.frameLength === 0) break;
      at += hdr.frameLength;
    }
    const h = this.mp3;
    return h ? (Math.max(1, frames) * h.samplesPerFrame * 1000) / h.sampleRate : 1152000 / 44100;
  }

  private wantedTracks(): TsTracks {
    const t: TsTracks = {};
    if (this.hasVideo && this.avc) t.video = 'h264';
    if (this.audioCodec) t.audio = this.audioCodec;
    return t;
  }

  // Brings the PMT up to date; a track that appears mid-segment gets a new PMT version in place.
  private syncTracks(seg: OpenSegment): TsMuxer {
    const tracks = this.wantedTracks();
    if (!this.muxer) {
      this.muxer = new TsMuxer(tracks, (bytes) => this.slab.alloc(bytes));
      this.append(seg, this.muxer.tables());
    } else if (this.muxer.setTracks(tracks) || seg.chunks.length === 0) {
      this.append(seg, this.muxer.tables());
    }
    return this.muxer;
  }

  private openSegment(dts: number, keyframeStart: boolean): void {
    this.slab = new ByteSlab(this.nextSlabBytes);
    this.open = { sequence: this.sequence++, startDts: dts, chunks: [], discontinuity: this.discontinuityPending, keyframeStart, videoEnd: dts, audioEnd: dts, bytes: 0, frames: 0 };
    this.discontinuityPending = false;
  }

  private flushAudio(seg: OpenSegment): void {
    if (this.pendingFrames === 0 || !this.muxer) return;
    const frames = this.pending;
    this.pending = [];
    this.pendingFrames = 0;
    if (!this.muxer.currentTracks.audio) return;
    this.append(seg, this.muxer.audio(frames, msToTicks90k(ms(this.pendingPts))));
  }

  private append(seg: OpenSegment, chunk: Buffer): void {
    seg.chunks.push(chunk);
    seg.bytes += chunk.length;
  }

  private isFull(seg: OpenSegment): boolean {
    return seg.bytes >= this.maxBytes || seg.frames >= this.maxFrames;
  }

  /** The open segment reached a cap: it is cut (returned), or dropped when it spans too little time. */
  private cutFull(nextStart: number): TsSegment[] {
    const seg = this.open;
    if (!seg) return [];
    if (nextStart - seg.startDts >= this.targetMs / 2) return [this.close(nextStart)];
    this.open = undefined;
    this.pending = [];
    this.pendingFrames = 0;
    this.sequence = seg.sequence; // never listed: the next segment takes its number
    // The dropped packets moved the TS continuity counters and the timeline: players must resync.
    this.discontinuityPending = true;
    this.droppedSegments++;
    return [];
  }

  private close(nextStart: number): TsSegment {
    const seg = this.open;
    if (!seg) throw new Error('close() without an open segment');
    this.flushAudio(seg);
    this.open = undefined;
    let data = joinContiguous(seg.chunks);
    this.nextSlabBytes = Math.max(TS_PACKET_SIZE, Math.ceil(data.length * SLAB_HEADROOM));
    // A view keeps its whole slab alive as long as the segment is kept: trim one that is mostly unused.
    if (data.buffer.byteLength > data.length * 1.25) data = Buffer.from(data);
    return {
      sequence: seg.sequence,
      startDts: ms(seg.startDts),
      durationMs: Math.max(0, nextStart - seg.startDts),
      data,
      discontinuity: seg.discontinuity,
      keyframeStart: seg.keyframeStart,
    };
  }
}
