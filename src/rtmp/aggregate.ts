// Aggregate messages (type 22): FLV tags back to back, each followed by its PreviousTagSize, with
// timestamps relative to the first tag and rebased onto the message's own timestamp.
import { flvTagDataSize, flvTagFiltered, flvTagTimestamp, flvTagType } from '../media/flv/tag-header.js';
import { FLV_TAG_HEADER_SIZE } from '../media/flv/tag-writer.js';
import { TagType } from '../media/packet.js';
import { RtmpProtocolError } from './errors.js';

export interface AggregatedTag {
  readonly type: typeof TagType.Audio | typeof TagType.Video;
  /** 32-bit RTMP timestamp (ms). */
  readonly timestamp: number;
  readonly payload: Buffer;
}

/** Audio and video tags of an aggregate message; other tag types (and filtered tags) are skipped. */
export function splitAggregate(messageTimestamp: number, p: Buffer): AggregatedTag[] {
  const out: AggregatedTag[] = [];
  let off = 0;
  let base: number | undefined;
  while (off + FLV_TAG_HEADER_SIZE <= p.length) {
    const type = flvTagType(p, off);
    const size = flvTagDataSize(p, off);
    const ts = flvTagTimestamp(p, off);
    const body = off + FLV_TAG_HEADER_SIZE;
    if (body + size > p.length) throw new RtmpProtocolError('bad-message', 'truncated aggregate message');
    base ??= ts;
    if ((type === TagType.Audio || type === TagType.Video) && !flvTagFiltered(p, off)) {
      out.push({ type, timestamp: (messageTimestamp + ts - base) >>> 0, payload: p.subarray(body, body + size) });
    }
    off = body + size + 4;
  }
  return out;
}
