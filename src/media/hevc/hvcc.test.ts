import assert from 'node:assert/strict';
import test from 'node:test';
import { HVCC, record } from '../../../test/helpers/codec-records.js';
import { MediaFormatError } from '../error.js';
import { HevcError } from './error.js';
import { HevcNalType, parseHvcc } from './hvcc.js';


test('Main 8-bit record: profile, tier, level, flags, length size and the VPS/SPS/PPS arrays', () => {
  const c = parseHvcc(record(HVCC.main330x250));
  assert.deepEqual(
    { space: c.profileSpace, high: c.highTier, profile: c.profileIdc, compat: c.compatibilityFlags, constraints: c.constraintBytes.toString('hex'), level: c.levelIdc },
    { space: 0, high: false, profile: 1, compat: 0x60000000, constraints: '900000000000', level: 60 },
  );
  assert.deepEqual([c.chromaFormat, c.bitDepthLuma, c.bitDepthChroma, c.lengthSize], [1, 8, 8, 4]);
  assert.deepEqual(c.arrays.map((a) => [a.nalType, a.nalus.length]), [[HevcNalType.Vps, 1], [HevcNalType.Sps, 1], [HevcNalType.Pps, 1]]);
  assert.deepEqual([c.vps[0]!.length, c.sps[0]!.length, c.pps[0]!.length], [0x18, 0x30, 6]);
  assert.equal((c.sps[0]![0]! >> 1) & 0x3f, HevcNalType.Sps);
});

test('Main 10, RExt 4:4:4 and High tier records', () => {
  const m10 = parseHvcc(record(HVCC.main10));
  assert.deepEqual([m10.profileIdc, m10.bitDepthLuma, m10.bitDepthChroma, m10.levelIdc], [2, 10, 10, 30]);
  const r = parseHvcc(record(HVCC.rext444));
  assert.deepEqual([r.profileIdc, r.chromaFormat, r.constraintBytes.toString('hex')], [4, 3, '9e0800000000']);
  const h = parseHvcc(record(HVCC.highTier1080));
  assert.deepEqual([h.highTier, h.levelIdc], [true, 153]);
});

test('the NAL units are copies: the packet can be released', () => {
  const data = record(HVCC.main10);
  const c = parseHvcc(data);
  const before = Buffer.from(c.sps[0]!);
  data.fill(0);
  assert.deepEqual(c.sps[0], before);
});

test('malformed records throw HevcError (a MediaFormatError)', () => {
  const good = record(HVCC.main10);
  const cases: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['header cut', good.subarray(0, 22)],
    ['version 0', Buffer.concat([Buffer.from([0]), good.subarray(1)])],
    ['length size 3', Buffer.concat([good.subarray(0, 21), Buffer.from([(good[21]! & 0xfc) | 2]), good.subarray(22)])],
    ['arrays cut', good.subarray(0, good.length - 1)],
    ['array header cut', Buffer.concat([good.subarray(0, 22), Buffer.from([1, 0xa0, 0])])],
    ['empty NAL unit', Buffer.concat([good.subarray(0, 22), Buffer.from([1, 0xa0, 0, 1, 0, 0])])],
    ['NAL unit length beyond the end', Buffer.concat([good.subarray(0, 22), Buffer.from([1, 0xa0, 0, 1, 0xff, 0xff, 1, 2])])],
  ];
  for (const [what, data] of cases) assert.throws(() => parseHvcc(data), (e: unknown) => e instanceof HevcError && e instanceof MediaFormatError, what);
});

test('a record without arrays is valid (parameter sets in-band)', () => {
  const c = parseHvcc(Buffer.concat([record(HVCC.main10).subarray(0, 22), Buffer.from([0])]));
  assert.deepEqual([c.arrays, c.sps], [[], []]);
});
