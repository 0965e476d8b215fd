import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeFlvHeader, parseFlvHeader } from './header.js';
import { FlvError } from './tag-header.js';

test('encodeFlvHeader: byte-exact, flags follow the real tracks', () => {
  assert.equal(encodeFlvHeader({ audio: true, video: true }).toString('hex'), '464c5601050000000900000000');
  assert.equal(encodeFlvHeader({ audio: true, video: false }).toString('hex'), '464c5601040000000900000000');
  assert.equal(encodeFlvHeader({ audio: false, video: true }).toString('hex'), '464c5601010000000900000000');
  assert.equal(encodeFlvHeader({ audio: false, video: false }).toString('hex'), '464c5601000000000900000000');
});

test('parseFlvHeader: round-trip and errors', () => {
  for (const audio of [false, true]) {
    for (const video of [false, true]) {
      assert.deepEqual(parseFlvHeader(encodeFlvHeader({ audio, video })), { version: 1, audio, video, dataOffset: 9 });
    }
  }
  assert.throws(() => parseFlvHeader(Buffer.from('464c5601050000', 'hex')), FlvError);
  assert.throws(() => parseFlvHeader(Buffer.from('464c4601050000000900000000', 'hex')), /signature/);
  assert.throws(() => parseFlvHeader(Buffer.from('464c5601050000000800000000', 'hex')), /data offset/);
});

test('property: random bytes throw only FlvError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 20 }), fc.boolean(), (bytes, sig) => {
      const buf = Buffer.from(bytes);
      if (sig && buf.length >= 3) buf.write('FLV', 0, 'latin1');
      try {
        parseFlvHeader(buf);
      } catch (e) {
        if (!(e instanceof FlvError)) throw e;
      }
    }),
  );
});
