// The server session as a pure state machine: bytes in, bytes and app calls out, no sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeAmf0, encodeAmf0, encodeAmf0EcmaArray, type Amf0Value } from '../media/amf/amf0.js';
import { TagType, type MediaPacket } from '../media/packet.js';
import type { PlayOutput, PlayResult, PublishResult, RtmpApp, RtmpStreamRequest } from './app.js';
import { ChunkReader, type RtmpMessage } from './chunk-reader.js';
import { encodeMessage, type OutgoingMessage } from './chunk-writer.js';
import { RtmpProtocolError } from './errors.js';
import { ClientHandshake } from './handshake.js';
import { MessageType, commandMessage, windowAckSize } from './messages.js';
import { ServerSession } from './session.js';

class FakeApp implements RtmpApp {
  publishReqs: RtmpStreamRequest[] = [];
  packets: MediaPacket[] = [];
  ends = 0;
  starts = 0;
  detaches = 0;
  refusePublish = false;
  /** publish() rejects, as an app with a bug would. */
  rejectPublish = false;
  sentBeforeStart = -1;
  constructor(private readonly sent: () => number) {}
  async publish(req: RtmpStreamRequest): Promise<PublishResult> {
    this.publishReqs.push(req);
    if (this.rejectPublish) throw new Error('app bug');
    if (this.refusePublish) return { ok: false, refusal: { code: 'NetStream.Publish.Unauthorized', description: 'no' } };
    return { ok: true, sink: { onPacket: (p) => this.packets.push(p), onEnd: () => this.ends++ } };
  }
  async play(req: RtmpStreamRequest): Promise<PlayResult> {
    if (req.stream === 'missing') return { ok: false, refusal: { code: 'NetStream.Play.StreamNotFound', description: 'none' } };
    return {
      ok: true,
      start: () => {
        this.starts++;
        this.sentBeforeStart = this.sent();
      },
      detach: () => this.detaches++,
    };
  }
}

interface Out {
  name: string;
  values: Amf0Value[];
  msg: RtmpMessage;
}

/** `failures`: collect the session's asynchronous errors instead of throwing them. */
function harness(failures?: Error[]) {
  const fromServer = new ChunkReader();
  let handshakeBytes = 3073;
  const received: RtmpMessage[] = [];
  const closes: string[] = [];
  const app = new FakeApp(() => received.length);
  const unused = (): never => {
    throw new Error('unused');
  };
  const playOutput: PlayOutput = { chunkSize: 60000, streamId: 1, write: unused, writev: unused, writableLength: 0, close: unused };
  const session = new ServerSession({
    app,
    connectionId: 'c1',
    remoteAddress: '127.0.0.1',
    host: {
      send: (b) => {
        if (handshakeBytes > 0) {
          const n = Math.min(handshakeBytes, b.length);
          handshakeBytes -= n;
          b = b.subarray(n);
        }
        received.push(...fromServer.feed(b));
      },
      close: (r) => closes.push(r),
      fail: (e) => {
        if (!failures) throw e;
        failures.push(e);
      },
      playOutput,
      publisherControl: { close: () => {} },
    },
  });
  const hs = new ClientHandshake();
  session.feed(hs.start());
  const s2 = Buffer.alloc(1536);
  session.feed(s2);
  const send = (...msgs: OutgoingMessage[]): void => {
    for (const m of msgs) session.feed(encodeMessage(m, 128));
  };
  const commands = (): Out[] =>
    received
      .filter((m) => m.typeId === MessageType.CommandAmf0 || m.typeId === MessageType.DataAmf0)
      .map((msg) => {
        const values = decodeAmf0(msg.payload);
        return { name: String(values[0]), values, msg };
      });
  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
  return { session, app, received, closes, send, commands, tick };
}

const status = (o: Out | undefined): Record<string, Amf0Value> => (o?.values[3] ?? {}) as Record<string, Amf0Value>;

test('connect: window ack, peer bandwidth, chunk size, _result and onBWDone', () => {
  const h = harness();
  h.send(commandMessage(0, 'connect', 1, { app: 'live', tcUrl: 'rtmp://h/live', objectEncoding: 3 }));
  const [wack, spb, scs] = h.received;
  assert.deepEqual([wack!.typeId, wack!.payload.readUInt32BE(0)], [5, 5_000_000]);
  assert.deepEqual([spb!.typeId, spb!.payload.readUInt32BE(0), spb!.payload[4]], [6, 5_000_000, 2]);
  assert.deepEqual([scs!.typeId, scs!.payload.readUInt32BE(0)], [1, 60000]);
  const [result, bw] = h.commands();
  assert.deepEqual(result!.values, [
    '_result',
    1,
    { fmsVer: 'FMS/3,0,1,123', capabilities: 31 },
    { level: 'status', code: 'NetConnection.Connect.Success', description: 'Connection succeeded.', objectEncoding: 3 },
  ]);
  assert.equal(bw!.name, 'onBWDone');
});

test('connect with an invalid app is rejected and closed', () => {
  const h = harness();
  h.send(commandMessage(0, 'connect', 1, { app: '../etc' }));
  const [err] = h.commands();
  assert.equal(err!.name, '_error');
  assert.equal(status(err).code, 'NetConnection.Connect.Rejected');
  assert.equal(h.closes.length, 1);
});

test('commands before connect and malformed AMF are typed errors', () => {
  const h = harness();
  assert.throws(() => h.send(commandMessage(0, 'createStream', 2, null)), RtmpProtocolError);
  const h2 = harness();
  const bad: OutgoingMessage = { csid: 3, timestamp: 0, typeId: 20, streamId: 0, payload: Buffer.from([0x02, 0x00, 0x09, 0x61]) };
  assert.throws(() => h2.send(bad), RtmpProtocolError);
});

test('publish flow: FCPublish, createStream, publish, metadata, media, deleteStream', async () => {
  const h = harness();
  h.send(
    commandMessage(0, 'connect', 1, { app: 'live', tcUrl: 'rtmp://h:1935/live?region=eu' }),
    commandMessage(0, 'releaseStream', 2, null, 'cam'),
    commandMessage(0, 'FCPublish', 3, null, 'cam'),
    commandMessage(0, 'createStream', 4, null),
    commandMessage(1, 'publish', 5, null, 'cam?token=xyz', 'live'),
  );
  // media sent before the app answered waits in order
  const meta = Buffer.concat([encodeAmf0('@setDataFrame', 'onMetaData'), encodeAmf0EcmaArray({ width: 320 })]);
  h.send(
    { csid: 5, timestamp: 0, typeId: 18, streamId: 1, payload: meta },
    { csid: 6, timestamp: 40, typeId: 9, streamId: 1, payload: Buffer.from([0x17, 0, 0, 0, 0]) },
    { csid: 4, timestamp: 41, typeId: 8, streamId: 1, payload: Buffer.alloc(0) },
  );
  await h.tick();
  assert.deepEqual(h.app.publishReqs[0]!.query, { region: 'eu', token: 'xyz' });
  assert.equal(h.app.publishReqs[0]!.stream, 'cam');
  const names = h.commands().map((c) => c.name);
  assert.deepEqual(names, ['_result', 'onBWDone', '_result', 'onFCPublish', '_result', '_result', 'onStatus']);
  const create = h.commands()[5]!;
  assert.deepEqual(create.values, ['_result', 4, null, 1]);
  const st = h.commands()[6]!;
  assert.equal(st.msg.streamId, 1);
  assert.equal(status(st).code, 'NetStream.Publish.Start');
  assert.equal(h.app.packets.length, 2, 'the empty audio tag is dropped');
  const [script, video] = h.app.packets;
  assert.equal(script!.type, TagType.Script);
  assert.deepEqual(decodeAmf0(script!.payload), ['onMetaData', { width: 320 }]);
  assert.equal(script!.payload[13], 0x08, 'still an ECMA array, bytes untouched');
  assert.deepEqual([video!.type, video!.timestamp], [TagType.Video, 40]);
  h.send(commandMessage(0, 'FCUnpublish', 6, null, 'cam'), commandMessage(0, 'deleteStream', 7, null, 1));
  h.session.close();
  assert.equal(h.app.ends, 1, 'onEnd exactly once');
});

test('publish refusal sends the refusal code and closes; bad names are BadName', async () => {
  const h = harness();
  h.app.refusePublish = true;
  h.send(commandMessage(0, 'connect', 1, { app: 'live' }), commandMessage(0, 'createStream', 2, null), commandMessage(1, 'publish', 3, null, 'cam'));
  await h.tick();
  assert.equal(status(h.commands().at(-1)).code, 'NetStream.Publish.Unauthorized');
  assert.equal(status(h.commands().at(-1)).level, 'error');
  assert.equal(h.closes.length, 1);
  const b = harness();
  b.send(commandMessage(0, 'connect', 1, { app: 'live' }), commandMessage(1, 'publish', 3, null, 'a/b'));
  await b.tick();
  assert.equal(status(b.commands().at(-1)).code, 'NetStream.Publish.BadName');
  assert.equal(b.app.publishReqs.length, 0);
});

test('play flow: StreamBegin, Reset, Start, |RtmpSampleAccess, Data.Start, then start()', async () => {
  const h = harness();
  h.send(commandMessage(0, 'connect', 1, { app: 'live' }), commandMessage(0, 'createStream', 2, null), commandMessage(1, 'play', 3, null, 'cam', -2000));
  await h.tick();
  assert.equal(h.app.starts, 1);
  const after = h.received.slice(h.received.findIndex((m) => m.typeId === MessageType.UserControl));
  assert.deepEqual([after[0]!.payload.readUInt16BE(0), after[0]!.payload.readUInt32BE(2)], [0, 1], 'StreamBegin 1');
  const tail = h.commands().slice(-4);
  assert.deepEqual(tail.map((c) => (c.name === 'onStatus' && c.msg.typeId === 20 ? status(c).code : c.values[0])), [
    'NetStream.Play.Reset',
    'NetStream.Play.Start',
    '|RtmpSampleAccess',
    'onStatus',
  ]);
  assert.deepEqual(tail[3]!.values, ['onStatus', { code: 'NetStream.Data.Start' }]);
  assert.equal(h.app.sentBeforeStart, h.received.length, 'start() comes after every status message');
  h.send(commandMessage(1, 'closeStream', 0, null));
  assert.equal(h.app.detaches, 1);
  h.session.close();
  assert.equal(h.app.detaches, 1);
});

test('play of a missing stream gets StreamNotFound', async () => {
  const h = harness();
  h.send(commandMessage(0, 'connect', 1, { app: 'live' }), commandMessage(1, 'play', 2, null, 'missing'));
  await h.tick();
  assert.equal(status(h.commands().at(-1)).code, 'NetStream.Play.StreamNotFound');
});

test('unknown commands: _error when a transaction id asks, silence otherwise; getStreamLength answers', () => {
  const h = harness();
  h.send(commandMessage(0, 'connect', 1, { app: 'live' }), commandMessage(0, 'frobnicate', 9, null), commandMessage(0, 'frobnicate', 0, null));
  h.send(commandMessage(0, 'getStreamLength', 10, null, 'cam'));
  const c = h.commands().slice(2);
  assert.equal(c.length, 2);
  assert.equal(c[0]!.name, '_error');
  assert.equal(c[0]!.values[1], 9);
  assert.deepEqual(c[1]!.values, ['_result', 10, null, 0]);
});

test('acknowledgements follow the peer window; pings are answered', () => {
  const h = harness();
  h.send(windowAckSize(1000), commandMessage(0, 'connect', 1, { app: 'live' }));
  const before = h.received.filter((m) => m.typeId === MessageType.Acknowledgement).length;
  h.send({ csid: 6, timestamp: 0, typeId: 99, streamId: 0, payload: Buffer.alloc(1500) });
  const acks = h.received.filter((m) => m.typeId === MessageType.Acknowledgement);
  assert.equal(acks.length, before + 1);
  assert.ok(acks.at(-1)!.payload.readUInt32BE(0) >= 1000);
  h.send({ csid: 2, timestamp: 0, typeId: 4, streamId: 0, payload: Buffer.from([0, 6, 0, 0, 0, 42]) });
  const pong = h.received.at(-1)!;
  assert.deepEqual([pong.typeId, pong.payload.readUInt16BE(0), pong.payload.readUInt32BE(2)], [4, 7, 42]);
});

test('AMF3 commands (type 17) work like AMF0 ones', () => {
  const h = harness();
  const body = Buffer.concat([Buffer.from([0]), encodeAmf0('connect', 1, { app: 'live' })]);
  h.send({ csid: 3, timestamp: 0, typeId: 17, streamId: 0, payload: body });
  assert.equal(status(h.commands()[0]).code, 'NetConnection.Connect.Success');
});

test('property: random messages after connect only ever throw RtmpProtocolError', async () => {
  const names = ['connect', 'createStream', 'publish', 'play', 'deleteStream', 'FCUnpublish', 'getStreamLength', 'x'];
  const value = fc.oneof(fc.string(), fc.double(), fc.constant(null), fc.dictionary(fc.string(), fc.string()));
  const msg = fc.oneof(
    fc.record({ typeId: fc.integer({ min: 0, max: 30 }), payload: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)) }),
    fc.record({
      typeId: fc.constantFrom(17, 18, 20, 15),
      payload: fc
        .tuple(fc.constantFrom(...names, '@setDataFrame', 'onMetaData'), fc.array(value, { maxLength: 4 }))
        .map(([n, vs]) => encodeAmf0(n, ...vs)),
    }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(msg, { maxLength: 12 }), async (msgs) => {
      const h = harness();
      try {
        h.send(commandMessage(0, 'connect', 1, { app: 'live' }));
        for (const m of msgs) {
          h.send({ csid: 3, timestamp: 0, streamId: 1, ...m });
          await h.tick();
        }
      } catch (e) {
        assert.ok(e instanceof RtmpProtocolError, String(e));
      }
      h.session.close();
    }),
    { numRuns: 300 },
  );
});

const video = (size: number): OutgoingMessage => ({ csid: 6, timestamp: 0, typeId: 9, streamId: 1, payload: Buffer.alloc(size, 0x27) });

test('messages are capped at 64 KiB until a publish is accepted, then at maxMessageSize', async () => {
  const early = harness();
  early.send(commandMessage(0, 'connect', 1, { app: 'live' }));
  assert.throws(() => early.send(video(65 * 1024)), (e: unknown) => e instanceof RtmpProtocolError && e.code === 'message-too-large');
  // A publish asked for but not answered yet still has the small cap.
  const deciding = harness();
  deciding.send(commandMessage(0, 'connect', 1, { app: 'live' }), commandMessage(0, 'createStream', 2, null));
  deciding.send(commandMessage(1, 'publish', 3, null, 'cam', 'live'));
  assert.equal(deciding.session.deciding, true);
  assert.throws(() => deciding.send(video(65 * 1024)), (e: unknown) => e instanceof RtmpProtocolError && e.code === 'message-too-large');
  const h = harness();
  h.send(commandMessage(0, 'connect', 1, { app: 'live' }), commandMessage(0, 'createStream', 2, null), commandMessage(1, 'publish', 3, null, 'cam', 'live'));
  await h.tick();
  assert.equal(h.session.role, 'publisher');
  h.send(video(1 << 20));
  assert.equal(h.app.packets.at(-1)?.payload.length, 1 << 20);
  // A player never needs more than the small cap.
  const p = harness();
  p.send(commandMessage(0, 'connect', 1, { app: 'live' }), commandMessage(0, 'createStream', 2, null), commandMessage(1, 'play', 3, null, 'cam'));
  await p.tick();
  assert.equal(p.session.role, 'player');
  assert.throws(() => p.send(video(65 * 1024)), (e: unknown) => e instanceof RtmpProtocolError && e.code === 'message-too-large');
});

test('client names in replies are cut to 128 characters and their tokens redacted', async () => {
  const secret = 'S3CRET';
  const long = 'x'.repeat(5000);
  const a = harness();
  a.send(commandMessage(0, 'connect', 1, { app: `bad.app${long}?token=${secret}` }));
  const rejected = String(status(a.commands()[0]).description);
  assert.ok(rejected.length < 160 && !rejected.includes(secret), rejected);
  const h = harness();
  h.send(
    commandMessage(0, 'connect', 1, { app: 'live' }),
    commandMessage(0, 'FCPublish', 2, null, `${long}?token=${secret}`),
    commandMessage(0, `unknown${long}`, 3, null),
    commandMessage(0, 'createStream', 4, null),
    commandMessage(1, 'publish', 5, null, `bad.name${long}?token=${secret}`, 'live'),
  );
  const replies = h.commands().filter((c) => ['onFCPublish', '_error', 'onStatus'].includes(c.name));
  assert.equal(replies.length, 3);
  for (const r of replies) {
    const d = String(status(r).description);
    assert.ok(d.length < 160, `${r.name}: ${d.length} chars`);
    assert.ok(!d.includes(secret), d);
  }
});

test('an app whose publish() rejects fails only that session, through the host', async () => {
  const failures: Error[] = [];
  const h = harness(failures);
  h.app.rejectPublish = true;
  h.send(commandMessage(0, 'connect', 1, { app: 'live' }), commandMessage(0, 'createStream', 2, null), commandMessage(1, 'publish', 3, null, 'cam', 'live'));
  await h.tick();
  assert.deepEqual(failures.map((e) => e.message), ['app bug']);
});
