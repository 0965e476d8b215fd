import { test } from 'node:test';
import assert from 'node:assert/strict';
import { playlistRequest } from './playlist-request.js';

const P = '/live/s.m3u8';

test('a plain reload is keyed by its path and sends its query upstream as it is', () => {
  assert.deepEqual(playlistRequest(P, ''), { ok: true, key: P, upstreamSearch: '', blocking: false });
  assert.deepEqual(playlistRequest(P, '?token=1.abc'), { ok: true, key: P, upstreamSearch: '?token=1.abc', blocking: false });
});

test('LL-HLS directives are the key, in one order and canonical form; tokens and other parameters are not', () => {
  const a = playlistRequest(P, '?_HLS_part=2&token=1.abc&_HLS_msn=0017&x=1');
  assert.deepEqual(a, { ok: true, key: `${P}?_HLS_msn=17&_HLS_part=2`, upstreamSearch: '?token=1.abc&x=1&_HLS_msn=17&_HLS_part=2', blocking: true });
  const b = playlistRequest(P, '?_HLS_msn=17&_HLS_part=2&token=2.xyz');
  assert.equal(b.ok && b.key, a.ok && a.key, 'another viewer, another token: the same object');
  assert.deepEqual(playlistRequest(P, '?_HLS_skip=YES&_HLS_msn=5'), { ok: true, key: `${P}?_HLS_msn=5&_HLS_skip=YES`, upstreamSearch: '?_HLS_msn=5&_HLS_skip=YES', blocking: true });
  assert.deepEqual(playlistRequest(P, '?_HLS_skip=v2'), { ok: true, key: `${P}?_HLS_skip=v2`, upstreamSearch: '?_HLS_skip=v2', blocking: false });
  // Unknown directives reach neither the key nor the upstream.
  assert.deepEqual(playlistRequest(P, '?_HLS_push=1&_HLS_msn=5'), { ok: true, key: `${P}?_HLS_msn=5`, upstreamSearch: '?_HLS_msn=5', blocking: true });
  assert.deepEqual(playlistRequest(P, '?_HLS_push=1'), { ok: true, key: P, upstreamSearch: '', blocking: false });
});

test('malformed directives are refused before they reach a key or the upstream', () => {
  const bad = [
    '?_HLS_msn=',
    '?_HLS_msn=-1',
    '?_HLS_msn=1.5',
    '?_HLS_msn=1e3',
    '?_HLS_msn=%201',
    '?_HLS_msn=1234567890123456',
    '?_HLS_msn=1&_HLS_part=12345',
    '?_HLS_msn=1&_HLS_part=x',
    '?_HLS_msn=1&_HLS_msn=2',
    '?_HLS_part=1',
    '?_HLS_skip=yes',
    '?_HLS_skip=YES&_HLS_skip=YES',
    `?_HLS_msn=${'9'.repeat(10_000)}`,
  ];
  for (const q of bad) assert.equal(playlistRequest(P, q).ok, false, q);
  assert.equal(playlistRequest(P, '?_HLS_msn=999999999999999').ok, true);
});

test('DVR playlist: ?start= checked and canonical (UTC, ms) in the key and upstream, with the token only; without it, the path', () => {
  const D = '/live/s/dvr.m3u8';
  assert.deepEqual(playlistRequest(D, ''), { ok: true, key: D, upstreamSearch: '', blocking: false });
  assert.deepEqual(playlistRequest(D, '?token=1.abc'), { ok: true, key: D, upstreamSearch: '?token=1.abc', blocking: false });
  const a = playlistRequest(D, '?x=1&start=2026-11-30T10:00:00%2B01:00&token=1.abc');
  assert.deepEqual(a, { ok: true, key: `${D}?start=2026-11-30T09:00:00.000Z`, upstreamSearch: '?token=1.abc&start=2026-11-30T09%3A00%3A00.000Z', blocking: false });
  const b = playlistRequest(D, '?start=2026-11-30T09:00:00Z&token=2.xyz');
  assert.equal(b.ok && b.key, a.ok && a.key, 'the same time spelled otherwise, another token: the same object');
  for (const bad of ['?start=yesterday', '?start=', '?start=2026-11-30T09:00:00Z&start=2026-11-30T09:00:00Z', '?start=2026-02-30T09:00:00Z']) {
    const r = playlistRequest(D, bad);
    assert.equal(r.ok, false, bad);
  }
  // A longer name that ends in "start" is not the parameter.
  assert.deepEqual(playlistRequest(D, '?restart=1'), { ok: true, key: D, upstreamSearch: '?restart=1', blocking: false });
  // Only the DVR playlist takes it: elsewhere it is just another parameter.
  assert.deepEqual(playlistRequest(P, '?start=x'), { ok: true, key: P, upstreamSearch: '?start=x', blocking: false });
});
