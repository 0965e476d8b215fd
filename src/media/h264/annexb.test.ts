import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { splitAnnexB, toAnnexB } from './annexb.js';

test('toAnnexB uses 4-byte start codes', () => {
  assert.equal(toAnnexB([Buffer.from([0x09, 0xf0]), Buffer.from([0x65, 0x88])]).toString('hex'), '0000000109f0000000016588');
  assert.equal(toAnnexB([]).length, 0);
});

test('splitAnnexB accepts 3- and 4-byte start codes and ignores leading garbage', () => {
  const data = Buffer.from('ff 00000001 6742 000001 68ce 00000001 6588 0000'.replace(/ /g, ''), 'hex');
  assert.deepEqual(splitAnnexB(data).map((b) => b.toString('hex')), ['6742', '68ce', '6588']);
  assert.deepEqual(splitAnnexB(Buffer.from('6742', 'hex')), []);
});

test('property: splitAnnexB inverts toAnnexB for NALUs without start-code-like content', () => {
  // Real NALUs never contain 00 00 0x (x <= 3) thanks to emulation prevention, and never end with 00.
  const nalu = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((a) => Buffer.from(a.map((b) => (b === 0 ? 0x80 : b))));
  fc.assert(
    fc.property(fc.array(nalu, { maxLength: 8 }), (nalus) => {
      assert.deepEqual(splitAnnexB(toAnnexB(nalus)), nalus);
    }),
  );
});

test('property: splitAnnexB never throws and returns views inside the input', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a.map((b) => b & 3))), (data) => {
      for (const u of splitAnnexB(data)) assert.ok(u.length > 0 && u.length <= data.length);
    }),
  );
});
