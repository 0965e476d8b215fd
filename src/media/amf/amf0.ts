// AMF0 (Action Message Format, version 0) as RTMP commands and FLV script data use it.
// Decoding is defensive: every read is bounds-checked, nesting is limited, element counts are bounded
// by the bytes that remain and values per message are capped, so random input can only ever raise AmfError.
// Encoding is capped in bytes: a decoded value may share objects (AMF0 and AMF3 references), and written
// out in full a few hundred bytes of references become gigabytes.
import { AmfError } from './error.js';
import { decodeAmf3Value, encodeU29, Amf3Decoder, Amf3Marker } from './amf3.js';
import { MAX_AMF_DEPTH, MAX_AMF_ENCODED_BYTES, spendItems } from './limits.js';
import type { AmfItemBudget } from './limits.js';

export { AmfError };

export type Amf0Value =
  | number
  | boolean
  | string
  | null
  | undefined
  | Date
  /** An AMF3 ByteArray; written back in AMF0 as an AVM+ ByteArray. */
  | Buffer
  | Amf0Value[]
  | { [k: string]: Amf0Value };

/** True for an anonymous object / ECMA array (not an array, a Date or a ByteArray). */
export function isAmfObject(v: Amf0Value): v is { [k: string]: Amf0Value } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !Buffer.isBuffer(v);
}

export const Amf0Marker = {
  Number: 0x00,
  Boolean: 0x01,
  String: 0x02,
  Object: 0x03,
  MovieClip: 0x04,
  Null: 0x05,
  Undefined: 0x06,
  Reference: 0x07,
  EcmaArray: 0x08,
  ObjectEnd: 0x09,
  StrictArray: 0x0a,
  Date: 0x0b,
  LongString: 0x0c,
  Unsupported: 0x0d,
  RecordSet: 0x0e,
  XmlDocument: 0x0f,
  TypedObject: 0x10,
  AvmPlus: 0x11,
} as const;

// ---------------------------------------------------------------- encoding

/** Encodes values back to back (an RTMP command is a sequence of AMF0 values). */
export function encodeAmf0(...values: Amf0Value[]): Buffer {
  return encodeAmf0Capped(values, MAX_AMF_ENCODED_BYTES);
}

/** As encodeAmf0, but throws AmfError as soon as the encoding passes `maxBytes`. */
export function encodeAmf0Capped(values: readonly Amf0Value[], maxBytes: number): Buffer {
  const w = new Writer(maxBytes);
  for (const v of values) writeValue(w, v, 0);
  return w.finish();
}

/** Encodes an object as an ECMA array (marker 0x08), the form onMetaData uses; AmfError past `maxBytes`. */
export function encodeAmf0EcmaArray(obj: { readonly [k: string]: Amf0Value }, maxBytes = MAX_AMF_ENCODED_BYTES): Buffer {
  const w = new Writer(maxBytes);
  const keys = Object.keys(obj).filter((k) => k !== '');
  w.u8(Amf0Marker.EcmaArray);
  w.u32(keys.length);
  writeProperties(w, obj, keys, 0);
  return w.finish();
}

// The buffer never grows past maxBytes, so the check in ensure() sees every byte over the cap.
class Writer {
  private buf: Buffer;
  private len = 0;
  constructor(private readonly maxBytes: number) {
    this.buf = Buffer.allocUnsafe(Math.min(256, maxBytes));
  }
  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    if (this.len + n > this.maxBytes) throw new AmfError(`AMF0 encoding exceeds ${this.maxBytes} bytes`);
    const next = Buffer.allocUnsafe(Math.min(this.maxBytes, Math.max(this.buf.length * 2, this.len + n)));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.len++] = v;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.len);
    this.len += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.len);
    this.len += 4;
  }
  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.len);
    this.len += 8;
  }
  bytes(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
  }
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

function writeShortString(w: Writer, s: string): void {
  const b = Buffer.from(s, 'utf8');
  if (b.length > 0xffff) throw new AmfError(`object key too long (${b.length} bytes)`);
  w.u16(b.length);
  w.bytes(b);
}

function writeProperties(w: Writer, obj: { readonly [k: string]: Amf0Value }, keys: string[], depth: number): void {
  for (const k of keys) {
    if (k === '') continue; // an empty key is the end marker, it cannot be encoded
    writeShortString(w, k);
    writeValue(w, obj[k], depth + 1);
  }
  w.u16(0);
  w.u8(Amf0Marker.ObjectEnd);
}

function writeValue(w: Writer, v: Amf0Value, depth: number): void {
  if (depth > MAX_AMF_DEPTH) throw new AmfError('AMF0 nesting too deep to encode');
  if (v === null) return w.u8(Amf0Marker.Null);
  if (v === undefined) return w.u8(Amf0Marker.Undefined);
  switch (typeof v) {
    case 'number':
      w.u8(Amf0Marker.Number);
      return w.f64(v);
    case 'boolean':
      w.u8(Amf0Marker.Boolean);
      return w.u8(v ? 1 : 0);
    case 'string': {
      const b = Buffer.from(v, 'utf8');
      if (b.length <= 0xffff) {
        w.u8(Amf0Marker.String);
        w.u16(b.length);
      } else {
        w.u8(Amf0Marker.LongString);
        w.u32(b.length);
      }
      return w.bytes(b);
    }
  }
  if (Buffer.isBuffer(v)) {
    // AMF0 has no byte array: switch to AMF3 for this value, as Flash Player does.
    if (v.length > 0xfffffff) throw new AmfError('ByteArray too long for AMF3');
    w.u8(Amf0Marker.AvmPlus);
    w.u8(Amf3Marker.ByteArray);
    w.bytes(encodeU29((v.length << 1) | 1));
    return w.bytes(v);
  }
  if (v instanceof Date) {
    w.u8(Amf0Marker.Date);
    w.f64(v.getTime());
    return w.u16(0); // time zone: reserved, should be 0
  }
  if (Array.isArray(v)) {
    w.u8(Amf0Marker.StrictArray);
    w.u32(v.length);
    for (const e of v) writeValue(w, e, depth + 1);
    return;
  }
  w.u8(Amf0Marker.Object);
  writeProperties(w, v, Object.keys(v), depth);
}

// ---------------------------------------------------------------- decoding

/** Decodes every value in the buffer. */
export function decodeAmf0(buf: Buffer): Amf0Value[] {
  const r = new Amf0Reader(buf, 0);
  const out: Amf0Value[] = [];
  while (r.offset < buf.length) out.push(r.value(0));
  return out;
}

/** Decodes one value at `offset`; returns it and the offset just after it. */
export function decodeAmf0Value(buf: Buffer, offset: number): { value: Amf0Value; offset: number } {
  const r = new Amf0Reader(buf, offset);
  const value = r.value(0);
  return { value, offset: r.offset };
}

class Amf0Reader {
  // Complex values (objects, arrays, typed objects) in order, for 0x07 references.
  private readonly refs: Amf0Value[] = [];
  // Values still being decoded: a reference to one would build a cycle, which no consumer expects.
  private readonly open = new Set<Amf0Value>();
  // One AMF3 context per AMF0 message: AVM+ values share their reference tables and the item budget.
  private amf3: Amf3Decoder | undefined;
  private readonly budget: AmfItemBudget = { items: 0 };

  constructor(
    private readonly buf: Buffer,
    public offset: number,
  ) {
    if (offset < 0 || offset > buf.length) throw new AmfError('offset out of range');
  }

  private need(n: number): void {
    if (this.offset + n > this.buf.length) throw new AmfError(`truncated AMF0 data at offset ${this.offset}`);
  }
  private u8(): number {
    this.need(1);
    return this.buf[this.offset++]!;
  }
  private u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  private u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  private f64(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.offset);
    this.offset += 8;
    return v;
  }
  private str(len: number): string {
    this.need(len);
    const s = this.buf.toString('utf8', this.offset, this.offset + len);
    this.offset += len;
    return s;
  }
  private remaining(): number {
    return this.buf.length - this.offset;
  }

  value(depth: number): Amf0Value {
    if (depth > MAX_AMF_DEPTH) throw new AmfError('AMF0 nesting too deep');
    spendItems(this.budget, 1);
    const marker = this.u8();
    switch (marker) {
      case Amf0Marker.Number:
        return this.f64();
      case Amf0Marker.Boolean:
        return this.u8() !== 0;
      case Amf0Marker.String:
        return this.str(this.u16());
      case Amf0Marker.LongString:
      case Amf0Marker.XmlDocument:
        return this.str(this.u32());
      case Amf0Marker.Null:
        return null;
      case Amf0Marker.Undefined:
      case Amf0Marker.Unsupported:
        return undefined;
      case Amf0Marker.Object: {
        const obj: { [k: string]: Amf0Value } = {};
        this.refs.push(obj);
        this.properties(obj, depth, false);
        return obj;
      }
      case Amf0Marker.TypedObject: {
        this.str(this.u16()); // class name: dropped, the object decodes as a plain object
        const obj: { [k: string]: Amf0Value } = {};
        this.refs.push(obj);
        this.properties(obj, depth, false);
        return obj;
      }
      case Amf0Marker.EcmaArray: {
        this.u32(); // the count is advisory: encoders get it wrong, the end marker is what counts
        const obj: { [k: string]: Amf0Value } = {};
        this.refs.push(obj);
        this.properties(obj, depth, true);
        return obj;
      }
      case Amf0Marker.StrictArray: {
        const n = this.u32();
        if (n > this.remaining()) throw new AmfError(`strict array count ${n} exceeds remaining bytes`);
        const arr: Amf0Value[] = [];
        this.refs.push(arr);
        this.open.add(arr);
        for (let i = 0; i < n; i++) arr.push(this.value(depth + 1));
        this.open.delete(arr);
        return arr;
      }
      case Amf0Marker.Date: {
        const t = this.f64();
        this.u16(); // time zone, ignored as the spec says
        return new Date(t);
      }
      case Amf0Marker.Reference: {
        const i = this.u16();
        if (i >= this.refs.length) throw new AmfError(`bad AMF0 reference ${i}`);
        const v = this.refs[i];
        if (this.open.has(v)) throw new AmfError(`cyclic AMF0 reference ${i}`);
        return v;
      }
      case Amf0Marker.AvmPlus: {
        this.amf3 ??= new Amf3Decoder(this.buf, this.budget);
        const r = decodeAmf3Value(this.amf3, this.offset, depth + 1);
        this.offset = r.offset;
        return r.value;
      }
      case Amf0Marker.ObjectEnd:
        throw new AmfError('unexpected AMF0 object end marker');
      default:
        // MovieClip and RecordSet are reserved/unsupported in AMF0; anything else is not AMF0.
        throw new AmfError(`unsupported AMF0 marker 0x${marker.toString(16)} at offset ${this.offset - 1}`);
    }
  }

  private properties(obj: { [k: string]: Amf0Value }, depth: number, lenientEnd: boolean): void {
    this.open.add(obj);
    try {
      this.members(obj, depth, lenientEnd);
    } finally {
      this.open.delete(obj);
    }
  }

  private members(obj: { [k: string]: Amf0Value }, depth: number, lenientEnd: boolean): void {
    while (true) {
      // Some encoders omit the end marker of a trailing ECMA array (onMetaData); accept a clean end of buffer.
      if (lenientEnd && this.remaining() === 0) return;
      const klen = this.u16();
      if (klen === 0) {
        if (lenientEnd && this.remaining() === 0) return;
        const m = this.u8();
        if (m === Amf0Marker.ObjectEnd) return;
        throw new AmfError(`expected AMF0 object end marker, got 0x${m.toString(16)}`);
      }
      const key = this.str(klen);
      const v = this.value(depth + 1);
      // defineProperty: a "__proto__" key must become data, never the prototype
      Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
    }
  }
}
