// Batching and the slow-viewer path, through Stream with fake sinks (no sockets, no timers but the
// stream's own write window).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Stream } from './stream.js';
import type { StreamOptions } from './stream.js';
import { flvFormat, httpFlvFormat } from './wire-formats.js';
import type { FanoutCounters } from './fanout.js';
import type { ViewerSink } from './viewer.js';
import { createLogger } from '../shared/log.js';
import { FlvReader } from '../media/flv/reader.js';
import { aacFrame, aacHeader, videoHeader, videoInter, videoKey } from '../../test/helpers/packets.js';
import { TagType } from '../media/packet.js';
import { ms } from '../media/time.js';
import { inSlab } from '../media/slab.js';

class FakeSink implements ViewerSink {
  writes: Buffer[][] = [];
  queued = 0;
  ended: string | undefined;
  aborted: string | undefined;
  get writableLength(): number {
    return this.queued;
  }
  write(b: Buffer): void {
    this.writes.push([b]);
  }
  writev(parts: readonly Buffer[]): void {
    this.writes.push([...parts]);
  }
  end(reason: string): void {
    this.ended = reason;
  }
  abort(reason: string): void {
    this.aborted = reason;
  }
  bytes(): Buffer {
    return Buffer.concat(this.writes.flat());
  }
}

const counters = (): FanoutCounters => ({ bytesOut: 0, droppedFrames: 0, slowDisconnects: 0 });
const opts = (o: Partial<StreamOptions> = {}): StreamOptions => ({
  writeBatchMs: 0,
  slowViewer: { maxQueueBytes: 1000, resumeQueueBytes: 100, maxLagMs: 60_000 },
  ...o,
});
const newStream = (o: Partial<StreamOptions> = {}, c = counters()): Stream => {
  const s = new Stream('live', 'x', opts(o), c, [], createLogger('test', 'silent'));
  s.attach({ id: 'p', remoteAddress: '127.0.0.1', query: {}, close: () => undefined });
  return s;
};
const info = { id: 'v', remoteAddress: '127.0.0.1' };
const tick = (msDelay: number): Promise<void> => new Promise((r) => setTimeout(r, msDelay));

test('a late joiner gets header, codec headers and the GOP at once, in one write', () => {
  const s = newStream();
  for (const p of [videoHeader(), aacHeader(), videoKey(0), aacFrame(10), videoInter(40), videoKey(80), aacFrame(90)]) s.push(p);
  const sink = new FakeSink();
  s.addViewer(flvFormat, sink, info);
  assert.equal(sink.writes.length, 1);
  const r = new FlvReader();
  const got = r.push(sink.bytes());
  assert.deepEqual(r.header && { audio: r.header.audio, video: r.header.video }, { audio: true, video: true });
  assert.deepEqual(
    got.map((p) => p.timestamp),
    [0, 0, 80, 90],
    'headers, then from the last keyframe',
  );
});

test('a video-only stream flags no audio in the FLV header', () => {
  const s = newStream();
  s.push(videoHeader());
  s.push(videoKey(0));
  const sink = new FakeSink();
  s.addViewer(flvFormat, sink, info);
  const r = new FlvReader();
  r.push(sink.bytes());
  assert.equal(r.header?.audio, false);
  assert.equal(r.header?.video, true);
});

test('packets of one window reach every in-sync viewer as ONE shared buffer', async () => {
  const s = newStream({ writeBatchMs: 15 });
  s.push(videoHeader());
  s.push(videoKey(0));
  const a = new FakeSink();
  const b = new FakeSink();
  s.addViewer(httpFlvFormat, a, info);
  s.addViewer(httpFlvFormat, b, info);
  a.writes = [];
  b.writes = [];
  s.push(aacFrame(10));
  s.push(videoInter(40));
  s.push(aacFrame(33));
  assert.equal(a.writes.length, 0, 'nothing before the window closes');
  await tick(40);
  assert.equal(a.writes.length, 1);
  assert.equal(b.writes.length, 1);
  assert.equal(a.writes[0]?.length, 1, 'one buffer, one write');
  assert.equal(a.writes[0]?.[0], b.writes[0]?.[0], 'the very same Buffer object');
  const chunk = a.writes[0]?.[0] as Buffer;
  const nl = chunk.indexOf('\r\n');
  assert.equal(parseInt(chunk.subarray(0, nl).toString(), 16), chunk.length - nl - 4, 'HTTP chunk framing is in the shared bytes');
  s.detach();
});

test('a viewer joining mid-window is not sent the window twice', async () => {
  const s = newStream({ writeBatchMs: 15 });
  s.push(videoHeader());
  s.push(videoKey(0));
  const first = new FakeSink();
  s.addViewer(flvFormat, first, info);
  s.push(videoInter(40));
  const late = new FakeSink();
  s.addViewer(flvFormat, late, info);
  s.push(videoInter(80));
  await tick(40);
  const stamps = (sink: FakeSink): number[] => new FlvReader().push(sink.bytes()).map((p) => p.timestamp);
  assert.deepEqual(stamps(late), [0, 0, 40, 80]);
  assert.deepEqual(stamps(first), [0, 0, 40, 80]);
  s.detach();
});

test('a slow viewer skips to the next keyframe, counting drops, while others get everything', () => {
  const c = counters();
  const s = newStream({}, c);
  s.push(videoHeader());
  s.push(videoKey(0));
  const slow = new FakeSink();
  const fast = new FakeSink();
  s.addViewer(flvFormat, slow, info);
  s.addViewer(flvFormat, fast, info);
  slow.queued = 5000; // over maxQueueBytes
  s.push(videoInter(40));
  s.push(aacFrame(50));
  slow.queued = 50; // drained, but no keyframe yet
  s.push(videoInter(80));
  s.push(videoKey(120));
  s.push(videoInter(160));
  const stamps = (sink: FakeSink): number[] => new FlvReader().push(sink.bytes()).map((p) => p.timestamp);
  assert.deepEqual(stamps(fast), [0, 0, 40, 50, 80, 120, 160]);
  assert.deepEqual(stamps(slow), [0, 0, 120, 160]);
  assert.equal(c.droppedFrames, 3);
  s.detach();
});

test('a viewer that stays behind past the limit is disconnected and no longer written', () => {
  const c = counters();
  const s = newStream({ slowViewer: { maxQueueBytes: 1000, resumeQueueBytes: 100, maxLagMs: 0 } }, c);
  s.push(videoKey(0));
  const stalled = new FakeSink();
  s.addViewer(flvFormat, stalled, info);
  stalled.queued = 1e6;
  s.push(videoInter(40)); // starts lagging
  const writes = stalled.writes.length;
  return tick(5).then(() => {
    s.push(videoInter(80)); // lagging > 0 ms: cut
    assert.equal(stalled.aborted, 'too slow');
    assert.equal(c.slowDisconnects, 1);
    s.push(videoKey(120));
    assert.equal(stalled.writes.length, writes);
    assert.equal(s.viewerCount('flv'), 0);
    s.detach();
  });
});

test('unpublish flushes the window and ends viewers cleanly', () => {
  const s = newStream({ writeBatchMs: 1000 });
  s.push(videoKey(0));
  const sink = new FakeSink();
  s.addViewer(flvFormat, sink, info);
  s.push(videoInter(40));
  s.detach();
  assert.deepEqual(new FlvReader().push(sink.bytes()).map((p) => p.timestamp), [0, 40]);
  assert.equal(sink.ended, 'stream ended');
});

test('packets no encoder can take are refused at ingest: nothing throws in the write window, joiners still start', async () => {
  const s = newStream({ writeBatchMs: 5 });
  const sink = new FakeSink();
  for (const p of [videoHeader(), aacHeader(), videoKey(0)]) s.push(p);
  s.addViewer(flvFormat, sink, info);
  const script = (size: number) => ({ type: TagType.Script, timestamp: ms(0), payload: Buffer.alloc(size, 0x02) });
  s.push(script(64 * 1024 + 1)); // over the metadata cap
  s.push({ ...videoKey(40), payload: Buffer.alloc(0x1000000, 0x17) }); // over FLV's 24-bit size field
  s.push(script(100));
  s.push(videoKey(80));
  await tick(30); // the write window's timer ran: it would have thrown (and ended the process) before
  const tags = new FlvReader().push(sink.bytes());
  assert.deepEqual(tags.map((t) => [t.type, t.payload.length]).slice(-2), [[TagType.Script, 100], [TagType.Video, 100]]);
  const late = new FakeSink();
  s.addViewer(flvFormat, late, info);
  assert.ok(new FlvReader().push(late.bytes()).every((t) => t.payload.length <= 64 * 1024));
});

test('a small payload that is a view of a larger buffer (a socket read) is copied into the stream\'s media slab, so the GOP cache does not pin the read', () => {
  const s = newStream();
  const read = Buffer.alloc(64 * 1024);
  aacFrame(0, 300).payload.copy(read, 1000);
  s.push(aacHeader());
  s.push({ type: TagType.Audio, timestamp: ms(0), payload: read.subarray(1000, 1300) });
  const cached = s.joinState()?.packets.at(-1);
  assert.equal(cached?.size, 300);
  assert.notEqual(cached?.packet.payload.buffer, read.buffer);
  assert.ok(cached && inSlab(cached.packet.payload));
  assert.deepEqual(cached?.packet.payload, read.subarray(1000, 1300));
  const whole = Buffer.alloc(1000, 0x55);
  whole[0] = 0xaf;
  whole[1] = 0x01;
  s.push({ type: TagType.Audio, timestamp: ms(20), payload: whole });
  assert.equal(s.joinState()?.packets.at(-1)?.packet.payload, whole, 'a buffer of its own is kept as is');
});
