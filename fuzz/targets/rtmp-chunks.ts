// The RTMP chunk stream reader, fed in pieces, with Set Chunk Size and Abort applied as they arrive.
import fc from 'fast-check';
import { ChunkReader } from '../../src/rtmp/chunk-reader.js';
import { encodeMessage, type OutgoingMessage } from '../../src/rtmp/chunk-writer.js';
import { RtmpProtocolError } from '../../src/rtmp/errors.js';
import { abortMessage, setChunkSize } from '../../src/rtmp/messages.js';
import type { FuzzTarget } from '../harness.js';
import { bound, sameInAnySplit } from './util.js';

const MAX_MESSAGE = 64 * 1024;

/** Messages on a few chunk streams (one- two- and three-byte ids), with chunk size changes and aborts. */
const stream = fc
  .array(
    fc.oneof(
      fc.record({
        csid: fc.constantFrom(3, 4, 6, 63, 64, 319, 320, 65599),
        typeId: fc.constantFrom(8, 9, 18, 20, 4, 5),
        timestamp: fc.oneof(fc.nat(1000), fc.constant(0xffffff), fc.nat()),
        streamId: fc.nat(2),
        payload: fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)),
      }),
      fc.integer({ min: 1, max: 512 }).map((n) => setChunkSize(n)),
      fc.constantFrom(3, 4, 6).map((c) => abortMessage(c)),
    ),
    { maxLength: 10 },
  )
  .chain((msgs) =>
    fc.nat(255).map((split) => {
      let size = 128;
      const out: Buffer[] = [Buffer.from([split])];
      for (const m of msgs as OutgoingMessage[]) {
        out.push(encodeMessage(m, size));
        if (m.typeId === 1) size = m.payload.readUInt32BE(0);
      }
      return new Uint8Array(Buffer.concat(out));
    }),
  );

export const target: FuzzTarget = {
  name: 'rtmp-chunks',
  description: 'ChunkReader.feed, in pieces and whole: same messages (64 KiB message cap)',
  expected: [RtmpProtocolError],
  run(input) {
    const msgs = sameInAnySplit(
      input,
      [RtmpProtocolError],
      (parts) => {
        const reader = new ChunkReader({ maxMessageSize: MAX_MESSAGE, maxChunkStreams: 8 });
        return parts.flatMap((p) => reader.feed(p));
      },
      (m) => `${m.csid} ${m.typeId} ${m.streamId} ${m.timestamp} ${m.payload.toString('hex')}`,
    );
    // A byte of payload comes from a byte of input.
    bound('RTMP payloads', msgs.reduce((n, m) => n + m.payload.length, 0), input.length, 1, 0);
  },
  arbitrary: stream,
  dictionary: [Buffer.from([0x02, 0, 0, 0, 0, 0, 0x04, 0x01, 0, 0, 0, 0]), Buffer.from([0xff, 0xff, 0xff]), Buffer.from([0xc3]), Buffer.from([0x40]), Buffer.from([0x01, 0xff, 0xff])],
};
