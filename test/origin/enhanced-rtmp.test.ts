// Enhanced RTMP (FourCC video, here hvc1) is carried through the origin unchanged: a late HTTP-FLV
// joiner and an RTMP player get the SequenceStart and the cached GOP from its keyframe, byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtmpClient } from '../rtmp/client.js';
import { TagType } from '../../src/media/packet.js';
import type { MediaPacket } from '../../src/media/packet.js';
import { parseVideoTagHeader } from '../../src/media/flv/tag-header.js';
import { ms } from '../../src/media/time.js';
import { startOrigin } from '../helpers/origin.js';
import { FlvViewer } from '../helpers/http.js';
import { waitFor } from '../helpers/wait.js';

const HVC1 = Buffer.from('hvc1', 'latin1');

/** Enhanced video tag: IsExHeader | FrameType << 4 | PacketType, FourCC, [SI24 CTS for CodedFrames], body. */
function exVideo(frameType: 1 | 2, packetType: 0 | 1, body: Buffer, cts = 0): Buffer {
  const head = Buffer.from([0x80 | (frameType << 4) | packetType]);
  const ctsBytes = packetType === 1 ? Buffer.from([(cts >> 16) & 0xff, (cts >> 8) & 0xff, cts & 0xff]) : Buffer.alloc(0);
  return Buffer.concat([head, HVC1, ctsBytes, body]);
}

const video = (t: number, payload: Buffer): MediaPacket => ({ type: TagType.Video, timestamp: ms(t), payload });

test('hvc1 enhanced-RTMP video reaches HTTP-FLV and RTMP players intact, GOP cache included', async (t) => {
  const o = await startOrigin({ playWaitMs: 0 }, t);
  const pub = await RtmpClient.connect(`rtmp://127.0.0.1:${o.rtmpPort}/live`);
  t.after(() => pub.close());
  await pub.publish('hevc');

  const config = exVideo(1, 0, Buffer.from('01016000000090000000000096f000fcfdf8f800000f03', 'hex'));
  const key1 = exVideo(1, 1, Buffer.from('0000000526010203aa', 'hex'), 0);
  const inter = exVideo(2, 1, Buffer.from('0000000402010203', 'hex'), 80);
  const key2 = exVideo(1, 1, Buffer.from('0000000626010203bbcc', 'hex'), 0);
  const inter2 = exVideo(2, 1, Buffer.from('0000000402010204', 'hex'), 40);
  assert.equal(parseVideoTagHeader(key2).codec, 'hevc');
  assert.equal(parseVideoTagHeader(key2).frameType, 'key');

  pub.send(video(0, config));
  pub.send(video(0, key1));
  pub.send(video(40, inter));
  pub.send(video(2000, key2));
  pub.send(video(2040, inter2));
  await waitFor('the stream to be live', async () => {
    const r = await fetch(`${o.httpBase}/api/streams`);
    const body = (await r.json()) as { streams: { name: string }[] };
    return body.streams.some((s) => s.name === 'hevc') || undefined;
  });
  // Let the write window pass so the GOP cache holds everything sent.
  await new Promise((r) => setTimeout(r, 200));

  const viewer = await FlvViewer.open(o.flvUrl('live', 'hevc'));
  t.after(() => viewer.close());
  assert.equal(viewer.status, 200);
  await viewer.waitFor((p) => p.payload.equals(inter2));
  assert.deepEqual(viewer.header && { audio: viewer.header.audio, video: viewer.header.video }, { audio: false, video: true });
  const videoPayloads = viewer.packets.filter((p) => p.type === TagType.Video).map((p) => p.payload);
  // A late joiner starts at the sequence header, then the last keyframe: the first GOP is not resent.
  assert.deepEqual(videoPayloads, [config, key2, inter2]);

  const player = await RtmpClient.connect(`rtmp://127.0.0.1:${o.rtmpPort}/live`);
  t.after(() => player.close());
  const got: MediaPacket[] = [];
  await player.play('hevc', (p) => got.push(p));
  const key3 = exVideo(1, 1, Buffer.from('0000000526010203dd', 'hex'), 0);
  pub.send(video(4000, key3));
  await waitFor('the RTMP player to get the live keyframe', () => got.some((p) => p.payload.equals(key3)) || undefined);
  const rtmpVideo = got.filter((p) => p.type === TagType.Video).map((p) => p.payload);
  assert.deepEqual(rtmpVideo, [config, key2, inter2, key3]);
});
