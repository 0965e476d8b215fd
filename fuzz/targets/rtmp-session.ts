// A whole server-side RTMP session fed bytes from the first handshake byte on, with the in-memory relay
// app deciding publish and play. Nothing but RtmpProtocolError may escape feed() or reach host.fail(),
// and what the session sends back must stay in proportion to what it was sent.
import fc from 'fast-check';
import { encodeMessage } from '../../src/rtmp/chunk-writer.js';
import type { PlayOutput, RtmpApp } from '../../src/rtmp/app.js';
import { RtmpProtocolError } from '../../src/rtmp/errors.js';
import { HANDSHAKE_SIZE } from '../../src/rtmp/handshake.js';
import { commandMessage, dataMessage } from '../../src/rtmp/messages.js';
import { ServerSession, type SessionHost } from '../../src/rtmp/session.js';
import { RelayApp } from '../../test/rtmp/relay-app.js';
import type { FuzzTarget } from '../harness.js';
import { bound, pieces, text } from './util.js';

/** Lets a resolved publish/play decision reach the session (a few promise hops). */
async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) await null;
}

const C0C1C2 = Buffer.concat([Buffer.from([3]), Buffer.alloc(2 * HANDSHAKE_SIZE)]);
const name = fc.constantFrom('live', 's', 's?token=bad', '', 'a/b', 'x'.repeat(70));
const command = fc.oneof(
  name.map((app) => commandMessage(0, 'connect', 1, { app, tcUrl: `rtmp://h/${app}`, flashVer: 'FMLE/3.0' })),
  fc.constant(commandMessage(0, 'createStream', 2, null)),
  name.map((s) => commandMessage(1, 'publish', 3, null, s, 'live')),
  name.map((s) => commandMessage(1, 'play', 4, null, s, -2)),
  fc.constant(commandMessage(1, 'deleteStream', 5, null, 1)),
  fc.constant(dataMessage(1, '@setDataFrame', 'onMetaData', { width: 64, height: 64 })),
  fc.uint8Array({ maxLength: 40 }).map((u) => ({ csid: 6, timestamp: 40, typeId: 9, streamId: 1, payload: Buffer.concat([Buffer.from([0x17, 1, 0, 0, 0]), u]) })),
);

export const target: FuzzTarget = {
  name: 'rtmp-session',
  description: 'ServerSession.feed over pieces, RelayApp behind it (64 KiB message cap)',
  expected: [RtmpProtocolError],
  async run(input) {
    let sent = 0;
    let failure: Error | undefined;
    const playOutput: PlayOutput = {
      chunkSize: 60000,
      streamId: 1,
      write: (b) => ((sent += b.length), true),
      writev: (bs) => ((sent += bs.reduce((n, b) => n + b.length, 0)), true),
      writableLength: 0,
      close: () => {},
    };
    const host: SessionHost = {
      send: (b) => void (sent += b.length),
      close: () => {},
      fail: (e) => void (failure ??= e),
      playOutput,
      publisherControl: { close: () => {} },
    };
    // What the publisher hands the app is what the origin fans out and caches: it must stay in proportion.
    let published = 0;
    const relay = new RelayApp();
    const app: RtmpApp = {
      play: (req, out) => relay.play(req, out),
      publish: async (req) => {
        const r = await relay.publish(req);
        if (!r.ok) return r;
        const sink = r.sink;
        return { ok: true, sink: { onPacket: (p) => ((published += p.payload.length), sink.onPacket(p)), onEnd: () => sink.onEnd() } };
      },
    };
    const session = new ServerSession({ app, host, connectionId: 'fuzz', remoteAddress: '127.0.0.1', maxMessageSize: 64 * 1024 });
    try {
      // Decisions settle between reads, as they would between packets (every 64 bytes at most: settling
      // after each of thousands of 1-byte reads would cost more than the session itself).
      let unsettled = 0;
      for (const p of pieces(input)) {
        session.feed(p);
        unsettled += p.length;
        if (unsettled >= 64) {
          unsettled = 0;
          await settle();
        }
      }
      await settle();
    } finally {
      session.close();
    }
    if (failure) throw failure;
    // The handshake answers 3073 bytes; after it, every reply is to a message that cost the peer bytes.
    bound('session output', sent, input.length, 16, 16 * 1024);
    bound('published payload', published, input.length, 16, 1024);
  },
  arbitrary: fc
    .tuple(fc.nat(255), fc.array(command, { maxLength: 8 }))
    .map(([split, msgs]) => new Uint8Array(Buffer.concat([Buffer.from([split]), C0C1C2, ...msgs.map((m) => encodeMessage(m, 128))]))),
  dictionary: [text('connect'), text('createStream'), text('publish'), text('play'), text('onMetaData'), text('@setDataFrame'), text('deleteStream'), text('FCUnpublish')],
};
