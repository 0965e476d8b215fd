// Wire formats of the fan-out: how a packet becomes bytes, and how a run of packets is framed for one
// write. HTTP-FLV viewers get raw chunked-transfer framing around the tags, so a whole batch (tags and
// chunk header) is one shared buffer written to every viewer as is.
import { encodeFlvHeader } from '../media/flv/header.js';
import { encodeFlvTag } from '../media/flv/tag-writer.js';
import { TagType } from '../media/packet.js';
import type { MediaPacket } from '../media/packet.js';
import { Csid, encodeMessage } from '../rtmp/chunk-writer.js';
import type { PacketEncoder } from './out-packet.js';

export type ViewerProtocol = 'flv' | 'rtmp';

export interface WireFormat {
  readonly protocol: ViewerProtocol;
  readonly encoder: PacketEncoder;
  /** Bytes a viewer gets before anything else (the FLV file header), from the tracks the stream has. */
  header?(tracks: { readonly audio: boolean; readonly video: boolean }): Buffer;
  /** One buffer (one copy) holding the parts with their transport framing: the shared batch. */
  join(parts: readonly Buffer[], total: number): Buffer;
  /** The same bytes as join() as a list for writev, without copying the parts. */
  frame(parts: readonly Buffer[], total: number): Buffer[];
}

const CRLF = Buffer.from('\r\n');
/** Ends a chunked HTTP body. */
export const CHUNKED_END = Buffer.from('0\r\n\r\n');

const chunkHeader = (total: number): Buffer => Buffer.from(total.toString(16) + '\r\n', 'latin1');

const flvEncoder: PacketEncoder = { slot: 0, encode: encodeFlvTag };

/** Plain FLV (HTTP/1.0 clients, or any byte pipe without framing). */
export const flvFormat: WireFormat = {
  protocol: 'flv',
  encoder: flvEncoder,
  header: encodeFlvHeader,
  join: (parts, total) => Buffer.concat(parts as Buffer[], total),
  frame: (parts) => [...parts],
};

/** FLV tags in HTTP/1.1 chunked transfer coding. */
export const httpFlvFormat: WireFormat = {
  protocol: 'flv',
  encoder: flvEncoder,
  header: encodeFlvHeader,
  join(parts, total) {
    const head = chunkHeader(total);
    const out = Buffer.allocUnsafe(head.length + total + 2);
    head.copy(out, 0);
    let at = head.length;
    for (const p of parts) at += p.copy(out, at);
    CRLF.copy(out, at);
    return out;
  },
  frame(parts, total) {
    return [chunkHeader(total), ...parts, CRLF];
  },
};

const CSID: Readonly<Record<number, number>> = { [TagType.Script]: Csid.Data, [TagType.Audio]: Csid.Audio, [TagType.Video]: Csid.Video };
const TWO_32 = 2 ** 32;

const rtmpFormats = new Map<string, WireFormat>();

/**
 * Pre-chunked RTMP messages for players with this chunk size and message stream id. Memoized: players
 * of one server share one format, hence one fan-out and one serialization per packet.
 */
export function rtmpFormat(chunkSize: number, streamId: number): WireFormat {
  const key = `${chunkSize}/${streamId}`;
  let f = rtmpFormats.get(key);
  if (!f) {
    f = makeRtmpFormat(chunkSize, streamId);
    rtmpFormats.set(key, f);
  }
  return f;
}

function makeRtmpFormat(chunkSize: number, streamId: number): WireFormat {
  const encoder: PacketEncoder = {
    slot: 1,
    encode: (p: MediaPacket) =>
      encodeMessage(
        { csid: CSID[p.type] ?? Csid.Data, timestamp: Math.floor(p.timestamp) % TWO_32, typeId: p.type, streamId, payload: p.payload },
        chunkSize,
      ),
  };
  return {
    protocol: 'rtmp',
    encoder,
    join: (parts, total) => Buffer.concat(parts as Buffer[], total),
    frame: (parts) => [...parts],
  };
}
