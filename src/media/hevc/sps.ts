// HEVC sequence parameter set (ITU-T H.265 7.3.2.2), up to the bit depths: the picture size (after the
// conformance window) a stream's video track announces, and its profile_tier_level.
import { BitReader } from '../h264/bit-reader.js';
import { unescapeRbsp } from '../h264/rbsp.js';
import { HevcError } from './error.js';
import { HevcNalType } from './hvcc.js';

export interface HevcSpsInfo {
  profileSpace: number;
  highTier: boolean;
  profileIdc: number;
  compatibilityFlags: number;
  levelIdc: number;
  /** 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4. */
  chromaFormat: number;
  /** pic_width/height_in_luma_samples: the coded size. */
  codedWidth: number;
  codedHeight: number;
  /** The displayed size: the coded size less the conformance window. */
  width: number;
  height: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
}

/**
 * Largest picture dimension accepted: twice H.265's level 6.2 limit (sqrt(8 * MaxLumaPs) = 8444, A.4.1),
 * so a corrupt SPS cannot announce a picture of billions of pixels.
 */
export const MAX_HEVC_DIMENSION = 16888;

/** general/sub-layer profile_tier_level (7.3.3); returns the general part. */
function profileTierLevel(r: BitReader, maxSubLayersMinus1: number): Pick<HevcSpsInfo, 'profileSpace' | 'highTier' | 'profileIdc' | 'compatibilityFlags' | 'levelIdc'> {
  const profileSpace = r.bits(2);
  const highTier = r.bit() === 1;
  const profileIdc = r.bits(5);
  const compatibilityFlags = r.bits(32);
  r.skip(48); // source flags and constraint flags
  const levelIdc = r.bits(8);
  const present: [boolean, boolean][] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) present.push([r.bit() === 1, r.bit() === 1]);
  if (maxSubLayersMinus1 > 0) r.skip(2 * (8 - maxSubLayersMinus1));
  for (const [profile, level] of present) {
    if (profile) r.skip(88);
    if (level) r.skip(8);
  }
  return { profileSpace, highTier, profileIdc, compatibilityFlags, levelIdc };
}

/** Parses an SPS NAL unit (with its 2-byte NAL header). Throws HevcError on malformed or truncated data. */
export function parseHevcSps(nalu: Buffer): HevcSpsInfo {
  if (nalu.length < 3) throw new HevcError(`SPS too short: ${nalu.length} bytes`);
  const type = (nalu[0]! >> 1) & 0x3f;
  if (type !== HevcNalType.Sps) throw new HevcError(`not an SPS: NAL type ${type}`);
  const r = new BitReader(unescapeRbsp(nalu.subarray(2)), HevcError);
  r.skip(4); // sps_video_parameter_set_id
  const maxSubLayersMinus1 = r.bits(3);
  if (maxSubLayersMinus1 > 6) throw new HevcError(`sps_max_sub_layers_minus1 ${maxSubLayersMinus1}`);
  r.skip(1); // sps_temporal_id_nesting_flag
  const ptl = profileTierLevel(r, maxSubLayersMinus1);
  if (r.ue() > 15) throw new HevcError('sps_seq_parameter_set_id out of range');
  const chromaFormat = r.ue();
  if (chromaFormat > 3) throw new HevcError(`chroma_format_idc ${chromaFormat}`);
  const separateColourPlanes = chromaFormat === 3 && r.bit() === 1;
  const codedWidth = r.ue();
  const codedHeight = r.ue();
  for (const d of [codedWidth, codedHeight]) if (d === 0 || d > MAX_HEVC_DIMENSION) throw new HevcError(`picture dimension ${d}`);
  // The window offsets count chroma samples (7.4.3.2.1: SubWidthC, SubHeightC of Table 6-1).
  const chromaArrayType = separateColourPlanes ? 0 : chromaFormat;
  const subWidth = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
  const subHeight = chromaArrayType === 1 ? 2 : 1;
  let width = codedWidth;
  let height = codedHeight;
  if (r.bit() === 1) {
    const [left, right, top, bottom] = [r.ue(), r.ue(), r.ue(), r.ue()];
    width -= subWidth * (left + right);
    height -= subHeight * (top + bottom);
    if (width <= 0 || height <= 0) throw new HevcError(`conformance window larger than the ${codedWidth}x${codedHeight} picture`);
  }
  const bitDepthLuma = r.ue() + 8;
  const bitDepthChroma = r.ue() + 8;
  if (bitDepthLuma > 16 || bitDepthChroma > 16) throw new HevcError(`bit depth ${bitDepthLuma}/${bitDepthChroma}`);
  return { ...ptl, chromaFormat, codedWidth, codedHeight, width, height, bitDepthLuma, bitDepthChroma };
}
