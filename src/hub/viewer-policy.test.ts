import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide } from './viewer-policy.js';
import type { ViewerLag } from './viewer-policy.js';

const limits = { maxQueueBytes: 1000, resumeQueueBytes: 200, maxLagMs: 10_000 };
const keyAt = (k: number) => (from: number): number => (k >= from ? k : -1);
const noKey = (): number => -1;

test('an in-sync viewer under the limit gets the batch from where it is', () => {
  const lag: ViewerLag = { skipping: false, behindSince: undefined };
  assert.deepEqual(decide(lag, 999, 0, noKey, 0, limits), { action: 'send', from: 0, resumed: false });
  assert.deepEqual(decide(lag, 0, 3, noKey, 0, limits), { action: 'send', from: 3, resumed: false });
});

test('over the queue limit it starts skipping and records when', () => {
  const lag: ViewerLag = { skipping: false, behindSince: undefined };
  assert.deepEqual(decide(lag, 1001, 0, keyAt(0), 5, limits), { action: 'skip', startedLagging: true });
  assert.deepEqual(lag, { skipping: true, behindSince: 5 });
});

test('a skipping viewer resumes at a keyframe only once drained', () => {
  const lag: ViewerLag = { skipping: true, behindSince: 0 };
  assert.equal(decide(lag, 500, 0, keyAt(2), 100, limits).action, 'skip', 'not drained enough');
  assert.equal(decide(lag, 100, 0, noKey, 200, limits).action, 'skip', 'no keyframe in the batch');
  assert.deepEqual(decide(lag, 100, 0, keyAt(2), 300, limits), { action: 'send', from: 2, resumed: true });
  assert.deepEqual(lag, { skipping: false, behindSince: undefined });
});

test('skipping for longer than the limit disconnects', () => {
  const lag: ViewerLag = { skipping: true, behindSince: 1000 };
  assert.equal(decide(lag, 5000, 0, keyAt(0), 11_000, limits).action, 'skip');
  assert.equal(decide(lag, 5000, 0, keyAt(0), 11_001, limits).action, 'disconnect');
});

test('a joiner waiting for its first keyframe is never disconnected for it', () => {
  const lag: ViewerLag = { skipping: true, behindSince: undefined };
  assert.equal(decide(lag, 0, 0, noKey, 1e9, limits).action, 'skip');
  assert.deepEqual(decide(lag, 0, 0, keyAt(1), 1e9, limits), { action: 'send', from: 1, resumed: true });
});
