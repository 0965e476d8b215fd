// FLV audio/video tag bodies -> codec configuration changes and access units: the first stage of the HLS
// pipeline (demux -> cut -> write), with no knowledge of segments or containers. What HLS carries comes
// out: H.264, HEVC (enhanced RTMP 'hvc1' and legacy codec id 12) and AV1 video, AAC or MP3 audio; other
// codecs are reported as dropped. Pure: no I/O.
import { adtsHeader } from '../aac/adts.js';
import { parseAv1c } from '../av1/av1c.js';
import { Av1Error } from '../av1/error.js';
import { parseSequenceHeader } from '../av1/sequence-header.js';
import { av1CodecString, h264CodecString, hevcCodecString } from '../codec.js';
import { HevcError } from '../hevc/error.js';
import { parseHvcc } from '../hevc/hvcc.js';
import { parseHevcSps } from '../hevc/sps.js';
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

/** One video access unit, as carried. */
export interface VideoAccessUnit {
  readonly kind: 'video';
  readonly codec: VideoConfig['codec'];
  /** ms on the input timeline. */
  readonly dts: number;
  readonly pts: number;
  readonly key: boolean;
  /** The sample as carried, exactly an ISO BMFF sample: length-prefixed NAL units (H.264, HEVC) or OBUs (AV1). A view of the tag body. */
  readonly data: Buffer;
  /** H.264 only (empty otherwise): the NAL units of `data` (views, AUDs included), for MPEG-TS. */
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

/** A video decoder configuration, whatever the codec. */
export interface VideoConfig {
  readonly codec: 'h264' | 'hevc' | 'av1';
  /** The decoder configuration record as carried (avcC, hvcC or av1C body): what an fMP4 sample entry holds. A copy. */
  readonly record: Buffer;
  /** RFC 6381 CODECS string (media/codec.ts). */
  readonly codecString: string;
  /** profile_idc and level_idc (H.264, HEVC general_*), or seq_profile and seq_level_idx[0] (AV1). */
  readonly profile: number;
  readonly level: number;
  /** From the SPS / sequence header when it parses: only descriptive. */
  readonly width?: number;
  readonly height?: number;
  readonly fps?: number;
  /** H.264: the parsed record (parameter sets that TS keyframes are made decodable with). */
  readonly h264?: H264Config;
}

export type Demuxed =
  | VideoAccessUnit
  | AudioAccessUnit
  | { readonly kind: 'video-config'; readonly video: VideoConfig }
  /** `record`: the AudioSpecificConfig bytes as carried (a copy), what an fMP4 esds holds. */
  | { readonly kind: 'audio-config'; readonly asc: AudioSpecificConfig; readonly record: Buffer }
  /** Nothing to carry (script data, end of sequence, an empty frame). */
  | { readonly kind: 'none' }
  /** Malformed, unsupported, or audio not decodable yet (a frame before its configuration). */
  | { readonly kind: 'dropped' }
  /** A video frame before its codec's configuration: the stream has video, but nothing decodable yet. */
  | { readonly kind: 'unconfigured-video'; readonly codec: VideoConfig['codec'] };

const NONE: Demuxed = { kind: 'none' };
const DROPPED: Demuxed = { kind: 'dropped' };
const UNCONFIGURED_VIDEO: Readonly<Record<VideoConfig['codec'], Demuxed>> = {
  h264: { kind: 'unconfigured-video', codec: 'h264' },
  hevc: { kind: 'unconfigured-video', codec: 'hevc' },
  av1: { kind: 'unconfigured-video', codec: 'av1' },
};


const NO_NALUS: readonly Buffer[] = [];

export class FlvDemuxer {
  /** The current video configuration (kept until replaced, across publishers). */
  video: VideoConfig | undefined;
  /** The current H.264 configuration, when the video is H.264. */
  get h264(): H264Config | undefined {
    return this.video?.h264;
  }
  asc: AudioSpecificConfig | undefined;
  /** The bytes `asc` was parsed from. */
  ascRecord: Buffer | undefined;
  /** The last MPEG audio frame header seen. */
  mp3: MpegAudioFrameHeader | undefined;
  /** The audio codec of the last audio configuration or frame. */
  audioCodec: 'aac' | 'mp3' | undefined;

  /** `header` is the packet's tag header when the caller has already parsed it (the hub classifies every packet on arrival). */
  push(p: MediaPacket, header?: AudioTagHeader | VideoTagHeader): Demuxed {
    try {
      if (p.type === TagType.Video) return this.videoTag(p.timestamp, header && 'frameType' in header ? header : parseVideoTagHeader(p.payload));
      if (p.type === TagType.Audio) return this.audio(p.timestamp, header && 'soundFormat' in header ? header : parseAudioTagHeader(p.payload));
      return NONE;
    } catch (e) {
      // Bad input from a publisher costs that packet only; anything else is a bug and propagates.
      if (!(e instanceof MediaFormatError)) throw e;
      return DROPPED;
    }
  }

  private videoTag(dts: number, h: VideoTagHeader): Demuxed {
    const codec = h.codec;
    // Coded frames first: this runs for every video packet of every publisher.
    if (h.kind === 'coded-frames') {
      const video = this.video;
      if (video === undefined || video.codec !== codec) return codec === 'h264' || codec === 'hevc' || codec === 'av1' ? UNCONFIGURED_VIDEO[codec] : DROPPED;
      const key = h.frameType === 'key' || h.frameType === 'generated-key';
      // PTS never precedes DTS: MPEG-TS cannot say so, and a negative offset is an encoder bug anyway.
      const pts = dts + Math.max(0, h.compositionTimeMs);
      if (video.h264) {
        const nalus = splitAvcc(h.data, video.h264.config.lengthSize);
        if (nalus.length === 0) return NONE;
        return { kind: 'video', codec: video.codec, dts, pts, key, data: h.data, nalus };
      }
      if (h.data.length === 0) return NONE;
      return { kind: 'video', codec: video.codec, dts, pts, key, data: h.data, nalus: NO_NALUS };
    }
    if (h.kind !== 'sequence-header') return NONE;
    if (codec !== 'h264' && codec !== 'hevc' && codec !== 'av1') return DROPPED;
    this.video = codec === 'h264' ? h264Config(h.data) : codec === 'hevc' ? hevcConfig(h.data) : av1Config(h.data);
    return { kind: 'video-config', video: this.video };
  }

  private audio(dts: number, h: AudioTagHeader): Demuxed {
    if (h.codec === 'aac') {
      if (h.kind === 'sequence-header') {
        const asc = parseAsc(h.data);
        adtsHeader(asc, 0); // refuse now a config ADTS cannot express, rather than on every frame
        this.asc = asc;
        this.ascRecord = Buffer.from(h.data);
        this.audioCodec = 'aac';
        return { kind: 'audio-config', asc, record: this.ascRecord };
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

function h264Config(record: Buffer): VideoConfig {
  const config = parseAvcConfig(record);
  let sps: SpsInfo | undefined;
  try {
    sps = parseSps(config.sps[0] ?? Buffer.alloc(0));
  } catch (e) {
    // The SPS only describes the stream; the decoder gets the bytes either way.
    if (!(e instanceof H264Error)) throw e;
  }
  const h264: H264Config = sps ? { config, sps } : { config };
  const base = { codec: 'h264' as const, record: Buffer.from(record), codecString: h264CodecString(config.profile, config.compat, config.level), profile: config.profile, level: config.level, h264 };
  if (!sps) return base;
  return { ...base, width: sps.width, height: sps.height, ...(sps.fps !== undefined ? { fps: sps.fps } : {}) };
}

function hevcConfig(record: Buffer): VideoConfig {
  const hvcc = parseHvcc(record);
  const base = { codec: 'hevc' as const, record: Buffer.from(record), codecString: hevcCodecString(hvcc), profile: hvcc.profileIdc, level: hvcc.levelIdc };
  const nalu = hvcc.sps[0];
  if (!nalu) return base;
  try {
    const sps = parseHevcSps(nalu);
    return { ...base, width: sps.width, height: sps.height };
  } catch (e) {
    // As for H.264: the SPS only describes the stream.
    if (!(e instanceof HevcError)) throw e;
    return base;
  }
}

function av1Config(record: Buffer): VideoConfig {
  const av1c = parseAv1c(record);
  const base = { codec: 'av1' as const, record: Buffer.from(record), codecString: av1CodecString(av1c), profile: av1c.profile, level: av1c.level };
  if (!av1c.sequenceHeader) return base;
  try {
    const seq = parseSequenceHeader(av1c.sequenceHeader);
    return { ...base, width: seq.maxWidth, height: seq.maxHeight };
  } catch (e) {
    if (!(e instanceof Av1Error)) throw e;
    return base;
  }
}
