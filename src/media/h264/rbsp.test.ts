import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { escapeRbsp, unescapeRbsp } from './rbsp.js';

test('unescapeRbsp drops each 03 that follows 00 00', () => {
  assert.equal(unescapeRbsp(Buffer.from('0000030100000302', 'hex')).toString('hex'), '000001000002');
  // 00 00 03 03: only the first 03 is emulation prevention.
  assert.equal(unescapeRbsp(Buffer.from('00000303', 'hex')).toString('hex'), '000003');
  // After a removed 03 the zero count restarts: 00 00 03 00 03 keeps the second 03.
  assert.equal(unescapeRbsp(Buffer.from('0000030003', 'hex')).toString('hex'), '000003'.slice(0, 4) + '0003');
  const plain = Buffer.from('6742c00d', 'hex');
  assert.equal(unescapeRbsp(plain), plain, 'no copy when nothing to remove');
});

test('escapeRbsp inserts 03 after 00 00 before a byte <= 3, and only there', () => {
  assert.equal(escapeRbsp(Buffer.from('000001000002000004', 'hex')).toString('hex'), '00000301000003020000' + '04');
  assert.equal(escapeRbsp(Buffer.from('00000000', 'hex')).toString('hex'), '0000030000');
});

test('property: escaping then unescaping is the identity, and escaped bytes hold no start code', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }).map((a) => a.map((b) => (b < 128 ? b & 3 : b))), (rbsp) => {
      const escaped = escapeRbsp(Buffer.from(rbsp));
      assert.deepEqual([...unescapeRbsp(escaped)], [...rbsp]);
      assert.equal(escaped.includes(Buffer.from([0, 0, 1])), false);
    }),
  );
});
