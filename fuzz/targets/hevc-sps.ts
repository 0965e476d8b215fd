// HEVC sequence parameter sets alone (the hvcC target reaches them only through a valid record).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HevcError } from '../../src/media/hevc/error.js';
import { MAX_HEVC_DIMENSION, parseHevcSps } from '../../src/media/hevc/sps.js';
import type { FuzzTarget } from '../harness.js';

export const target: FuzzTarget = {
  name: 'hevc-sps',
  description: 'parseHevcSps',
  expected: [HevcError],
  run(input) {
    const s = parseHevcSps(input);
    for (const d of [s.width, s.height, s.codedWidth, s.codedHeight]) assert.ok(Number.isInteger(d) && d > 0 && d <= MAX_HEVC_DIMENSION, `picture dimension ${d}`);
    assert.ok(s.width <= s.codedWidth && s.height <= s.codedHeight, 'the conformance window only crops');
    assert.ok(s.chromaFormat <= 3 && s.bitDepthLuma <= 16 && s.bitDepthChroma <= 16);
  },
  // NAL header of an SPS, then random bits.
  arbitrary: fc.uint8Array({ minLength: 1, maxLength: 60 }).map((rest) => new Uint8Array(Buffer.concat([Buffer.from([0x42, 0x01]), Buffer.from(rest)]))),
};
