// Output memory for TS muxing: packets are written straight into large preallocated buffers, so one
// segment's packets end up side by side and are joined without a copy (a segment of 2.5 Mbit/s video
// would otherwise be ~400 small Buffers, each copied again when the segment is closed).

/** Allocates output space: Buffer.allocUnsafe, or consecutive views of a ByteSlab. */
export type TsAlloc = (bytes: number) => Buffer;

export const heapAlloc: TsAlloc = (bytes) => Buffer.allocUnsafe(bytes);

/** Hands out consecutive views of one buffer of `size` bytes, taking a fresh buffer when it is full. */
export class ByteSlab {
  private buf: Buffer | undefined;
  private used = 0;

  constructor(private readonly size: number) {}

  readonly alloc: TsAlloc = (bytes) => {
    if (!this.buf || this.used + bytes > this.buf.length) {
      this.buf = Buffer.allocUnsafe(Math.max(bytes, this.size));
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
