// Emulation prevention (H.264 7.4.1): encoders insert 0x03 after any 00 00 that precedes a byte <= 3,
// so that start codes never appear inside a NALU. Parsers must drop those bytes before reading syntax.

/** NALU payload -> RBSP: removes every emulation_prevention_three_byte. Returns `nalu` itself when there is none. */
export function unescapeRbsp(nalu: Buffer): Buffer {
  let zeros = 0;
  let found = -1;
  for (let i = 0; i < nalu.length; i++) {
    const b = nalu[i];
    if (zeros >= 2 && b === 3) {
      found = i;
      break;
    }
    zeros = b === 0 ? zeros + 1 : 0;
  }
  if (found < 0) return nalu;
  const out = Buffer.allocUnsafe(nalu.length);
  nalu.copy(out, 0, 0, found);
  let n = found;
  zeros = 0;
  for (let i = found + 1; i < nalu.length; i++) {
    const b = nalu[i] ?? 0;
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[n++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, n);
}

/** RBSP -> NALU payload: inserts emulation_prevention_three_byte after 00 00 before a byte <= 3. */
export function escapeRbsp(rbsp: Buffer): Buffer {
  const out: number[] = [];
  let zeros = 0;
  for (const byte of rbsp) {
    if (zeros >= 2 && byte <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(byte);
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  return Buffer.from(out);
}
