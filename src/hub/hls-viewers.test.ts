import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HlsViewers } from './hls-viewers.js';

test('HLS viewers: one per address, expired on insert, capped', () => {
  const v = new HlsViewers(1000, 100);
  for (let i = 0; i < 50; i++) v.touch('10.0.0.1', 0);
  assert.equal(v.count(0), 1, 'one address is one viewer');
  // A flood of addresses never holds more than the cap, and the count never passes it.
  for (let i = 0; i < 10_000; i++) v.touch(`10.1.${i >> 8}.${i & 255}`, 500);
  assert.equal(v.count(500), 100);
  // Inserting prunes what expired, without waiting for a count.
  v.touch('10.0.0.2', 2000);
  assert.equal(v.count(2000), 1);
});
