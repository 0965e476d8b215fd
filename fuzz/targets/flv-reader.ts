// The streaming FLV demuxer the edge's HTTP-FLV relay runs on upstream bytes, fed in network-like pieces.
import fc from 'fast-check';
import { FlvReader } from '../../src/media/flv/reader.js';
import { FlvError } from '../../src/media/flv/tag-header.js';
import { encodeFlvHeader } from '../../src/media/flv/header.js';
import { encodeFlvTag } from '../../src/media/flv/tag-writer.js';
import { TagType } from '../../src/media/packet.js';
import { ms } from '../../src/media/time.js';
import type { FuzzTarget } from '../harness.js';
import { bound, sameInAnySplit, text } from './util.js';

const tag = fc
  .record({ type: fc.constantFrom(TagType.Audio, TagType.Video, TagType.Script, 0, 31), timestamp: fc.nat(), payload: fc.uint8Array({ maxLength: 64 }) })
  .map((t) => encodeFlvTag({ type: t.type as TagType, timestamp: ms(t.timestamp), payload: Buffer.from(t.payload) }));

export const target: FuzzTarget = {
  name: 'flv-reader',
  description: 'FlvReader.push, in pieces and whole: same packets',
  expected: [FlvError],
  run(input) {
    const packets = sameInAnySplit(
      input,
      [FlvError],
      (parts) => {
        // A small tag limit, so that the limit itself is reached.
        const reader = new FlvReader({ maxTagSize: 4096 });
        return parts.flatMap((p) => reader.push(p));
      },
      (p) => `${p.type} ${p.timestamp} ${p.payload.toString('hex')}`,
    );
    bound('FLV payloads', packets.reduce((n, p) => n + p.payload.length, 0), input.length, 1, 0);
  },
  arbitrary: fc
    .tuple(fc.nat(255), fc.boolean(), fc.boolean(), fc.array(tag, { maxLength: 8 }))
    .map(([split, audio, video, tags]) => new Uint8Array(Buffer.concat([Buffer.from([split]), encodeFlvHeader({ audio, video }), ...tags]))),
  dictionary: [text('FLV\x01'), Buffer.from([0, 0, 0, 9]), Buffer.from([0x09]), Buffer.from([0x08]), Buffer.from([0x12])],
};
