import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitAggregate } from './aggregate.js';
import { RtmpProtocolError } from './errors.js';

/** One FLV tag as it sits inside an aggregate message: 11-byte header, body, PreviousTagSize. */
function tag(type: number, ts: number, body: number[]): Buffer {
  const b = Buffer.alloc(11 + body.length + 4);
  b[0] = type;
  b.writeUIntBE(body.length, 1, 3);
  b.writeUIntBE(ts & 0xffffff, 4, 3);
  b[7] = (ts >>> 24) & 0xff;
  Buffer.from(body).copy(b, 11);
  b.writeUInt32BE(11 + body.length, 11 + body.length);
  return b;
}

test('rebases tag timestamps onto the message timestamp and skips script tags', () => {
  const p = Buffer.concat([tag(9, 1000, [0x17, 1]), tag(18, 1010, [2]), tag(8, 1020, [0xaf, 1, 3])]);
  const out = splitAggregate(5000, p);
  assert.deepEqual(
    out.map((t) => [t.type, t.timestamp, [...t.payload]]),
    [
      [9, 5000, [0x17, 1]],
      [8, 5020, [0xaf, 1, 3]],
    ],
  );
});

test('uses the extended timestamp byte and wraps at 2^32', () => {
  const p = Buffer.concat([tag(9, 0x01000000, [1]), tag(9, 0x01000010, [2])]);
  assert.deepEqual(
    splitAggregate(0xfffffff8, p).map((t) => t.timestamp),
    [0xfffffff8, 0x00000008],
  );
});

test('a truncated tag is a protocol error', () => {
  const p = tag(9, 0, [1, 2, 3, 4]).subarray(0, 13);
  assert.throws(() => splitAggregate(0, p), RtmpProtocolError);
});
