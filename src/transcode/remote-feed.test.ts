import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RemoteFlvFeed } from './remote-feed.js';
import { encodeFlvHeader } from '../media/flv/header.js';
import { FlvReader } from '../media/flv/reader.js';
import { encodeFlvTag } from '../media/flv/tag-writer.js';
import { FlvError } from '../media/flv/tag-header.js';
import { TagType } from '../media/packet.js';
import type { MediaPacket } from '../media/packet.js';
import { ms } from '../media/time.js';
import { aacFrame, aacHeader, videoHeader, videoInter, videoKey } from '../../test/helpers/packets.js';
import { RecordingSink as Sink } from '../../test/helpers/feed-sink.js';


const metadata: MediaPacket = { type: TagType.Script, timestamp: ms(0), payload: Buffer.from([0x02, 0x00, 0x0a, ...Buffer.from('onMetaData'), 0x05]) };

/** An origin's HTTP-FLV response: header, metadata, codec headers, the GOP cache (keyframe at 0), then live frames. */
const originFlv = (): Buffer =>
  Buffer.concat([
    encodeFlvHeader({ audio: true, video: true }),
    ...[metadata, videoHeader(0), aacHeader(0), videoKey(0), aacFrame(10), videoInter(40), videoInter(80), aacFrame(90), videoKey(1000), aacFrame(1010), videoInter(1040)].map(encodeFlvTag),
  ]);

const EXPECTED: Array<[number, number]> = [
  [TagType.Script, 0],
  [TagType.Video, 0],
  [TagType.Audio, 0],
  [TagType.Video, 1000],
  [TagType.Audio, 1010],
  [TagType.Video, 1040],
];

test('the cached GOP is dropped: FFmpeg gets the header, metadata and codec headers, then frames from the first live keyframe', () => {
  const sink = new Sink();
  new RemoteFlvFeed(sink, 1 << 20).push(originFlv());
  const r = new FlvReader();
  r.push(Buffer.concat(sink.chunks));
  assert.deepEqual(r.header, { version: 1, audio: true, video: true, dataOffset: 9 });
  assert.deepEqual(sink.tags(), EXPECTED);
});

test('the same output for the bytes in any split', () => {
  const whole = originFlv();
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: whole.length - 1 }), { maxLength: 12 }), (cuts) => {
      const sink = new Sink();
      const feed = new RemoteFlvFeed(sink, 1 << 20);
      const at = [0, ...[...new Set(cuts)].sort((a, b) => a - b), whole.length];
      for (let i = 1; i < at.length; i++) feed.push(whole.subarray(at[i - 1], at[i]));
      assert.deepEqual(sink.tags(), EXPECTED);
    }),
  );
});

test('a backlog past the cap drops frames to the next keyframe, counted', () => {
  const sink = new Sink();
  const feed = new RemoteFlvFeed(sink, 100);
  feed.push(originFlv());
  sink.backlog = 1000;
  feed.push(Buffer.concat([videoInter(1080), aacFrame(1090)].map(encodeFlvTag)));
  sink.backlog = 0;
  feed.push(Buffer.concat([videoInter(1120), videoKey(2000), videoInter(2040)].map(encodeFlvTag)));
  assert.deepEqual(sink.tags().slice(EXPECTED.length), [
    [TagType.Video, 2000],
    [TagType.Video, 2040],
  ]);
  assert.equal(feed.skippedFrames, 3);
});

test('malformed bytes throw FlvError (the job restarts its pull)', () => {
  assert.throws(() => new RemoteFlvFeed(new Sink(), 1 << 20).push(Buffer.from('HTTP/1.1 200 OK\r\n\r\n')), FlvError);
});
