// The AV1 sequence header OBU (AV1 spec 5.5), up to the colour config's bit depth and monochrome flag:
// profile, level and tier of operating point 0, and the maximum frame size a stream's video track
// announces as its dimensions.
import { BitReader } from '../h264/bit-reader.js';
import { Av1Error } from './error.js';

export interface Av1SequenceHeader {
  profile: number;
  stillPicture: boolean;
  reducedStillPictureHeader: boolean;
  /** seq_level_idx[0] and seq_tier[0]: operating point 0 (the whole stream). */
  level: number;
  tier: number;
  /** max_frame_width_minus_1 + 1 and max_frame_height_minus_1 + 1. */
  maxWidth: number;
  maxHeight: number;
  bitDepth: 8 | 10 | 12;
  monochrome: boolean;
}

/** Largest frame side accepted: AV1 level 6.3 allows 16384 (Annex A.3), so a corrupt header cannot announce 65536. */
export const MAX_AV1_DIMENSION = 16384;

/** The payload of a sequence header OBU (after its OBU header and size). Throws Av1Error on malformed or truncated data. */
export function parseSequenceHeader(payload: Buffer): Av1SequenceHeader {
  const r = new BitReader(payload, Av1Error);
  const profile = r.bits(3);
  if (profile > 2) throw new Av1Error(`seq_profile ${profile}`);
  const stillPicture = r.bit() === 1;
  const reducedStillPictureHeader = r.bit() === 1;
  let level: number;
  let tier = 0;
  let enableOrderHint = false;
  if (reducedStillPictureHeader) {
    level = r.bits(5);
  } else {
    let decoderModelInfo = false;
    let bufferDelayLength = 0;
    if (r.bit() === 1) {
      // timing_info (5.5.3)
      r.skip(64);
      if (r.bit() === 1) uvlc(r);
      decoderModelInfo = r.bit() === 1;
      if (decoderModelInfo) {
        bufferDelayLength = r.bits(5) + 1;
        r.skip(32 + 5 + 5);
      }
    }
    const initialDisplayDelay = r.bit() === 1;
    const operatingPoints = r.bits(5) + 1;
    level = 0;
    for (let i = 0; i < operatingPoints; i++) {
      r.skip(12); // operating_point_idc
      const idx = r.bits(5);
      const t = idx > 7 ? r.bit() : 0;
      if (i === 0) [level, tier] = [idx, t];
      if (decoderModelInfo && r.bit() === 1) r.skip(2 * bufferDelayLength + 1);
      if (initialDisplayDelay && r.bit() === 1) r.skip(4);
    }
  }
  const widthBits = r.bits(4) + 1;
  const heightBits = r.bits(4) + 1;
  const maxWidth = r.bits(widthBits) + 1;
  const maxHeight = r.bits(heightBits) + 1;
  for (const d of [maxWidth, maxHeight]) if (d > MAX_AV1_DIMENSION) throw new Av1Error(`frame dimension ${d}`);
  if (!reducedStillPictureHeader && r.bit() === 1) r.skip(4 + 3); // frame id lengths
  r.skip(3); // use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
  if (!reducedStillPictureHeader) {
    r.skip(4); // interintra, masked compound, warped motion, dual filter
    enableOrderHint = r.bit() === 1;
    if (enableOrderHint) r.skip(2); // jnt_comp, ref_frame_mvs
    const chooseScreenContentTools = r.bit() === 1;
    const forceScreenContentTools = chooseScreenContentTools ? 2 : r.bit();
    if (forceScreenContentTools > 0 && r.bit() === 0) r.skip(1); // seq_choose_integer_mv, else seq_force_integer_mv
    if (enableOrderHint) r.skip(3);
  }
  r.skip(3); // superres, cdef, restoration
  // color_config (5.5.2)
  const highBitdepth = r.bit() === 1;
  const bitDepth = profile === 2 && highBitdepth ? (r.bit() === 1 ? 12 : 10) : highBitdepth ? 10 : 8;
  const monochrome = profile === 1 ? false : r.bit() === 1;
  return { profile, stillPicture, reducedStillPictureHeader, level, tier, maxWidth, maxHeight, bitDepth, monochrome };
}

/** uvlc() (4.10.3): 32 or more leading zeros mean 2^32 - 1. */
function uvlc(r: BitReader): number {
  let zeros = 0;
  while (r.bit() === 0) zeros++;
  if (zeros >= 32) return 0xffffffff;
  return 2 ** zeros - 1 + r.bits(zeros);
}
