// Sequence parameter set (ITU-T H.264 7.3.2.1.1 and Annex E VUI): just enough to report the picture
// size, profile/level, chroma format and frame rate of a stream.
import { BitReader } from './bit-reader.js';
import { H264Error } from './error.js';
import { unescapeRbsp } from './rbsp.js';

export interface SpsInfo {
  profile: number;
  /** constraint_set0..5 flags byte. */
  constraints: number;
  level: number;
  spsId: number;
  /** 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4. */
  chromaFormat: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  width: number;
  height: number;
  frameMbsOnly: boolean;
  /** Sample aspect ratio from the VUI, when present. */
  sar?: [number, number];
  /** Frames per second from VUI timing (time_scale / (2 * num_units_in_tick)), when present. */
  fps?: number;
}

// Profiles whose SPS carries chroma_format_idc, bit depths and scaling matrices (7.3.2.1.1).
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

// Table E-1: sample aspect ratios for aspect_ratio_idc 1..16.
const SAR_TABLE: readonly [number, number][] = [
  [0, 0], [1, 1], [12, 11], [10, 11], [16, 11], [40, 33], [24, 11], [20, 11], [32, 11],
  [80, 33], [18, 11], [15, 11], [64, 33], [160, 99], [4, 3], [3, 2], [2, 1],
];

function skipScalingList(r: BitReader, size: number): void {
  // 7.3.2.1.1.1: delta-coded; a next_scale of 0 means "repeat the last scale for the rest".
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) {
      const delta = r.se();
      if (delta < -128 || delta > 127) throw new H264Error(`delta_scale ${delta} out of range`);
      next = (last + delta + 256) % 256;
    }
    last = next === 0 ? last : next;
  }
}

/** Parses an SPS NALU (with its 1-byte NAL header). Throws H264Error on malformed or truncated data. */
/**
 * Largest picture dimension any H.264 level allows (Table A-1, level 6.2: MaxFS 139264 macroblocks and
 * a side of at most sqrt(8 * MaxFS) = 1055 macroblocks). Exp-Golomb fields reach 2^32, so a corrupt SPS
 * could otherwise report a picture of billions of pixels.
 */
export const MAX_SPS_DIMENSION = 1055 * 16;

export function parseSps(nalu: Buffer): SpsInfo {
  if (nalu.length < 4) throw new H264Error(`SPS too short: ${nalu.length} bytes`);
  if (((nalu[0] ?? 0) & 0x1f) !== 7) throw new H264Error(`not an SPS: NAL type ${(nalu[0] ?? 0) & 0x1f}`);
  const r = new BitReader(unescapeRbsp(nalu.subarray(1)));
  const profile = r.bits(8);
  const constraints = r.bits(8);
  const level = r.bits(8);
  const spsId = r.ue();
  if (spsId > 31) throw new H264Error(`seq_parameter_set_id ${spsId} > 31`);
  let chromaFormat = 1;
  let separateColourPlane = false;
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  if (HIGH_PROFILES.has(profile)) {
    chromaFormat = r.ue();
    if (chromaFormat > 3) throw new H264Error(`chroma_format_idc ${chromaFormat} > 3`);
    if (chromaFormat === 3) separateColourPlane = r.bit() === 1;
    bitDepthLuma = r.ue() + 8;
    bitDepthChroma = r.ue() + 8;
    if (bitDepthLuma > 14 || bitDepthChroma > 14) throw new H264Error('bit depth > 14');
    r.skip(1); // qpprime_y_zero_transform_bypass_flag
    if (r.bit() === 1) {
      // seq_scaling_matrix_present_flag: 6 4x4 lists, then 2 (or 6 for 4:4:4) 8x8 lists.
      const lists = chromaFormat === 3 ? 12 : 8;
      for (let i = 0; i < lists; i++) if (r.bit() === 1) skipScalingList(r, i < 6 ? 16 : 64);
    }
  }
  const log2MaxFrameNumMinus4 = r.ue();
  if (log2MaxFrameNumMinus4 > 12) throw new H264Error(`log2_max_frame_num_minus4 ${log2MaxFrameNumMinus4} > 12`);
  const pocType = r.ue();
  if (pocType === 0) {
    r.ue(); // log2_max_pic_order_cnt_lsb_minus4
  } else if (pocType === 1) {
    r.skip(1); // delta_pic_order_always_zero_flag
    r.se(); // offset_for_non_ref_pic
    r.se(); // offset_for_top_to_bottom_field
    const cycle = r.ue();
    if (cycle > 255) throw new H264Error(`num_ref_frames_in_pic_order_cnt_cycle ${cycle} > 255`);
    for (let i = 0; i < cycle; i++) r.se();
  } else if (pocType !== 2) {
    throw new H264Error(`pic_order_cnt_type ${pocType} > 2`);
  }
  r.ue(); // max_num_ref_frames
  r.skip(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.bit() === 1;
  if (!frameMbsOnly) r.skip(1); // mb_adaptive_frame_field_flag
  r.skip(1); // direct_8x8_inference_flag
  let cropLeft = 0;
  let cropRight = 0;
  let cropTop = 0;
  let cropBottom = 0;
  if (r.bit() === 1) {
    cropLeft = r.ue();
    cropRight = r.ue();
    cropTop = r.ue();
    cropBottom = r.ue();
  }
  // 7.4.2.1.1: crop units depend on chroma subsampling and on field coding.
  const chromaArrayType = separateColourPlane ? 0 : chromaFormat;
  const fieldFactor = frameMbsOnly ? 1 : 2;
  const cropUnitX = chromaArrayType === 0 ? 1 : chromaArrayType === 3 ? 1 : 2;
  const cropUnitY = (chromaArrayType === 1 ? 2 : 1) * fieldFactor;
  const width = widthMbs * 16 - cropUnitX * (cropLeft + cropRight);
  const height = heightMapUnits * 16 * fieldFactor - cropUnitY * (cropTop + cropBottom);
  if (width <= 0 || height <= 0) throw new H264Error(`cropping leaves no picture (${width}x${height})`);
  if (width > MAX_SPS_DIMENSION || height > MAX_SPS_DIMENSION) throw new H264Error(`picture of ${width}x${height} exceeds every H.264 level`);
  const info: SpsInfo = {
    profile, constraints, level, spsId, chromaFormat, bitDepthLuma, bitDepthChroma, width, height, frameMbsOnly,
  };
  if (r.bitsLeft > 0 && r.bit() === 1) {
    // The VUI is optional information: some encoders truncate it, so a short VUI keeps what was read.
    try {
      readVui(r, info);
    } catch (e) {
      if (!(e instanceof H264Error)) throw e;
    }
  }
  return info;
}

function readVui(r: BitReader, info: SpsInfo): void {
  if (r.bit() === 1) {
    const idc = r.bits(8);
    if (idc === 255) {
      const w = r.bits(16);
      const h = r.bits(16);
      if (w > 0 && h > 0) info.sar = [w, h];
    } else {
      const sar = SAR_TABLE[idc];
      if (sar && idc > 0) info.sar = sar;
    }
  }
  if (r.bit() === 1) r.skip(1); // overscan_appropriate_flag
  if (r.bit() === 1) {
    r.skip(4); // video_format, video_full_range_flag
    if (r.bit() === 1) r.skip(24); // colour_primaries, transfer_characteristics, matrix_coefficients
  }
  if (r.bit() === 1) {
    r.ue(); // chroma_sample_loc_type_top_field
    r.ue(); // chroma_sample_loc_type_bottom_field
  }
  if (r.bit() === 1) {
    const numUnitsInTick = r.bits(32);
    const timeScale = r.bits(32);
    // A frame is two ticks (fields) in H.264's timing model.
    if (numUnitsInTick > 0 && timeScale > 0) info.fps = timeScale / (2 * numUnitsInTick);
  }
}
