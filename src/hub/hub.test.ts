// The hub's publish outcome is protocol-neutral: a live key is refused as 'taken' (RTMP and HTTP each
// say it their own way), unless take-over is on, which closes the old publisher instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hub } from './hub.js';
import type { PublisherInfo } from './stream.js';
import { createLogger } from '../shared/log.js';
import { TagType } from '../media/packet.js';
import { ms } from '../media/time.js';

const publisher = (id: string, closes: string[]): PublisherInfo => ({ id, remoteAddress: '127.0.0.1', query: {}, close: (reason) => closes.push(`${id}: ${reason}`) });

test('a second publisher of a live key is refused as taken; after the first ends it may publish', () => {
  const hub = new Hub({ writeBatchMs: 0, logger: createLogger('test', 'silent') });
  const closes: string[] = [];
  const first = hub.publish('live', 's', publisher('a', closes));
  assert.ok(first.ok);
  assert.equal(hub.publishRefusal('live', 's'), 'taken');
  assert.deepEqual(hub.publish('live', 's', publisher('b', closes)), { ok: false, reason: 'taken' });
  assert.equal(hub.publishRefusal('live', 'other'), undefined);
  first.end();
  assert.equal(hub.publishRefusal('live', 's'), undefined);
  assert.ok(hub.publish('live', 's', publisher('b', closes)).ok);
  assert.deepEqual(closes, []);
  hub.closeAll('test over');
});

test('with take-over, a second publisher replaces the first, whose end() leaves its successor live', () => {
  const hub = new Hub({ writeBatchMs: 0, logger: createLogger('test', 'silent'), publishTakeover: true });
  const closes: string[] = [];
  const first = hub.publish('live', 's', publisher('a', closes));
  assert.ok(first.ok);
  assert.equal(hub.publishRefusal('live', 's'), undefined);
  const second = hub.publish('live', 's', publisher('b', closes));
  assert.ok(second.ok);
  assert.deepEqual(closes, ['a: taken over by another publisher']);
  first.end();
  assert.equal(hub.get('live', 's')?.publisher?.id, 'b');
  hub.closeAll('test over');
});

test('a republish rebases its first packet and maps codec headers, unless the publisher keeps the clock (a rung)', () => {
  const hub = new Hub({ writeBatchMs: 0, logger: createLogger('test', 'silent') });
  const seen: [string, number][] = [];
  hub.observe({ onPacket: (_s, p) => void seen.push([p.kind, p.packet.timestamp]) });
  const header = { type: TagType.Video, payload: Buffer.from([0x17, 0, 0, 0, 0]) };
  const key = { type: TagType.Video, payload: Buffer.from([0x17, 1, 0, 0, 0, 0xaa]) };
  const session = (keepClock: boolean, times: number[]): void => {
    const out = hub.publish('live', keepClock ? 'rung' : 'cam', { ...publisher(keepClock ? 'rung' : 'cam', []), keepClock });
    assert.ok(out.ok);
    // FFmpeg's FLV muxer writes the codec header at 0 whatever its frames' times (-copyts).
    out.push({ ...header, timestamp: ms(0) });
    for (const t of times) out.push({ ...key, timestamp: ms(t) });
    out.end();
  };
  for (const keepClock of [false, true]) {
    seen.length = 0;
    session(keepClock, [5000, 5040]);
    session(keepClock, [7000, 7040]); // 2 s ahead: a restarted transcoder writing its source's times
    const expected = keepClock
      ? [['video-header', 0], ['video-key', 5000], ['video-key', 5040], ['video-header', 5040], ['video-key', 7000], ['video-key', 7040]]
      : // The header is rebased one frame on, and the key 2 s after it is a jump from there: closed up.
        [['video-header', 0], ['video-key', 5000], ['video-key', 5040], ['video-header', 5080], ['video-key', 5120], ['video-key', 5160]];
    assert.deepEqual(seen, expected, `keepClock ${keepClock}`);
  }
  hub.closeAll('test over');
});

test('each publish gets a new publication id; a source change within one keeps times ahead and rebases times behind', () => {
  const hub = new Hub({ writeBatchMs: 0, logger: createLogger('test', 'silent') });
  const seen: number[] = [];
  hub.observe({ onPacket: (_s, p) => void seen.push(p.packet.timestamp) });
  const key = (timestamp: number): { type: TagType; timestamp: ReturnType<typeof ms>; payload: Buffer } => ({ type: TagType.Video, timestamp: ms(timestamp), payload: Buffer.from([0x17, 1, 0, 0, 0, 0xaa]) });
  const first = hub.publish('live', 's', publisher('relay', []));
  assert.ok(first.ok);
  const id = first.stream.publicationId;
  assert.match(id, /^[0-9a-f]{16}$/);
  for (const t of [200, 240]) first.push(key(t));
  // The relay's upstream is another publication now, starting near 0 (a publish that moved to another
  // origin 240 ms in): a step back too small to be taken for a jump, which would be clamped, not rebased.
  first.stream.sourceChanged();
  for (const t of [40, 80]) first.push(key(t));
  // ... and once more, whose times continue the last ones 120 ms on (an upstream that continued its own timeline).
  first.stream.sourceChanged();
  for (const t of [200, 240]) first.push(key(t));
  assert.deepEqual(seen, [200, 240, 280, 320, 440, 480]);
  assert.equal(first.stream.publicationId, id, 'one publication across source changes');
  first.end();
  const second = hub.publish('live', 's', publisher('relay', []));
  assert.ok(second.ok);
  assert.match(second.stream.publicationId, /^[0-9a-f]{16}$/);
  assert.notEqual(second.stream.publicationId, id);
  hub.closeAll('test over');
});
