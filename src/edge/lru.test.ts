import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ByteLru } from './lru.js';

test('ByteLru never exceeds its budget and keeps the most recently used', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1000 }),
      fc.array(fc.tuple(fc.constantFrom('get', 'set', 'delete'), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 400 }))),
      (budget, ops) => {
        const lru = new ByteLru<{ size: number }>(budget);
        for (const [op, k, size] of ops) {
          const key = String(k);
          if (op === 'set') {
            const stored = lru.set(key, { size });
            assert.equal(stored, size <= budget);
            if (stored) assert.ok(lru.has(key), 'the newest entry survives its own insertion');
          } else if (op === 'get') lru.get(key);
          else lru.delete(key);
          let sum = 0;
          for (const k2 of lru.keys()) sum += lru.peek(k2)?.size ?? 0;
          assert.equal(sum, lru.bytes);
          assert.ok(lru.bytes <= budget);
        }
      },
    ),
  );
});

test('ByteLru evicts in least-recently-used order', () => {
  const evicted: string[] = [];
  const lru = new ByteLru<{ size: number }>(30, (k) => evicted.push(k));
  lru.set('a', { size: 10 });
  lru.set('b', { size: 10 });
  lru.set('c', { size: 10 });
  lru.get('a');
  lru.set('d', { size: 10 });
  assert.deepEqual(evicted, ['b']);
  lru.set('e', { size: 20 });
  assert.deepEqual(evicted, ['b', 'c', 'a']);
  assert.deepEqual([...lru.keys()], ['d', 'e']);
});
