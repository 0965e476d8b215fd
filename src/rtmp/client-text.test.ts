import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_CLIENT_TEXT, clientText } from './client-text.js';

test('client text is redacted and bounded', () => {
  assert.equal(clientText('live'), 'live');
  assert.equal(clientText('live?token=abc.def'), 'live?token=[redacted]');
  assert.equal(clientText('rtmp://h/live?x=1&token=s3cret&y=2'), 'rtmp://h/live?x=1&token=[redacted]&y=2');
  assert.equal(clientText('s?TOKEN=abc'), 's?TOKEN=[redacted]');
  const long = clientText('a'.repeat(100_000));
  assert.equal(long.length, MAX_CLIENT_TEXT + 3);
  // A token that starts before the cut is redacted; none of its value survives.
  const near = clientText(`${'a'.repeat(MAX_CLIENT_TEXT - 10)}?token=SECRETSECRETSECRET`);
  assert.ok(!near.includes('SECRET'), near);
});
