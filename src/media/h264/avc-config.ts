// AVCDecoderConfigurationRecord (ISO 14496-15 5.3.3.1): the AVC sequence header of FLV/RTMP and MP4 avcC.
import { H264Error } from './error.js';
import { isNaluLengthSize } from './avcc.js';
import type { NaluLengthSize } from './avcc.js';

export interface AvcConfig {
  profile: number;
  /** profile_compatibility: the constraint_set flags byte. */
  compat: number;
  level: number;
  lengthSize: NaluLengthSize;
  sps: Buffer[];
  pps: Buffer[];
}

/**
 * Parses an AVCDecoderConfigurationRecord. The SPS/PPS buffers are copies so the packet can be released.
 * Trailing bytes (the high-profile chroma/bit-depth extension) are ignored. Throws H264Error.
 */
export function parseAvcConfig(data: Buffer): AvcConfig {
  if (data.length < 7) throw new H264Error(`AVC config too short: ${data.length} bytes`);
  if (data[0] !== 1) throw new H264Error(`AVC config version ${data[0]} (expected 1)`);
  const lengthSize = ((data[4] ?? 0) & 0x03) + 1;
  if (!isNaluLengthSize(lengthSize)) throw new H264Error(`invalid NALU length size ${lengthSize}`);
  let at = 5;
  const readList = (what: string): Buffer[] => {
    if (at >= data.length) throw new H264Error(`truncated AVC config: missing ${what} count`);
    const count = (data[at] ?? 0) & (what === 'SPS' ? 0x1f : 0xff);
    at += 1;
    const list: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      if (at + 2 > data.length) throw new H264Error(`truncated ${what} length`);
      const len = data.readUInt16BE(at);
      at += 2;
      if (len === 0) throw new H264Error(`empty ${what}`);
      if (at + len > data.length) throw new H264Error(`truncated ${what}: need ${len} bytes, have ${data.length - at}`);
      list.push(Buffer.from(data.subarray(at, at + len)));
      at += len;
    }
    return list;
  };
  const sps = readList('SPS');
  const pps = readList('PPS');
  if (sps.length === 0) throw new H264Error('AVC config without SPS');
  return { profile: data[1] ?? 0, compat: data[2] ?? 0, level: data[3] ?? 0, lengthSize, sps, pps };
}

/** Builds a record from SPS/PPS (tests, and the FLV side when a stream carries in-band parameter sets). */
export function writeAvcConfig(sps: readonly Buffer[], pps: readonly Buffer[], lengthSize: NaluLengthSize = 4): Buffer {
  const first = sps[0];
  if (!first || first.length < 4) throw new H264Error('need an SPS of at least 4 bytes');
  if (sps.length > 31 || pps.length > 255) throw new H264Error('too many parameter sets');
  const parts: Buffer[] = [Buffer.from([1, first[1] ?? 0, first[2] ?? 0, first[3] ?? 0, 0xfc | (lengthSize - 1), 0xe0 | sps.length])];
  const add = (u: Buffer): void => {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(u.length);
    parts.push(len, u);
  };
  sps.forEach(add);
  parts.push(Buffer.from([pps.length]));
  pps.forEach(add);
  return Buffer.concat(parts);
}
