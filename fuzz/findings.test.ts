// Regression vectors for fuzz findings, as the fuzzer found them (minimised inputs run through the target).
// Findings in a parser with a unit test file of its own also get a vector there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkReader, type RtmpMessage } from '../src/rtmp/chunk-reader.js';
import { runOne } from './harness.js';
import { target as rtmpChunks } from './targets/rtmp-chunks.js';

const key = (m: RtmpMessage): string => `${m.csid} ${m.typeId} ${m.timestamp} ${m.payload.toString('hex')}`;

test(
  'rtmp-chunks: a read ending inside the 4 bytes after a type-3 header of an extended-timestamp message loses no payload',
  async () => {
    // A 200-byte message with an extended timestamp, from an encoder that does not repeat it in type-3
    // chunks. The first read ends 2 payload bytes after the 0xc3 header: whether those 4 bytes are a
    // repeated timestamp cannot be decided yet, so they wait as a header leftover; the next read decides
    // "payload", returned a negative offset (-2) and the 2 bytes were lost (a RangeError from Buffer.copy;
    // before the one-buffer rewrite, silently wrong payload bytes).
    const header = Buffer.from([0x03, 0xff, 0xff, 0xff, 0, 0, 200, 8, 0, 0, 0, 0, 0, 0, 0, 1]);
    const body = Buffer.alloc(200, 0xab);
    const data = Buffer.concat([header, body.subarray(0, 128), Buffer.from([0xc3]), body.subarray(128)]);
    const whole = new ChunkReader().feed(data);
    assert.deepEqual(whole.map((m) => m.payload.length), [200]);
    const cut = header.length + 128 + 3;
    const r = new ChunkReader();
    const split = [...r.feed(data.subarray(0, cut)), ...r.feed(data.subarray(cut))];
    assert.deepEqual(split.map(key), whole.map(key));
    // The fuzzer's own minimised input for the same bug (7-byte reads).
    const found = Buffer.from('fa00ff0001e000000a04014000007801ffff02cf00003e5d3fffffff000007082000000000469d4f7858ff000055ffff37ffbe10', 'hex');
    assert.equal((await runOne(rtmpChunks, found))?.error, undefined);
  },
);
