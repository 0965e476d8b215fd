import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { crc32Mpeg2 } from './crc32.js';

test('CRC of the standard PAT section (program 1 -> PMT PID 0x1000) is 2A B1 04 B2, as in every ffmpeg TS', () => {
  const pat = Buffer.from('00b00d0001c100000001f000', 'hex');
  assert.equal(crc32Mpeg2(pat), 0x2ab104b2);
});

test('check value of CRC-32/MPEG-2 for "123456789" is 0x0376E6E7', () => {
  assert.equal(crc32Mpeg2(Buffer.from('123456789')), 0x0376e6e7);
  assert.equal(crc32Mpeg2(Buffer.alloc(0)), 0xffffffff);
});

test('property: a section followed by its CRC checks to 0; any flipped bit is caught', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), (bytes, flip) => {
      const b = Buffer.alloc(bytes.length + 4);
      b.set(bytes);
      b.writeUInt32BE(crc32Mpeg2(bytes), bytes.length);
      assert.equal(crc32Mpeg2(b), 0);
      const bit = flip % (bytes.length * 8);
      b[bit >> 3] = (b[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      assert.notEqual(crc32Mpeg2(b), 0);
    }),
  );
});
