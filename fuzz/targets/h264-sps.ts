// H.264 sequence parameter sets, alone (byte 0 even) or inside an AVCDecoderConfigurationRecord (odd),
// as the origin's stream info and the HLS segmenter read them from a publisher's sequence header.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseAvcConfig } from '../../src/media/h264/avc-config.js';
import { H264Error } from '../../src/media/h264/error.js';
import { MAX_SPS_DIMENSION, parseSps } from '../../src/media/h264/sps.js';
import type { FuzzTarget } from '../harness.js';

export const target: FuzzTarget = {
  name: 'h264-sps',
  description: 'parseSps, or parseAvcConfig then parseSps of each SPS (byte 0 picks)',
  expected: [H264Error],
  run(input) {
    if (input.length === 0) return;
    const data = input.subarray(1);
    const spss = input[0]! % 2 === 0 ? [data] : parseAvcConfig(data).sps;
    for (const sps of spss) {
      const s = parseSps(sps);
      for (const d of [s.width, s.height]) assert.ok(Number.isInteger(d) && d > 0 && d <= MAX_SPS_DIMENSION, `picture dimension ${d}`);
    }
  },
  // NAL header 0x67 and a real profile_idc, then random bits: the high profiles take the chroma branch.
  arbitrary: fc
    .tuple(fc.constantFrom(66, 77, 88, 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135), fc.uint8Array({ minLength: 2, maxLength: 40 }))
    .map(([profile, rest]) => new Uint8Array(Buffer.concat([Buffer.from([0, 0x67, profile]), Buffer.from(rest)]))),
};
