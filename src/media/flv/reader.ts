// Streaming FLV demuxer: bytes in any split, MediaPackets out. Used by the edge's HTTP-FLV relay and tests.
import { TagType } from '../packet.js';
import type { MediaPacket } from '../packet.js';
import { ms } from '../time.js';
import { FlvError, flvTagDataSize, flvTagFiltered, flvTagTimestamp, flvTagType } from './tag-header.js';
import { FLV_HEADER_SIZE, parseFlvHeader } from './header.js';
import type { FlvHeader } from './header.js';
import { FLV_TAG_HEADER_SIZE } from './tag-writer.js';

export interface FlvReaderOptions {
  /** Largest tag body accepted (and skipped, for unknown tag types). Default 16 MiB. */
  maxTagSize?: number;
}

const DEFAULT_MAX_TAG_SIZE = 16 * 1024 * 1024;

type State =
  | { at: 'header' }
  | { at: 'skip'; remaining: number } // header padding + PreviousTagSize, or an unknown tag's body
  | { at: 'tag' }
  | { at: 'body'; type: TagType; size: number; timestamp: number };

export class FlvReader {
  private readonly maxTagSize: number;
  // Unconsumed input as a list of chunks, so a tag split over many pushes is copied once, not n times.
  private readonly chunks: Buffer[] = [];
  private headOffset = 0;
  private buffered = 0;
  private state: State = { at: 'header' };
  private failed: FlvError | undefined;
  /** The file header, once read. */
  header: FlvHeader | undefined;

  constructor(opts: FlvReaderOptions = {}) {
    this.maxTagSize = opts.maxTagSize ?? DEFAULT_MAX_TAG_SIZE;
  }

  /**
   * Feeds bytes; returns the packets completed by them. Throws FlvError on a bad signature, a filtered
   * (encrypted) tag or an oversize tag; after that the reader is dead and every push throws it again.
   */
  push(chunk: Buffer): MediaPacket[] {
    if (this.failed) throw this.failed;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out: MediaPacket[] = [];
    try {
      while (this.step(out));
    } catch (e) {
      if (e instanceof FlvError) this.failed = e;
      throw e;
    }
    return out;
  }

  /** Advances the state machine once; false when it needs more input. */
  private step(out: MediaPacket[]): boolean {
    const s = this.state;
    switch (s.at) {
      case 'header': {
        if (this.buffered < 9) return false;
        const h = parseFlvHeader(this.take(9));
        if (h.dataOffset - 9 > this.maxTagSize) throw new FlvError(`FLV data offset ${h.dataOffset} too large`);
        this.header = h;
        this.state = { at: 'skip', remaining: h.dataOffset - 9 + (FLV_HEADER_SIZE - 9) };
        return true;
      }
      case 'skip': {
        const n = Math.min(s.remaining, this.buffered);
        this.discard(n);
        s.remaining -= n;
        if (s.remaining > 0) return false;
        this.state = { at: 'tag' };
        return true;
      }
      case 'tag': {
        if (this.buffered < FLV_TAG_HEADER_SIZE) return false;
        const h = this.take(FLV_TAG_HEADER_SIZE);
        if (flvTagFiltered(h, 0)) throw new FlvError('filtered (encrypted) FLV tag');
        const type = flvTagType(h, 0);
        const size = flvTagDataSize(h, 0);
        if (size > this.maxTagSize) throw new FlvError(`FLV tag of ${size} bytes exceeds the limit of ${this.maxTagSize}`);
        const timestamp = flvTagTimestamp(h, 0);
        if (type === TagType.Audio || type === TagType.Video || type === TagType.Script) {
          this.state = { at: 'body', type, size, timestamp };
        } else {
          // Unknown tag types are skipped, never buffered, and bounded by maxTagSize above.
          this.state = { at: 'skip', remaining: size + 4 };
        }
        return true;
      }
      case 'body': {
        // Wait for the PreviousTagSize too, so that a packet is emitted once and state stays simple.
        if (this.buffered < s.size + 4) return false;
        const payload = this.take(s.size);
        // PreviousTagSize is redundant (and wrong in some files): skip it unchecked.
        this.discard(4);
        out.push({ type: s.type, timestamp: ms(s.timestamp), payload });
        this.state = { at: 'tag' };
        return true;
      }
    }
  }

  /** Removes n buffered bytes (n <= buffered); zero-copy when they lie in one chunk. */
  private take(n: number): Buffer {
    const first = this.chunks[0];
    if (n === 0) return Buffer.alloc(0);
    if (first && first.length - this.headOffset >= n) {
      const b = first.subarray(this.headOffset, this.headOffset + n);
      this.advance(n);
      return b;
    }
    const b = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0];
      if (!c) throw new Error('FlvReader: buffer underrun'); // unreachable: callers check `buffered`
      const k = Math.min(n - filled, c.length - this.headOffset);
      c.copy(b, filled, this.headOffset, this.headOffset + k);
      filled += k;
      this.advance(k);
    }
    return b;
  }

  private discard(n: number): void {
    let left = n;
    while (left > 0) {
      const c = this.chunks[0];
      if (!c) throw new Error('FlvReader: buffer underrun'); // unreachable: callers check `buffered`
      const k = Math.min(left, c.length - this.headOffset);
      this.advance(k);
      left -= k;
    }
  }

  /** Consumes k bytes of the first chunk (k <= its remaining length). */
  private advance(k: number): void {
    this.headOffset += k;
    this.buffered -= k;
    const c = this.chunks[0];
    if (c && this.headOffset === c.length) {
      this.chunks.shift();
      this.headOffset = 0;
    }
  }
}
