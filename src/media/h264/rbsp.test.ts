import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { unescapeRbsp } from './rbsp.js';

test('unescapeRbsp drops each 03 that follows 00 00', () => {
  assert.equal(unescapeRbsp(Buffer.from('0000030100000302', 'hex')).toString('hex'), '000001000002');
  // 00 00 03 03: only the first 03 is emulation prevention.
  assert.equal(unescapeRbsp(Buffer.from('00000303', 'hex')).toString('hex'), '000003');
  // After a removed 03 the zero count restarts: 00 00 03 00 03 keeps the second 03.
  assert.equal(unescapeRbsp(Buffer.from('0000030003', 'hex')).toString('hex'), '000003'.slice(0, 4) + '0003');
  const plain = Buffer.from('6742c00d', 'hex');
  assert.equal(unescapeRbsp(plain), plain, 'no copy when nothing to remove');
});

test('property: escaping then unescaping is the identity', () => {
  const escape = (rbsp: Uint8Array): Buffer => {
    const out: number[] = [];
    let zeros = 0;
    for (const b of rbsp) {
      if (zeros >= 2 && b <= 3) {
        out.push(3);
        zeros = 0;
      }
      out.push(b);
      zeros = b === 0 ? zeros + 1 : 0;
    }
    return Buffer.from(out);
  };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }).map((a) => a.map((b) => (b < 128 ? b & 3 : b))), (rbsp) => {
      assert.deepEqual([...unescapeRbsp(escape(rbsp))], [...rbsp]);
    }),
  );
});
