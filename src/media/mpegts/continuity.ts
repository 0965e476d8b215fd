// Continuity checking (ISO 13818-1 2.4.3.3) over a run of packets: what a demuxer would flag as loss.
import type { TsPacket } from './packet-reader.js';

/** Describes every continuity_counter break, e.g. "PID 0x100 packet 12: expected 5, got 7". Empty when clean. */
export function continuityErrors(packets: readonly TsPacket[]): string[] {
  const last = new Map<number, number>();
  const errors: string[] = [];
  packets.forEach((p, i) => {
    const prev = last.get(p.pid);
    const hasPayload = p.payload.length > 0;
    if (prev !== undefined) {
      // A packet without payload repeats the counter; with payload it advances by one.
      const expected = hasPayload ? (prev + 1) & 0x0f : prev;
      if (p.continuityCounter !== expected) errors.push(`PID 0x${p.pid.toString(16)} packet ${i}: expected ${expected}, got ${p.continuityCounter}`);
    }
    last.set(p.pid, p.continuityCounter);
  });
  return errors;
}
