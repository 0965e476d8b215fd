// HEVCDecoderConfigurationRecord (ISO 14496-15 8.3.3.1): the HEVC sequence header of E-RTMP / legacy
// FLV codec id 12 and the body of the MP4 hvcC box. Its profile_tier_level fields make the CODECS
// string; its parameter set arrays carry the SPS the picture size comes from.
import { HevcError } from './error.js';

export const HVCC_HEADER_SIZE = 23;

/** NAL unit types of the parameter sets (H.265 Table 7-1). */
export const HevcNalType = { Vps: 32, Sps: 33, Pps: 34 } as const;

export interface HvccArray {
  /** array_completeness: every NAL unit of this type is in the record, none in the samples. */
  complete: boolean;
  nalType: number;
  nalus: Buffer[];
}

export interface HvccConfig {
  profileSpace: number;
  /** general_tier_flag: false Main, true High. */
  highTier: boolean;
  profileIdc: number;
  /** general_profile_compatibility_flags, bit 31 = flag 0. */
  compatibilityFlags: number;
  /** general_constraint_indicator_flags: the 6 bytes as stored. */
  constraintBytes: Buffer;
  levelIdc: number;
  /** 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4. */
  chromaFormat: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  lengthSize: 1 | 2 | 4;
  arrays: HvccArray[];
  vps: Buffer[];
  sps: Buffer[];
  pps: Buffer[];
}

/** Parses a record. NAL units are copies, so the packet can be released. Throws HevcError. */
export function parseHvcc(data: Buffer): HvccConfig {
  if (data.length < HVCC_HEADER_SIZE) throw new HevcError(`hvcC too short: ${data.length} bytes`);
  if (data[0] !== 1) throw new HevcError(`hvcC version ${data[0]} (expected 1)`);
  const b1 = data[1]!;
  const lengthSize = (data[21]! & 0x03) + 1;
  if (lengthSize !== 1 && lengthSize !== 2 && lengthSize !== 4) throw new HevcError(`invalid NALU length size ${lengthSize}`);
  const arrays: HvccArray[] = [];
  const count = data[22]!;
  let at = HVCC_HEADER_SIZE;
  for (let i = 0; i < count; i++) {
    if (at + 3 > data.length) throw new HevcError(`truncated hvcC: array ${i} of ${count}`);
    const complete = (data[at]! & 0x80) !== 0;
    const nalType = data[at]! & 0x3f;
    const n = data.readUInt16BE(at + 1);
    at += 3;
    const nalus: Buffer[] = [];
    for (let j = 0; j < n; j++) {
      if (at + 2 > data.length) throw new HevcError(`truncated hvcC: NAL unit length ${j} of array ${i}`);
      const len = data.readUInt16BE(at);
      at += 2;
      if (len === 0) throw new HevcError(`empty NAL unit in hvcC array ${i}`);
      if (len > data.length - at) throw new HevcError(`truncated hvcC NAL unit: need ${len} bytes, have ${data.length - at}`);
      nalus.push(Buffer.from(data.subarray(at, at + len)));
      at += len;
    }
    arrays.push({ complete, nalType, nalus });
  }
  const ofType = (t: number): Buffer[] => arrays.filter((a) => a.nalType === t).flatMap((a) => a.nalus);
  return {
    profileSpace: b1 >> 6,
    highTier: (b1 & 0x20) !== 0,
    profileIdc: b1 & 0x1f,
    compatibilityFlags: data.readUInt32BE(2),
    constraintBytes: Buffer.from(data.subarray(6, 12)),
    levelIdc: data[12]!,
    chromaFormat: data[16]! & 0x03,
    bitDepthLuma: (data[17]! & 0x07) + 8,
    bitDepthChroma: (data[18]! & 0x07) + 8,
    lengthSize,
    arrays,
    vps: ofType(HevcNalType.Vps),
    sps: ofType(HevcNalType.Sps),
    pps: ofType(HevcNalType.Pps),
  };
}
