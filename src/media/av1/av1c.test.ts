import assert from 'node:assert/strict';
import test from 'node:test';
import { AV1C, record } from '../../../test/helpers/codec-records.js';
import { MediaFormatError } from '../error.js';
import { parseAv1c } from './av1c.js';
import { Av1Error } from './error.js';
import { parseSequenceHeader } from './sequence-header.js';

test('SVT-AV1 1080p: profile 0, level 8 (4.0), Main tier, 8-bit 4:2:0, one sequence header OBU', () => {
  const c = parseAv1c(record(AV1C.svt1080));
  assert.deepEqual(
    { p: c.profile, l: c.level, t: c.tier, d: c.bitDepth, mono: c.monochrome, ss: [c.chromaSubsamplingX, c.chromaSubsamplingY], pos: c.chromaSamplePosition, delay: c.initialPresentationDelay },
    { p: 0, l: 8, t: 0, d: 8, mono: false, ss: [1, 1], pos: 0, delay: undefined },
  );
  assert.equal(c.configObus.toString('hex'), AV1C.svt1080.slice(8));
  assert.equal(c.sequenceHeader?.length, 11);
});

test('libaom 10-bit, 12-bit Professional, 4:4:4 High, monochrome', () => {
  const pick = (hex: string) => {
    const c = parseAv1c(record(hex));
    return [c.profile, c.level, c.bitDepth, c.monochrome, c.chromaSubsamplingX, c.chromaSubsamplingY];
  };
  assert.deepEqual(pick(AV1C.aom10bit), [0, 0, 10, false, 1, 1]);
  assert.deepEqual(pick(AV1C.aom12bit720), [2, 5, 12, false, 1, 1]);
  assert.deepEqual(pick(AV1C.aom444), [1, 0, 8, false, 0, 0]);
  assert.deepEqual(pick(AV1C.aomGray), [0, 0, 8, true, 1, 1]);
});

test('the record and its sequence header agree on profile, level, tier, bit depth and monochrome', () => {
  for (const hex of Object.values(AV1C)) {
    const c = parseAv1c(record(hex));
    const s = parseSequenceHeader(c.sequenceHeader!);
    assert.deepEqual([s.profile, s.level, s.tier, s.bitDepth, s.monochrome], [c.profile, c.level, c.tier, c.bitDepth, c.monochrome], hex);
  }
});

test('initial_presentation_delay when present; a record without configOBUs', () => {
  const c = parseAv1c(Buffer.from([0x81, 0x00, 0x0c, 0x13]));
  assert.equal(c.initialPresentationDelay, 4);
  assert.equal(c.sequenceHeader, undefined);
  assert.equal(c.configObus.length, 0);
});

test('malformed records throw Av1Error (a MediaFormatError)', () => {
  const good = record(AV1C.svt320x240);
  const cases: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['3 bytes', good.subarray(0, 3)],
    ['marker bit clear', Buffer.concat([Buffer.from([0x01]), good.subarray(1)])],
    ['version 2', Buffer.concat([Buffer.from([0x82]), good.subarray(1)])],
    ['OBU cut', good.subarray(0, good.length - 1)],
    ['forbidden bit', Buffer.concat([good.subarray(0, 4), Buffer.from([0x8a, 0])])],
  ];
  for (const [what, data] of cases) assert.throws(() => parseAv1c(data), (e: unknown) => e instanceof Av1Error && e instanceof MediaFormatError, what);
});
