import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeAmf3, encodeAmf3, encodeU29 } from './amf3.js';
import { AmfError } from './error.js';
import type { Amf0Value } from './amf0.js';
import { decodesOrThrowsAmfError, hex } from './test-support.js';


test('U29 boundaries', () => {
  assert.deepEqual(encodeU29(0x7f), hex('7f'));
  assert.deepEqual(encodeU29(0x80), hex('8100'));
  assert.deepEqual(encodeU29(0x3fff), hex('ff7f'));
  assert.deepEqual(encodeU29(0x4000), hex('818000'));
  assert.deepEqual(encodeU29(0x1fffff), hex('ffff7f'));
  assert.deepEqual(encodeU29(0x200000), hex('80c08000'));
  assert.deepEqual(encodeU29(0x1fffffff), hex('ffffffff'));
  for (const v of [0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 0x1fffff, 0x200000, 0xfffffff]) {
    assert.deepEqual(decodeAmf3(Buffer.concat([hex('04'), encodeU29(v)])), [v]);
  }
  assert.deepEqual(decodeAmf3(hex('04 ffffffff')), [-1]);
  assert.deepEqual(decodeAmf3(hex('04 c0808000')), [-(2 ** 28)]);
});

test('scalars and hand-written vectors', () => {
  assert.deepEqual(decodeAmf3(hex('00 01 02 03')), [undefined, null, false, true]);
  assert.deepEqual(decodeAmf3(hex('05 3ff8000000000000')), [1.5]);
  // "hi", then a reference to string 0
  assert.deepEqual(decodeAmf3(hex('06 05 6869 06 00')), ['hi', 'hi']);
  // date, then reference to object 0
  assert.deepEqual(decodeAmf3(hex('08 01 0000000000000000 08 00')), [new Date(0), new Date(0)]);
  // dense array [1, 2]
  assert.deepEqual(decodeAmf3(hex('09 05 01 04 01 04 02')), [[1, 2]]);
  // mixed array: { a: true, "0": 7 }
  assert.deepEqual(decodeAmf3(hex('09 03 03 61 03 01 04 07')), [{ a: true, 0: 7 }]);
  // object with sealed trait "x" (class "P"), dynamic member y; then one using the trait reference
  const obj = hex('0a 1b 03 50 03 78 04 01 03 79 04 02 01   0a 01 04 03 01');
  assert.deepEqual(decodeAmf3(obj), [{ x: 1, y: 2 }, { x: 3 }]);
  // xml and byte array
  assert.deepEqual(decodeAmf3(hex('0b 05 3c78 0c 05 0102')), ['<x', [1, 2]]);
  // vector<int> [-1, 2]
  assert.deepEqual(decodeAmf3(hex('0d 05 00 ffffffff 00000002')), [[-1, 2]]);
});

test('encoder basics', () => {
  assert.deepEqual(encodeAmf3(1), hex('04 01'));
  assert.deepEqual(encodeAmf3(-1), hex('04 ffffffff'));
  assert.deepEqual(encodeAmf3('hi'), hex('06 05 6869'));
  assert.deepEqual(encodeAmf3({ a: 1 }), hex('0a 0b 01 03 61 04 01 01'));
  assert.deepEqual(encodeAmf3(2 ** 40)[0], 0x05);
});

test('malformed AMF3 raises AmfError', () => {
  for (const bad of ['06 00', '0a 00', '0a 03', '0a 07 01', '09 ffffffff', '12', '06 07 61', '05 00']) {
    assert.throws(() => decodeAmf3(hex(bad)), AmfError, bad);
  }
});

const key = fc.string({ maxLength: 6 }).filter((k) => k !== '');
const value: fc.Arbitrary<Amf0Value> = fc.letrec<{ v: Amf0Value }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.double({ noNaN: true }).filter((d) => !Object.is(d, -0)),
    fc.integer({ min: -(2 ** 28), max: 2 ** 28 - 1 }),
    fc.boolean(),
    fc.string(),
    fc.constant(null),
    fc.constant(undefined),
    fc.date({ noInvalidDate: true }),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(key, tie('v'), { maxKeys: 4, noNullPrototype: true }),
  ),
})).v;

test('property: AMF3 round-trips', () => {
  fc.assert(
    fc.property(fc.array(value, { maxLength: 4 }), (vs) => {
      assert.deepEqual(decodeAmf3(encodeAmf3(...vs)), vs);
    }),
    { numRuns: 500 },
  );
});

test('property: random bytes only ever throw AmfError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => decodesOrThrowsAmfError(decodeAmf3, Buffer.from(bytes))),
    { numRuns: 3000 },
  );
});
