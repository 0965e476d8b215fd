import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultFreshness as p, freshnessMs, parseCacheControl } from './freshness.js';

test('freshness from Cache-Control and Age', () => {
  assert.deepEqual(parseCacheControl('public, max-age=2, s-maxage="5"'), { noStore: false, noCache: false, isPrivate: false, maxAge: 2, sMaxAge: 5 });
  assert.equal(freshnessMs(200, { 'cache-control': 'max-age=2' }, 'playlist', p), 2000);
  assert.equal(freshnessMs(200, { 'cache-control': 'max-age=2, s-maxage=1' }, 'playlist', p), 1000);
  assert.equal(freshnessMs(200, { 'cache-control': 'max-age=2', age: '1' }, 'playlist', p), 1000);
  assert.equal(freshnessMs(200, { 'cache-control': 'max-age=2', age: '1', 'x-livecdn-age-ms': '1500' }, 'playlist', p), 500);
  assert.equal(freshnessMs(200, { 'cache-control': 'max-age=1', age: '5' }, 'playlist', p), 0);
  assert.equal(freshnessMs(200, { 'cache-control': 'no-store' }, 'segment', p), 0);
  assert.equal(freshnessMs(200, { 'cache-control': 'private, max-age=60' }, 'segment', p), 0);
  assert.equal(freshnessMs(200, {}, 'playlist', p), p.defaultPlaylistTtlMs);
  assert.equal(freshnessMs(200, {}, 'segment', p), p.defaultSegmentTtlMs);
  assert.equal(freshnessMs(404, { 'cache-control': 'no-cache' }, 'segment', p), p.negativeTtlMs);
  // A part not there yet exists a part target later: its 404 lives far shorter than a missing stream's.
  assert.equal(freshnessMs(404, {}, 'part', p), p.partNegativeTtlMs);
  assert.ok(p.partNegativeTtlMs < 100 && p.partNegativeTtlMs < p.negativeTtlMs);
  assert.equal(freshnessMs(200, { 'cache-control': 'public, max-age=3600, immutable' }, 'part', p), 3_600_000);
  assert.equal(freshnessMs(403, { 'cache-control': 'max-age=60' }, 'segment', p), 0);
  assert.equal(freshnessMs(503, {}, 'segment', p), 0);
  // Snapshots: 1 s at most, whatever the upstream says.
  assert.equal(freshnessMs(200, { 'cache-control': 'public, max-age=1' }, 'snapshot', p), 1000);
  assert.equal(freshnessMs(200, { 'cache-control': 'public, max-age=60' }, 'snapshot', p), p.snapshotTtlMs);
  assert.equal(freshnessMs(200, {}, 'snapshot', p), p.snapshotTtlMs);
  assert.equal(freshnessMs(200, { 'cache-control': 'max-age=1', 'x-livecdn-age-ms': '400' }, 'snapshot', p), 600);
});
