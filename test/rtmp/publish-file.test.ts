import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitStreamUrl } from './publish-file.js';

test('splitStreamUrl separates the connect URL from the stream name and query', () => {
  assert.deepEqual(splitStreamUrl('rtmp://h:1935/live/cam'), { appUrl: 'rtmp://h:1935/live', stream: 'cam' });
  assert.deepEqual(splitStreamUrl('rtmp://h/live/cam?token=a/b'), { appUrl: 'rtmp://h/live', stream: 'cam?token=a/b' });
  assert.throws(() => splitStreamUrl('rtmp://h'));
});
