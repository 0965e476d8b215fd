// AudioSpecificConfig, as the origin and the HLS segmenter read it from an AAC sequence header.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AacError } from '../../src/media/aac/error.js';
import { parseAsc } from '../../src/media/aac/asc.js';
import type { FuzzTarget } from '../harness.js';

/** Bits of an ASC: object type (with the 31 escape), rate index (with the explicit 15), channels. */
export const ascBits = fc
  .tuple(fc.constantFrom(1, 2, 3, 4, 5, 29, 31), fc.nat(6), fc.nat(15), fc.nat(15), fc.uint8Array({ maxLength: 6 }))
  .map(([type, ext, rate, channels, rest]) => {
    let bits = type === 31 ? '11111' + ext.toString(2).padStart(6, '0') : type.toString(2).padStart(5, '0');
    bits += rate.toString(2).padStart(4, '0');
    if (rate === 15) bits += '000000010111011100000000'; // explicit 96000
    bits += channels.toString(2).padStart(4, '0');
    while (bits.length % 8) bits += '0';
    const head = Buffer.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
    return new Uint8Array(Buffer.concat([head, Buffer.from(rest)]));
  });

export const target: FuzzTarget = {
  name: 'aac-asc',
  description: 'parseAsc',
  expected: [AacError],
  run(input) {
    const asc = parseAsc(input);
    // A rate of 0 or NaN would become a division by zero in every audio duration downstream.
    assert.ok(asc.sampleRate > 0 && Number.isFinite(asc.sampleRate), `sample rate ${asc.sampleRate}`);
    assert.ok(asc.frameLength === 1024 || asc.frameLength === 960, `frame length ${asc.frameLength}`);
  },
  arbitrary: ascBits,
};
