// A normalized packet as the hub fans it out: classified once on arrival, and serialized at most once
// per output format (lazily, only when a viewer of that format exists); the bytes are shared by every
// viewer and by the GOP cache.
import { TagType } from '../media/packet.js';
import type { MediaPacket } from '../media/packet.js';
import { parseAudioTagHeader, parseVideoTagHeader } from '../media/flv/tag-header.js';
import type { AudioTagHeader, VideoTagHeader } from '../media/flv/tag-header.js';

export type PacketKind = 'video-header' | 'audio-header' | 'metadata' | 'video-key' | 'video' | 'audio' | 'other';

/** The parsed FLV audio/video tag header of a packet, parsed once on arrival and shared downstream. */
export type TagHeader = VideoTagHeader | AudioTagHeader;

/** The packet's tag header; undefined for script data or a header that does not parse. */
export function parseTagHeader(p: MediaPacket): TagHeader | undefined {
  try {
    if (p.type === TagType.Video) return parseVideoTagHeader(p.payload);
    if (p.type === TagType.Audio) return parseAudioTagHeader(p.payload);
  } catch {
    // Malformed: classify() says 'other', and consumers that need the header parse (and refuse) it themselves.
  }
  return undefined;
}

/**
 * Classifies an FLV tag body, from its already parsed header when the caller has it. Malformed headers
 * are 'other': carried through, never cached as a start.
 */
export function classify(p: MediaPacket, header: TagHeader | undefined = parseTagHeader(p)): PacketKind {
  if (p.type !== TagType.Video && p.type !== TagType.Audio) return 'metadata';
  if (!header) return 'other';
  if ('frameType' in header) {
    if (header.kind === 'sequence-header') return 'video-header';
    if (header.kind !== 'coded-frames') return 'other';
    return header.frameType === 'key' || header.frameType === 'generated-key' ? 'video-key' : 'video';
  }
  return header.kind === 'sequence-header' ? 'audio-header' : 'audio';
}

/** A serializer for one wire format; `slot` says which cache field of OutPacket holds its bytes. */
export interface PacketEncoder {
  readonly slot: 0 | 1;
  encode(p: MediaPacket): Buffer;
}

export class OutPacket {
  // Two slots as plain fields, not arrays: packets live for a GOP, and two arrays each are garbage the
  // old generation has to collect.
  private bytes0: Buffer | undefined;
  private bytes1: Buffer | undefined;
  private by0: PacketEncoder | undefined;
  private by1: PacketEncoder | undefined;

  constructor(
    /** Order of arrival within the stream: viewers track which packets they have had by it. */
    readonly seq: number,
    /** With the normalized (unwrapped, monotonic) timestamp. */
    readonly packet: MediaPacket,
    readonly kind: PacketKind,
    /** A viewer may start or resume here: a video keyframe, or any audio frame of an audio-only stream. */
    readonly randomAccess: boolean,
    /** performance.now() on arrival, for latency metrics. */
    readonly arrivedAt: number,
  ) {}

  get isMedia(): boolean {
    return this.kind === 'video' || this.kind === 'video-key' || this.kind === 'audio';
  }

  get size(): number {
    return this.packet.payload.length;
  }

  /** The packet's bytes in the encoder's format, encoded on first use and then shared. */
  bytes(enc: PacketEncoder): Buffer {
    if (enc.slot === 0) {
      if (this.bytes0 && this.by0 === enc) return this.bytes0;
      this.by0 = enc;
      return (this.bytes0 = enc.encode(this.packet));
    }
    if (this.bytes1 && this.by1 === enc) return this.bytes1;
    this.by1 = enc;
    return (this.bytes1 = enc.encode(this.packet));
  }
}
