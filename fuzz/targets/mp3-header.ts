// MPEG audio frame headers, walked frame by frame through a tag as the FLV demuxer (media/flv/demux.ts) does.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Mp3Error, parseMpegAudioHeader } from '../../src/media/mp3/frame-header.js';
import type { FuzzTarget } from '../harness.js';

export const target: FuzzTarget = {
  name: 'mp3-header',
  description: 'parseMpegAudioHeader at each frame boundary',
  expected: [Mp3Error],
  run(input) {
    let at = 0;
    while (at + 4 <= input.length) {
      const h = parseMpegAudioHeader(input, at);
      assert.ok(h.sampleRate > 0 && h.samplesPerFrame > 0, 'rate and frame size');
      // 0 is free format (the caller stops); anything else must move past the header.
      assert.ok(h.frameLength === 0 || h.frameLength >= 4, `frame length ${h.frameLength}`);
      if (h.frameLength === 0) break;
      at += h.frameLength;
    }
  },
  arbitrary: fc
    .array(fc.tuple(fc.nat(0x1fffff), fc.uint8Array({ maxLength: 8 })), { maxLength: 4 })
    .map((fs) => new Uint8Array(Buffer.concat(fs.flatMap(([bits, rest]) => [Buffer.from([0xff, 0xe0 | (bits >> 16), (bits >> 8) & 0xff, bits & 0xff]), Buffer.from(rest)])))),
};
