import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveSegment } from './prefetcher.js';
import { segmentUris } from './playlist-uris.js';

test('playlist segment URIs resolve inside the stream only', () => {
  const text = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\ncam/1.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:2.0,\ncam/2.ts\n';
  assert.deepEqual(segmentUris(text), ['cam/1.ts', 'cam/2.ts']);
  assert.deepEqual(segmentUris('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv/index.m3u8\n'), []);
  assert.deepEqual(resolveSegment('/live/cam.m3u8', 'cam/1.ts'), { path: '/live/cam/1.ts', search: '' });
  assert.deepEqual(resolveSegment('/live/cam.m3u8', '/live/cam/1.ts'), { path: '/live/cam/1.ts', search: '' });
  assert.equal(resolveSegment('/live/cam.m3u8', 'http://evil.example/live/cam/1.ts'), undefined);
  // A play token on the URI goes upstream with the prefetch; the cache key stays the path.
  assert.deepEqual(resolveSegment('/live/cam.m3u8', 'cam/1.ts?token=1.abc'), { path: '/live/cam/1.ts', search: '?token=1.abc' });
  assert.equal(resolveSegment('/live/cam.m3u8', 'other.m3u8'), undefined);
});
