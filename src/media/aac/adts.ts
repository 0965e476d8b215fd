// ADTS (ISO 14496-3 1.A.2): the self-describing AAC framing that MPEG-TS carries (stream type 0x0F).
import { AAC_SAMPLE_RATES } from './asc.js';
import type { AudioSpecificConfig } from './asc.js';
import { AacError } from './error.js';

export const ADTS_HEADER_SIZE = 7;
const MAX_FRAME = 0x1fff;

/**
 * The 7-byte ADTS header (MPEG-4, protection_absent = 1, one raw data block) for a raw AAC frame of
 * `rawLength` bytes. Throws AacError when the config cannot be expressed in ADTS (profile > 4,
 * channelConfig > 7, a rate with no index) or the frame is too long.
 */
export function adtsHeader(asc: Pick<AudioSpecificConfig, 'objectType' | 'samplingIndex' | 'sampleRate' | 'channelConfig'>, rawLength: number): Buffer {
  if (asc.objectType < 1 || asc.objectType > 4) throw new AacError(`object type ${asc.objectType} has no ADTS profile`);
  let sfi = asc.samplingIndex;
  if (sfi === 15) {
    // ADTS has no escape: an explicit rate must match a table entry.
    sfi = AAC_SAMPLE_RATES.indexOf(asc.sampleRate);
    if (sfi < 0) throw new AacError(`sample rate ${asc.sampleRate} has no ADTS index`);
  }
  if (sfi > 12) throw new AacError(`sampling index ${sfi} invalid for ADTS`);
  if (asc.channelConfig > 7) throw new AacError(`channel configuration ${asc.channelConfig} does not fit ADTS`);
  const len = rawLength + ADTS_HEADER_SIZE;
  if (rawLength < 0 || len > MAX_FRAME) throw new AacError(`AAC frame of ${rawLength} bytes too long for ADTS`);
  const profile = asc.objectType - 1;
  const ch = asc.channelConfig;
  const h = Buffer.allocUnsafe(ADTS_HEADER_SIZE);
  h[0] = 0xff; // syncword 0xFFF...
  h[1] = 0xf1; // ...ID 0 (MPEG-4), layer 00, protection_absent 1
  h[2] = (profile << 6) | (sfi << 2) | (ch >> 2);
  h[3] = ((ch & 3) << 6) | (len >> 11);
  h[4] = (len >> 3) & 0xff;
  h[5] = ((len & 7) << 5) | 0x1f; // + buffer fullness 0x7FF (VBR), high 5 bits
  h[6] = 0xfc; // buffer fullness low 6 bits, number_of_raw_data_blocks_in_frame 0
  return h;
}
