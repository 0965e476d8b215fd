import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeAmf3, encodeAmf3, encodeU29 } from './amf3.js';
import { AmfError } from './error.js';
import { decodeAmf0, encodeAmf0, encodeAmf0Capped } from './amf0.js';
import type { Amf0Value } from './amf0.js';
import { MAX_AMF_ITEMS } from './limits.js';
import { decodesOrThrowsAmfError, hex } from '../../../test/helpers/amf.js';


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
  assert.deepEqual(decodeAmf3(hex('0b 05 3c78 0c 05 0102')), ['<x', Buffer.from([1, 2])]);
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

const str3 = (s: string): Buffer => Buffer.concat([encodeU29((Buffer.byteLength(s) << 1) | 1), Buffer.from(s)]);
/** { a0: [1, 2], a1: [a0, a0], ..., ak: [ak-1, ak-1] }: ~10 bytes per level, 2^k arrays written out in full. */
function referenceBomb(k: number): Buffer {
  const parts = [hex('0a 0b 01'), str3('a0'), hex('09 05 01 04 01 04 02')];
  for (let i = 1; i <= k; i++) parts.push(str3(`a${i}`), hex('09 05 01 09'), encodeU29(i << 1), hex('09'), encodeU29(i << 1));
  parts.push(hex('01'));
  return Buffer.concat(parts);
}

test('a ByteArray stays bytes (a copy), and round-trips through AMF3 and through AMF0 as AVM+', () => {
  const msg = Buffer.concat([hex('0c'), encodeU29((2_000_000 << 1) | 1), Buffer.alloc(2_000_000, 9)]);
  const [v] = decodeAmf3(msg);
  assert.ok(Buffer.isBuffer(v) && v.length === 2_000_000 && v.buffer !== msg.buffer);
  assert.deepEqual(decodeAmf3(encodeAmf3(Buffer.from([1, 2, 3]))), [Buffer.from([1, 2, 3])]);
  const amf0 = encodeAmf0({ data: Buffer.from([1, 2, 3]) });
  assert.deepEqual(amf0, Buffer.concat([hex('03 0004'), Buffer.from('data'), hex('11 0c 07 010203 000009')]));
  assert.deepEqual(decodeAmf0(amf0), [{ data: Buffer.from([1, 2, 3]) }]);
  // Encoded size stays the input size (plus headers), where numbers made it 9x.
  assert.ok(encodeAmf0(v).length < 2_000_010);
});

test('references decode once, as shared objects: a reference bomb decodes in linear time', () => {
  const started = performance.now();
  const [v] = decodeAmf3(referenceBomb(60)) as [{ [k: string]: Amf0Value[] }];
  assert.ok(performance.now() - started < 100);
  assert.equal(v.a60?.[0], v.a59, 'a reference is the decoded object itself');
  assert.equal(v.a60?.[0], v.a60?.[1]);
  // Written out in full it would be 2^60 arrays: the encoder's byte cap stops it at once.
  const t = performance.now();
  assert.throws(() => encodeAmf0Capped([v], 64 * 1024), AmfError);
  assert.throws(() => encodeAmf0(v), AmfError, 'the default cap is what an RTMP message holds');
  assert.ok(performance.now() - t < 2000, `${performance.now() - t} ms`);
});

test('a reference to a container still being decoded (a cycle) is refused', () => {
  // object 0 with a dynamic member "s" that is a reference to object 0
  assert.throws(() => decodeAmf3(Buffer.concat([hex('0a 0b 01'), str3('s'), hex('0a 00 01')])), /cyclic/);
  // array 0 holding a reference to itself
  assert.throws(() => decodeAmf3(hex('09 03 01 09 00')), /cyclic/);
});

test('values per message are capped, vector elements and references included', () => {
  const many = (n: number): Buffer => Buffer.concat([hex('09'), encodeU29((n << 1) | 1), hex('01'), Buffer.alloc(n, 0x01)]);
  assert.equal((decodeAmf3(many(MAX_AMF_ITEMS - 1))[0] as unknown[]).length, MAX_AMF_ITEMS - 1);
  assert.throws(() => decodeAmf3(many(MAX_AMF_ITEMS)), /more than/);
  const ints = (n: number): Buffer => Buffer.concat([hex('0d'), encodeU29((n << 1) | 1), hex('00'), Buffer.alloc(4 * n)]);
  assert.throws(() => decodeAmf3(ints(MAX_AMF_ITEMS)), /more than/);
  const refs = (n: number): Buffer => Buffer.concat([hex('09 01 01'), hex('09'), encodeU29((n << 1) | 1), hex('01'), Buffer.from('0900'.repeat(n), 'hex')]);
  assert.throws(() => decodeAmf3(refs(MAX_AMF_ITEMS)), AmfError);
  // AMF0 and the AMF3 values it switches to share one budget.
  const mixed = Buffer.concat([hex('0a'), Buffer.from([0, 0, 0x80, 0]), Buffer.alloc(0x8000, 0x05), hex('11'), many(0x8000)]);
  assert.throws(() => decodeAmf0(mixed), /more than/);
});

test('a dictionary key that is an object is refused (String() of it would walk shared references)', () => {
  assert.deepEqual(decodeAmf3(Buffer.concat([hex('11 03 00 06'), str3('k'), hex('04 01')])), [{ k: 1 }]);
  assert.throws(() => decodeAmf3(Buffer.concat([hex('11 03 00 09 01 01 04 01')])), /object key/);
});
