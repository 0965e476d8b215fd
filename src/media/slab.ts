// Memory handed out in large preallocated buffers. TS muxing writes a segment's packets into one, so they
// end up side by side and are joined without a copy (a segment of 2.5 Mbit/s video would otherwise be
// ~400 small Buffers, each copied again when the segment is closed); the hub copies small media packets
// into one, instead of giving each its own ArrayBuffer (thousands a second with many publishers, which the
// garbage collector has to track and free one by one).

/** Allocates space: Buffer.allocUnsafe, or consecutive views of a ByteSlab. */
export type ByteAlloc = (bytes: number) => Buffer;

export const heapAlloc: ByteAlloc = (bytes) => Buffer.allocUnsafe(bytes);

/** The memory of every slab, so that a holder can tell a slab's view from a view of some other large buffer. */
const slabMemory = new WeakSet<ArrayBufferLike>();

/** Whether `b` lies in a ByteSlab's memory: a view meant to share it, not a small piece of someone's large buffer. */
export const inSlab = (b: Buffer): boolean => slabMemory.has(b.buffer);

/** Hands out consecutive views of one buffer of `size` bytes, taking a fresh buffer when it is full. */
export class ByteSlab {
  private buf: Buffer | undefined;
  private used = 0;

  constructor(private readonly size: number) {}

  readonly alloc: ByteAlloc = (bytes) => {
    if (!this.buf || this.used + bytes > this.buf.length) {
      this.buf = Buffer.allocUnsafe(Math.max(bytes, this.size));
      slabMemory.add(this.buf.buffer);
      this.used = 0;
    }
    const b = this.buf.subarray(this.used, this.used + bytes);
    this.used += bytes;
    return b;
  };
}

/** The parts as one buffer: a view when they lie back to back in one ArrayBuffer, else a copy. */
export function joinContiguous(parts: readonly Buffer[]): Buffer {
  const first = parts[0];
  if (!first) return Buffer.alloc(0);
  let end = first.byteOffset + first.length;
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i] as Buffer;
    if (p.buffer !== first.buffer || p.byteOffset !== end) return Buffer.concat(parts as Buffer[]);
    end += p.length;
  }
  return Buffer.from(first.buffer, first.byteOffset, end - first.byteOffset);
}
