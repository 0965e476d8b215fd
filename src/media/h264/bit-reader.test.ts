import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BitReader } from './bit-reader.js';
import { H264Error } from './error.js';

test('Exp-Golomb: ue and se code tables (H.264 9.1)', () => {
  // 1 | 010 | 011 | 00100 | 00101 -> ue 0,1,2,3,4 ; packed: 1010 0110 0100 0010 1(000)
  const r = new BitReader(Buffer.from([0b10100110, 0b01000010, 0b10000000]));
  assert.deepEqual([r.ue(), r.ue(), r.ue(), r.ue(), r.ue()], [0, 1, 2, 3, 4]);
  const s = new BitReader(Buffer.from([0b10100110, 0b01000010, 0b10000000]));
  assert.deepEqual([s.se(), s.se(), s.se(), s.se(), s.se()], [0, 1, -1, 2, -2]);
});

test('bits reads MSB first and 32-bit values stay unsigned', () => {
  const r = new BitReader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x80]));
  assert.equal(r.bits(32), 0xffffffff);
  assert.equal(r.bit(), 1);
  assert.equal(r.bitsLeft, 7);
});

test('reading past the end and overlong codes throw H264Error', () => {
  assert.throws(() => new BitReader(Buffer.from([0])).ue(), H264Error);
  assert.throws(() => new BitReader(Buffer.alloc(8)).ue(), H264Error);
  assert.throws(() => new BitReader(Buffer.from([1])).skip(9), H264Error);
});

test('property: random bytes only ever throw H264Error', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 16 }), fc.array(fc.constantFrom('ue', 'se', 'bit', 'bits'), { maxLength: 40 }), (bytes, ops) => {
      const r = new BitReader(Buffer.from(bytes));
      try {
        for (const op of ops) {
          if (op === 'ue') assert.ok(r.ue() >= 0);
          else if (op === 'se') r.se();
          else if (op === 'bit') r.bit();
          else r.bits(7);
        }
      } catch (e) {
        if (!(e instanceof H264Error)) throw e;
      }
    }),
  );
});
