// Splits PES packets and PSI sections into 188-byte transport packets (ISO 13818-1 2.4.3.2/2.4.3.4/2.4.3.5).
import { TsError } from './error.js';
import { wrap33 } from './pes.js';
import { heapAlloc } from '../slab.js';
import type { ByteAlloc } from '../slab.js';

export const TS_PACKET_SIZE = 188;
const PAYLOAD = 184;

/** 4-bit continuity_counter per PID. One instance per output stream, so counters run on across segments. */
export class ContinuityCounters {
  // Indexed by PID (13 bits): read and written for every TS packet, so no Map.
  private readonly counters = new Uint8Array(0x2000);
  /** The counter for the next payload-carrying packet on `pid`, advancing it. */
  next(pid: number): number {
    const c = this.counters[pid] ?? 0;
    this.counters[pid] = (c + 1) & 0x0f;
    return c;
  }
  /** The counter of the last payload-carrying packet on `pid` (15 before any, so the first is 0). */
  last(pid: number): number {
    return ((this.counters[pid] ?? 0) + 15) & 0x0f;
  }
}

export interface PesPacketOptions {
  /** PCR base (90 kHz, taken mod 2^33) to put in the first packet's adaptation field. */
  pcr?: number;
  /** Sets random_access_indicator in the first packet: it begins a keyframe (or audio entry point). */
  randomAccess?: boolean;
}

function checkPid(pid: number): void {
  if (!Number.isInteger(pid) || pid < 0 || pid > 0x1ffe) throw new TsError(`invalid PID ${pid}`);
}

function writeHeader(b: Buffer, at: number, pid: number, pusi: boolean, afc: number, cc: number): void {
  b[at] = 0x47;
  b[at + 1] = (pusi ? 0x40 : 0) | (pid >> 8);
  b[at + 2] = pid & 0xff;
  b[at + 3] = (afc << 4) | cc;
}

// program_clock_reference_base (33 bits), 6 reserved bits, extension 0 (ISO 13818-1 2.4.3.5).
function writePcr(b: Buffer, at: number, pcr: number): void {
  const v = wrap33(pcr);
  b[at] = Math.floor(v / 2 ** 25) & 0xff;
  b[at + 1] = Math.floor(v / 2 ** 17) & 0xff;
  b[at + 2] = Math.floor(v / 2 ** 9) & 0xff;
  b[at + 3] = Math.floor(v / 2) & 0xff;
  b[at + 4] = ((v & 1) << 7) | 0x7e;
  b[at + 5] = 0;
}

/**
 * Packetizes one PES: its header and payload as one buffer, or as pieces (header, then payload parts)
 * that are copied straight into the packets, with no joined intermediate. The first packet has
 * payload_unit_start_indicator and, when asked, an adaptation field with PCR / random_access_indicator;
 * the last packet is padded with adaptation-field stuffing (payload stuffing is not allowed in PES packets).
 */
export function packetizePes(
  cc: ContinuityCounters,
  pid: number,
  pes: Buffer | readonly Buffer[],
  opts: PesPacketOptions = {},
  alloc: ByteAlloc = heapAlloc,
): Buffer {
  checkPid(pid);
  const parts: readonly Buffer[] = Buffer.isBuffer(pes) ? [pes] : pes;
  let length = 0;
  for (const p of parts) length += p.length;
  const firstAf = opts.pcr !== undefined || opts.randomAccess ? 2 + (opts.pcr !== undefined ? 6 : 0) : 0;
  const firstSpace = PAYLOAD - firstAf;
  const count = length <= firstSpace ? 1 : 1 + Math.ceil((length - firstSpace) / PAYLOAD);
  const out = alloc(count * TS_PACKET_SIZE);
  // The payload is copied whole into the tail of the output, then moved down into place packet by
  // packet (copyWithin): Buffer#copy of a sub-range allocates a view per call, ~1,700 times a second
  // per 2.5 Mbit/s stream. Each packet's destination lies at or before its source, and every header
  // below it, so moving forward in order never overwrites bytes not yet moved.
  const tail = out.length - length;
  let w = tail;
  for (const p of parts) w += p.copy(out, w);
  let off = 0;
  for (let i = 0; i < count; i++) {
    const at = i * TS_PACKET_SIZE;
    let af = i === 0 ? firstAf : 0;
    const take = Math.min(PAYLOAD - af, length - off);
    const stuffing = PAYLOAD - af - take;
    af += stuffing;
    out.copyWithin(at + 4 + af, tail + off, tail + off + take);
    writeHeader(out, at, pid, i === 0, af > 0 ? 3 : 1, cc.next(pid));
    if (af > 0) {
      out[at + 4] = af - 1; // adaptation_field_length
      if (af > 1) {
        let flags = 0;
        let p = at + 6;
        if (i === 0 && opts.randomAccess) flags |= 0x40;
        if (i === 0 && opts.pcr !== undefined) {
          flags |= 0x10;
          writePcr(out, p, opts.pcr);
          p += 6;
        }
        out[at + 5] = flags;
        out.fill(0xff, p, at + 4 + af);
      }
    }
    off += take;
  }
  return out;
}

/** A packet with only an adaptation field carrying a PCR (no payload, so the continuity counter does not advance). */
export function pcrOnlyPacket(cc: ContinuityCounters, pid: number, pcr: number, alloc: ByteAlloc = heapAlloc): Buffer {
  checkPid(pid);
  const out = alloc(TS_PACKET_SIZE).fill(0xff);
  // The counter of a payload-less packet repeats the last payload packet's value (2.4.3.3).
  writeHeader(out, 0, pid, false, 2, cc.last(pid));
  out[4] = 183;
  out[5] = 0x10;
  writePcr(out, 6, pcr);
  return out;
}

/** Packetizes a PSI section: pointer_field 0, the section, then 0xFF stuffing (allowed in PSI payloads). */
export function packetizeSection(cc: ContinuityCounters, pid: number, section: Buffer, alloc: ByteAlloc = heapAlloc): Buffer {
  checkPid(pid);
  const data = Buffer.concat([Buffer.from([0]), section]);
  const count = Math.ceil(data.length / PAYLOAD);
  const out = alloc(count * TS_PACKET_SIZE).fill(0xff);
  for (let i = 0; i < count; i++) {
    const at = i * TS_PACKET_SIZE;
    writeHeader(out, at, pid, i === 0, 1, cc.next(pid));
    data.copy(out, at + 4, i * PAYLOAD, Math.min(data.length, (i + 1) * PAYLOAD));
  }
  return out;
}
