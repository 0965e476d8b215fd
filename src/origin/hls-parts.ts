// The LL-HLS parts of one playlist: the completed ones of the last few segments (fetchable by URI), and
// the open one, whose bytes arrive fragment by fragment (the segmenter's onChunk) and stream to the
// readers that asked for it before it completed (preload hints).
import { comparePositions, type PartPosition } from './hls-directives.js';

export interface StoredPart extends PartPosition {
  readonly durationS: number;
  readonly independent: boolean;
  readonly data: Buffer;
}

/** A request reading the open part as it grows. */
export interface PartReader {
  /** The next bytes of the part (the bytes so far come first, in one call per chunk). */
  chunk(bytes: Buffer): void;
  /** The part is complete (true: every byte was delivered) or was abandoned (false: what came is not the part). */
  end(complete: boolean): void;
}

interface OpenPart extends PartPosition {
  readonly chunks: Buffer[];
  readonly readers: Set<PartReader>;
}

export class PartStore {
  /** Completed parts by segment sequence, in part order. */
  private readonly done = new Map<number, StoredPart[]>();
  private open: OpenPart | undefined;
  /** The last part completed. */
  last: PartPosition | undefined;

  constructor(private readonly onReaderError: (err: unknown) => void) {}

  /** Bytes for part (sequence, index); the first bytes of a part open it. */
  chunk(sequence: number, index: number, bytes: Buffer): void {
    const open = this.open;
    if (open && open.sequence === sequence && open.index === index) {
      open.chunks.push(bytes);
      for (const r of open.readers) this.call(r, () => r.chunk(bytes));
      return;
    }
    // A part opened while another was still open: the other never completes.
    if (open) this.abandon(open);
    this.open = { sequence, index, chunks: [bytes], readers: new Set() };
  }

  /** Part (sequence, index) is complete: stored, and its readers get the end. */
  complete(p: StoredPart): void {
    // The segmenter reusing a sequence (a segment dropped at a cap) replaces what was stored for it.
    if (this.last && comparePositions(p, this.last) <= 0) this.dropFrom(p.sequence);
    let list = this.done.get(p.sequence);
    if (!list) {
      list = [];
      this.done.set(p.sequence, list);
    }
    list.push(p);
    this.last = { sequence: p.sequence, index: p.index };
    const open = this.open;
    if (!open || open.sequence !== p.sequence || open.index !== p.index) return;
    this.open = undefined;
    const delivered = open.chunks.reduce((n, c) => n + c.length, 0);
    // Readers got the chunks; they hold the part only when those were exactly its bytes.
    for (const r of open.readers) this.call(r, () => r.end(delivered === p.data.length));
  }

  get(sequence: number, index: number): StoredPart | undefined {
    return this.done.get(sequence)?.[index];
  }

  partsOf(sequence: number): readonly StoredPart[] {
    return this.done.get(sequence) ?? [];
  }

  /** The part receiving bytes now, if any. */
  get openPosition(): PartPosition | undefined {
    return this.open && { sequence: this.open.sequence, index: this.open.index };
  }

  /**
   * Streams part (sequence, index) to `reader` if it is the open part: the bytes so far at once, then
   * each chunk as it comes, then end(). Returns a detach function, or undefined when it is not open.
   */
  read(sequence: number, index: number, reader: PartReader): (() => void) | undefined {
    const open = this.open;
    if (!open || open.sequence !== sequence || open.index !== index) return undefined;
    for (const c of open.chunks) this.call(reader, () => reader.chunk(c));
    open.readers.add(reader);
    return () => open.readers.delete(reader);
  }

  /** Forgets completed parts of segments before `sequence`. */
  dropBefore(sequence: number): void {
    for (const seq of this.done.keys()) if (seq < sequence) this.done.delete(seq);
  }

  /** The stream ended or restarts: the open part never completes. */
  abandonOpen(): void {
    if (this.open) this.abandon(this.open);
    this.open = undefined;
  }

  private dropFrom(sequence: number): void {
    for (const seq of this.done.keys()) if (seq >= sequence) this.done.delete(seq);
  }

  private abandon(open: OpenPart): void {
    for (const r of open.readers) this.call(r, () => r.end(false));
    open.readers.clear();
  }

  private call(r: PartReader, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.onReaderError(err);
    }
  }
}
