import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartStore } from './hls-parts.js';
import type { PartReader } from './hls-parts.js';

function reader(): PartReader & { got: Buffer[]; ended: boolean | undefined } {
  const r = {
    got: [] as Buffer[],
    ended: undefined as boolean | undefined,
    chunk: (b: Buffer) => void r.got.push(b),
    end: (complete: boolean) => void (r.ended = complete),
  };
  return r;
}

const part = (sequence: number, index: number, data: Buffer) => ({ sequence, index, durationS: 0.2, independent: index === 0, data });

test('a reader of the open part gets the bytes so far, then each chunk, then the end', () => {
  const errors: unknown[] = [];
  const store = new PartStore((e) => errors.push(e));
  const a = Buffer.from('moof1');
  const b = Buffer.from('moof2');
  assert.equal(store.read(5, 0, reader()), undefined, 'nothing open yet');
  store.chunk(5, 0, a);
  const early = reader();
  assert.ok(store.read(5, 0, early));
  assert.deepEqual(early.got, [a]);
  const throwing: PartReader = {
    chunk: () => {
      throw new Error('socket gone');
    },
    end: () => undefined,
  };
  store.read(5, 0, throwing);
  store.chunk(5, 0, b);
  assert.deepEqual(early.got, [a, b]);
  assert.equal(errors.length, 2, 'a failing reader costs itself only (on the bytes so far and on the next chunk)');
  store.complete(part(5, 0, Buffer.concat([a, b])));
  assert.equal(early.ended, true);
  assert.equal(store.openPosition, undefined);
  assert.deepEqual(store.get(5, 0)?.data, Buffer.from('moof1moof2'));
  assert.deepEqual(store.last, { sequence: 5, index: 0 });
});

test('an abandoned part ends its readers incomplete; a reused sequence replaces what was stored', () => {
  const store = new PartStore(() => undefined);
  store.chunk(7, 0, Buffer.from('x'));
  store.complete(part(7, 0, Buffer.from('x')));
  store.chunk(7, 1, Buffer.from('y'));
  const r = reader();
  store.read(7, 1, r);
  store.abandonOpen();
  assert.equal(r.ended, false);
  // A byte count that does not match what streamed is not the part either.
  store.chunk(7, 1, Buffer.from('y'));
  const r2 = reader();
  store.read(7, 1, r2);
  store.complete(part(7, 1, Buffer.from('yy')));
  assert.equal(r2.ended, false);
  store.complete(part(7, 0, Buffer.from('z')));
  assert.deepEqual(store.partsOf(7).map((p) => p.data.toString()), ['z']);
  store.complete(part(8, 0, Buffer.from('w')));
  store.dropBefore(8);
  assert.deepEqual(store.partsOf(7), []);
  assert.equal(store.partsOf(8).length, 1);
});
