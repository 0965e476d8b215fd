// Aggregate messages (type 22): FLV tags back to back, each followed by its PreviousTagSize, with
// timestamps relative to the first tag and rebased onto the message's own timestamp.
import { TagType } from '../media/packet.js';
import { RtmpProtocolError } from './errors.js';

export interface AggregatedTag {
  readonly type: typeof TagType.Audio | typeof TagType.Video;
  /** 32-bit RTMP timestamp (ms). */
  readonly timestamp: number;
  readonly payload: Buffer;
}

/** Audio and video tags of an aggregate message; other tag types are skipped. */
export function splitAggregate(messageTimestamp: number, p: Buffer): AggregatedTag[] {
  const out: AggregatedTag[] = [];
  let off = 0;
  let base: number | undefined;
  while (off + 11 <= p.length) {
    const type = p[off]!;
    const size = p.readUIntBE(off + 1, 3);
    const ts = (p.readUIntBE(off + 4, 3) | (p[off + 7]! << 24)) >>> 0;
    if (off + 11 + size > p.length) throw new RtmpProtocolError('bad-message', 'truncated aggregate message');
    base ??= ts;
    if (type === TagType.Audio || type === TagType.Video) {
      out.push({ type, timestamp: (messageTimestamp + ts - base) >>> 0, payload: p.subarray(off + 11, off + 11 + size) });
    }
    off += 11 + size + 4;
  }
  return out;
}
