import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Amf0Value } from '../amf/amf0.js';
import { encodeAmf0 } from '../amf/amf0.js';
import { AmfError } from '../amf/error.js';
import { MAX_SCRIPT_DATA_BYTES, encodeMetadata, encodeScriptData, parseScriptData } from './script.js';
import { FlvError } from './tag-header.js';

const f64 = (n: number): string => {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(n);
  return b.toString('hex');
};
const str = (s: string): string => Buffer.from(s).length.toString(16).padStart(4, '0') + Buffer.from(s).toString('hex');

test('encodeScriptData: onMetaData as an ECMA array, byte-exact', () => {
  const got = encodeScriptData('onMetaData', { width: 320, stereo: true });
  const want = '02' + str('onMetaData') + '08' + '00000002' + str('width') + '00' + f64(320) + str('stereo') + '0101' + '000009';
  assert.equal(got.toString('hex'), want);
  assert.deepEqual(parseScriptData(got), { name: 'onMetaData', value: { width: 320, stereo: true } });
});

test('encodeScriptData: non-object values are written as themselves', () => {
  assert.equal(encodeScriptData('onCuePoint', 'x').toString('hex'), '02' + str('onCuePoint') + '02' + str('x'));
  assert.deepEqual(parseScriptData(encodeScriptData('a', [1, 'b'])), { name: 'a', value: [1, 'b'] });
});

test('parseScriptData: @setDataFrame unwrapped, missing value, trailing bytes, anonymous object', () => {
  const wrapped = Buffer.concat([encodeAmf0('@setDataFrame'), encodeScriptData('onMetaData', { fps: 25 })]);
  assert.deepEqual(parseScriptData(wrapped), { name: 'onMetaData', value: { fps: 25 } });
  assert.deepEqual(parseScriptData(encodeAmf0('onlyName')), { name: 'onlyName', value: undefined });
  const padded = Buffer.concat([encodeScriptData('onMetaData', { fps: 25 }), Buffer.from([0, 0, 0])]);
  assert.deepEqual(parseScriptData(padded), { name: 'onMetaData', value: { fps: 25 } });
  assert.deepEqual(parseScriptData(encodeAmf0('onMetaData', { fps: 30 })).value, { fps: 30 });
});

test('parseScriptData: malformed input throws FlvError', () => {
  assert.throws(() => parseScriptData(Buffer.alloc(0)), FlvError);
  assert.throws(() => parseScriptData(encodeAmf0(42, 'x')), /string name/);
  assert.throws(() => parseScriptData(Buffer.concat([encodeAmf0('@setDataFrame'), encodeAmf0(1)])), /@setDataFrame/);
  const truncated = encodeScriptData('onMetaData', { width: 320 });
  assert.throws(() => parseScriptData(truncated.subarray(0, truncated.length - 5)), FlvError);
});

const key = fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== '__proto__');
const { value: amfValue } = fc.letrec<{ value: Amf0Value }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.double(),
    fc.boolean(),
    fc.string({ maxLength: 20 }),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4, noNullPrototype: true }),
  ),
}));

test('property: encodeScriptData -> parseScriptData round-trips', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 30 }), fc.dictionary(key, amfValue, { maxKeys: 6, noNullPrototype: true }), (name, obj) => {
      assert.deepEqual(parseScriptData(encodeScriptData(name, obj)), { name, value: obj });
    }),
    { numRuns: 300 },
  );
});

test('property: random bytes throw only FlvError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, named) => {
      const buf = named ? Buffer.concat([encodeAmf0('onMetaData'), Buffer.from(bytes)]) : Buffer.from(bytes);
      try {
        parseScriptData(buf);
      } catch (e) {
        if (!(e instanceof FlvError)) throw e;
      }
    }),
    { numRuns: 3000 },
  );
});

test('encodeScriptData is capped in bytes; encodeMetadata drops (undefined) what would pass 64 KiB', () => {
  const meta = { width: 320, title: 'x'.repeat(100) };
  const body = encodeScriptData('onMetaData', meta);
  assert.deepEqual(encodeScriptData('onMetaData', meta, body.length), body, 'exactly at the cap');
  assert.throws(() => encodeScriptData('onMetaData', meta, body.length - 1), AmfError);
  assert.throws(() => encodeScriptData('onCuePoint', 'y'.repeat(100), 50), AmfError);
  assert.deepEqual(encodeMetadata(meta), body);
  assert.deepEqual(parseScriptData(encodeMetadata('not an object') as Buffer), { name: 'onMetaData', value: {} });
  assert.equal(encodeMetadata({ blob: 'z'.repeat(MAX_SCRIPT_DATA_BYTES) }), undefined);
  // A shared array written out 2^40 times: refused after 64 KiB of output, not after gigabytes.
  let shared: Amf0Value = [1, 2];
  for (let i = 0; i < 40; i++) shared = [shared, shared];
  const started = performance.now();
  assert.equal(encodeMetadata({ shared }), undefined);
  assert.ok(performance.now() - started < 1000);
});
