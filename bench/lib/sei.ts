// Send-time stamps carried inside the video: an H.264 SEI user_data_unregistered message (payload
// type 5) with our UUID and a float64 ms wall-clock time, inserted into the AVCC frame just before it is
// sent. Servers forward it untouched, so a viewer can compute the delay the server added.
import { parseAvcConfig } from '../../src/media/h264/avc-config.js';
import { splitAvcc } from '../../src/media/h264/avcc.js';
import type { NaluLengthSize } from '../../src/media/h264/avcc.js';
import { escapeRbsp, unescapeRbsp } from '../../src/media/h264/rbsp.js';

/** 16-byte UUID of our SEI payload ("livecdn-bench-ts"). */
export const STAMP_UUID = Buffer.from('livecdn-bench-ts', 'latin1');

/** Wall-clock ms with sub-ms resolution, comparable across processes on one machine. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/** One SEI NAL unit (header byte included, no length prefix) carrying time `t`. */
export function stampNal(t: number): Buffer {
  const payload = Buffer.alloc(24);
  STAMP_UUID.copy(payload, 0);
  payload.writeDoubleBE(t, 16);
  // sei_message: type 5, size 24, payload; then rbsp_trailing_bits.
  const rbsp = Buffer.concat([Buffer.from([5, 24]), payload, Buffer.from([0x80])]);
  return Buffer.concat([Buffer.from([0x06]), escapeRbsp(rbsp)]);
}

/** NALU length size (1, 2 or 4) from an AVCDecoderConfigurationRecord (the AVC sequence header body); 4 if malformed. */
export function nalLengthSize(avcc: Buffer): NaluLengthSize {
  try {
    return parseAvcConfig(avcc).lengthSize;
  } catch {
    return 4;
  }
}

/**
 * A copy of an FLV/RTMP AVC coded-frame payload (5-byte AVC header + NALUs) with a stamp NAL added in
 * front of the first NAL that is not an access unit delimiter.
 */
export function insertStamp(payload: Buffer, lengthSize: number, t: number): Buffer {
  const nal = stampNal(t);
  let at = 5;
  // Keep an AUD first, as H.264 requires.
  if (payload.length > at + lengthSize && ((payload[at + lengthSize] ?? 0) & 0x1f) === 9) {
    at += lengthSize + payload.readUIntBE(at, lengthSize);
  }
  const len = Buffer.alloc(lengthSize);
  len.writeUIntBE(nal.length, 0, lengthSize);
  return Buffer.concat([payload.subarray(0, at), len, nal, payload.subarray(at)]);
}

/** Finds our stamp in an AVC coded-frame payload; undefined when absent. Looks at the first few NALs. */
export function readStamp(payload: Buffer, lengthSize: NaluLengthSize): number | undefined {
  let nals: Buffer[];
  try {
    nals = splitAvcc(payload.subarray(5), lengthSize);
  } catch {
    return undefined; // truncated framing
  }
  for (const nal of nals.slice(0, 4)) {
    if (((nal[0] ?? 0) & 0x1f) === 6 && nal.length >= 28) {
      const rbsp = unescapeRbsp(nal.subarray(1));
      if (rbsp[0] === 5 && rbsp[1] === 24 && rbsp.subarray(2, 18).equals(STAMP_UUID)) return rbsp.readDoubleBE(18);
    }
  }
  return undefined;
}
