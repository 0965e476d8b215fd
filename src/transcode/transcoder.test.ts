import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RestartBackoff, TRANSCODER_DEFAULTS } from './transcoder.js';

test('restart delays: 0.5 s doubling to 10 s, back to 0.5 s after a child that ran 30 s', () => {
  const b = new RestartBackoff();
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(() => b.next(100)), [500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  assert.equal(b.next(TRANSCODER_DEFAULTS.restartResetAfterMs), 500);
  assert.equal(b.next(29_999), 1000);
  const custom = new RestartBackoff({ restartInitialMs: 10, restartMaxMs: 25, restartResetAfterMs: 100 });
  assert.deepEqual([custom.next(0), custom.next(0), custom.next(0), custom.next(100)], [10, 20, 25, 10]);
});
