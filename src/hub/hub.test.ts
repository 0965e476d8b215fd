// The hub's publish outcome is protocol-neutral: a live key is refused as 'taken' (RTMP and HTTP each
// say it their own way), unless take-over is on, which closes the old publisher instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hub } from './hub.js';
import type { PublisherInfo } from './stream.js';
import { createLogger } from '../shared/log.js';

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
