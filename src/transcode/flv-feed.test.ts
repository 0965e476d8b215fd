import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlvFeed } from './flv-feed.js';
import { OutPacket, classify } from '../hub/out-packet.js';
import type { MediaPacket } from '../media/packet.js';
import { FlvReader } from '../media/flv/reader.js';
import { aacFrame, aacHeader, videoHeader, videoInter, videoKey } from '../../test/helpers/packets.js';
import { RecordingSink as Sink } from '../../test/helpers/feed-sink.js';

let seq = 0;
const out = (p: MediaPacket, hasVideo = true): OutPacket => {
  const kind = classify(p);
  return new OutPacket(seq++, p, kind, kind === 'video-key' || (kind === 'audio' && !hasVideo), 0);
};

test('header, codec headers, then frames from the first keyframe on', () => {
  const sink = new Sink();
  const feed = new FlvFeed(sink, 1000);
  feed.begin({ audio: true, video: true }, [out(videoHeader(0)), out(aacHeader(0))]);
  for (const p of [aacFrame(10), videoInter(20), videoKey(40), aacFrame(45), videoInter(80)]) feed.packet(out(p));
  const r = new FlvReader();
  r.push(Buffer.concat(sink.chunks));
  assert.deepEqual(r.header, { version: 1, audio: true, video: true, dataOffset: 9 });
  assert.deepEqual(sink.tags(), [
    [9, 0],
    [8, 0],
    [9, 40],
    [8, 45],
    [9, 80],
  ]);
  assert.equal(feed.skippedFrames, 0, 'waiting for the first keyframe is not a skip');
});

test('past the backlog cap: frames are dropped up to the next keyframe that finds room, and counted', () => {
  const sink = new Sink();
  const feed = new FlvFeed(sink, 1000);
  feed.begin({ audio: true, video: true }, []);
  feed.packet(out(videoKey(0)));
  sink.backlog = 5000;
  feed.packet(out(videoInter(40)));
  feed.packet(out(videoKey(80))); // still over the cap: dropped too
  sink.backlog = 0;
  feed.packet(out(aacFrame(90)));
  feed.packet(out(videoInter(120)));
  feed.packet(out(videoHeader(130))); // headers always pass
  feed.packet(out(videoKey(160)));
  feed.packet(out(videoInter(200)));
  assert.deepEqual(sink.tags(), [
    [9, 0],
    [9, 130],
    [9, 160],
    [9, 200],
  ]);
  assert.equal(feed.skippedFrames, 4);
});

test('an audio-only source starts at any audio frame', () => {
  const sink = new Sink();
  const feed = new FlvFeed(sink, 1000);
  feed.begin({ audio: true, video: false }, [out(aacHeader(0), false)]);
  feed.packet(out(aacFrame(23), false));
  assert.deepEqual(sink.tags(), [
    [8, 0],
    [8, 23],
  ]);
});

test('malformed packets (kind other) are not fed', () => {
  const sink = new Sink();
  const feed = new FlvFeed(sink, 1000);
  feed.begin({ audio: false, video: true }, []);
  feed.packet(out({ type: 9, timestamp: videoKey(0).timestamp, payload: Buffer.alloc(0) }));
  assert.deepEqual(sink.tags(), []);
});
