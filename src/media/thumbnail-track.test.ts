import { test } from 'node:test';
import assert from 'node:assert/strict';
import { thumbnailLayout, thumbnailVtt } from './thumbnail-track.js';

const OPTS = { intervalMs: 10_000, columns: 10, maxTiles: 1000 };

test('a tile every 10 s, rows of 10 at most; long recordings get a longer interval', () => {
  assert.deepEqual(thumbnailLayout(25_000, OPTS), { intervalS: 10, count: 3, columns: 3, rows: 1 });
  assert.deepEqual(thumbnailLayout(30_000, OPTS), { intervalS: 10, count: 3, columns: 3, rows: 1 });
  assert.deepEqual(thumbnailLayout(30_001, OPTS), { intervalS: 10, count: 4, columns: 4, rows: 1 });
  assert.deepEqual(thumbnailLayout(125_000, OPTS), { intervalS: 10, count: 13, columns: 10, rows: 2 });
  assert.deepEqual(thumbnailLayout(1, OPTS), { intervalS: 10, count: 1, columns: 1, rows: 1 });
  const day = thumbnailLayout(24 * 3600_000, OPTS);
  assert.equal(day.intervalS, 87);
  assert.ok(day.count <= 1000 && day.count * day.intervalS * 1000 >= 24 * 3600_000);
});

test('the track: contiguous cues over the whole recording, each at its tile', () => {
  const layout = thumbnailLayout(125_400, OPTS);
  const vtt = thumbnailVtt(layout, 125_400, 160, 90, 'thumbs.jpg');
  assert.ok(vtt.startsWith('WEBVTT\n\n00:00:00.000 --> 00:00:10.000\nthumbs.jpg#xywh=0,0,160,90\n'));
  assert.match(vtt, /\n00:01:40\.000 --> 00:01:50\.000\nthumbs\.jpg#xywh=0,90,160,90\n/);
  assert.match(vtt, /\n00:02:00\.000 --> 00:02:05\.400\nthumbs\.jpg#xywh=320,90,160,90\n$/);
  assert.equal(vtt.match(/-->/g)?.length, 13);
  const long = thumbnailVtt({ intervalS: 3600, count: 101, columns: 10, rows: 11 }, 101 * 3600_000, 160, 90, 's.jpg');
  assert.match(long, /\n100:00:00\.000 --> 101:00:00\.000\n/);
});
