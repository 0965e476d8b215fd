import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAsc } from './aac/asc.js';
import { parseVideoTagHeader } from './flv/tag-header.js';
import { MP3_CODEC_STRING, aacCodecString, h264CodecString } from './codec.js';

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
