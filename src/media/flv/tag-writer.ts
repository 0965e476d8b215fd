// Serializes MediaPackets as FLV tags: runs once per frame per stream, so one allocation per tag.
import type { MediaPacket } from '../packet.js';
import { FlvError } from './tag-header.js';

export const FLV_TAG_HEADER_SIZE = 11;
/** Largest body the 24-bit DataSize field can express. */
export const FLV_MAX_TAG_BODY = 0xffffff;

const TWO_32 = 2 ** 32;

/** FLV timestamps are 32 bits (24 + 8 extended): unwrapped hub timestamps wrap back here. */
function wire32(timestamp: number): number {
  const t = Math.floor(timestamp) % TWO_32;
  return t < 0 ? t + TWO_32 : t;
}

/**
 * Writes the 11-byte tag header at `offset`: type, 24-bit DataSize, 24-bit timestamp + 8-bit
 * extension, 24-bit StreamID 0. Returns the offset after it.
 */
export function writeFlvTagHeader(target: Buffer, offset: number, type: number, dataSize: number, timestamp: number): number {
  if (dataSize > FLV_MAX_TAG_BODY) throw new FlvError(`tag body of ${dataSize} bytes exceeds the 24-bit size field`);
  const ts = wire32(timestamp);
  target[offset] = type & 0x1f;
  target.writeUIntBE(dataSize, offset + 1, 3);
  target.writeUIntBE(ts & 0xffffff, offset + 4, 3);
  target[offset + 7] = ts >>> 24;
  target.writeUIntBE(0, offset + 8, 3);
  return offset + FLV_TAG_HEADER_SIZE;
}

/** One FLV tag: header, body, PreviousTagSize (= 11 + body length). */
export function encodeFlvTag(p: MediaPacket): Buffer {
  const size = p.payload.length;
  const out = Buffer.allocUnsafe(FLV_TAG_HEADER_SIZE + size + 4);
  const at = writeFlvTagHeader(out, 0, p.type, size, p.timestamp);
  p.payload.copy(out, at);
  out.writeUInt32BE(FLV_TAG_HEADER_SIZE + size, at + size);
  return out;
}
