import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HoldBudget, StreamHolds } from './hls-holds.js';
import type { HoldOutcome } from './hls-holds.js';

const noError = (err: unknown): never => {
  throw err;
};

test('slots are capped per stream and in all, and given back exactly once', () => {
  const budget = new HoldBudget({ perStream: 2, total: 3 });
  const a = new StreamHolds<number>(budget, String, noError);
  const b = new StreamHolds<number>(budget, String, noError);
  const ra1 = a.take();
  const ra2 = a.take();
  assert.ok(ra1 && ra2);
  assert.equal(a.take(), undefined, 'per-stream cap');
  const rb1 = b.take();
  assert.ok(rb1);
  assert.equal(b.take(), undefined, 'global cap');
  ra1();
  ra1();
  assert.equal(budget.held, 2, 'a second release changes nothing');
  assert.ok(b.take());
});

test('waiters are woken by group, time out, or are cancelled; a throwing answer is contained', async () => {
  const errors: unknown[] = [];
  const holds = new StreamHolds<number>(new HoldBudget({ perStream: 10, total: 10 }), String, (e) => errors.push(e));
  const got: Array<[number, HoldOutcome]> = [];
  for (const n of [1, 1, 2, 3]) holds.wait(n, 60_000, (o) => got.push([n, o]));
  const gone = holds.wait(4, 60_000, () => assert.fail('cancelled by its client'));
  holds.wait(5, 20, (o) => got.push([5, o]));
  holds.wait(6, 60_000, () => {
    throw new Error('socket gone');
  });
  assert.equal(holds.waiting, 7);
  gone();
  holds.wake((n) => n <= 2 || n === 6);
  assert.deepEqual(got, [
    [1, 'ready'],
    [1, 'ready'],
    [2, 'ready'],
  ]);
  assert.equal(errors.length, 1);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(got.at(-1), [5, 'timeout']);
  holds.cancelAll();
  assert.deepEqual(got.at(-1), [3, 'cancelled']);
  assert.equal(holds.waiting, 0);
});
