// Program Specific Information (ISO 13818-1 2.4.4): the PAT and PMT sections of a single-program TS.
import { crc32Mpeg2 } from './crc32.js';

export const StreamType = {
  Mpeg1Audio: 0x03,
  Mpeg2Audio: 0x04,
  AacAdts: 0x0f,
  H264: 0x1b,
} as const;
export type StreamType = (typeof StreamType)[keyof typeof StreamType];

export interface PmtStream {
  streamType: number;
  pid: number;
}

// Wraps a section body (from table_id_extension on) with the common long-section header and CRC.
function longSection(tableId: number, tableIdExt: number, version: number, body: Buffer): Buffer {
  const len = 5 + body.length + 4; // from after section_length to the CRC inclusive
  const s = Buffer.allocUnsafe(3 + len);
  s[0] = tableId;
  s[1] = 0xb0 | (len >> 8); // section_syntax_indicator 1, '0', reserved 11
  s[2] = len & 0xff;
  s.writeUInt16BE(tableIdExt, 3);
  s[5] = 0xc1 | ((version & 0x1f) << 1); // reserved 11, version, current_next_indicator 1
  s[6] = 0; // section_number
  s[7] = 0; // last_section_number
  body.copy(s, 8);
  s.writeUInt32BE(crc32Mpeg2(s, 0, s.length - 4), s.length - 4);
  return s;
}

/** PAT with one program: program_number 1 -> pmtPid. */
export function patSection(pmtPid: number, transportStreamId = 1, version = 0): Buffer {
  const body = Buffer.from([0x00, 0x01, 0xe0 | (pmtPid >> 8), pmtPid & 0xff]);
  return longSection(0x00, transportStreamId, version, body);
}

/** PMT for program 1 with no descriptors. */
export function pmtSection(pcrPid: number, streams: readonly PmtStream[], version = 0, programNumber = 1): Buffer {
  const body = Buffer.allocUnsafe(4 + 5 * streams.length);
  body[0] = 0xe0 | (pcrPid >> 8);
  body[1] = pcrPid & 0xff;
  body[2] = 0xf0; // reserved, program_info_length 0
  body[3] = 0x00;
  streams.forEach((s, i) => {
    const o = 4 + 5 * i;
    body[o] = s.streamType;
    body[o + 1] = 0xe0 | (s.pid >> 8);
    body[o + 2] = s.pid & 0xff;
    body[o + 3] = 0xf0; // ES_info_length 0
    body[o + 4] = 0x00;
  });
  return longSection(0x02, programNumber, version, body);
}
