// Just enough AMF0 for RTMP commands (connect, createStream, publish, play, onStatus, onMetaData).
// The benchmark keeps its own tiny codec so it measures servers with a client independent of theirs.

export type Amf0Value = number | boolean | string | null | undefined | Date | Amf0Value[] | Amf0Object;
export interface Amf0Object {
  [key: string]: Amf0Value;
}

function encodeString(s: string, withMarker: boolean): Buffer {
  const body = Buffer.from(s, 'utf8');
  if (body.length > 0xffff) {
    const h = Buffer.alloc(5);
    h[0] = 0x0c;
    h.writeUInt32BE(body.length, 1);
    return Buffer.concat([h, body]);
  }
  const h = Buffer.alloc(withMarker ? 3 : 2);
  if (withMarker) h[0] = 0x02;
  h.writeUInt16BE(body.length, withMarker ? 1 : 0);
  return Buffer.concat([h, body]);
}

export function encodeAmf0(v: Amf0Value): Buffer {
  if (typeof v === 'number') {
    const b = Buffer.alloc(9);
    b[0] = 0x00;
    b.writeDoubleBE(v, 1);
    return b;
  }
  if (typeof v === 'boolean') return Buffer.from([0x01, v ? 1 : 0]);
  if (typeof v === 'string') return encodeString(v, true);
  if (v === null) return Buffer.from([0x05]);
  if (v === undefined) return Buffer.from([0x06]);
  if (v instanceof Date) {
    const b = Buffer.alloc(11);
    b[0] = 0x0b;
    b.writeDoubleBE(v.getTime(), 1);
    return b;
  }
  if (Array.isArray(v)) {
    const h = Buffer.alloc(5);
    h[0] = 0x0a;
    h.writeUInt32BE(v.length, 1);
    return Buffer.concat([h, ...v.map(encodeAmf0)]);
  }
  const parts: Buffer[] = [Buffer.from([0x03])];
  for (const [k, val] of Object.entries(v)) parts.push(encodeString(k, false), encodeAmf0(val));
  parts.push(Buffer.from([0, 0, 0x09]));
  return Buffer.concat(parts);
}

export const encodeAmf0Values = (values: readonly Amf0Value[]): Buffer => Buffer.concat(values.map(encodeAmf0));

/** Decodes consecutive AMF0 values until the buffer ends. Throws on malformed input. */
export function decodeAmf0Values(buf: Buffer): Amf0Value[] {
  const out: Amf0Value[] = [];
  let at = 0;
  const need = (n: number): void => {
    if (at + n > buf.length) throw new Error('truncated AMF0');
  };
  const readKey = (): string => {
    need(2);
    const n = buf.readUInt16BE(at);
    at += 2;
    need(n);
    const s = buf.toString('utf8', at, at + n);
    at += n;
    return s;
  };
  const readProps = (o: Amf0Object): void => {
    for (;;) {
      need(3);
      if (buf.readUInt16BE(at) === 0 && buf[at + 2] === 0x09) {
        at += 3;
        return;
      }
      const k = readKey();
      o[k] = read();
    }
  };
  const read = (): Amf0Value => {
    need(1);
    const marker = buf[at++];
    switch (marker) {
      case 0x00: {
        need(8);
        const n = buf.readDoubleBE(at);
        at += 8;
        return n;
      }
      case 0x01:
        need(1);
        return buf[at++] !== 0;
      case 0x02:
        return readKey();
      case 0x03: {
        const o: Amf0Object = {};
        readProps(o);
        return o;
      }
      case 0x05:
        return null;
      case 0x06:
        return undefined;
      case 0x08: {
        need(4);
        at += 4; // ECMA array count is advisory; the end marker terminates it.
        const o: Amf0Object = {};
        readProps(o);
        return o;
      }
      case 0x0a: {
        need(4);
        const n = buf.readUInt32BE(at);
        at += 4;
        const a: Amf0Value[] = [];
        for (let i = 0; i < n; i++) a.push(read());
        return a;
      }
      case 0x0b: {
        need(10);
        const d = new Date(buf.readDoubleBE(at));
        at += 10;
        return d;
      }
      case 0x0c: {
        need(4);
        const n = buf.readUInt32BE(at);
        at += 4;
        need(n);
        const s = buf.toString('utf8', at, at + n);
        at += n;
        return s;
      }
      default:
        throw new Error(`unsupported AMF0 marker ${String(marker)}`);
    }
  };
  while (at < buf.length) out.push(read());
  return out;
}
