import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TsError } from './error.js';
import { readTsPacket, readTsPackets } from './packet-reader.js';

test('reads header fields, adaptation field and payload', () => {
  const b = Buffer.alloc(188, 0xff);
  Buffer.from('4741003707500000f1207e00', 'hex').copy(b);
  const p = readTsPacket(b);
  assert.deepEqual([p.pid, p.payloadUnitStart, p.continuityCounter], [0x100, true, 7]);
  assert.deepEqual(p.adaptation, { length: 7, discontinuity: false, randomAccess: true, pcr: 123456 });
  assert.equal(p.payload.length, 188 - 12);
});

test('bad packets throw TsError', () => {
  assert.throws(() => readTsPacket(Buffer.alloc(187, 0x47)), TsError);
  assert.throws(() => readTsPacket(Buffer.alloc(188, 0)), TsError);
  const b = Buffer.alloc(188, 0);
  b[0] = 0x47;
  assert.throws(() => readTsPacket(b), TsError, 'adaptation_field_control 0');
  b[3] = 0x30;
  b[4] = 183;
  assert.throws(() => readTsPacket(b), TsError, 'adaptation field too long');
  assert.throws(() => readTsPackets(Buffer.alloc(200)), TsError);
});

test('property: random packets only ever throw TsError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 188, maxLength: 188 }), (bytes) => {
      const b = Buffer.from(bytes);
      b[0] = 0x47;
      try {
        const p = readTsPacket(b);
        assert.ok(p.payload.length <= 184);
      } catch (e) {
        if (!(e instanceof TsError)) throw e;
      }
    }),
    { numRuns: 3000 },
  );
});
