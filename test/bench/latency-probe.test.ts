// The latency benchmark's send log (bench/lib/latency-probe.ts): a looping clip sends every frame number
// again each loop, and a frame shown at time T was sent at the latest send of its number before T.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SendLog } from '../../bench/lib/latency-probe.js';

describe('SendLog', () => {
  it('matches a shown frame with the latest send of its number before it was shown', () => {
    const log = new SendLog();
    for (const loop of [0, 1, 2, 3]) for (let n = 0; n < 3; n++) log.record(n, loop * 60_000 + n * 33);
    assert.equal(log.sentAt(1, 181_000), 180_033);
    assert.equal(log.sentAt(1, 180_033), 180_033);
    assert.equal(log.sentAt(1, 180_000), 120_033);
    assert.equal(log.sentAt(2, 61_000), 60_066);
    // Only the last three sends of a number are kept; none is known for a number never sent.
    assert.equal(log.sentAt(0, 30_000), undefined);
    assert.equal(log.sentAt(7, 181_000), undefined);
  });
});
