// HEVCDecoderConfigurationRecord, as the demuxer reads it from an E-RTMP (or legacy codec id 12) HEVC
// sequence header: parseHvcc, its CODECS string, and parseHevcSps of each SPS it carries.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hevcCodecString } from '../../src/media/codec.js';
import { HevcError } from '../../src/media/hevc/error.js';
import { HVCC_HEADER_SIZE, parseHvcc } from '../../src/media/hevc/hvcc.js';
import { MAX_HEVC_DIMENSION, parseHevcSps } from '../../src/media/hevc/sps.js';
import type { FuzzTarget } from '../harness.js';

export const target: FuzzTarget = {
  name: 'hevc-hvcc',
  description: 'parseHvcc, hevcCodecString, then parseHevcSps of each SPS',
  expected: [HevcError],
  run(input) {
    const c = parseHvcc(input);
    assert.ok([1, 2, 4].includes(c.lengthSize), `length size ${c.lengthSize}`);
    const nalBytes = c.arrays.reduce((n, a) => n + a.nalus.reduce((m, u) => m + u.length + 2, 3), 0);
    assert.ok(HVCC_HEADER_SIZE + nalBytes <= input.length, 'NAL units cannot hold more bytes than the record');
    assert.match(hevcCodecString(c), /^hvc1\.[ABC]?\d+\.[0-9A-F]+\.[LH]\d+(\.[0-9A-F]{1,2}){0,6}$/);
    for (const sps of c.sps) {
      const s = parseHevcSps(sps);
      for (const d of [s.width, s.height]) assert.ok(Number.isInteger(d) && d > 0 && d <= MAX_HEVC_DIMENSION, `picture dimension ${d}`);
    }
  },
  // A valid header, then arrays of random NAL units: the mutator gets the framing for free.
  arbitrary: fc
    .tuple(fc.uint8Array({ minLength: 21, maxLength: 21 }), fc.array(fc.tuple(fc.constantFrom(32, 33, 34, 39), fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 3 })), { maxLength: 4 }))
    .map(([fields, arrays]) => {
      const parts = [Buffer.from([1]), Buffer.from(fields), Buffer.from([arrays.length])];
      parts[1]![20] = (parts[1]![20]! & 0xfc) | 3;
      for (const [type, nalus] of arrays) {
        parts.push(Buffer.from([0x80 | type, 0, nalus.length]));
        for (const u of nalus) parts.push(Buffer.from([0, u.length]), Buffer.concat([Buffer.from([type << 1, 1]), Buffer.from(u)]).subarray(0, u.length));
      }
      return new Uint8Array(Buffer.concat(parts));
    }),
};
