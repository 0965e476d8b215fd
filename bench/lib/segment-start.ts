// Where an HLS segment starts on the media timeline: the PTS of its first video frame, read from the
// first PES header of a video stream in an MPEG-TS segment. Rung alignment compares these across the
// renditions of one source (bench/abr.ts).
import { readTsPackets } from '../../src/media/mpegts/packet-reader.js';

/** 90 kHz ticks per ms. */
const TICKS_PER_MS = 90;

/** PES stream_id of the video streams (ISO 13818-1 table 2-22: 0xE0-0xEF). */
const isVideoStreamId = (id: number): boolean => (id & 0xf0) === 0xe0;

/** The 33-bit timestamp of a PES header's 5-byte PTS field at `at`. */
function readTimestamp(b: Buffer, at: number): number {
  const hi = ((b[at] ?? 0) >> 1) & 7;
  const mid = ((b[at + 1] ?? 0) << 7) | ((b[at + 2] ?? 0) >> 1);
  const lo = ((b[at + 3] ?? 0) << 7) | ((b[at + 4] ?? 0) >> 1);
  return hi * 2 ** 30 + mid * 2 ** 15 + lo;
}

/**
 * The PTS in ms of the first video access unit of an MPEG-TS segment; undefined when the segment has no
 * video PES with a PTS. Throws (TsError) when the bytes are not whole TS packets.
 */
export function firstVideoPtsMs(segment: Buffer): number | undefined {
  for (const p of readTsPackets(segment)) {
    const b = p.payload;
    if (!p.payloadUnitStart || b.length < 14) continue;
    if (b[0] !== 0 || b[1] !== 0 || b[2] !== 1 || !isVideoStreamId(b[3] ?? 0)) continue;
    // PTS_DTS_flags '10' or '11': a PTS follows the 9-byte fixed header.
    if (((b[7] ?? 0) & 0x80) === 0) continue;
    return readTimestamp(b, 9) / TICKS_PER_MS;
  }
  return undefined;
}
