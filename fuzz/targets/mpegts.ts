// MPEG-TS packets as an edge may inspect them: every 188-byte packet of the input.
import fc from 'fast-check';
import { TsError } from '../../src/media/mpegts/error.js';
import { readTsPacket, readTsPackets } from '../../src/media/mpegts/packet-reader.js';
import { TS_PACKET_SIZE } from '../../src/media/mpegts/packetizer.js';
import type { FuzzTarget } from '../harness.js';

export const target: FuzzTarget = {
  name: 'mpegts',
  description: 'readTsPackets on the whole packets, readTsPacket at offset (length mod 188)',
  expected: [TsError],
  run(input) {
    const whole = input.subarray(0, input.length - (input.length % TS_PACKET_SIZE));
    for (const p of readTsPackets(whole)) if (p.payload.length > TS_PACKET_SIZE) throw new Error('payload larger than a packet');
    if (input.length % TS_PACKET_SIZE !== 0) readTsPacket(input, input.length % TS_PACKET_SIZE);
  },
  arbitrary: fc
    .array(fc.tuple(fc.nat(0xffff), fc.nat(255), fc.nat(255), fc.uint8Array({ minLength: 184, maxLength: 184 })), { minLength: 1, maxLength: 3 })
    .map((ps) => new Uint8Array(Buffer.concat(ps.map(([pid, flags, afLen, rest]) => Buffer.concat([Buffer.from([0x47, pid >> 8, pid & 0xff, flags]), Buffer.from([afLen]), Buffer.from(rest.subarray(1))]))))),
  dictionary: [Buffer.from([0x47, 0x40, 0x00]), Buffer.from([0x47, 0x01, 0x00, 0x30]), Buffer.from([0x47, 0x1f, 0xff, 0x10])],
};
