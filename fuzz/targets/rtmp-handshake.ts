// Both RTMP handshake state machines fed in pieces: the server reading C0C1C2 (simple or digest), the
// client reading S0S1S2.
import fc from 'fast-check';
import { RtmpProtocolError } from '../../src/rtmp/errors.js';
import { ClientHandshake, HANDSHAKE_SIZE, ServerHandshake, imprintDigest, FP_KEY } from '../../src/rtmp/handshake.js';
import type { FuzzTarget } from '../harness.js';
import { bound, pieces } from './util.js';

// Deterministic "random" bytes: a finding must replay.
const random = (n: number): Buffer => Buffer.alloc(n, 0x5a);
const now = (): number => 0;

export const target: FuzzTarget = {
  name: 'rtmp-handshake',
  description: 'ServerHandshake.feed (bit 3 of byte 0 clear) or ClientHandshake.feed, over pieces',
  expected: [RtmpProtocolError],
  maxLength: 4 * HANDSHAKE_SIZE,
  run(input) {
    const client = input.length > 0 && (input[0]! & 8) !== 0;
    const hs = client ? new ClientHandshake({ random, now }) : new ServerHandshake({ random, now });
    if (hs instanceof ClientHandshake) hs.start();
    let out = 0;
    for (const p of pieces(input)) {
      const step = hs.feed(p);
      out += step.output?.length ?? 0;
      if (step.done) break;
    }
    bound('handshake output', out, 0, 0, 1 + 2 * HANDSHAKE_SIZE);
  },
  // C0C1C2 with and without a valid digest (schema 0 or 1), as clients send them.
  arbitrary: fc.tuple(fc.nat(255), fc.constantFrom<0 | 1 | 2>(0, 1, 2), fc.nat()).map(([split, schema, version]) => {
    const c1 = Buffer.alloc(HANDSHAKE_SIZE, split);
    c1.writeUInt32BE(schema === 2 ? 0 : version || 1, 4);
    if (schema !== 2) imprintDigest(c1, FP_KEY.subarray(0, 30), schema);
    return new Uint8Array(Buffer.concat([Buffer.from([split & ~8, 3]), c1, Buffer.alloc(HANDSHAKE_SIZE, 1)]));
  }),
};
