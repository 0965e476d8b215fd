// A normalized packet as the hub fans it out: classified once on arrival, and serialized at most once
// per output format (lazily, only when a viewer of that format exists); the bytes are shared by every
// viewer and by the GOP cache.
import { TagType } from '../media/packet.js';
import type { MediaPacket } from '../media/packet.js';
import { parseAudioTagHeader, parseVideoTagHeader } from '../media/flv/tag-header.js';

export type PacketKind = 'video-header' | 'audio-header' | 'metadata' | 'video-key' | 'video' | 'audio' | 'other';

/** Classifies an FLV tag body. Malformed headers are 'other': carried through, never cached as a start. */
export function classify(p: MediaPacket): PacketKind {
  try {
    if (p.type === TagType.Video) {
      const h = parseVideoTagHeader(p.payload);
      if (h.kind === 'sequence-header') return 'video-header';
      if (h.kind !== 'coded-frames') return 'other';
      return h.frameType === 'key' || h.frameType === 'generated-key' ? 'video-key' : 'video';
    }
    if (p.type === TagType.Audio) return parseAudioTagHeader(p.payload).kind === 'sequence-header' ? 'audio-header' : 'audio';
    return 'metadata';
  } catch {
    return 'other';
  }
}

/** A serializer for one wire format; `slot` says which cache field of OutPacket holds its bytes. */
export interface PacketEncoder {
  readonly slot: 0 | 1;
  encode(p: MediaPacket): Buffer;
}

export class OutPacket {
  private readonly cache: [Buffer | undefined, Buffer | undefined] = [undefined, undefined];
  private cachedBy: [PacketEncoder | undefined, PacketEncoder | undefined] = [undefined, undefined];

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
    const cached = this.cache[enc.slot];
    if (cached && this.cachedBy[enc.slot] === enc) return cached;
    const b = enc.encode(this.packet);
    this.cache[enc.slot] = b;
    this.cachedBy[enc.slot] = enc;
    return b;
  }
}
