import { test } from 'node:test';
import assert from 'node:assert/strict';
import { continuityErrors } from './continuity.js';
import type { TsPacket } from './packet-reader.js';

const p = (pid: number, cc: number, payload = 1): TsPacket => ({ pid, payloadUnitStart: false, continuityCounter: cc, payload: Buffer.alloc(payload) });

test('counters advance per PID with payload, wrap at 16, and repeat without payload', () => {
  assert.deepEqual(continuityErrors([p(1, 14), p(2, 0), p(1, 15), p(1, 15, 0), p(1, 0), p(2, 1)]), []);
});

test('a skipped or repeated counter is reported', () => {
  assert.deepEqual(continuityErrors([p(1, 3), p(1, 5)]), ['PID 0x1 packet 1: expected 4, got 5']);
  assert.deepEqual(continuityErrors([p(0x100, 3), p(0x100, 3)]), ['PID 0x100 packet 1: expected 4, got 3']);
});
