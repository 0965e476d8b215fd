// Annex B byte stream (ITU-T H.264 Annex B): NALUs separated by 00 00 01 / 00 00 00 01 start codes.
// This is how H.264 travels in MPEG-TS.

/** The 4-byte start code put before every NALU (ffmpeg's choice; a 4-byte code is required before SPS/PPS/first NALU of an AU). */
export const START_CODE: Buffer = Buffer.from([0, 0, 0, 1]);

/** Joins NALUs with 4-byte start codes (ffmpeg's choice; a 4-byte code is required before SPS/PPS/first NALU of an AU). */
export function toAnnexB(nalus: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const u of nalus) parts.push(START_CODE, u);
  return Buffer.concat(parts);
}

/**
 * Splits an Annex B stream into NALUs (views into `data`). Bytes before the first start code are
 * ignored; trailing zero bytes of a NALU (trailing_zero_8bits or the leading zero of a 4-byte code) are trimmed.
 */
export function splitAnnexB(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = -1;
  let i = 0;
  const push = (end: number): void => {
    let e = end;
    while (e > start && data[e - 1] === 0) e--;
    if (e > start) out.push(data.subarray(start, e));
  };
  while (i + 2 < data.length) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      if (start >= 0) push(i);
      i += 3;
      start = i;
    } else {
      i++;
    }
  }
  if (start >= 0) push(data.length);
  return out;
}
