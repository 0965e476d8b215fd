import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendVia, checkVia, parseVia } from './via.js';

test('Via parsing, loop and hop checks', () => {
  assert.deepEqual(parseVia('1.1 a, HTTP/1.1 b (livecdn),1.0 c'), ['a', 'b', 'c']);
  assert.deepEqual(parseVia(['1.1 a', '1.1 b']), ['a', 'b']);
  assert.deepEqual(parseVia(undefined), []);
  assert.deepEqual(checkVia('1.1 a', 'b', 8), { ok: true, hops: ['a'] });
  assert.equal(checkVia('1.1 a, 1.1 b', 'b', 8).ok, false);
  assert.equal(checkVia('1.1 a, 1.1 c', 'b', 2).ok, false);
  assert.equal(appendVia(['a'], 'b'), '1.1 a, 1.1 b');
  assert.deepEqual(parseVia(appendVia(['x', 'y'], 'z')), ['x', 'y', 'z']);
});
