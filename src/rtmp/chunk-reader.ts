// RTMP chunk stream de-multiplexer: fed arbitrary byte slices, emits complete messages.
// It applies the peer's Set Chunk Size and Abort itself, because the chunks that follow in the same
// slice already depend on them.
import { ByteSlab } from '../media/slab.js';
import { RtmpProtocolError } from './errors.js';

export interface RtmpMessage {
  readonly csid: number;
  /** Absolute timestamp in ms, 32-bit (wraps). */
  readonly timestamp: number;
  readonly typeId: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

export interface ChunkReaderOptions {
  /** Largest message accepted (default 16 MiB). Larger ones are a protocol error: drop the connection. */
  maxMessageSize?: number;
  /** Most chunk streams a peer may use (default 64; real clients use fewer than 10). */
  maxChunkStreams?: number;
  /**
   * Most bytes held for incomplete messages across all chunk streams (default 2 x maxMessageSize). A
   * message is charged its whole declared length from its first chunk on, since that is what it allocates.
   */
  maxBufferedBytes?: number;
}

export const DEFAULT_CHUNK_SIZE = 128;
export const MAX_PEER_CHUNK_SIZE = 65536;
export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;
const MSG_SET_CHUNK_SIZE = 1;
/** Longest chunk header: 3-byte basic header, 11-byte fmt 0 header, 4-byte extended timestamp. */
const MAX_HEADER_SIZE = 18;
const MSG_ABORT = 2;
const MSG_AUDIO = 8;
const MSG_VIDEO = 9;
/** Memory for a publisher's multi-chunk media messages (allocated at its first such message only). */
const MEDIA_SLAB_BYTES = 256 * 1024;

interface ChunkStream {
  readonly csid: number;
  timestamp: number;
  /** Last timestamp field (delta, or absolute for fmt 0): what a fmt 3 new message adds. */
  delta: number;
  /** Whether the last header carried an extended timestamp, and its value. */
  extended: boolean;
  extendedValue: number;
  length: number;
  typeId: number;
  streamId: number;
  /**
   * The message being assembled: one buffer of its declared length, allocated at its first chunk and
   * filled chunk by chunk. Holding each chunk as its own subarray instead cost ~100 bytes of heap per
   * chunk, so a peer sending 1-byte chunks made one byte of input cost a hundred.
   */
  payload: Buffer | undefined;
  received: number;
}

export class ChunkReader {
  private maxMessageSize: number;
  private readonly maxChunkStreams: number;
  private maxBufferedBytes: number;
  private chunkSize = DEFAULT_CHUNK_SIZE;
  private readonly streams = new Map<number, ChunkStream>();
  /** Incomplete header bytes carried to the next feed. */
  private leftover: Buffer | undefined;
  /** Chunk stream whose chunk body is being read, and how many body bytes remain in that chunk. */
  private current: ChunkStream | undefined;
  private bodyRemaining = 0;
  private buffered = 0;
  private readonly mediaSlab = new ByteSlab(MEDIA_SLAB_BYTES);

  constructor(opts: ChunkReaderOptions = {}) {
    this.maxMessageSize = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.maxChunkStreams = opts.maxChunkStreams ?? 64;
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 2 * this.maxMessageSize;
  }

  /**
   * Changes the message caps from the next chunk header on (a server raises them once a publish is
   * accepted). Messages already in progress keep the length they were admitted with.
   */
  setLimits(maxMessageSize: number, maxBufferedBytes = 2 * maxMessageSize): void {
    this.maxMessageSize = maxMessageSize;
    this.maxBufferedBytes = maxBufferedBytes;
  }

  /** The peer's current chunk size. */
  get peerChunkSize(): number {
    return this.chunkSize;
  }

  /**
   * Parses `data`; returns the messages it completed. Payloads may share memory with `data`, so the
   * caller must not modify it afterwards (socket buffers are never reused by Node).
   */
  feed(input: Buffer): RtmpMessage[] {
    let data = input;
    const out: RtmpMessage[] = [];
    let off = 0;
    if (this.leftover) {
      // Join the split header with only the bytes that can complete it: the body is then read from
      // `data` itself, never from a copy of the whole slice.
      const head = this.leftover;
      this.leftover = undefined;
      const joined = Buffer.concat([head, data.subarray(0, MAX_HEADER_SIZE)]);
      const n = this.parseHeader(joined, 0);
      if (n === 0) {
        this.leftover = joined; // still incomplete: `data` was shorter than a header
        return out;
      }
      if (n >= head.length) {
        off = n - head.length;
      } else {
        // The header was shorter than the bytes held back for it: a type-3 header whose 4 bytes after it
        // turned out to be payload, not a repeated extended timestamp. Those bytes are read as body. The
        // copy is rare (a read ending inside those 4 bytes) and no larger than one socket read.
        data = Buffer.concat([head.subarray(n), data]);
      }
    }
    while (true) {
      if (!this.current) {
        if (off >= data.length) break;
        const n = this.parseHeader(data, off);
        if (n === 0) {
          this.leftover = Buffer.from(data.subarray(off)); // copy: never pin a large socket buffer
          break;
        }
        off += n;
      }
      const cs = this.current!;
      if (this.bodyRemaining > 0) {
        if (off >= data.length) break;
        const take = Math.min(this.bodyRemaining, data.length - off);
        if (take === cs.length) {
          cs.payload = data.subarray(off, off + take); // the whole message in one piece: no copy
        } else {
          // Every byte is written before the message is emitted. Media messages share slab memory (one
          // ArrayBuffer per ~10 video frames of a 2.5 Mbit/s stream, not one each); others get their own.
          cs.payload ??= cs.typeId === MSG_AUDIO || cs.typeId === MSG_VIDEO ? this.mediaSlab.alloc(cs.length) : Buffer.allocUnsafe(cs.length);
          data.copy(cs.payload, cs.received, off, off + take);
        }
        cs.received += take;
        off += take;
        this.bodyRemaining -= take;
        if (this.bodyRemaining > 0) break; // the slice ended inside this chunk
      }
      this.current = undefined;
      if (cs.received === cs.length) {
        const msg = this.complete(cs);
        out.push(msg);
        this.control(msg);
      }
    }
    return out;
  }

  /** Parses one chunk header at `off`; returns bytes consumed, or 0 if more bytes are needed. */
  private parseHeader(buf: Buffer, off: number): number {
    const avail = buf.length - off;
    const b0 = buf[off]!;
    const fmt = b0 >> 6;
    let csid = b0 & 0x3f;
    let p = off + 1;
    if (csid === 0) {
      if (avail < 2) return 0;
      csid = 64 + buf[p]!;
      p += 1;
    } else if (csid === 1) {
      if (avail < 3) return 0;
      csid = 64 + buf[p]! + buf[p + 1]! * 256;
      p += 2;
    }
    const headerLen = fmt === 0 ? 11 : fmt === 1 ? 7 : fmt === 2 ? 3 : 0;
    if (buf.length - p < headerLen) return 0;

    let cs = this.streams.get(csid);
    if (!cs) {
      // The first chunk of a chunk stream needs a full header (fmt 1 is tolerated, as SRS does).
      if (fmt >= 2) throw new RtmpProtocolError('bad-chunk-header', `chunk stream ${csid} starts with fmt ${fmt}`);
      if (this.streams.size >= this.maxChunkStreams)
        throw new RtmpProtocolError('too-many-chunk-streams', `more than ${this.maxChunkStreams} chunk streams`);
      cs = {
        csid,
        timestamp: 0,
        delta: 0,
        extended: false,
        extendedValue: 0,
        length: 0,
        typeId: 0,
        streamId: 0,
        payload: undefined,
        received: 0,
      };
    }
    const inProgress = cs.received > 0;
    if (inProgress && fmt !== 3)
      throw new RtmpProtocolError('bad-chunk-header', `fmt ${fmt} chunk on stream ${csid} in the middle of a message`);

    let tsField = 0;
    let length = cs.length;
    let typeId = cs.typeId;
    let streamId = cs.streamId;
    if (fmt <= 2) {
      tsField = buf.readUIntBE(p, 3);
      if (fmt <= 1) {
        length = buf.readUIntBE(p + 3, 3);
        typeId = buf[p + 6]!;
        if (fmt === 0) streamId = buf.readUInt32LE(p + 7);
      }
      p += headerLen;
      let extended = false;
      if (tsField === 0xffffff) {
        if (buf.length - p < 4) return 0;
        tsField = buf.readUInt32BE(p);
        p += 4;
        extended = true;
      }
      if (length > this.maxMessageSize)
        throw new RtmpProtocolError('message-too-large', `message of ${length} bytes exceeds ${this.maxMessageSize}`);
      cs.extended = extended;
      cs.extendedValue = tsField;
      cs.delta = tsField;
      cs.timestamp = fmt === 0 ? tsField : (cs.timestamp + tsField) >>> 0;
      cs.length = length;
      cs.typeId = typeId;
      cs.streamId = streamId;
    } else {
      // A stream is only stored after a fmt 0/1 header (a new one starting with fmt 3 throws above).
      if (cs.extended) {
        // Type-3 chunks after an extended timestamp should repeat it (FFmpeg, librtmp, Flash); some
        // encoders do not. Consume the 4 bytes only if they equal the value we have: a payload that
        // starts with exactly those bytes is unlikely and the same heuristic SRS and nginx-rtmp rely on.
        if (buf.length - p < 4) return 0; // cannot decide yet
        if (buf.readUInt32BE(p) === cs.extendedValue) {
          p += 4;
        }
      }
      if (!inProgress) cs.timestamp = (cs.timestamp + cs.delta) >>> 0;
    }
    if (!this.streams.has(csid)) this.streams.set(csid, cs);

    if (!inProgress) {
      // A new message is charged its whole length now: its buffer is allocated at its first body bytes.
      if (this.buffered + cs.length > this.maxBufferedBytes)
        throw new RtmpProtocolError('buffered-too-much', `more than ${this.maxBufferedBytes} bytes of incomplete messages`);
      this.buffered += cs.length;
    }
    this.current = cs;
    this.bodyRemaining = Math.min(this.chunkSize, cs.length - cs.received);
    return p - off;
  }

  private complete(cs: ChunkStream): RtmpMessage {
    const payload = cs.payload ?? Buffer.alloc(0);
    this.release(cs);
    return { csid: cs.csid, timestamp: cs.timestamp, typeId: cs.typeId, streamId: cs.streamId, payload };
  }

  private control(msg: RtmpMessage): void {
    // Types 1 and 2 are protocol control whatever chunk stream or message stream they arrive on.
    if (msg.typeId === MSG_SET_CHUNK_SIZE) {
      if (msg.payload.length < 4) throw new RtmpProtocolError('bad-message', 'short Set Chunk Size');
      const size = msg.payload.readUInt32BE(0);
      if (size < 1 || size > MAX_PEER_CHUNK_SIZE)
        throw new RtmpProtocolError('chunk-size', `peer chunk size ${size} outside 1..${MAX_PEER_CHUNK_SIZE}`);
      this.chunkSize = size;
    } else if (msg.typeId === MSG_ABORT) {
      if (msg.payload.length < 4) throw new RtmpProtocolError('bad-message', 'short Abort');
      const cs = this.streams.get(msg.payload.readUInt32BE(0));
      if (cs && cs.received > 0) this.release(cs);
    }
  }

  /** Forgets the message of `cs` (completed or aborted) and returns its charge. */
  private release(cs: ChunkStream): void {
    this.buffered -= cs.length;
    cs.payload = undefined;
    cs.received = 0;
  }
}
