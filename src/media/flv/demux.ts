// FLV audio/video tag bodies -> codec configuration changes and access units: the first stage of the HLS
// pipeline (demux -> cut -> write), with no knowledge of segments or containers. Only what HLS TS carries
// comes out: H.264 video and AAC or MP3 audio; other codecs are reported as dropped. Pure: no I/O.
import { adtsHeader } from '../aac/adts.js';
import { parseAsc } from '../aac/asc.js';
import type { AudioSpecificConfig } from '../aac/asc.js';
import { MediaFormatError } from '../error.js';
import { H264Error } from '../h264/error.js';
import { parseAvcConfig } from '../h264/avc-config.js';
import type { AvcConfig } from '../h264/avc-config.js';
import { splitAvcc } from '../h264/avcc.js';
import { parseSps } from '../h264/sps.js';
import type { SpsInfo } from '../h264/sps.js';
import { Mp3Error, parseMpegAudioHeader } from '../mp3/frame-header.js';
import type { MpegAudioFrameHeader } from '../mp3/frame-header.js';
import { TagType } from '../packet.js';
import type { MediaPacket } from '../packet.js';
import { parseAudioTagHeader, parseVideoTagHeader } from './tag-header.js';
import type { AudioTagHeader, VideoTagHeader } from './tag-header.js';

/** One H.264 access unit: its NAL units as they came (views of the tag body, AUDs included). */
export interface VideoAccessUnit {
  readonly kind: 'video';
  /** ms on the input timeline. */
  readonly dts: number;
  readonly pts: number;
  readonly key: boolean;
  readonly nalus: readonly Buffer[];
}

/** One tag's worth of audio: AAC as a raw frame (no ADTS), or one or more MP3 frames. */
export interface AudioAccessUnit {
  readonly kind: 'audio';
  readonly codec: 'aac' | 'mp3';
  readonly dts: number;
  readonly pts: number;
  readonly frame: Buffer;
  readonly durationMs: number;
}

export interface H264Config {
  readonly config: AvcConfig;
  /** The first SPS parsed, when it parses: only descriptive (resolution, frame rate). */
  readonly sps?: SpsInfo;
}

export type Demuxed =
  | VideoAccessUnit
  | AudioAccessUnit
  | { readonly kind: 'video-config'; readonly h264: H264Config }
  | { readonly kind: 'audio-config'; readonly asc: AudioSpecificConfig }
  /** Nothing to carry (script data, end of sequence, an empty frame). */
  | { readonly kind: 'none' }
  /** Malformed, unsupported, or audio not decodable yet (a frame before its configuration). */
  | { readonly kind: 'dropped' }
  /** An H.264 frame before any configuration: the stream has video, but nothing decodable yet. */
  | { readonly kind: 'unconfigured-video' };

const NONE: Demuxed = { kind: 'none' };
const DROPPED: Demuxed = { kind: 'dropped' };
const UNCONFIGURED_VIDEO: Demuxed = { kind: 'unconfigured-video' };


export class FlvDemuxer {
  /** The current H.264 configuration (kept until replaced, across publishers). */
  h264: H264Config | undefined;
  asc: AudioSpecificConfig | undefined;
  /** The last MPEG audio frame header seen. */
  mp3: MpegAudioFrameHeader | undefined;
  /** The audio codec of the last audio configuration or frame. */
  audioCodec: 'aac' | 'mp3' | undefined;

  /** `header` is the packet's tag header when the caller has already parsed it (the hub classifies every packet on arrival). */
  push(p: MediaPacket, header?: AudioTagHeader | VideoTagHeader): Demuxed {
    try {
      if (p.type === TagType.Video) return this.video(p.timestamp, header && 'frameType' in header ? header : parseVideoTagHeader(p.payload));
      if (p.type === TagType.Audio) return this.audio(p.timestamp, header && 'soundFormat' in header ? header : parseAudioTagHeader(p.payload));
      return NONE;
    } catch (e) {
      // Bad input from a publisher costs that packet only; anything else is a bug and propagates.
      if (!(e instanceof MediaFormatError)) throw e;
      return DROPPED;
    }
  }

  private video(dts: number, h: VideoTagHeader): Demuxed {
    if (h.codec !== 'h264') return h.kind === 'coded-frames' || h.kind === 'sequence-header' ? DROPPED : NONE;
    if (h.kind === 'sequence-header') {
      const config = parseAvcConfig(h.data);
      let sps: SpsInfo | undefined;
      try {
        sps = parseSps(config.sps[0] ?? Buffer.alloc(0));
      } catch (e) {
        // The SPS only describes the stream; the decoder gets the bytes either way.
        if (!(e instanceof H264Error)) throw e;
      }
      this.h264 = sps ? { config, sps } : { config };
      return { kind: 'video-config', h264: this.h264 };
    }
    if (h.kind !== 'coded-frames') return NONE;
    if (!this.h264) return UNCONFIGURED_VIDEO;
    const nalus = splitAvcc(h.data, this.h264.config.lengthSize);
    if (nalus.length === 0) return NONE;
    const key = h.frameType === 'key' || h.frameType === 'generated-key';
    return { kind: 'video', dts, pts: dts + Math.max(0, h.compositionTimeMs), key, nalus };
  }

  private audio(dts: number, h: AudioTagHeader): Demuxed {
    if (h.codec === 'aac') {
      if (h.kind === 'sequence-header') {
        const asc = parseAsc(h.data);
        adtsHeader(asc, 0); // refuse now a config ADTS cannot express, rather than on every frame
        this.asc = asc;
        this.audioCodec = 'aac';
        return { kind: 'audio-config', asc };
      }
      if (!this.asc || h.data.length === 0) return DROPPED;
      this.audioCodec = 'aac';
      return { kind: 'audio', codec: 'aac', dts, pts: dts, frame: h.data, durationMs: (this.asc.frameLength * 1000) / this.asc.sampleRate };
    }
    if (h.codec === 'mp3') {
      if (h.data.length === 0) return NONE;
      const durationMs = this.mp3Duration(h.data);
      this.audioCodec = 'mp3';
      return { kind: 'audio', codec: 'mp3', dts, pts: dts, frame: h.data, durationMs };
    }
    return DROPPED;
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
}
