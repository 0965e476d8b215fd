// The FLV file header: 'FLV', version 1, track flags, data offset, then PreviousTagSize0.
import { FlvError } from './tag-header.js';

export interface FlvHeader {
  version: number;
  audio: boolean;
  video: boolean;
  /** Offset of the body (PreviousTagSize0) from the start of the file; 9 for version 1. */
  dataOffset: number;
}

/** Bytes of the header plus PreviousTagSize0, i.e. where the first tag starts in a v1 file. */
export const FLV_HEADER_SIZE = 13;

const FLAG_AUDIO = 0x04;
const FLAG_VIDEO = 0x01;

/**
 * The 9-byte header plus PreviousTagSize0 (13 bytes). The flags must match the tracks really sent:
 * players such as ffprobe wait forever for a flagged track that never arrives.
 */
export function encodeFlvHeader(tracks: { audio: boolean; video: boolean }): Buffer {
  const b = Buffer.alloc(FLV_HEADER_SIZE);
  b.write('FLV', 0, 'latin1');
  b[3] = 1;
  b[4] = (tracks.audio ? FLAG_AUDIO : 0) | (tracks.video ? FLAG_VIDEO : 0);
  b.writeUInt32BE(9, 5);
  // bytes 9..12: PreviousTagSize0 = 0 (already zero).
  return b;
}

/** Parses the first 9 bytes of an FLV file. Throws FlvError on a short buffer or bad signature. */
export function parseFlvHeader(buf: Buffer): FlvHeader {
  if (buf.length < 9) throw new FlvError(`truncated FLV header: ${buf.length} of 9 bytes`);
  if (buf[0] !== 0x46 || buf[1] !== 0x4c || buf[2] !== 0x56) throw new FlvError('bad FLV signature');
  const flags = buf.readUInt8(4);
  const dataOffset = buf.readUInt32BE(5);
  if (dataOffset < 9) throw new FlvError(`bad FLV data offset ${dataOffset}`);
  return { version: buf.readUInt8(3), audio: (flags & FLAG_AUDIO) !== 0, video: (flags & FLAG_VIDEO) !== 0, dataOffset };
}
