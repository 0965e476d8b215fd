import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage } from './chunk-writer.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('fmt 0 header then fmt 3 continuation chunks', () => {
  const payload = Buffer.alloc(300, 0xab);
  const out = encodeMessage({ csid: 6, timestamp: 1000, typeId: 9, streamId: 1, payload }, 128);
  assert.deepEqual(out.subarray(0, 12), hex('06 0003e8 00012c 09 01000000'));
  assert.equal(out[12 + 128], 0xc6);
  assert.equal(out[12 + 128 + 1 + 128], 0xc6);
  assert.equal(out.length, 12 + 300 + 2);
});

test('extended timestamp is written in the header and repeated in fmt 3 chunks; mod 2^32', () => {
  const payload = Buffer.alloc(10, 1);
  const out = encodeMessage({ csid: 4, timestamp: 2 ** 32 + 0x01020304, typeId: 8, streamId: 1, payload }, 5);
  assert.deepEqual(out.subarray(0, 16), hex('04 ffffff 00000a 08 01000000 01020304'));
  assert.deepEqual(out.subarray(16 + 5, 16 + 5 + 5), hex('c4 01020304'));
  assert.equal(out.length, 16 + 10 + 5);
  // exactly 0xffffff is extended too
  const edge = encodeMessage({ csid: 4, timestamp: 0xffffff, typeId: 8, streamId: 0, payload: Buffer.alloc(0) }, 128);
  assert.deepEqual(edge, hex('04 ffffff 000000 08 00000000 00ffffff'));
});

test('two- and three-byte basic headers', () => {
  const p = Buffer.alloc(0);
  assert.deepEqual(encodeMessage({ csid: 64, timestamp: 0, typeId: 20, streamId: 0, payload: p }, 128).subarray(0, 2), hex('00 00'));
  assert.deepEqual(encodeMessage({ csid: 319, timestamp: 0, typeId: 20, streamId: 0, payload: p }, 128).subarray(0, 2), hex('00 ff'));
  assert.deepEqual(encodeMessage({ csid: 320, timestamp: 0, typeId: 20, streamId: 0, payload: p }, 128).subarray(0, 3), hex('01 0001'));
  assert.deepEqual(encodeMessage({ csid: 65599, timestamp: 0, typeId: 20, streamId: 0, payload: p }, 128).subarray(0, 3), hex('01 ffff'));
  assert.throws(() => encodeMessage({ csid: 1, timestamp: 0, typeId: 20, streamId: 0, payload: p }, 128), RangeError);
  assert.throws(() => encodeMessage({ csid: 65600, timestamp: 0, typeId: 20, streamId: 0, payload: p }, 128), RangeError);
});
