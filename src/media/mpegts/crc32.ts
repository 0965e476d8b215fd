// CRC-32/MPEG-2 (ISO 13818-1 Annex A): poly 0x04C11DB7, MSB first, init 0xFFFFFFFF, no final XOR.
// Every PSI section ends with it; a section including its CRC checks to 0.

const TABLE = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let c = i << 24;
  for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
  TABLE[i] = c >>> 0;
}

export function crc32Mpeg2(data: Uint8Array, start = 0, end = data.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = ((crc << 8) ^ (TABLE[((crc >>> 24) ^ (data[i] ?? 0)) & 0xff] ?? 0)) >>> 0;
  return crc >>> 0;
}
