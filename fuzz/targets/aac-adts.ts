// ADTS headers as the HLS segmenter writes them: from a publisher's AudioSpecificConfig (bytes 2..) and a
// raw frame length (bytes 0..1). Only AacError may come out, and a header must be well formed.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ADTS_HEADER_SIZE, adtsHeader } from '../../src/media/aac/adts.js';
import { parseAsc } from '../../src/media/aac/asc.js';
import { AacError } from '../../src/media/aac/error.js';
import type { FuzzTarget } from '../harness.js';
import { ascBits } from './aac-asc.js';

export const target: FuzzTarget = {
  name: 'aac-adts',
  description: 'adtsHeader(parseAsc(bytes 2..), u16 at 0)',
  expected: [AacError],
  run(input) {
    if (input.length < 2) return;
    const rawLength = input.readUInt16BE(0);
    const h = adtsHeader(parseAsc(input.subarray(2)), rawLength);
    assert.equal(h.length, ADTS_HEADER_SIZE);
    assert.equal(h.readUInt16BE(0) & 0xfff6, 0xfff0, 'ADTS sync word and layer');
    const frameLength = ((h[3]! & 3) << 11) | (h[4]! << 3) | (h[5]! >> 5);
    assert.equal(frameLength, rawLength + ADTS_HEADER_SIZE, 'ADTS frame length');
  },
  arbitrary: fc.tuple(fc.nat(0xffff), ascBits).map(([len, asc]) => new Uint8Array(Buffer.concat([Buffer.from([len >> 8, len & 0xff]), Buffer.from(asc)]))),
};
