// Reads 188-byte transport packets (ISO 13818-1 2.4.3.2): enough to check our own output and to let an
// edge inspect segments (keyframes, PCR) without a full demuxer.
import { TsError } from './error.js';
import { TS_PACKET_SIZE } from './packetizer.js';

export interface TsPacket {
  pid: number;
  payloadUnitStart: boolean;
  continuityCounter: number;
  /** Present when adaptation_field_control says so. */
  adaptation?: { length: number; discontinuity: boolean; randomAccess: boolean; pcr?: number };
  /** Payload bytes (a view into the input); empty when there is none. */
  payload: Buffer;
}

/** Parses the packet at `at`. Throws TsError on a lost sync byte, truncation or an impossible adaptation field. */
export function readTsPacket(data: Buffer, at = 0): TsPacket {
  if (at < 0 || at + TS_PACKET_SIZE > data.length) throw new TsError(`truncated TS packet at ${at}`);
  if (data[at] !== 0x47) throw new TsError(`lost sync at ${at}: 0x${(data[at] ?? 0).toString(16)}`);
  const b1 = data[at + 1] ?? 0;
  const b3 = data[at + 3] ?? 0;
  const afc = (b3 >> 4) & 3;
  if (afc === 0) throw new TsError(`reserved adaptation_field_control at ${at}`);
  const pkt: TsPacket = {
    pid: ((b1 & 0x1f) << 8) | (data[at + 2] ?? 0),
    payloadUnitStart: (b1 & 0x40) !== 0,
    continuityCounter: b3 & 0x0f,
    payload: Buffer.alloc(0),
  };
  let p = at + 4;
  if (afc & 2) {
    const len = data[p] ?? 0;
    const max = afc === 3 ? 182 : 183;
    if (len > max) throw new TsError(`adaptation_field_length ${len} > ${max} at ${at}`);
    const flags = len > 0 ? (data[p + 1] ?? 0) : 0;
    pkt.adaptation = { length: len, discontinuity: (flags & 0x80) !== 0, randomAccess: (flags & 0x40) !== 0 };
    if (flags & 0x10) {
      if (len < 7) throw new TsError(`PCR flag in a ${len}-byte adaptation field at ${at}`);
      const q = p + 2;
      const base = (data[q] ?? 0) * 2 ** 25 + (data[q + 1] ?? 0) * 2 ** 17 + (data[q + 2] ?? 0) * 2 ** 9 + (data[q + 3] ?? 0) * 2 + ((data[q + 4] ?? 0) >> 7);
      pkt.adaptation.pcr = base;
    }
    p += 1 + len;
  }
  if (afc & 1) pkt.payload = data.subarray(p, at + TS_PACKET_SIZE);
  return pkt;
}

/** Every packet of a buffer that must be a whole number of packets. Throws TsError. */
export function readTsPackets(data: Buffer): TsPacket[] {
  if (data.length % TS_PACKET_SIZE !== 0) throw new TsError(`${data.length} bytes is not a whole number of TS packets`);
  const out: TsPacket[] = [];
  for (let at = 0; at < data.length; at += TS_PACKET_SIZE) out.push(readTsPacket(data, at));
  return out;
}
