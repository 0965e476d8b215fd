// Synthetic FLV tag bodies for unit tests (and in-process publishers in integration tests): the hub
// only reads tag headers, so the coded data can be filler of any size.
import { TagType } from '../../src/media/packet.js';
import type { MediaPacket } from '../../src/media/packet.js';
import { ms } from '../../src/media/time.js';

const fill = (head: number[], size: number): Buffer => {
  const b = Buffer.alloc(Math.max(head.length, size), 0x55);
  Buffer.from(head).copy(b);
  return b;
};

export const videoKey = (t: number, size = 100): MediaPacket => ({ type: TagType.Video, timestamp: ms(t), payload: fill([0x17, 0x01, 0, 0, 0], size) });
export const videoInter = (t: number, size = 50): MediaPacket => ({ type: TagType.Video, timestamp: ms(t), payload: fill([0x27, 0x01, 0, 0, 0], size) });
/** An AVC sequence header (a minimal record; enough for classification, not for decoding). */
export const videoHeader = (t = 0): MediaPacket => ({
  type: TagType.Video,
  timestamp: ms(t),
  payload: Buffer.from([0x17, 0x00, 0, 0, 0, 0x01, 0x42, 0xc0, 0x1e, 0xff, 0xe0, 0x00]),
});
export const aacHeader = (t = 0): MediaPacket => ({ type: TagType.Audio, timestamp: ms(t), payload: Buffer.from([0xaf, 0x00, 0x12, 0x10]) });
export const aacFrame = (t: number, size = 20): MediaPacket => ({ type: TagType.Audio, timestamp: ms(t), payload: fill([0xaf, 0x01], size) });
