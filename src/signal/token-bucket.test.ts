import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BucketMap, TokenBucket } from './token-bucket.js';

test('a bucket allows its burst, then its rate', () => {
  const b = new TokenBucket(10, 5, 0);
  for (let i = 0; i < 5; i++) assert.equal(b.take(0), true);
  assert.equal(b.take(0), false);
  assert.equal(b.take(99), false); // 0.99 token
  assert.equal(b.take(100), true); // 1 token after 100 ms at 10/s
  assert.equal(b.take(100), false);
  assert.equal(b.idle(100_000), true);
  // refill is capped at the burst
  for (let i = 0; i < 5; i++) assert.equal(b.take(100_000), true);
  assert.equal(b.take(100_000), false);
});

test('time going backwards never adds tokens', () => {
  const b = new TokenBucket(10, 1, 1000);
  assert.equal(b.take(1000), true);
  assert.equal(b.take(0), false);
  assert.equal(b.take(1000), false);
});

test('bucket maps keep keys apart and sweep idle ones', () => {
  const m = new BucketMap(1, 2);
  assert.equal(m.take('a', 0), true);
  assert.equal(m.take('a', 0), true);
  assert.equal(m.take('a', 0), false);
  assert.equal(m.take('b', 0), true);
  assert.equal(m.size, 2);
  m.sweep(1000); // a has 1 of 2 tokens, b has 2 of 2
  assert.equal(m.size, 1);
  m.sweep(10_000);
  assert.equal(m.size, 0);
});
