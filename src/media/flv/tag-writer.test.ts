import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TagType } from '../packet.js';
import { ms } from '../time.js';
import { FlvError, flvTagDataSize, flvTagFiltered, flvTagTimestamp, flvTagType } from './tag-header.js';
import { encodeFlvTag, writeFlvTagHeader } from './tag-writer.js';

test('encodeFlvTag: byte-exact video tag with PreviousTagSize', () => {
  const tag = encodeFlvTag({ type: TagType.Video, timestamp: ms(0x01020304), payload: Buffer.from([0x17, 0x01, 0, 0, 0x50]) });
  // type | size 5 | ts low 24 = 020304, ext = 01 | stream id 0 | body | prev = 16
  assert.equal(tag.toString('hex'), '09' + '000005' + '020304' + '01' + '000000' + '1701000050' + '00000010');
});

test('encodeFlvTag: audio, empty body, 32-bit wrap of unwrapped timestamps', () => {
  assert.equal(encodeFlvTag({ type: TagType.Audio, timestamp: ms(0), payload: Buffer.alloc(0) }).toString('hex'), '08000000000000000000000000000b');
  const wrapped = encodeFlvTag({ type: TagType.Script, timestamp: ms(2 ** 32 + 7), payload: Buffer.from([2]) });
  assert.equal(wrapped.subarray(0, 11).toString('hex'), '12' + '000001' + '000007' + '00' + '000000');
  const max = encodeFlvTag({ type: TagType.Audio, timestamp: ms(2 ** 32 - 1), payload: Buffer.from([0xaf]) });
  assert.equal(max.subarray(4, 8).toString('hex'), 'ffffffff');
  const neg = encodeFlvTag({ type: TagType.Audio, timestamp: ms(-1), payload: Buffer.from([0xaf]) });
  assert.equal(neg.subarray(4, 8).toString('hex'), 'ffffffff');
});

test('writeFlvTagHeader refuses a body the 24-bit size cannot express', () => {
  assert.throws(() => writeFlvTagHeader(Buffer.alloc(11), 0, 9, 0x1000000, 0), FlvError);
  const h = Buffer.alloc(13, 0xaa);
  assert.equal(writeFlvTagHeader(h, 1, 9, 0xffffff, 0x12345678), 12);
  assert.equal(h.toString('hex'), 'aa' + '09ffffff' + '345678' + '12' + '000000' + 'aa');
});

test('the tag header fields read back what writeFlvTagHeader wrote', () => {
  fc.assert(
    fc.property(fc.constantFrom(8, 9, 18), fc.integer({ min: 0, max: 0xffffff }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.nat(20), (type, size, ts, off) => {
      const b = Buffer.alloc(off + 11);
      writeFlvTagHeader(b, off, type, size, ts);
      assert.deepEqual([flvTagType(b, off), flvTagFiltered(b, off), flvTagDataSize(b, off), flvTagTimestamp(b, off)], [type, false, size, ts]);
    }),
  );
  assert.deepEqual([flvTagType(Buffer.from([0x28]), 0), flvTagFiltered(Buffer.from([0x28]), 0)], [8, true]);
});
