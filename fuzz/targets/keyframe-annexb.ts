// A stream's video sequence header and keyframe as snapshots turn them into Annex B for FFmpeg
// (media/flv/keyframe-annexb.ts): both tag bodies come from a publisher. It never throws (bad input is a
// refusal), and what it makes is start-code framed NAL units no bigger than the input allows.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { splitAnnexB } from '../../src/media/h264/annexb.js';
import { keyframeAnnexB } from '../../src/media/flv/keyframe-annexb.js';
import { TagType } from '../../src/media/packet.js';
import { ms } from '../../src/media/time.js';
import type { FuzzTarget } from '../harness.js';
import { bound, text } from './util.js';

/** The input: the header's length (2 bytes), the header tag body, then the keyframe tag body. */
export function keyframeInput(header: Buffer, key: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(header.length);
  return Buffer.concat([len, header, key]);
}

export const target: FuzzTarget = {
  name: 'keyframe-annexb',
  description: 'keyframeAnnexB of a video sequence header and a keyframe (H.264, HEVC legacy and enhanced)',
  expected: [],
  run(input) {
    if (input.length < 2) return;
    const cut = Math.min(input.readUInt16BE(0), input.length - 2);
    const header = input.subarray(2, 2 + cut);
    const key = input.subarray(2 + cut);
    const r = keyframeAnnexB({ type: TagType.Video, timestamp: ms(0), payload: header }, { type: TagType.Video, timestamp: ms(0), payload: key });
    if (!r.ok) return;
    const data = r.keyframe.data;
    assert.deepEqual([...data.subarray(0, 4)], [0, 0, 0, 1], 'starts with a start code');
    assert.ok(splitAnnexB(data).length > 0);
    // Each NAL unit costs at least one length byte in, four start-code bytes out.
    bound('Annex B', data.length, input.length, 5);
  },
  arbitrary: fc
    .tuple(
      fc.constantFrom(
        [Buffer.from([0x17, 0, 0, 0, 0]), Buffer.from([0x17, 1, 0, 0, 0])],
        [Buffer.from([0x1c, 0, 0, 0, 0]), Buffer.from([0x1c, 1, 0, 0, 0])],
        [Buffer.concat([Buffer.from([0x90]), text('hvc1')]), Buffer.concat([Buffer.from([0x91]), text('hvc1'), Buffer.from([0, 0, 0])])],
      ),
      fc.uint8Array({ maxLength: 64 }),
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 32 }), { maxLength: 4 }),
    )
    .map(([[h, k], record, nalus]) => {
      const frame = Buffer.concat(nalus.map((n) => Buffer.concat([Buffer.from([0, 0, 0, n.length]), Buffer.from(n)])));
      return new Uint8Array(keyframeInput(Buffer.concat([h, Buffer.from([1]), Buffer.from(record)]), Buffer.concat([k, frame])));
    }),
  dictionary: [text('hvc1'), text('avc1'), Buffer.from([0, 0, 0, 1])],
};
