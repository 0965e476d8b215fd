import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { joinAvcc, splitAvcc } from './avcc.js';
import type { NaluLengthSize } from './avcc.js';
import { H264Error } from './error.js';

test('splitAvcc reads 4-, 2- and 1-byte lengths', () => {
  assert.deepEqual(splitAvcc(Buffer.from('00000002656600000001 41'.replace(/ /g, ''), 'hex'), 4).map((b) => b.toString('hex')), ['6566', '41']);
  assert.deepEqual(splitAvcc(Buffer.from('0003 658899 0001 06'.replace(/ /g, ''), 'hex'), 2).map((b) => b.toString('hex')), ['658899', '06']);
  assert.deepEqual(splitAvcc(Buffer.from('01 09 02 6742'.replace(/ /g, ''), 'hex'), 1).map((b) => b.toString('hex')), ['09', '6742']);
});

test('splitAvcc skips empty NALUs and refuses overruns', () => {
  assert.deepEqual(splitAvcc(Buffer.from('00000000000000016500000000', 'hex'), 4).map((b) => b.toString('hex')), ['65']);
  assert.throws(() => splitAvcc(Buffer.from('00000005656667', 'hex'), 4), H264Error);
  assert.throws(() => splitAvcc(Buffer.from('000000', 'hex'), 4), H264Error);
  assert.throws(() => splitAvcc(Buffer.from('0001', 'hex'), 2), H264Error);
});

test('joinAvcc inverts splitAvcc and refuses NALUs too long for the length size', () => {
  fc.assert(
    fc.property(fc.constantFrom<NaluLengthSize>(1, 2, 4), fc.array(fc.uint8Array({ minLength: 1, maxLength: 255 }), { maxLength: 8 }), (size, nalus) => {
      const bufs = nalus.map((n) => Buffer.from(n));
      assert.deepEqual(splitAvcc(joinAvcc(bufs, size), size), bufs);
    }),
  );
  assert.throws(() => joinAvcc([Buffer.alloc(256)], 1), H264Error);
});

test('property: random bytes give NALUs within the input or an H264Error', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom<NaluLengthSize>(1, 2, 4), (bytes, size) => {
      const data = Buffer.from(bytes);
      try {
        const nalus = splitAvcc(data, size);
        assert.ok(nalus.reduce((n, u) => n + u.length + size, 0) <= data.length);
      } catch (e) {
        if (!(e instanceof H264Error)) throw e;
      }
    }),
  );
});
