import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseAvcConfig, writeAvcConfig } from './avc-config.js';
import { H264Error } from './error.js';

// The AVC sequence header FFmpeg's FLV muxer wrote for a 1280x720 High stream (x264), taken from an .flv.
const SPS = Buffer.from('6764001facd9405005bb011000000300100000030320f1831960', 'hex');
const PPS = Buffer.from('68ebe3cb22c0', 'hex');

test('parses version, profile/compat/level, NALU length size, SPS and PPS', () => {
  const rec = Buffer.concat([Buffer.from('0164001fffe1001a', 'hex'), SPS, Buffer.from('010006', 'hex'), PPS]);
  const c = parseAvcConfig(rec);
  assert.deepEqual({ profile: c.profile, compat: c.compat, level: c.level, lengthSize: c.lengthSize }, { profile: 100, compat: 0, level: 31, lengthSize: 4 });
  assert.deepEqual(c.sps, [SPS]);
  assert.deepEqual(c.pps, [PPS]);
  assert.deepEqual(writeAvcConfig([SPS], [PPS]), rec);
});

test('the high-profile extension bytes after the PPS are ignored', () => {
  const rec = Buffer.concat([writeAvcConfig([SPS], [PPS]), Buffer.from('fdf8f800', 'hex')]);
  assert.deepEqual(parseAvcConfig(rec).pps, [PPS]);
});

test('malformed records throw H264Error', () => {
  const good = writeAvcConfig([SPS], [PPS]);
  assert.throws(() => parseAvcConfig(Buffer.from('0164001f', 'hex')), H264Error, 'short');
  assert.throws(() => parseAvcConfig(Buffer.concat([Buffer.from([2]), good.subarray(1)])), H264Error, 'version');
  const three = Buffer.from(good);
  three[4] = 0xfe; // lengthSizeMinusOne = 2 is reserved
  assert.throws(() => parseAvcConfig(three), H264Error, 'length size 3');
  const noSps = Buffer.from('0164001fffe0 01 0006'.replace(/ /g, '') + PPS.toString('hex'), 'hex');
  assert.throws(() => parseAvcConfig(noSps), H264Error, 'no SPS');
  for (let n = 0; n < good.length; n++) assert.throws(() => parseAvcConfig(good.subarray(0, n)), H264Error, `truncated to ${n}`);
});

test('property: random records only ever throw H264Error', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      const b = Buffer.from(bytes);
      if (b.length > 0) b[0] = 1;
      try {
        const c = parseAvcConfig(b);
        assert.ok(c.sps.length > 0);
      } catch (e) {
        if (!(e instanceof H264Error)) throw e;
      }
    }),
    { numRuns: 2000 },
  );
});
