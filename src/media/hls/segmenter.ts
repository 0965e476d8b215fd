// FLV/RTMP media packets -> HLS segments: the pipeline demux (media/flv/demux.ts) -> cut (cutter.ts) ->
// write (a SegmentWriter; MPEG-TS by default). Pure: the caller feeds packets and stores what comes out.
// Only H.264 video goes into TS here: HEVC/AV1/VP9 video is dropped, so such a stream is segmented as
// audio-only (TS carriage of those codecs is not what HLS players expect from TS).
import { MP3_CODEC_STRING, aacCodecString, h264CodecString } from '../codec.js';
import { FlvDemuxer } from '../flv/demux.js';
import type { AudioAccessUnit, VideoAccessUnit } from '../flv/demux.js';
import type { AudioTagHeader, VideoTagHeader } from '../flv/tag-header.js';
import { MediaFormatError } from '../error.js';
import type { MediaPacket } from '../packet.js';
import { ms } from '../time.js';
import type { Ms } from '../time.js';
import { SegmentCutter } from './cutter.js';
import type { CutterOptions, Cut, OpenSegment } from './cutter.js';
import type { SegmentWriter } from './segment-writer.js';
import { TsSegmentWriter } from './ts-writer.js';
import type { TsWriterOptions } from './ts-writer.js';

export interface TsSegment {
  /** Media sequence number: +1 per segment, never reset within one segmenter. */
  sequence: number;
  /** DTS of the first frame (the keyframe with video) in ms, on the input timeline. */
  startDts: Ms;
  /** Next segment's start minus this one's; for the last segment, last DTS + estimated frame duration. */
  durationMs: number;
  /** The segment's bytes (TS: whole packets, a multiple of 188 bytes, starting with PAT and PMT). */
  data: Buffer;
  /** First segment after markDiscontinuity() or a dropped segment: the playlist puts EXT-X-DISCONTINUITY before it. */
  discontinuity: boolean;
  /** Starts with a video keyframe (false for audio-only segments). */
  keyframeStart: boolean;
}

export interface HlsCodecs {
  video?: { codec: 'h264'; codecString: string; profile: number; level: number; width?: number; height?: number; fps?: number };
  audio?: { codec: 'aac' | 'mp3'; codecString: string; sampleRate: number; channels: number };
}

export interface HlsSegmenterOptions extends CutterOptions, TsWriterOptions {
  /** The container (default MPEG-TS with the TS options above). */
  writer?: SegmentWriter;
}

const DEFAULT_FRAME_MS = 1000 / 30;

export class HlsSegmenter {
  private readonly demux = new FlvDemuxer();
  private readonly cutter: SegmentCutter;
  private readonly writer: SegmentWriter;
  /** Whether this publisher's stream has H.264 video (relearned after markDiscontinuity). */
  private hasVideo = false;
  private trackVideo = false;
  private trackAudio: 'aac' | 'mp3' | undefined;
  private lastVideoDts: number | undefined;
  private videoFrameMs = 0;

  /** Packets dropped as malformed or unsupported (waiting for the first keyframe does not count). */
  dropped = 0;

  constructor(opts: HlsSegmenterOptions) {
    this.cutter = new SegmentCutter(opts);
    this.writer = opts.writer ?? new TsSegmentWriter(opts);
  }

  /** Segments dropped at a size cap (see maxSegmentBytes). */
  get droppedSegments(): number {
    return this.cutter.droppedSegments;
  }

  /**
   * Feeds one packet; returns the segments it completed (at most one). `header` is the packet's tag
   * header when the caller has already parsed it (the origin classifies every packet on arrival).
   */
  push(p: MediaPacket, header?: AudioTagHeader | VideoTagHeader): TsSegment[] {
    const d = this.demux.push(p, header);
    if (d.kind === 'video' || d.kind === 'audio') {
      try {
        if (d.kind === 'audio') return this.onAudio(d);
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
        this.hasVideo = true;
        this.writer.h264 = d.h264;
        return [];
      case 'audio-config':
        this.writer.asc = d.asc;
        return [];
      case 'unconfigured-video':
        this.hasVideo = true;
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
  end(): TsSegment[] {
    const open = this.cutter.open;
    if (!open) return [];
    return [this.close(Math.max(open.videoEnd, open.audioEnd))];
  }

  /**
   * A new publisher continues this output: the open segment is flushed (returned, as end() would) and
   * the next one is flagged as a discontinuity. Call it before pushing the new publisher's packets:
   * whether the stream has video is relearned from them (codec configs are kept until replaced).
   */
  markDiscontinuity(): TsSegment[] {
    const out = this.end();
    this.cutter.markDiscontinuity();
    this.hasVideo = false;
    this.lastVideoDts = undefined;
    return out;
  }

  /** What the stream carries, as far as its headers tell (for /api and CODECS attributes). */
  codecs(): HlsCodecs {
    const out: HlsCodecs = {};
    const { h264, asc, mp3, audioCodec } = this.demux;
    if (this.hasVideo && h264) {
      const { config, sps } = h264;
      out.video = { codec: 'h264', codecString: h264CodecString(config.profile, config.compat, config.level), profile: config.profile, level: config.level };
      if (sps) Object.assign(out.video, { width: sps.width, height: sps.height }, sps.fps !== undefined ? { fps: sps.fps } : {});
    }
    if (audioCodec === 'aac' && asc) {
      out.audio = { codec: 'aac', codecString: aacCodecString(asc), sampleRate: asc.extensionSampleRate ?? asc.sampleRate, channels: asc.channels };
    } else if (audioCodec === 'mp3' && mp3) {
      out.audio = { codec: 'mp3', codecString: MP3_CODEC_STRING, sampleRate: mp3.sampleRate, channels: mp3.channels };
    }
    return out;
  }

  private onVideo(au: VideoAccessUnit): TsSegment[] {
    const cut = this.cutter.video(au.dts, au.key);
    const out = this.apply(cut, au.dts);
    const seg = this.cutter.open;
    if (!seg || !cut.write) return out;
    this.syncTracks();
    this.writer.writeVideo(au);
    seg.frames++;
    seg.bytes = this.writer.bytes;

    if (this.lastVideoDts !== undefined && au.dts > this.lastVideoDts) this.videoFrameMs = au.dts - this.lastVideoDts;
    this.lastVideoDts = au.dts;
    const fps = this.demux.h264?.sps?.fps;
    seg.videoEnd = au.dts + (this.videoFrameMs || (fps ? 1000 / fps : DEFAULT_FRAME_MS));
    return out;
  }

  private onAudio(au: AudioAccessUnit): TsSegment[] {
    const cut = this.cutter.audio(au.dts, au.durationMs, this.hasVideo);
    const out = this.apply(cut, au.dts);
    const seg = this.cutter.open;
    if (!seg || !cut.write) return out;
    this.syncTracks();
    this.writer.writeAudio(au);
    seg.frames++;
    seg.bytes = this.writer.bytes;
    seg.audioEnd = Math.max(seg.audioEnd, au.dts + au.durationMs);
    return out;
  }

  /** Carries out a cut at `dts`: the segments it completed. */
  private apply(c: Cut, dts: number): TsSegment[] {
    const out: TsSegment[] = [];
    if (c.end === 'close') out.push(this.close(dts));
    else if (c.end === 'discard') {
      this.cutter.discard();
      this.writer.discard();
    }
    if (c.open !== 'none') {
      this.cutter.begin(dts, c.open === 'keyframe');
      this.writer.begin();
    }
    return out;
  }

  // The writer's track set follows what the stream carries; it changes rarely, so it is compared first.
  private syncTracks(): void {
    const video = this.hasVideo && this.writer.h264 !== undefined;
    const audio = this.demux.audioCodec;
    if (video === this.trackVideo && audio === this.trackAudio) return;
    this.trackVideo = video;
    this.trackAudio = audio;
    this.writer.setTracks({ ...(video ? { video: 'h264' as const } : {}), ...(audio ? { audio } : {}) });
  }

  private close(nextStart: number): TsSegment {
    const seg = this.cutter.close() as OpenSegment;
    return {
      sequence: seg.sequence,
      startDts: ms(seg.startDts),
      durationMs: Math.max(0, nextStart - seg.startDts),
      data: this.writer.finish(),
      discontinuity: seg.discontinuity,
      keyframeStart: seg.keyframeStart,
    };
  }
}
