// ISO/IEC 14496-12 4.2: a box is a 32-bit size, a four-character type and its payload; a full box adds
// an 8-bit version and 24-bit flags. Payloads are passed as Buffers and concatenated once.
import { Mp4Error } from './error.js';

const MAX_BOX = 0xffffffff;

/** The four ASCII bytes of a box or brand type. */
export function fourcc(type: string): Buffer {
  if (!/^[\x20-\x7e]{4}$/.test(type)) throw new Mp4Error(`box type ${JSON.stringify(type)} is not four ASCII characters`);
  return Buffer.from(type, 'latin1');
}

export function box(type: string, ...payload: Buffer[]): Buffer {
  const size = payload.reduce((n, p) => n + p.length, 8);
  if (size > MAX_BOX) throw new Mp4Error(`${type} box of ${size} bytes needs a 64-bit size`);
  const header = Buffer.allocUnsafe(8);
  header.writeUInt32BE(size, 0);
  fourcc(type).copy(header, 4);
  return Buffer.concat([header, ...payload], size);
}

export function fullBox(type: string, version: number, flags: number, ...payload: Buffer[]): Buffer {
  return box(type, Buffer.from([version, (flags >>> 16) & 0xff, (flags >>> 8) & 0xff, flags & 0xff]), ...payload);
}

function checkUint(n: number, bits: number): void {
  if (!Number.isSafeInteger(n) || n < 0 || n >= 2 ** bits) throw new Mp4Error(`${n} does not fit an unsigned ${bits}-bit field`);
}

/** Big-endian unsigned fields of 8, 16, 24 or 32 bits. Throws Mp4Error when n does not fit. */
export function uint(bits: 8 | 16 | 24 | 32, n: number): Buffer {
  checkUint(n, bits);
  const b = Buffer.allocUnsafe(bits / 8);
  b.writeUIntBE(n, 0, bits / 8);
  return b;
}

export function uint64(n: number): Buffer {
  checkUint(n, 64);
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

export const zeros = (n: number): Buffer => Buffer.alloc(n);

/** The unity transformation matrix of mvhd and tkhd (14496-12 8.2.2). */
export const UNITY_MATRIX = Buffer.from([0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000].flatMap((v) => [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]));
