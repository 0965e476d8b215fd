import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jpegSize } from './jpeg.js';

const seg = (marker: number, body: number[]): number[] => [0xff, marker, ((body.length + 2) >> 8) & 0xff, (body.length + 2) & 0xff, ...body];
/** SOI, APP0, DQT-ish filler, SOF0 (8-bit, height, width, 1 component), SOS. */
const jpeg = (w: number, h: number, sof = 0xc0): Buffer =>
  Buffer.from([0xff, 0xd8, ...seg(0xe0, [0x4a, 0x46, 0x49, 0x46, 0]), 0xff, 0xff, ...seg(0xc4, [0, 1, 2]), ...seg(sof, [8, h >> 8, h & 0xff, w >> 8, w & 0xff, 1, 1, 0x11, 0]), ...seg(0xda, [1, 1, 0, 0, 0x3f, 0])]);

test('the size from the first frame header, past other segments and fill bytes', () => {
  assert.deepEqual(jpegSize(jpeg(1600, 270)), { width: 1600, height: 270 });
  assert.deepEqual(jpegSize(jpeg(160, 90, 0xc2)), { width: 160, height: 90 }, 'progressive (SOF2)');
});

test('not a JPEG, or no frame header before the scan: undefined; every cut is safe', () => {
  assert.equal(jpegSize(Buffer.from('not a jpeg')), undefined);
  assert.equal(jpegSize(Buffer.from([0xff, 0xd8, ...seg(0xda, [0])])), undefined);
  assert.equal(jpegSize(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 1])), undefined, 'a segment length under 2');
  const whole = jpeg(320, 240);
  for (let n = 0; n < whole.length; n++) {
    const r = jpegSize(whole.subarray(0, n));
    assert.ok(r === undefined || (r.width === 320 && r.height === 240), `cut at ${n}`);
  }
});
