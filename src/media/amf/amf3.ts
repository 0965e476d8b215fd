// AMF3, as RTMP clients send it inside AMF0 (AVM+ marker 0x11) and in message types 15/17.
// Values map onto Amf0Value so callers handle one value model: XML decodes to its string, ByteArray to a
// Buffer, vectors to arrays and dictionaries to objects with string keys.
// Decoding is linear in the input: a reference yields the object already decoded (shared, never decoded
// again), a reference to a container still open is refused, and values per message are capped
// (limits.ts). Consumers that walk the result must still expect shared objects: see the AMF0 encoder's cap.
import { AmfError } from './error.js';
import type { Amf0Value } from './amf0.js';
import { MAX_AMF_DEPTH, spendItems } from './limits.js';
import type { AmfItemBudget } from './limits.js';

export const Amf3Marker = {
  Undefined: 0x00,
  Null: 0x01,
  False: 0x02,
  True: 0x03,
  Integer: 0x04,
  Double: 0x05,
  String: 0x06,
  XmlDocument: 0x07,
  Date: 0x08,
  Array: 0x09,
  Object: 0x0a,
  Xml: 0x0b,
  ByteArray: 0x0c,
  VectorInt: 0x0d,
  VectorUint: 0x0e,
  VectorDouble: 0x0f,
  VectorObject: 0x10,
  Dictionary: 0x11,
} as const;

const INT29_MIN = -(2 ** 28);
const INT29_MAX = 2 ** 28 - 1;

interface Traits {
  readonly className: string;
  readonly dynamic: boolean;
  readonly sealed: readonly string[];
}

/** Reference tables of one AMF3 decoding context (they persist across values of one message). */
export class Amf3Decoder {
  readonly strings: string[] = [];
  readonly objects: Amf0Value[] = [];
  readonly traits: Traits[] = [];
  // Containers still being decoded: a reference to one would build a cycle, which no consumer expects.
  readonly open = new Set<Amf0Value>();
  constructor(
    readonly buf: Buffer,
    /** Shared with the AMF0 reader of the same message, when there is one. */
    readonly budget: AmfItemBudget = { items: 0 },
  ) {}
}

/** Decodes every AMF3 value in the buffer. */
export function decodeAmf3(buf: Buffer): Amf0Value[] {
  const d = new Amf3Decoder(buf);
  const out: Amf0Value[] = [];
  let off = 0;
  while (off < buf.length) {
    const r = decodeAmf3Value(d, off, 0);
    out.push(r.value);
    off = r.offset;
  }
  return out;
}

export function decodeAmf3Value(d: Amf3Decoder, offset: number, depth: number): { value: Amf0Value; offset: number } {
  const r = new Reader(d, offset);
  const value = r.value(depth);
  return { value, offset: r.offset };
}

class Reader {
  private readonly buf: Buffer;
  constructor(
    private readonly d: Amf3Decoder,
    public offset: number,
  ) {
    this.buf = d.buf;
  }

  private need(n: number): void {
    if (n < 0 || this.offset + n > this.buf.length) throw new AmfError(`truncated AMF3 data at offset ${this.offset}`);
  }
  private u8(): number {
    this.need(1);
    return this.buf[this.offset++]!;
  }
  private f64(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.offset);
    this.offset += 8;
    return v;
  }
  /** U29: up to 3 bytes of 7 bits with a continuation bit, then one full byte. */
  u29(): number {
    let v = 0;
    for (let i = 0; i < 3; i++) {
      const b = this.u8();
      v = (v << 7) | (b & 0x7f);
      if ((b & 0x80) === 0) return v;
    }
    return ((v << 8) | this.u8()) >>> 0;
  }
  private remaining(): number {
    return this.buf.length - this.offset;
  }

  private string(): string {
    const h = this.u29();
    if ((h & 1) === 0) {
      const s = this.d.strings[h >>> 1];
      if (s === undefined) throw new AmfError(`bad AMF3 string reference ${h >>> 1}`);
      return s;
    }
    const len = h >>> 1;
    this.need(len);
    const s = this.buf.toString('utf8', this.offset, this.offset + len);
    this.offset += len;
    if (len > 0) this.d.strings.push(s); // the empty string is never sent by reference
    return s;
  }

  private objectRef(h: number): Amf0Value {
    const i = h >>> 1;
    if (i >= this.d.objects.length) throw new AmfError(`bad AMF3 object reference ${i}`);
    const v = this.d.objects[i];
    if (this.d.open.has(v)) throw new AmfError(`cyclic AMF3 reference ${i}`);
    return v;
  }

  value(depth: number): Amf0Value {
    if (depth > MAX_AMF_DEPTH) throw new AmfError('AMF3 nesting too deep');
    spendItems(this.d.budget, 1);
    const marker = this.u8();
    switch (marker) {
      case Amf3Marker.Undefined:
        return undefined;
      case Amf3Marker.Null:
        return null;
      case Amf3Marker.False:
        return false;
      case Amf3Marker.True:
        return true;
      case Amf3Marker.Integer: {
        const v = this.u29();
        return v & 0x10000000 ? v - 0x20000000 : v; // sign-extend 29 bits
      }
      case Amf3Marker.Double:
        return this.f64();
      case Amf3Marker.String:
        return this.string();
      case Amf3Marker.XmlDocument:
      case Amf3Marker.Xml: {
        const h = this.u29();
        if ((h & 1) === 0) return this.objectRef(h);
        const len = h >>> 1;
        this.need(len);
        const s = this.buf.toString('utf8', this.offset, this.offset + len);
        this.offset += len;
        this.d.objects.push(s);
        return s;
      }
      case Amf3Marker.Date: {
        const h = this.u29();
        if ((h & 1) === 0) return this.objectRef(h);
        const v = new Date(this.f64());
        this.d.objects.push(v);
        return v;
      }
      case Amf3Marker.ByteArray: {
        const h = this.u29();
        if ((h & 1) === 0) return this.objectRef(h);
        const len = h >>> 1;
        this.need(len);
        // A copy: a view would keep the whole message alive for as long as the value is kept.
        const v = Buffer.from(this.buf.subarray(this.offset, this.offset + len));
        this.offset += len;
        this.d.objects.push(v);
        return v;
      }
      case Amf3Marker.Array:
        return this.array(depth);
      case Amf3Marker.Object:
        return this.object(depth);
      case Amf3Marker.VectorInt:
      case Amf3Marker.VectorUint:
      case Amf3Marker.VectorDouble:
      case Amf3Marker.VectorObject:
        return this.vector(marker, depth);
      case Amf3Marker.Dictionary:
        return this.dictionary(depth);
      default:
        throw new AmfError(`unsupported AMF3 marker 0x${marker.toString(16)} at offset ${this.offset - 1}`);
    }
  }

  private array(depth: number): Amf0Value {
    const h = this.u29();
    if ((h & 1) === 0) return this.objectRef(h);
    const dense = h >>> 1;
    if (dense > this.remaining()) throw new AmfError(`AMF3 array count ${dense} exceeds remaining bytes`);
    const assoc: { [k: string]: Amf0Value } = {};
    let hasAssoc = false;
    const arr: Amf0Value[] = [];
    const idx = this.d.objects.length;
    this.d.objects.push(arr);
    // A decode error aborts the whole message, so open marks need no cleanup on throw.
    this.d.open.add(arr);
    while (true) {
      const key = this.string();
      if (key === '') break;
      hasAssoc = true;
      setProp(assoc, key, this.value(depth + 1));
    }
    for (let i = 0; i < dense; i++) arr.push(this.value(depth + 1));
    this.d.open.delete(arr);
    if (!hasAssoc) return arr;
    // A mixed array has no Amf0Value form; it becomes an object with the dense part under "0", "1", ...
    arr.forEach((v, i) => setProp(assoc, String(i), v));
    this.d.objects[idx] = assoc;
    return assoc;
  }

  private object(depth: number): Amf0Value {
    const h = this.u29();
    if ((h & 1) === 0) return this.objectRef(h);
    let traits: Traits;
    if ((h & 2) === 0) {
      const t = this.d.traits[h >>> 2];
      if (!t) throw new AmfError(`bad AMF3 traits reference ${h >>> 2}`);
      traits = t;
    } else {
      if (h & 4) throw new AmfError('externalizable AMF3 objects are not supported');
      const dynamic = (h & 8) !== 0;
      const count = h >>> 4;
      if (count > this.remaining()) throw new AmfError(`AMF3 sealed member count ${count} exceeds remaining bytes`);
      const className = this.string();
      const sealed: string[] = [];
      for (let i = 0; i < count; i++) sealed.push(this.string());
      traits = { className, dynamic, sealed };
      this.d.traits.push(traits);
    }
    const obj: { [k: string]: Amf0Value } = {};
    this.d.objects.push(obj);
    this.d.open.add(obj);
    for (const k of traits.sealed) setProp(obj, k, this.value(depth + 1));
    if (traits.dynamic) {
      while (true) {
        const key = this.string();
        if (key === '') break;
        setProp(obj, key, this.value(depth + 1));
      }
    }
    this.d.open.delete(obj);
    return obj;
  }

  private vector(marker: number, depth: number): Amf0Value {
    const h = this.u29();
    if ((h & 1) === 0) return this.objectRef(h);
    const n = h >>> 1;
    if (n > this.remaining()) throw new AmfError(`AMF3 vector count ${n} exceeds remaining bytes`);
    this.u8(); // fixed-length flag
    if (marker !== Amf3Marker.VectorObject) spendItems(this.d.budget, n); // elements read here, not through value()
    const arr: Amf0Value[] = [];
    this.d.objects.push(arr);
    this.d.open.add(arr);
    if (marker === Amf3Marker.VectorObject) this.string(); // element type name
    for (let i = 0; i < n; i++) {
      if (marker === Amf3Marker.VectorObject) {
        arr.push(this.value(depth + 1));
        continue;
      }
      this.need(marker === Amf3Marker.VectorDouble ? 8 : 4);
      if (marker === Amf3Marker.VectorInt) arr.push(this.buf.readInt32BE(this.offset));
      else if (marker === Amf3Marker.VectorUint) arr.push(this.buf.readUInt32BE(this.offset));
      else arr.push(this.buf.readDoubleBE(this.offset));
      this.offset += marker === Amf3Marker.VectorDouble ? 8 : 4;
    }
    this.d.open.delete(arr);
    return arr;
  }

  private dictionary(depth: number): Amf0Value {
    const h = this.u29();
    if ((h & 1) === 0) return this.objectRef(h);
    const n = h >>> 1;
    if (n > this.remaining()) throw new AmfError(`AMF3 dictionary count ${n} exceeds remaining bytes`);
    this.u8(); // weak-keys flag
    const obj: { [k: string]: Amf0Value } = {};
    this.d.objects.push(obj);
    this.d.open.add(obj);
    for (let i = 0; i < n; i++) {
      const k = this.value(depth + 1);
      // String() of an object key would walk it, and shared references make that walk exponential.
      if (k !== null && typeof k === 'object') throw new AmfError('AMF3 dictionary with an object key');
      setProp(obj, String(k), this.value(depth + 1));
    }
    this.d.open.delete(obj);
    return obj;
  }
}

function setProp(obj: { [k: string]: Amf0Value }, key: string, v: Amf0Value): void {
  // defineProperty: a "__proto__" key must become data, never the prototype
  Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
}

// ---------------------------------------------------------------- encoding (basic types, no references)

/** Encodes values as AMF3 (strings, objects and arrays inline; references are optional for encoders). */
export function encodeAmf3(...values: Amf0Value[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) encodeValue(parts, v, 0);
  return Buffer.concat(parts);
}

export function encodeU29(v: number): Buffer {
  if (v < 0 || v > 0x1fffffff || !Number.isInteger(v)) throw new AmfError(`U29 out of range: ${v}`);
  if (v < 0x80) return Buffer.from([v]);
  if (v < 0x4000) return Buffer.from([(v >> 7) | 0x80, v & 0x7f]);
  if (v < 0x200000) return Buffer.from([(v >> 14) | 0x80, ((v >> 7) & 0x7f) | 0x80, v & 0x7f]);
  return Buffer.from([(v >> 22) | 0x80, ((v >> 15) & 0x7f) | 0x80, ((v >> 8) & 0x7f) | 0x80, v & 0xff]);
}

function encodeString(parts: Buffer[], s: string): void {
  const b = Buffer.from(s, 'utf8');
  if (b.length > 0xfffffff) throw new AmfError('AMF3 string too long');
  parts.push(encodeU29((b.length << 1) | 1), b);
}

function encodeValue(parts: Buffer[], v: Amf0Value, depth: number): void {
  if (depth > MAX_AMF_DEPTH) throw new AmfError('AMF3 nesting too deep to encode');
  if (v === undefined) return void parts.push(Buffer.from([Amf3Marker.Undefined]));
  if (v === null) return void parts.push(Buffer.from([Amf3Marker.Null]));
  if (v === false) return void parts.push(Buffer.from([Amf3Marker.False]));
  if (v === true) return void parts.push(Buffer.from([Amf3Marker.True]));
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= INT29_MIN && v <= INT29_MAX && !Object.is(v, -0)) {
      parts.push(Buffer.from([Amf3Marker.Integer]), encodeU29(v & 0x1fffffff));
    } else {
      const b = Buffer.allocUnsafe(9);
      b[0] = Amf3Marker.Double;
      b.writeDoubleBE(v, 1);
      parts.push(b);
    }
    return;
  }
  if (typeof v === 'string') {
    parts.push(Buffer.from([Amf3Marker.String]));
    return encodeString(parts, v);
  }
  if (Buffer.isBuffer(v)) {
    if (v.length > 0xfffffff) throw new AmfError('AMF3 ByteArray too long');
    return void parts.push(Buffer.from([Amf3Marker.ByteArray]), encodeU29((v.length << 1) | 1), v);
  }
  if (v instanceof Date) {
    const b = Buffer.allocUnsafe(10);
    b[0] = Amf3Marker.Date;
    b[1] = 0x01;
    b.writeDoubleBE(v.getTime(), 2);
    return void parts.push(b);
  }
  if (Array.isArray(v)) {
    if (v.length > 0xfffffff) throw new AmfError('AMF3 array too long');
    parts.push(Buffer.from([Amf3Marker.Array]), encodeU29((v.length << 1) | 1), Buffer.from([0x01]));
    for (const e of v) encodeValue(parts, e, depth + 1);
    return;
  }
  // anonymous dynamic object: inline traits (0b1011), empty class name, no sealed members
  parts.push(Buffer.from([Amf3Marker.Object, 0x0b, 0x01]));
  for (const k of Object.keys(v)) {
    if (k === '') continue; // the empty key terminates the dynamic members, it cannot be encoded
    encodeString(parts, k);
    encodeValue(parts, v[k], depth + 1);
  }
  parts.push(Buffer.from([0x01]));
}
