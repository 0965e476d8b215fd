import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AUD_NALU, NalType, nalType } from './nal.js';

test('nalType reads the low 5 bits', () => {
  assert.equal(nalType(Buffer.from([0x67, 0x64])), NalType.Sps);
  assert.equal(nalType(Buffer.from([0x68])), NalType.Pps);
  assert.equal(nalType(Buffer.from([0x65])), NalType.Idr);
  assert.equal(nalType(Buffer.from([0x41])), NalType.NonIdr);
  assert.equal(nalType(Buffer.alloc(0)), -1);
});

test('AUD is type 9 with primary_pic_type 7 and the stop bit, as ffmpeg writes it', () => {
  assert.deepEqual([...AUD_NALU], [0x09, 0xf0]);
  assert.equal(nalType(AUD_NALU), NalType.Aud);
});
