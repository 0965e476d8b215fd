// AV1 open bitstream units (AV1 spec 5.3, 4.10.5): the header and leb128 size that frame every OBU of
// the low-overhead bitstream format, as ISO BMFF samples and the av1C configOBUs carry them.
import { Av1Error } from './error.js';

export const ObuType = { SequenceHeader: 1, TemporalDelimiter: 2, FrameHeader: 3, TileGroup: 4, Metadata: 5, Frame: 6, RedundantFrameHeader: 7, TileList: 8, Padding: 15 } as const;

export interface Obu {
  type: number;
  temporalId: number;
  spatialId: number;
  /** The OBU's payload (a view into the input). */
  payload: Buffer;
}

/** leb128() (4.10.5): at most 8 bytes, value below 2^32. Returns the value and the bytes read. */
export function readLeb128(data: Buffer, at: number): { value: number; length: number } {
  let value = 0;
  for (let i = 0; i < 8; i++) {
    if (at + i >= data.length) throw new Av1Error('truncated leb128');
    const b = data[at + i]!;
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) {
      if (value > 0xffffffff) throw new Av1Error(`leb128 value ${value} exceeds 32 bits`);
      return { value, length: i + 1 };
    }
  }
  throw new Av1Error('leb128 longer than 8 bytes');
}

/**
 * Splits a sequence of OBUs. An OBU without obu_has_size_field extends to the end of the data (allowed
 * only for the last one). Payloads are views into `data`. Throws Av1Error.
 */
export function splitObus(data: Buffer): Obu[] {
  const out: Obu[] = [];
  let at = 0;
  while (at < data.length) {
    const h = data[at]!;
    if (h & 0x80) throw new Av1Error(`obu_forbidden_bit set at ${at}`);
    const type = (h >> 3) & 0x0f;
    const hasExtension = (h & 0x04) !== 0;
    const hasSize = (h & 0x02) !== 0;
    at += 1;
    let temporalId = 0;
    let spatialId = 0;
    if (hasExtension) {
      if (at >= data.length) throw new Av1Error('truncated OBU extension header');
      temporalId = data[at]! >> 5;
      spatialId = (data[at]! >> 3) & 0x03;
      at += 1;
    }
    let size = data.length - at;
    if (hasSize) {
      const leb = readLeb128(data, at);
      at += leb.length;
      if (leb.value > data.length - at) throw new Av1Error(`OBU of ${leb.value} bytes with ${data.length - at} left`);
      size = leb.value;
    }
    out.push({ type, temporalId, spatialId, payload: data.subarray(at, at + size) });
    at += size;
  }
  return out;
}
