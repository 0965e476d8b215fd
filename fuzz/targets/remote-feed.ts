// A remote transcoder's feed (src/transcode/remote-feed.ts): an origin's HTTP-FLV in network-like pieces
// becomes FFmpeg's stdin. Whatever comes in, what goes out is FLV that reads back, the same in any split,
// and no bigger than what came in plus a file header.
import fc from 'fast-check';
import { RemoteFlvFeed } from '../../src/transcode/remote-feed.js';
import { FlvReader } from '../../src/media/flv/reader.js';
import { FlvError } from '../../src/media/flv/tag-header.js';
import { encodeFlvHeader } from '../../src/media/flv/header.js';
import { encodeFlvTag } from '../../src/media/flv/tag-writer.js';
import { TagType } from '../../src/media/packet.js';
import { ms } from '../../src/media/time.js';
import type { FuzzTarget } from '../harness.js';
import { bound, sameInAnySplit, text } from './util.js';

/** Video tags start with a frame type and codec id (key 0x17, inter 0x27, header 0x17 0x00), audio with 0xaf. */
const tag = fc
  .record({
    type: fc.constantFrom(TagType.Audio, TagType.Video, TagType.Script),
    head: fc.constantFrom([0x17, 0x01], [0x27, 0x01], [0x17, 0x00], [0xaf, 0x00], [0xaf, 0x01], [0x02]),
    timestamp: fc.nat(100_000),
    payload: fc.uint8Array({ maxLength: 48 }),
  })
  .map((t) => encodeFlvTag({ type: t.type as TagType, timestamp: ms(t.timestamp), payload: Buffer.concat([Buffer.from(t.head), Buffer.from(t.payload)]) }));

export const target: FuzzTarget = {
  name: 'remote-feed',
  description: 'RemoteFlvFeed.push, in pieces and whole: the same FLV for FFmpeg, which reads back',
  expected: [FlvError],
  run(input) {
    const out = sameInAnySplit(
      input,
      [FlvError],
      (parts) => {
        const chunks: Buffer[] = [];
        const feed = new RemoteFlvFeed({ backlog: 0, write: (b) => void chunks.push(b) }, 1 << 20);
        for (const p of parts) feed.push(p);
        return chunks;
      },
      (b) => b.toString('hex'),
    );
    const bytes = Buffer.concat(out);
    bound('feed bytes', bytes.length, input.length, 1, 13);
    // FFmpeg gets well-formed FLV: it reads back without an error.
    new FlvReader().push(bytes);
  },
  arbitrary: fc
    .tuple(fc.nat(255), fc.boolean(), fc.boolean(), fc.array(tag, { maxLength: 10 }))
    .map(([split, audio, video, tags]) => new Uint8Array(Buffer.concat([Buffer.from([split]), encodeFlvHeader({ audio, video }), ...tags]))),
  dictionary: [text('FLV\x01'), Buffer.from([0, 0, 0, 9]), Buffer.from([0x09, 0x17, 0x01]), Buffer.from([0x08, 0xaf]), Buffer.from([0x12])],
};
