import assert from 'node:assert/strict';
import test from 'node:test';
import { bitsWithTrailing, fieldBits, ueBits as ue } from '../../../test/helpers/bits.js';
import { HVCC, record } from '../../../test/helpers/codec-records.js';
import { escapeRbsp } from '../h264/rbsp.js';
import { HevcError } from './error.js';
import { parseHvcc } from './hvcc.js';
import { MAX_HEVC_DIMENSION, parseHevcSps } from './sps.js';

const spsOf = (hex: string): Buffer => parseHvcc(record(hex)).sps[0]!;

test('picture size after the conformance window: 330x250 coded as 336x256', () => {
  const s = parseHevcSps(spsOf(HVCC.main330x250));
  assert.deepEqual(
    { w: s.width, h: s.height, cw: s.codedWidth, ch: s.codedHeight, chroma: s.chromaFormat, depth: [s.bitDepthLuma, s.bitDepthChroma] },
    { w: 330, h: 250, cw: 336, ch: 256, chroma: 1, depth: [8, 8] },
  );
  assert.deepEqual([s.profileSpace, s.highTier, s.profileIdc, s.compatibilityFlags, s.levelIdc], [0, false, 1, 0x60000000, 60]);
});

test('1080p High tier (coded 1088 lines), Main 10, 4:4:4 (no chroma subsampling in the window units)', () => {
  const h = parseHevcSps(spsOf(HVCC.highTier1080));
  assert.deepEqual([h.width, h.height, h.codedHeight, h.highTier, h.levelIdc], [1920, 1080, 1088, true, 153]);
  const m10 = parseHevcSps(spsOf(HVCC.main10));
  assert.deepEqual([m10.width, m10.height, m10.bitDepthLuma, m10.profileIdc], [64, 48, 10, 2]);
  const r = parseHevcSps(spsOf(HVCC.rext444));
  assert.deepEqual([r.width, r.height, r.chromaFormat, r.profileIdc], [64, 48, 3, 4]);
});

test('the SPS agrees with its record on the profile_tier_level', () => {
  for (const hex of Object.values(HVCC)) {
    const c = parseHvcc(record(hex));
    const s = parseHevcSps(c.sps[0]!);
    assert.deepEqual([s.profileSpace, s.highTier, s.profileIdc, s.compatibilityFlags, s.levelIdc, s.chromaFormat, s.bitDepthLuma], [c.profileSpace, c.highTier, c.profileIdc, c.compatibilityFlags, c.levelIdc, c.chromaFormat, c.bitDepthLuma]);
  }
});

/** An SPS NAL unit from RBSP bits (escaped, as an encoder would). */
const spsFromBits = (bits: string): Buffer => Buffer.concat([Buffer.from([0x42, 0x01]), escapeRbsp(bitsWithTrailing(bits))]);
/** vps id 0, one sub-layer, nesting 1, profile_tier_level (Main, level 93), sps id 0. */
const HEAD = '0000' + '000' + '1' + '00' + '0' + '00001' + '0'.repeat(32) + '0'.repeat(48) + fieldBits(93, 8) + ue(0);

test('sub-layer profile_tier_level entries are skipped', () => {
  // 3 sub-layers: flags for 2 of them (profile+level present, level only), alignment bits, their fields.
  const ptl = '00' + '0' + '00001' + '0'.repeat(32) + '0'.repeat(48) + fieldBits(93, 8) + '11' + '01' + '00'.repeat(6) + '0'.repeat(88 + 8) + '0'.repeat(8);
  const bits = '0000' + '010' + '1' + ptl + ue(0) + ue(1) + ue(640) + ue(360) + '0' + ue(0) + ue(0);
  const s = parseHevcSps(spsFromBits(bits));
  assert.deepEqual([s.width, s.height, s.levelIdc], [640, 360, 93]);
});

test('4:2:2 window offsets count 2 columns and 1 row; separate colour planes count 1 each', () => {
  const s = parseHevcSps(spsFromBits(HEAD + ue(2) + ue(640) + ue(368) + '1' + ue(1) + ue(2) + ue(3) + ue(5) + ue(0) + ue(0)));
  assert.deepEqual([s.width, s.height], [640 - 2 * 3, 368 - 8]);
  const p = parseHevcSps(spsFromBits(HEAD + ue(3) + '1' + ue(640) + ue(368) + '1' + ue(1) + ue(2) + ue(3) + ue(5) + ue(0) + ue(0)));
  assert.deepEqual([p.width, p.height], [640 - 3, 368 - 8]);
});

test('malformed SPS: HevcError for truncation, a wrong NAL type, and fields out of range', () => {
  const good = spsOf(HVCC.main10);
  const cases: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['PPS NAL type', Buffer.concat([Buffer.from([0x44, 0x01]), good.subarray(2)])],
    ['cut in profile_tier_level', good.subarray(0, 10)],
    ['cut before the size', good.subarray(0, 16)],
    ['chroma_format_idc 4', spsFromBits(HEAD + ue(4) + ue(64) + ue(48) + '0' + ue(0) + ue(0))],
    ['zero width', spsFromBits(HEAD + ue(1) + ue(0) + ue(48) + '0' + ue(0) + ue(0))],
    ['huge height', spsFromBits(HEAD + ue(1) + ue(64) + ue(MAX_HEVC_DIMENSION + 1) + '0' + ue(0) + ue(0))],
    ['window wider than the picture', spsFromBits(HEAD + ue(1) + ue(64) + ue(48) + '1' + ue(16) + ue(16) + ue(0) + ue(0) + ue(0) + ue(0))],
    ['bit depth 17', spsFromBits(HEAD + ue(1) + ue(64) + ue(48) + '0' + ue(9) + ue(0))],
    ['Exp-Golomb longer than 32 bits', spsFromBits(HEAD + ue(1) + '0'.repeat(40) + '1')],
  ];
  for (const [what, data] of cases) assert.throws(() => parseHevcSps(data), HevcError, what);
});
