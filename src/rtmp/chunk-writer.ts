// RTMP chunking of one message. Every message starts with a fmt 0 header so that its bytes do not
// depend on what was sent before: the origin chunks a frame once and shares the bytes among players.
//
// Chunk stream ids used by livecdn (any id works for peers; these keep audio, video and control apart
// so a large video message never delays a command behind it on the same chunk stream):
export const Csid = {
  /** Protocol control messages (types 1-6), required by the spec. */
  Control: 2,
  /** Commands (connect, _result, onStatus, ...). */
  Command: 3,
  Audio: 4,
  /** Data messages (onMetaData, |RtmpSampleAccess). */
  Data: 5,
  Video: 6,
} as const;

export interface OutgoingMessage {
  csid: number;
  timestamp: number;
  typeId: number;
  streamId: number;
  payload: Buffer;
}

function basicHeaderSize(csid: number): number {
  if (csid < 2 || csid > 65599 || !Number.isInteger(csid)) throw new RangeError(`invalid chunk stream id ${csid}`);
  return csid < 64 ? 1 : csid < 320 ? 2 : 3;
}

function writeBasicHeader(buf: Buffer, off: number, fmt: number, csid: number): number {
  if (csid < 64) {
    buf[off] = (fmt << 6) | csid;
    return off + 1;
  }
  if (csid < 320) {
    buf[off] = fmt << 6;
    buf[off + 1] = csid - 64;
    return off + 2;
  }
  buf[off] = (fmt << 6) | 1;
  buf.writeUInt16LE(csid - 64, off + 1);
  return off + 3;
}

/**
 * Chunks one message: a fmt 0 header, then fmt 3 continuation chunks. The timestamp is taken mod 2^32;
 * an extended timestamp is repeated in every fmt 3 chunk, as FFmpeg and librtmp expect.
 */
export function encodeMessage(msg: OutgoingMessage, chunkSize: number): Buffer {
  if (!(chunkSize >= 1 && chunkSize <= 0x7fffffff)) throw new RangeError(`invalid chunk size ${chunkSize}`);
  const len = msg.payload.length;
  if (len > 0xffffff) throw new RangeError(`message of ${len} bytes does not fit RTMP's 24-bit length`);
  const ts = ((msg.timestamp % 2 ** 32) + 2 ** 32) % 2 ** 32;
  const extended = ts >= 0xffffff;
  const bh = basicHeaderSize(msg.csid);
  const ext = extended ? 4 : 0;
  const chunks = Math.max(1, Math.ceil(len / chunkSize));
  const out = Buffer.allocUnsafe(bh + 11 + ext + len + (chunks - 1) * (bh + ext));
  let o = writeBasicHeader(out, 0, 0, msg.csid);
  out.writeUIntBE(extended ? 0xffffff : ts, o, 3);
  out.writeUIntBE(len, o + 3, 3);
  out[o + 6] = msg.typeId;
  out.writeUInt32LE(msg.streamId >>> 0, o + 7);
  o += 11;
  if (extended) o = out.writeUInt32BE(ts, o);
  for (let i = 0; i < chunks; i++) {
    if (i > 0) {
      o = writeBasicHeader(out, o, 3, msg.csid);
      if (extended) o = out.writeUInt32BE(ts, o);
    }
    const start = i * chunkSize;
    const end = Math.min(len, start + chunkSize);
    o += msg.payload.copy(out, o, start, end);
  }
  return out;
}
