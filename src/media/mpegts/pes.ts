// PES packet header (ISO 13818-1 2.4.3.6/2.4.3.7) with 33-bit 90 kHz PTS and optional DTS.
import type { Ticks90k } from '../time.js';

export const StreamId = { Video: 0xe0, Audio: 0xc0 } as const;

const WRAP = 2 ** 33;

/** A 90 kHz timestamp reduced to the 33 bits TS carries (unwrapped timelines exceed 2^33 after ~26.5 h). */
export const wrap33 = (t: number): number => ((Math.round(t) % WRAP) + WRAP) % WRAP;

// '0010'/'0011'/'0001' prefix, then 3+15+15 bits each followed by a marker bit.
function writeTimestamp(b: Buffer, at: number, prefix: number, t: number): void {
  const v = wrap33(t);
  const hi = Math.floor(v / 2 ** 30) & 7;
  const mid = Math.floor(v / 2 ** 15) & 0x7fff;
  const lo = v & 0x7fff;
  b[at] = (prefix << 4) | (hi << 1) | 1;
  b[at + 1] = mid >> 7;
  b[at + 2] = ((mid & 0x7f) << 1) | 1;
  b[at + 3] = lo >> 7;
  b[at + 4] = ((lo & 0x7f) << 1) | 1;
}

/**
 * The PES header for `payloadLength` bytes of elementary stream. DTS is written only when it differs
 * from PTS. PES_packet_length is 0 (unbounded, allowed for video only) when `unbounded` or when the
 * packet would not fit 16 bits.
 */
export function pesHeader(opts: { streamId: number; pts: Ticks90k; dts?: Ticks90k; payloadLength: number; unbounded?: boolean; dataAligned?: boolean }): Buffer {
  const withDts = opts.dts !== undefined && wrap33(opts.dts) !== wrap33(opts.pts);
  const headerDataLength = withDts ? 10 : 5;
  const h = Buffer.allocUnsafe(9 + headerDataLength);
  h[0] = 0;
  h[1] = 0;
  h[2] = 1;
  h[3] = opts.streamId;
  const pesLength = 3 + headerDataLength + opts.payloadLength;
  h.writeUInt16BE(opts.unbounded || pesLength > 0xffff ? 0 : pesLength, 4);
  h[6] = 0x80 | (opts.dataAligned ? 0x04 : 0); // '10', not scrambled, data_alignment_indicator
  h[7] = withDts ? 0xc0 : 0x80; // PTS_DTS_flags
  h[8] = headerDataLength;
  writeTimestamp(h, 9, withDts ? 0b0011 : 0b0010, opts.pts);
  if (withDts && opts.dts !== undefined) writeTimestamp(h, 14, 0b0001, opts.dts);
  return h;
}
