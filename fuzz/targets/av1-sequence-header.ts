// AV1 sequence header OBU payloads alone (the av1C target reaches them only through a valid record).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Av1Error } from '../../src/media/av1/error.js';
import { MAX_AV1_DIMENSION, parseSequenceHeader } from '../../src/media/av1/sequence-header.js';
import type { FuzzTarget } from '../harness.js';

export const target: FuzzTarget = {
  name: 'av1-sequence-header',
  description: 'parseSequenceHeader',
  expected: [Av1Error],
  run(input) {
    const s = parseSequenceHeader(input);
    for (const d of [s.maxWidth, s.maxHeight]) assert.ok(Number.isInteger(d) && d > 0 && d <= MAX_AV1_DIMENSION, `frame dimension ${d}`);
    assert.ok(s.profile <= 2 && s.level < 32 && [8, 10, 12].includes(s.bitDepth));
  },
  arbitrary: fc.uint8Array({ minLength: 1, maxLength: 48 }),
};
