import type { Ms } from './time.js';

/** FLV tag types, which are also the RTMP message type ids of media messages. */
export const TagType = { Audio: 8, Video: 9, Script: 18 } as const;
export type TagType = (typeof TagType)[keyof typeof TagType];

/**
 * One media message as it travels through livecdn: an RTMP audio/video/data message payload is exactly
 * an FLV tag body, so the same bytes serve RTMP, HTTP-FLV and the remuxers without conversion.
 * Script packets carry `onMetaData` (the `@setDataFrame` wrapper already stripped).
 */
export interface MediaPacket {
  readonly type: TagType;
  /** Decode timestamp in ms. Raw 32-bit values at the RTMP edge; unwrapped and monotonic after the hub's timeline. */
  readonly timestamp: Ms;
  readonly payload: Buffer;
}
