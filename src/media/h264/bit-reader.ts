// MSB-first bit reader with Exp-Golomb codes (H.264 9.1, H.265 9.2), over an RBSP (emulation prevention
// already removed); the HEVC and AV1 parsers use it too, each throwing its own error class.
import type { MediaFormatError } from '../error.js';
import { H264Error } from './error.js';

export class BitReader {
  private pos = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly Fault: new (message: string) => MediaFormatError = H264Error,
  ) {}

  get bitsLeft(): number {
    return this.buf.length * 8 - this.pos;
  }

  bit(): number {
    if (this.pos >= this.buf.length * 8) throw new this.Fault('read past the end of the RBSP');
    const b = ((this.buf[this.pos >> 3] ?? 0) >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return b;
  }

  /** n <= 32 bits, unsigned. */
  bits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }

  skip(n: number): void {
    if (n > this.bitsLeft) throw new this.Fault('skip past the end of the RBSP');
    this.pos += n;
  }

  /** ue(v). More than 31 leading zeros cannot encode a 32-bit value, so it is corrupt data. */
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      zeros++;
      if (zeros > 31) throw new this.Fault('Exp-Golomb code longer than 32 bits');
    }
    return 2 ** zeros - 1 + this.bits(zeros);
  }

  /** se(v): 1, -1, 2, -2, ... for codes 1, 2, 3, 4, ... */
  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : k === 0 ? 0 : -(k / 2);
  }
}
