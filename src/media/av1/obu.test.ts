import assert from 'node:assert/strict';
import test from 'node:test';
import { Av1Error } from './error.js';
import { ObuType, readLeb128, splitObus } from './obu.js';

test('leb128: 7 bits a byte, little end first', () => {
  assert.deepEqual(readLeb128(Buffer.from([0x05]), 0), { value: 5, length: 1 });
  assert.deepEqual(readLeb128(Buffer.from([0xff, 0xe5, 0x80, 0x80, 0x00]), 0), { value: 0x7f + (0x65 << 7), length: 5 });
  assert.deepEqual(readLeb128(Buffer.from([0, 0xff, 0xff, 0xff, 0xff, 0x0f]), 1), { value: 0xffffffff, length: 5 });
  assert.throws(() => readLeb128(Buffer.from([0x80]), 0), Av1Error);
  assert.throws(() => readLeb128(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x1f]), 0), Av1Error, 'beyond 32 bits');
  assert.throws(() => readLeb128(Buffer.alloc(9, 0x80), 0), Av1Error, 'more than 8 bytes');
});

test('OBUs: header, optional extension, sized and unsized (last) OBUs', () => {
  const data = Buffer.from([
    0x12, 0x00, // temporal delimiter, size 0
    0x0e, 0x68, 0x02, 0xaa, 0xbb, // sequence header with extension (temporal 3, spatial 1), size 2
    0x78, 0x01, 0x02, 0x03, // padding without a size: to the end
  ]);
  const obus = splitObus(data);
  assert.deepEqual(obus.map((o) => [o.type, o.temporalId, o.spatialId, o.payload.toString('hex')]), [
    [ObuType.TemporalDelimiter, 0, 0, ''],
    [ObuType.SequenceHeader, 3, 1, 'aabb'],
    [ObuType.Padding, 0, 0, '010203'],
  ]);
  assert.deepEqual(splitObus(Buffer.alloc(0)), []);
});

test('malformed OBUs throw Av1Error', () => {
  for (const [what, data] of [
    ['forbidden bit', [0x92, 0x00]],
    ['extension cut', [0x0e]],
    ['size cut', [0x0a]],
    ['size beyond the data', [0x0a, 0x05, 1, 2]],
  ] as const)
    assert.throws(() => splitObus(Buffer.from(data)), Av1Error, what);
});
