import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAsc } from './aac/asc.js';
import { parseVideoTagHeader } from './flv/tag-header.js';
import { MP3_CODEC_STRING, aacCodecString, av1CodecString, h264CodecString, hevcCodecString } from './codec.js';
import { parseAv1c } from './av1/av1c.js';
import { parseHvcc } from './hevc/hvcc.js';
import { AV1C, HVCC, record } from '../../test/helpers/codec-records.js';

test('H.264 CODECS string: profile, constraint flags and level as two hex digits each', () => {
  assert.equal(h264CodecString(0x64, 0x00, 0x1f), 'avc1.64001f'); // High 3.1
  assert.equal(h264CodecString(66, 0xc0, 30), 'avc1.42c01e'); // Constrained Baseline 3.0
});

test('AAC CODECS string: the object type, 5 for explicit SBR', () => {
  assert.equal(aacCodecString(parseAsc(Buffer.from('1210', 'hex'))), 'mp4a.40.2'); // AAC LC
  assert.equal(aacCodecString(parseAsc(Buffer.from('2b118800', 'hex'))), 'mp4a.40.5'); // HE-AAC
  assert.equal(MP3_CODEC_STRING, 'mp4a.40.34');
});

test('one name per codec: the FLV parser says h264 for legacy and enhanced (avc1) AVC tags alike', () => {
  assert.equal(parseVideoTagHeader(Buffer.from([0x17, 0, 0, 0, 0])).codec, 'h264');
  assert.equal(parseVideoTagHeader(Buffer.from([0x90, ...Buffer.from('avc1')])).codec, 'h264');
  assert.equal(parseVideoTagHeader(Buffer.from([0x90, ...Buffer.from('hvc1')])).codec, 'hevc');
});

test('HEVC CODECS string (ISO 14496-15 E.3): mp4box says the same of libx265 records, with hvc1', () => {
  assert.equal(hevcCodecString(parseHvcc(record(HVCC.main330x250))), 'hvc1.1.6.L60.90');
  assert.equal(hevcCodecString(parseHvcc(record(HVCC.main10))), 'hvc1.2.4.L30.90');
  assert.equal(hevcCodecString(parseHvcc(record(HVCC.rext444))), 'hvc1.4.10.L30.9E.8');
  assert.equal(hevcCodecString(parseHvcc(record(HVCC.highTier1080))), 'hvc1.1.6.H153.90');
});

test('HEVC CODECS string: profile space letter, reversed compatibility flags, trailing zero constraint bytes dropped', () => {
  const c = { profileSpace: 0, profileIdc: 2, compatibilityFlags: 0x20000000, highTier: false, levelIdc: 123, constraintBytes: Buffer.from('b00000000000', 'hex') };
  assert.equal(hevcCodecString(c), 'hvc1.2.4.L123.B0'); // Apple's HLS authoring example
  assert.equal(hevcCodecString({ ...c, profileSpace: 2, compatibilityFlags: 0x80000001, constraintBytes: Buffer.from('000100000000', 'hex') }), 'hvc1.B2.80000001.L123.0.1');
  assert.equal(hevcCodecString({ ...c, constraintBytes: Buffer.alloc(6) }), 'hvc1.2.4.L123');
});

test('AV1 CODECS string (AV1-ISOBMFF): av01.profile.level+tier.bitdepth, as mp4box says of the encoders\' records', () => {
  assert.equal(av1CodecString(parseAv1c(record(AV1C.svt1080))), 'av01.0.08M.08');
  assert.equal(av1CodecString(parseAv1c(record(AV1C.aom10bit))), 'av01.0.00M.10');
  assert.equal(av1CodecString(parseAv1c(record(AV1C.aom444))), 'av01.1.00M.08');
  assert.equal(av1CodecString(parseAv1c(record(AV1C.aom12bit720))), 'av01.2.05M.12');
  assert.equal(av1CodecString({ profile: 0, level: 13, tier: 1, bitDepth: 10 }), 'av01.0.13H.10');
});
