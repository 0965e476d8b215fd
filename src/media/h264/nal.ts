// H.264 NAL unit types (ITU-T H.264 table 7-1) that the remuxers act on.
export const NalType = {
  NonIdr: 1,
  Idr: 5,
  Sei: 6,
  Sps: 7,
  Pps: 8,
  Aud: 9,
  EndOfSequence: 10,
  EndOfStream: 11,
  Filler: 12,
} as const;
export type NalType = (typeof NalType)[keyof typeof NalType];

/** The nal_unit_type of a NALU (low 5 bits of its first byte); -1 for an empty NALU. */
export const nalType = (nalu: Buffer): number => (nalu.length === 0 ? -1 : (nalu[0] ?? 0) & 0x1f);

/**
 * An access unit delimiter: nal_ref_idc 0, type 9, primary_pic_type 7 ("any slice type") and the RBSP stop bit.
 * MPEG-TS (ISO 13818-1 2.14) requires one at the start of every H.264 access unit; ffmpeg writes the same bytes.
 */
export const AUD_NALU: Buffer = Buffer.from([0x09, 0xf0]);
