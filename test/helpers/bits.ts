// Hand-made bitstreams for parser tests: syntax written as a string of '0'/'1', MSB first.

/** The bits, then the trailing bits of H.264/H.265 RBSPs and AV1 OBUs: a 1, then zeros to a byte boundary. */
export function bitsWithTrailing(bits: string): Buffer {
  const padded = `${bits}1`.padEnd(Math.ceil((bits.length + 1) / 8) * 8, '0');
  return Buffer.from(padded.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
}

/** An unsigned field of n bits. */
export const fieldBits = (v: number, n: number): string => v.toString(2).padStart(n, '0');

/** ue(v), Exp-Golomb (H.264 9.1, H.265 9.2). */
export const ueBits = (v: number): string => {
  const b = (v + 1).toString(2);
  return '0'.repeat(b.length - 1) + b;
};
