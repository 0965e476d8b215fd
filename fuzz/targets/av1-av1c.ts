// AV1CodecConfigurationRecord, as the demuxer reads it from an E-RTMP AV1 sequence header: parseAv1c
// (with its configOBUs), its CODECS string, and the sequence header OBU it carries.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseAv1c } from '../../src/media/av1/av1c.js';
import { Av1Error } from '../../src/media/av1/error.js';
import { MAX_AV1_DIMENSION, parseSequenceHeader } from '../../src/media/av1/sequence-header.js';
import { av1CodecString } from '../../src/media/codec.js';
import type { FuzzTarget } from '../harness.js';

export const target: FuzzTarget = {
  name: 'av1-av1c',
  description: 'parseAv1c, av1CodecString, then parseSequenceHeader of its sequence header OBU',
  expected: [Av1Error],
  run(input) {
    const c = parseAv1c(input);
    assert.match(av1CodecString(c), /^av01\.[0-7]\.\d\d[MH]\.(08|10|12)$/);
    if (c.sequenceHeader) {
      const s = parseSequenceHeader(c.sequenceHeader);
      for (const d of [s.maxWidth, s.maxHeight]) assert.ok(Number.isInteger(d) && d > 0 && d <= MAX_AV1_DIMENSION, `frame dimension ${d}`);
    }
  },
  // The fixed 4 bytes, then a sequence header OBU (with a size field) of random bits.
  arbitrary: fc
    .tuple(fc.uint8Array({ minLength: 3, maxLength: 3 }), fc.uint8Array({ minLength: 1, maxLength: 40 }))
    .map(([fields, seq]) => new Uint8Array(Buffer.concat([Buffer.from([0x81]), Buffer.from(fields), Buffer.from([0x0a, seq.length]), Buffer.from(seq)]))),
};
