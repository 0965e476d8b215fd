// AV1CodecConfigurationRecord (AV1-ISOBMFF 2.3.3): the AV1 sequence header of E-RTMP and the body of
// the MP4 av1C box: 4 bytes of sequence header fields, then configOBUs (the sequence header OBU, and
// possibly metadata OBUs).
import { Av1Error } from './error.js';
import { ObuType, splitObus } from './obu.js';

const AV1C_HEADER_SIZE = 4;

export interface Av1cConfig {
  profile: number;
  level: number;
  tier: number;
  bitDepth: 8 | 10 | 12;
  monochrome: boolean;
  chromaSubsamplingX: number;
  chromaSubsamplingY: number;
  chromaSamplePosition: number;
  /** initial_presentation_delay_minus_one + 1, when present. */
  initialPresentationDelay?: number;
  /** The configOBUs bytes as carried (a copy). */
  configObus: Buffer;
  /** The payload of the sequence header OBU among them, if any. */
  sequenceHeader?: Buffer;
}

/** Parses a record. Throws Av1Error. */
export function parseAv1c(data: Buffer): Av1cConfig {
  if (data.length < AV1C_HEADER_SIZE) throw new Av1Error(`av1C too short: ${data.length} bytes`);
  if (data[0] !== 0x81) throw new Av1Error(`av1C marker/version byte 0x${data[0]!.toString(16)} (expected 0x81)`);
  const b1 = data[1]!;
  const b2 = data[2]!;
  const b3 = data[3]!;
  const highBitdepth = (b2 & 0x40) !== 0;
  const twelveBit = (b2 & 0x20) !== 0;
  const configObus = Buffer.from(data.subarray(AV1C_HEADER_SIZE));
  const sequenceHeader = splitObus(configObus).find((o) => o.type === ObuType.SequenceHeader)?.payload;
  return {
    profile: b1 >> 5,
    level: b1 & 0x1f,
    tier: b2 >> 7,
    bitDepth: highBitdepth ? (twelveBit ? 12 : 10) : 8,
    monochrome: (b2 & 0x10) !== 0,
    chromaSubsamplingX: (b2 >> 3) & 1,
    chromaSubsamplingY: (b2 >> 2) & 1,
    chromaSamplePosition: b2 & 0x03,
    initialPresentationDelay: b3 & 0x10 ? (b3 & 0x0f) + 1 : undefined,
    configObus,
    sequenceHeader,
  };
}
