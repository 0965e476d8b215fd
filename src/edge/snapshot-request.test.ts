import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snapshotRequest } from './snapshot-request.js';

test('a snapshot is keyed by its path and canonical width; the token goes upstream only', () => {
  assert.deepEqual(snapshotRequest('/live/a.jpg', ''), { ok: true, key: '/live/a.jpg', upstreamSearch: '', blocking: false });
  assert.deepEqual(snapshotRequest('/live/a.jpg', '?token=t'), { ok: true, key: '/live/a.jpg', upstreamSearch: '?token=t', blocking: false });
  assert.deepEqual(snapshotRequest('/live/a.jpg', '?token=t&width=0160'), {
    ok: true,
    key: '/live/a.jpg?width=160',
    upstreamSearch: '?token=t&width=160',
    blocking: false,
  });
  const other = snapshotRequest('/live/a.jpg', '?width=160&token=u');
  assert.equal(other.ok && other.key, '/live/a.jpg?width=160', 'one object whatever the token');
});

test('a bad width is refused before it reaches a key or the upstream', () => {
  for (const q of ['?width=15', '?width=3841', '?width=abc', '?width=', '?width=1e3', '?width=-20', '?width=160&width=320', '?width=99999999']) {
    assert.equal(snapshotRequest('/live/a.jpg', q).ok, false, q);
  }
  assert.equal(snapshotRequest('/live/a.jpg', '?width=16').ok, true);
  assert.equal(snapshotRequest('/live/a.jpg', '?width=3840').ok, true);
});
