import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AmfError, decodeAmf0, decodeAmf0Value, encodeAmf0, encodeAmf0Capped, encodeAmf0EcmaArray, isAmfObject, type Amf0Value } from './amf0.js';
import { decodesOrThrowsAmfError, hex } from '../../../test/helpers/amf.js';

const ascii = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

test('connect command encodes to the hand-checked bytes', () => {
  const got = encodeAmf0('connect', 1, { app: 'live' });
  const want = hex(
    '02 0007' + ascii('connect') + '00 3ff0000000000000' + '03 0003' + ascii('app') + '02 0004' + ascii('live') + '000009',
  );
  assert.deepEqual(got, want);
  assert.deepEqual(decodeAmf0(got), ['connect', 1, { app: 'live' }]);
});

test('scalars: boolean, null, undefined, date, long string', () => {
  assert.deepEqual(encodeAmf0(true, false, null, undefined), hex('0101 0100 05 06'));
  const d = new Date(1_000_000);
  const enc = encodeAmf0(d);
  assert.deepEqual(enc, hex('0b 412e848000000000 0000'));
  assert.deepEqual(decodeAmf0(enc), [d]);
  const long = 'x'.repeat(70000);
  const le = encodeAmf0(long);
  assert.equal(le[0], 0x0c);
  assert.equal(le.readUInt32BE(1), 70000);
  assert.deepEqual(decodeAmf0(le), [long]);
});

test('ECMA array for onMetaData decodes to a plain object', () => {
  const enc = encodeAmf0EcmaArray({ width: 320, height: 240 });
  assert.equal(enc[0], 0x08);
  assert.equal(enc.readUInt32BE(1), 2);
  assert.deepEqual(decodeAmf0(enc), [{ width: 320, height: 240 }]);
  // missing end marker at the end of the buffer is tolerated (some encoders omit it)
  assert.deepEqual(decodeAmf0(enc.subarray(0, enc.length - 3)), [{ width: 320, height: 240 }]);
});

test('strict arrays, typed objects and references', () => {
  assert.deepEqual(decodeAmf0(encodeAmf0([1, 'a', [null]])), [[1, 'a', [null]]]);
  // typed object "C" { a: 1 } then a reference to it (index 0)
  const typed = hex('10 0001 43 0001 61 00 3ff0000000000000 000009 07 0000');
  assert.deepEqual(decodeAmf0(typed), [{ a: 1 }, { a: 1 }]);
  // a reference to an object that is still open would be a cycle
  assert.throws(() => decodeAmf0(hex('03 0001 61 07 0000 000009')), AmfError);
  assert.throws(() => decodeAmf0(hex('07 0000')), AmfError);
});

test('AVM+ marker switches to AMF3 for one value', () => {
  // 0x11, AMF3 integer 5, then an AMF0 number
  assert.deepEqual(decodeAmf0(hex('11 04 05 00 4000000000000000')), [5, 2]);
});

test('decodeAmf0Value returns the next offset', () => {
  const buf = encodeAmf0('a', 2);
  const r = decodeAmf0Value(buf, 0);
  assert.equal(r.value, 'a');
  assert.equal(r.offset, 4);
  assert.equal(decodeAmf0Value(buf, r.offset).value, 2);
});

test('__proto__ keys stay data', () => {
  const buf = hex('03 0009' + ascii('__proto__') + '05 000009');
  const [v] = decodeAmf0(buf) as [Record<string, Amf0Value>];
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.ok(Object.keys(v).includes('__proto__'));
});

test('malformed input raises AmfError', () => {
  for (const bad of ['02 0005 6162', '00 3ff0', '0a ffffffff', '03 0001 61', '04', '09', '03 0000 05', 'ff']) {
    assert.throws(() => decodeAmf0(hex(bad)), AmfError, bad);
  }
  // nesting limit
  assert.throws(() => decodeAmf0(Buffer.alloc(1000, 0x0a).fill(0, 0, 0)), AmfError);
  const deep = Buffer.concat(Array.from({ length: 200 }, () => hex('0a 00000001')));
  assert.throws(() => decodeAmf0(deep), AmfError);
});

const amfKey = fc.string({ maxLength: 8 }).filter((k) => k !== '');
const amfValue: fc.Arbitrary<Amf0Value> = fc.letrec<{ v: Amf0Value }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.double(),
    fc.boolean(),
    fc.string(),
    fc.constant(null),
    fc.constant(undefined),
    fc.date({ noInvalidDate: true }),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(amfKey, tie('v'), { maxKeys: 4, noNullPrototype: true }),
  ),
})).v;

test('property: encode/decode round-trips', () => {
  fc.assert(
    fc.property(fc.array(amfValue, { maxLength: 5 }), (values) => {
      assert.deepEqual(decodeAmf0(encodeAmf0(...values)), values);
    }),
    { numRuns: 500 },
  );
});

test('property: random bytes only ever throw AmfError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => decodesOrThrowsAmfError(decodeAmf0, Buffer.from(bytes))),
    { numRuns: 3000 },
  );
});

test('property: corrupted valid encodings only ever throw AmfError', () => {
  fc.assert(
    fc.property(amfValue, fc.nat(), fc.integer({ min: 0, max: 255 }), (v, pos, byte) => {
      const buf = encodeAmf0(v);
      buf[pos % buf.length] = byte;
      decodesOrThrowsAmfError(decodeAmf0, buf);
    }),
    { numRuns: 2000 },
  );
});

test('encoding is capped in bytes, exactly', () => {
  assert.deepEqual(encodeAmf0Capped(['abc'], 6), hex('02 0003 616263'));
  assert.throws(() => encodeAmf0Capped(['abc'], 5), AmfError);
  assert.throws(() => encodeAmf0Capped([{ k: 'v'.repeat(1000) }], 300), AmfError);
  assert.deepEqual(encodeAmf0EcmaArray({ a: 1 }, 20).length, 20);
  assert.throws(() => encodeAmf0EcmaArray({ a: 1 }, 19), AmfError);
  assert.throws(() => encodeAmf0('x'.repeat(0x1000000)), AmfError, 'by default nothing past what an RTMP message holds');
});

test('isAmfObject: plain objects only', () => {
  assert.equal(isAmfObject({ a: 1 }), true);
  for (const v of [null, undefined, 1, 'x', [], new Date(0), Buffer.from([1])]) assert.equal(isAmfObject(v), false, String(v));
});
