// FLV audio/video tag body headers (FLV v10.1 + enhanced RTMP v1/v2). The same bytes are the payload
// of RTMP audio/video messages, so this one parser serves RTMP ingest, HTTP-FLV and the remuxers.
import { MediaFormatError } from '../error.js';
import type { AudioCodec, VideoCodec } from '../codec.js';
import { TagType } from '../packet.js';
import type { MediaPacket } from '../packet.js';

/** Malformed or truncated FLV data. The only error the FLV parsers throw on bad input. */
export class FlvError extends MediaFormatError {
  override name = 'FlvError';
}

export type VideoFrameType = 'key' | 'inter' | 'disposable' | 'generated-key' | 'command';
export type VideoPacketKind = 'sequence-header' | 'coded-frames' | 'end-of-sequence' | 'metadata' | 'other';

export interface VideoTagHeader {
  codec: VideoCodec;
  /** Legacy FLV CodecID (7 = AVC, 12 = HEVC in Chinese forks), or 0 for enhanced tags. */
  codecId: number;
  /** Enhanced RTMP FourCC ('avc1', 'hvc1', 'av01', 'vp09', ...), absent for legacy tags. */
  fourCc?: string;
  enhanced: boolean;
  frameType: VideoFrameType;
  kind: VideoPacketKind;
  /** Signed 24-bit composition time offset (PTS - DTS) in ms; 0 when absent. */
  compositionTimeMs: number;
  /** Payload after the header: a decoder configuration record, length-prefixed NALUs, OBUs, AMF... */
  data: Buffer;
}

export interface AudioTagHeader {
  codec: AudioCodec;
  /** Legacy SoundFormat (10 = AAC, 2 = MP3, 14 = MP3 8 kHz, 9 = enhanced ExHeader). */
  soundFormat: number;
  /**
   * From the FLV flags. For AAC these are fixed (44100/16/2) and meaningless: the real values live in
   * the AudioSpecificConfig. Enhanced audio has no such flags and reports the same fixed values.
   */
  rateHz: number;
  bits: 8 | 16;
  channels: 1 | 2;
  /** Enhanced RTMP audio FourCC ('mp4a', '.mp3', 'Opus', ...), absent for legacy tags. */
  fourCc?: string;
  kind: 'sequence-header' | 'raw';
  data: Buffer;
}

const FRAME_TYPES: readonly VideoFrameType[] = [
  // 0, 6 and 7 are reserved: 'inter' is the safe reading, as nothing ever starts a GOP on it.
  'inter',
  'key',
  'inter',
  'disposable',
  'generated-key',
  'command',
  'inter',
  'inter',
];

const VIDEO_FOURCC: Readonly<Record<string, VideoCodec>> = { avc1: 'h264', hvc1: 'hevc', av01: 'av1', vp09: 'vp9' };
const AUDIO_FOURCC: Readonly<Record<string, AudioCodec>> = { mp4a: 'aac', '.mp3': 'mp3' };

const ExPacket = {
  SequenceStart: 0,
  CodedFrames: 1,
  SequenceEnd: 2,
  CodedFramesX: 3,
  Metadata: 4,
  Mpeg2TsSequenceStart: 5,
  Multitrack: 6,
  ModEx: 7,
} as const;

function need(buf: Buffer, end: number, what: string): void {
  if (buf.length < end) throw new FlvError(`truncated ${what}: need ${end} bytes, have ${buf.length}`);
}

function readSi24(buf: Buffer, at: number): number {
  // Shift into the top of an int32 and back so the sign bit of the 24-bit value extends.
  return ((buf.readUIntBE(at, 3) << 8) >> 8);
}

/**
 * Skips enhanced RTMP v2 ModEx blocks starting at `at` (just after the first byte).
 * Returns the real packet type and the offset after the last block.
 */
function skipModEx(buf: Buffer, at: number, what: string): { packetType: number; at: number } {
  let pos = at;
  let packetType: number = ExPacket.ModEx;
  while (packetType === ExPacket.ModEx) {
    need(buf, pos + 1, what);
    let size = buf.readUInt8(pos) + 1;
    pos += 1;
    if (size === 256) {
      need(buf, pos + 2, what);
      size = buf.readUInt16BE(pos) + 1;
      pos += 2;
    }
    pos += size;
    need(buf, pos + 1, what);
    // High nibble: ModEx type (e.g. nanosecond timestamp offset), which we do not use.
    packetType = buf.readUInt8(pos) & 0x0f;
    pos += 1;
  }
  return { packetType, at: pos };
}

const EX_KIND: Readonly<Record<number, VideoPacketKind>> = {
  [ExPacket.SequenceStart]: 'sequence-header',
  [ExPacket.CodedFrames]: 'coded-frames',
  [ExPacket.CodedFramesX]: 'coded-frames',
  [ExPacket.SequenceEnd]: 'end-of-sequence',
  [ExPacket.Metadata]: 'metadata',
};

function parseEnhancedVideo(payload: Buffer, frameType: VideoFrameType, firstPacketType: number): VideoTagHeader {
  let packetType = firstPacketType;
  let at = 1;
  if (packetType === ExPacket.ModEx) ({ packetType, at } = skipModEx(payload, at, 'video ModEx'));
  const base = { codecId: 0, enhanced: true, frameType, compositionTimeMs: 0 };
  if (packetType !== ExPacket.Metadata && frameType === 'command') {
    // A one-byte VideoCommand (start/stop seek) and no FourCC.
    need(payload, at + 1, 'video command');
    return { ...base, codec: 'unknown', kind: 'other', data: payload.subarray(at) };
  }
  if (packetType === ExPacket.Multitrack) {
    return { ...base, codec: 'unknown', kind: 'other', data: payload.subarray(at) };
  }
  need(payload, at + 4, 'enhanced video FourCC');
  const fourCc = payload.toString('latin1', at, at + 4);
  at += 4;
  const codec = VIDEO_FOURCC[fourCc] ?? 'unknown';
  let compositionTimeMs = 0;
  if (packetType === ExPacket.CodedFrames && (codec === 'h264' || codec === 'hevc')) {
    need(payload, at + 3, 'composition time');
    compositionTimeMs = readSi24(payload, at);
    at += 3;
  }
  const kind = EX_KIND[packetType] ?? 'other';
  return { ...base, codec, fourCc, kind, compositionTimeMs, data: payload.subarray(at) };
}

const AVC_KIND: readonly VideoPacketKind[] = ['sequence-header', 'coded-frames', 'end-of-sequence'];

/** Parses the header of an FLV video tag body (= RTMP video message payload). Throws FlvError. */
export function parseVideoTagHeader(payload: Buffer): VideoTagHeader {
  need(payload, 1, 'video tag header');
  const b0 = payload.readUInt8(0);
  if (b0 & 0x80) return parseEnhancedVideo(payload, FRAME_TYPES[(b0 >> 4) & 0x07] ?? 'inter', b0 & 0x0f);
  const frameType = FRAME_TYPES[b0 >> 4] ?? 'inter';
  const codecId = b0 & 0x0f;
  const codec: VideoCodec = codecId === 7 ? 'h264' : codecId === 12 ? 'hevc' : 'unknown';
  if (frameType === 'command') {
    // FrameType 5 carries a one-byte video info/command instead of video data.
    need(payload, 2, 'video command');
    return { codec, codecId, enhanced: false, frameType, kind: 'other', compositionTimeMs: 0, data: payload.subarray(1) };
  }
  if (codec === 'unknown') {
    // Sorenson, VP6, screen video...: the rest is the coded frame, with no packet type.
    return { codec, codecId, enhanced: false, frameType, kind: 'coded-frames', compositionTimeMs: 0, data: payload.subarray(1) };
  }
  need(payload, 5, 'AVC video tag header');
  const packetType = payload.readUInt8(1);
  const kind = AVC_KIND[packetType] ?? 'other';
  // CompositionTime is only meaningful for NALU packets; others carry 0 by spec.
  const compositionTimeMs = kind === 'coded-frames' ? readSi24(payload, 2) : 0;
  return { codec, codecId, enhanced: false, frameType, kind, compositionTimeMs, data: payload.subarray(5) };
}

const RATES = [5512, 11025, 22050, 44100] as const;

/** Parses the header of an FLV audio tag body (= RTMP audio message payload). Throws FlvError. */
export function parseAudioTagHeader(payload: Buffer): AudioTagHeader {
  need(payload, 1, 'audio tag header');
  const b0 = payload.readUInt8(0);
  const soundFormat = b0 >> 4;
  if (soundFormat === 9) return parseEnhancedAudio(payload);
  const rateHz = soundFormat === 14 || soundFormat === 5 ? 8000 : soundFormat === 4 || soundFormat === 11 ? 16000 : RATES[(b0 >> 2) & 3] ?? 44100;
  const bits = b0 & 0x02 ? 16 : 8;
  const channels = b0 & 0x01 ? 2 : 1;
  // One literal per return, no spread: this runs for every audio frame of every publisher.
  if (soundFormat === 10) {
    need(payload, 2, 'AAC audio tag header');
    const aacPacketType = payload[1]!;
    if (aacPacketType > 1) throw new FlvError(`reserved AACPacketType ${aacPacketType}`);
    return { soundFormat, rateHz, bits, channels, codec: 'aac', kind: aacPacketType === 0 ? 'sequence-header' : 'raw', data: payload.subarray(2) };
  }
  const codec: AudioCodec = soundFormat === 2 || soundFormat === 14 ? 'mp3' : 'unknown';
  return { soundFormat, rateHz, bits, channels, codec, kind: 'raw', data: payload.subarray(1) };
}

function parseEnhancedAudio(payload: Buffer): AudioTagHeader {
  // Enhanced RTMP audio: low nibble is AudioPacketType (0 SequenceStart, 1 CodedFrames, 5 Multitrack, 7 ModEx).
  let packetType = payload.readUInt8(0) & 0x0f;
  let at = 1;
  if (packetType === 7) ({ packetType, at } = skipModEx(payload, at, 'audio ModEx'));
  const flags = { soundFormat: 9, rateHz: 44100, bits: 16, channels: 2 } as const;
  if (packetType === 5) return { ...flags, codec: 'unknown', kind: 'raw', data: payload.subarray(at) };
  need(payload, at + 4, 'enhanced audio FourCC');
  const fourCc = payload.toString('latin1', at, at + 4);
  at += 4;
  const data = payload.subarray(at);
  if (packetType !== 0 && packetType !== 1) return { ...flags, codec: 'unknown', fourCc, kind: 'raw', data };
  const codec = AUDIO_FOURCC[fourCc] ?? 'unknown';
  return { ...flags, codec, fourCc, kind: packetType === 0 ? 'sequence-header' : 'raw', data };
}

export const isVideo = (p: MediaPacket): boolean => p.type === TagType.Video;
export const isAudio = (p: MediaPacket): boolean => p.type === TagType.Audio;

/**
 * A video packet that carries a coded keyframe (a random access point). Sequence headers also carry
 * FrameType 1 but are not keyframes here: the hub keeps them apart from the GOP cache.
 */
export function isVideoKeyframe(p: MediaPacket): boolean {
  if (p.type !== TagType.Video) return false;
  try {
    const h = parseVideoTagHeader(p.payload);
    return (h.frameType === 'key' || h.frameType === 'generated-key') && h.kind === 'coded-frames';
  } catch (e) {
    if (e instanceof FlvError) return false;
    throw e;
  }
}

/** A video decoder configuration (AVC/HEVC/AV1/VP9 sequence start) or an audio one (AAC ASC). */
export function isSequenceHeader(p: MediaPacket): boolean {
  try {
    if (p.type === TagType.Video) return parseVideoTagHeader(p.payload).kind === 'sequence-header';
    if (p.type === TagType.Audio) return parseAudioTagHeader(p.payload).kind === 'sequence-header';
    return false;
  } catch (e) {
    if (e instanceof FlvError) return false;
    throw e;
  }
}

// The 11-byte FLV tag header (FLV v10.1 E.4.1) that precedes each tag body in an FLV stream and in
// an RTMP aggregate message: read field by field, so parsing a tag allocates nothing. Its writer is
// writeFlvTagHeader (tag-writer.ts).

/** TagType: the low 5 bits of the first byte. */
export const flvTagType = (b: Buffer, off: number): number => b[off]! & 0x1f;
/** The Filter bit: the body is encrypted (FLV v10.1 Annex F). */
export const flvTagFiltered = (b: Buffer, off: number): boolean => (b[off]! & 0x20) !== 0;
/** DataSize: the body's length in bytes (24 bits). */
export const flvTagDataSize = (b: Buffer, off: number): number => b.readUIntBE(off + 1, 3);
/** Timestamp in ms: 24 bits, and TimestampExtended as the upper 8 bits of a 32-bit value. */
export const flvTagTimestamp = (b: Buffer, off: number): number => b[off + 7]! * 0x1000000 + b.readUIntBE(off + 4, 3);
