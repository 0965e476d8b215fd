import assert from 'node:assert/strict';
import test from 'node:test';
import { bitsWithTrailing as fromBits, fieldBits as f } from '../../../test/helpers/bits.js';
import { AV1C, record } from '../../../test/helpers/codec-records.js';
import { parseAv1c } from './av1c.js';
import { Av1Error } from './error.js';
import { MAX_AV1_DIMENSION, parseSequenceHeader } from './sequence-header.js';

const header = (hex: string) => parseSequenceHeader(parseAv1c(record(hex)).sequenceHeader!);

test('maximum frame size of real encodes equals the picture size FFmpeg encoded', () => {
  const sizes = Object.fromEntries(Object.entries(AV1C).map(([k, hex]) => [k, `${header(hex).maxWidth}x${header(hex).maxHeight}`]));
  assert.deepEqual(sizes, {
    svt320x240: '320x240',
    svt1080: '1920x1080',
    aom330x250: '330x250',
    aom10bit: '64x48',
    aom444: '64x48',
    aomGray: '64x48',
    aom12bit720: '1280x720',
  });
});

/** Frame size 1920x1080 in 11-bit fields. */
const SIZE = f(10, 4) + f(10, 4) + f(1919, 11) + f(1079, 11);
// No frame ids, 3 intra tool flags, 4 inter tool flags, no order hint, seq_choose_screen_content_tools 1
// (so seq_choose_integer_mv is read: 0, so seq_force_integer_mv is read: 0).
const TOOLS = '0' + '000' + '0000' + '0' + '1' + '0' + '0';
/** high_bitdepth 0, mono_chrome 0. */
const COLOR = '0' + '0';

test('reduced still picture header: level read directly, no operating points', () => {
  const s = parseSequenceHeader(fromBits(f(0, 3) + '1' + '1' + f(12, 5) + SIZE + '000' + '000' + COLOR));
  assert.deepEqual([s.stillPicture, s.reducedStillPictureHeader, s.level, s.tier, s.maxWidth, s.maxHeight, s.bitDepth], [true, true, 12, 0, 1920, 1080, 8]);
});

test('timing info, decoder model, several operating points with tiers and delays are skipped correctly', () => {
  const timing = '1' + f(1, 32) + f(60, 32) + '1' + '00100' /* uvlc 3 */;
  const decoderModel = '1' + f(9, 5) + f(90000, 32) + f(4, 5) + f(4, 5); // buffer_delay_length 10
  const op = (idx: number, withModel: boolean): string =>
    f(0x103, 12) + f(idx, 5) + (idx > 7 ? '1' : '') + (withModel ? '1' + f(5, 10) + f(7, 10) + '1' : '0') + '1' + f(3, 4);
  const bits = f(0, 3) + '0' + '0' + timing + decoderModel + '1' /* initial display delay */ + f(1, 5) /* 2 points */ + op(13, true) + op(4, false) + SIZE + TOOLS + '000' + COLOR;
  const s = parseSequenceHeader(fromBits(bits));
  assert.deepEqual([s.level, s.tier, s.maxWidth, s.maxHeight, s.bitDepth, s.monochrome], [13, 1, 1920, 1080, 8, false]);
});

test('order hint and forced screen content tools; profile 2 twelve_bit', () => {
  // no frame ids, 3 intra flags, 4 inter flags, order hint on + 2, choose screen content 0, force 1, choose integer mv 0, force integer 1, order hint bits 3
  const tools = '0' + '111' + '1111' + '1' + '11' + '0' + '1' + '0' + '1' + '110';
  const s = parseSequenceHeader(fromBits(f(2, 3) + '0' + '0' + '0' + '0' + f(0, 5) + f(0, 12) + f(9, 5) + '1' + SIZE + tools + '111' + '1' + '1' + '0'));
  assert.deepEqual([s.profile, s.level, s.tier, s.bitDepth, s.monochrome], [2, 9, 1, 12, false]);
  const mono = parseSequenceHeader(fromBits(f(0, 3) + '0' + '0' + '0' + '0' + f(0, 5) + f(0, 12) + f(4, 5) + SIZE + tools + '000' + '1' + '1'));
  assert.deepEqual([mono.bitDepth, mono.monochrome], [10, true]);
});

test('malformed sequence headers throw Av1Error', () => {
  const good = parseAv1c(record(AV1C.svt1080)).sequenceHeader!;
  const cases: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['cut in the operating points', good.subarray(0, 2)],
    ['cut before the colour config', good.subarray(0, 5)],
    ['profile 3', Buffer.concat([Buffer.from([(3 << 5) | (good[0]! & 0x1f)]), good.subarray(1)])],
    ['frame width beyond the limit', fromBits(f(0, 3) + '1' + '1' + f(12, 5) + f(15, 4) + f(15, 4) + f(MAX_AV1_DIMENSION, 16) + f(1079, 16) + '000000' + COLOR)],
    ['uvlc runs off the end', fromBits(f(0, 3) + '0' + '0' + '1' + f(1, 32) + f(60, 32) + '1' + '0'.repeat(40)).subarray(0, 14)],
  ];
  for (const [what, data] of cases) assert.throws(() => parseSequenceHeader(data), Av1Error, what);
});
