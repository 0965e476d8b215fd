// AVCC framing (ISO 14496-15): each NALU prefixed by its big-endian length on lengthSize bytes.
// This is the layout of FLV/RTMP AVC coded frames and of MP4 samples.
import { H264Error } from './error.js';

export type NaluLengthSize = 1 | 2 | 4;

export function isNaluLengthSize(n: number): n is NaluLengthSize {
  return n === 1 || n === 2 || n === 4;
}

/** Splits length-prefixed NALUs. Returns views into `data` (no copy); empty NALUs are skipped. Throws H264Error. */
export function splitAvcc(data: Buffer, lengthSize: NaluLengthSize): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    if (at + lengthSize > data.length) throw new H264Error(`truncated NALU length at ${at}`);
    const len = data.readUIntBE(at, lengthSize);
    at += lengthSize;
    if (len > data.length - at) throw new H264Error(`NALU length ${len} at ${at - lengthSize} exceeds the ${data.length - at} bytes left`);
    if (len > 0) out.push(data.subarray(at, at + len));
    at += len;
  }
  return out;
}

/** Joins NALUs with length prefixes (the inverse of splitAvcc; used by tests and the FLV side). */
export function joinAvcc(nalus: readonly Buffer[], lengthSize: NaluLengthSize = 4): Buffer {
  const max = 2 ** (8 * lengthSize) - 1;
  const out = Buffer.allocUnsafe(nalus.reduce((n, u) => n + lengthSize + u.length, 0));
  let at = 0;
  for (const u of nalus) {
    if (u.length > max) throw new H264Error(`NALU of ${u.length} bytes does not fit a ${lengthSize}-byte length`);
    out.writeUIntBE(u.length, at, lengthSize);
    u.copy(out, at + lengthSize);
    at += lengthSize + u.length;
  }
  return out;
}
