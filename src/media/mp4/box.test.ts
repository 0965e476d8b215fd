import assert from 'node:assert/strict';
import test from 'node:test';
import { box, fourcc, fullBox, uint, uint64, UNITY_MATRIX } from './box.js';
import { writeEsds } from './esds.js';
import { Mp4Error } from './error.js';
import { MediaFormatError } from '../error.js';
import { writeFtyp, writeStyp } from './ftyp.js';

const hex = (b: Buffer): string => b.toString('hex');

test('box: 32-bit size including the header, type, payload in order', () => {
  assert.equal(hex(box('free')), '0000000866726565');
  assert.equal(hex(box('abcd', Buffer.from([1, 2]), Buffer.from([3]))), '0000000b61626364010203');
});

test('fullBox: version and 24-bit flags after the type', () => {
  assert.equal(hex(fullBox('url ', 0, 1)), '0000000c75726c2000000001');
  assert.equal(hex(fullBox('tfhd', 1, 0x020000, uint(32, 7))), '000000107466686401020000' + '00000007');
});

test('fields: big-endian, range-checked', () => {
  assert.equal(hex(uint(8, 0xff)), 'ff');
  assert.equal(hex(uint(16, 0x1234)), '1234');
  assert.equal(hex(uint(24, 0x123456)), '123456');
  assert.equal(hex(uint(32, 0xfffffffe)), 'fffffffe');
  assert.equal(hex(uint64(2 ** 40 + 1)), '0000010000000001');
  for (const bad of [() => uint(8, 256), () => uint(16, -1), () => uint(32, 1.5), () => uint64(-1), () => uint64(Number.NaN)]) assert.throws(bad, Mp4Error);
  assert.throws(() => fourcc('moo'), Mp4Error);
  assert.throws(() => fourcc('mööv'), Mp4Error);
  assert.equal(UNITY_MATRIX.length, 36);
  assert.ok(new Mp4Error('x') instanceof MediaFormatError);
});

test('ftyp and styp', () => {
  assert.equal(writeFtyp().toString('latin1'), '\0\0\0\x18ftypiso6\0\0\0\0iso6mp41');
  assert.equal(writeStyp().toString('latin1'), '\0\0\0\x14stypmsdh\0\0\0\0msdh');
});

test('esds for AAC: ES, DecoderConfig (0x40, audio), DecoderSpecificInfo = ASC, SLConfig 2', () => {
  const esds = writeEsds(0x40, Buffer.from([0x12, 0x10]));
  assert.equal(
    hex(esds),
    '00000027' + '65736473' + '00000000' + '0319' + '0000' + '00' + '0411' + '4015' + '000000' + '00000000' + '00000000' + '0502' + '1210' + '060102',
  );
});

test('esds for MP3: object type 0x6B, no DecoderSpecificInfo', () => {
  assert.equal(hex(writeEsds(0x6b)), '00000023' + '65736473' + '00000000' + '0315' + '0000' + '00' + '040d' + '6b15' + '000000' + '00000000' + '00000000' + '060102');
});

test('esds: descriptor sizes of 128 and more take several 7-bit groups', () => {
  const esds = writeEsds(0x40, Buffer.alloc(200));
  // DecoderSpecificInfo: tag 5, size 200 = 0x81 0x48.
  assert.ok(esds.includes(Buffer.from([0x05, 0x81, 0x48, 0])));
});
