import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isStoreOutage } from './store-outage.js';

test('Redis connection failures are store outages; other errors are not', () => {
  const retries = Object.assign(new Error('Reached the max retries per request limit (which is 3).'), { name: 'MaxRetriesPerRequestError' });
  assert.ok(isStoreOutage(retries));
  assert.ok(isStoreOutage(new Error('Connection is closed.')));
  assert.ok(isStoreOutage(new Error("Stream isn't writeable and enableOfflineQueue options is false")));
  assert.ok(isStoreOutage(new Error('LOADING Redis is loading the dataset in memory')));
  assert.ok(!isStoreOutage(new TypeError("Cannot read properties of undefined (reading 'x')")));
  assert.ok(!isStoreOutage(new Error('ERR wrong number of arguments')));
  assert.ok(!isStoreOutage('Connection is closed.'));
});
