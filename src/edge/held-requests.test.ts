import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOLD_TARGETS, HoldTimeouts, isPartPath } from './held-requests.js';

test('a blocking reload or a part waits at least the floor, and a few target durations of its playlist', () => {
  const h = new HoldTimeouts(30_000);
  assert.equal(h.timeoutMs('/live/s.m3u8'), 30_000, 'nothing known yet');
  h.onPlaylist('/live/s.m3u8', Buffer.from('#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:12\n#EXT-X-MEDIA-SEQUENCE:1\n'));
  assert.equal(h.timeoutMs('/live/s.m3u8'), HOLD_TARGETS * 12_000);
  assert.equal(h.timeoutMs('/live/s/100.3.m4s'), HOLD_TARGETS * 12_000, "a part: its stream's playlist");
  assert.equal(h.timeoutMs('/live/other/100.3.m4s'), 30_000);
  h.onPlaylist('/live/s.m3u8', Buffer.from('#EXTM3U\r\n#EXT-X-TARGETDURATION:2\r\n'));
  assert.equal(h.timeoutMs('/live/s.m3u8'), 30_000);
  // Unreadable or absurd values change nothing.
  h.onPlaylist('/live/t.m3u8', Buffer.from('#EXTM3U\n#EXT-X-TARGETDURATION:999999999\n'));
  h.onPlaylist('/live/t.m3u8', Buffer.from('#EXTM3U\n#EXT-X-TARGETDURATION:x\n'));
  assert.equal(h.timeoutMs('/live/t.m3u8'), 30_000);
  assert.equal(h.playlists, 1);
});

test('parts are told from segments and init segments by their path', () => {
  assert.equal(isPartPath('/live/s/100.3.m4s'), true);
  assert.equal(isPartPath('/live/s/100.m4s'), false);
  assert.equal(isPartPath('/live/s/init-100.mp4'), false);
  assert.equal(isPartPath('/live/s/100.ts'), false);
});
