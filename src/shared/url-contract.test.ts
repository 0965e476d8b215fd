import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  FLV_ROUTE,
  FMP4_SEGMENT_ROUTE,
  INIT_ROUTE,
  PART_ROUTE,
  fmp4SegmentPath,
  fmp4SegmentUri,
  initPath,
  initUri,
  partPath,
  parseDvrStart,
  dvrPlaylistPath,
  vodPlaylistPath,
  snapshotPath,
  RECORDING_NAME,
  partUri,
  PLAY_API_ROUTE,
  PLAYLIST_ROUTE,
  SEGMENT_ROUTE,
  STREAM_API_ROUTE,
  flvPath,
  parsePath,
  parseStreamKey,
  playApiPath,
  playlistPath,
  rtmpPath,
  segmentPath,
  streamApiPath,
  segmentUri,
  streamKey,
  renditionStream,
  RUNG_NAME,
  SOURCE_RUNG,
} from './url-contract.js';

const name = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const sequence = fc.integer({ min: 0, max: 2 ** 40 });

test('every built path parses back to its kind and names, and the origin routes capture them', () => {
  fc.assert(
    fc.property(name, name, sequence, (app, stream, seq) => {
      assert.deepEqual(parsePath(flvPath(app, stream)), { kind: 'flv', app, stream, path: flvPath(app, stream) });
      assert.deepEqual(parsePath(playlistPath(app, stream)), { kind: 'playlist', app, stream, path: playlistPath(app, stream) });
      assert.deepEqual(parsePath(segmentPath(app, stream, seq)), { kind: 'segment', app, stream, path: segmentPath(app, stream, seq) });
      assert.deepEqual(FLV_ROUTE.exec(flvPath(app, stream))?.slice(1), [app, stream]);
      assert.deepEqual(PLAYLIST_ROUTE.exec(playlistPath(app, stream))?.slice(1), [app, stream]);
      assert.deepEqual(SEGMENT_ROUTE.exec(segmentPath(app, stream, seq))?.slice(1), [app, stream, String(seq)]);
      assert.deepEqual(STREAM_API_ROUTE.exec(streamApiPath(app, stream))?.slice(1), [app, stream]);
      assert.equal(new URL(`rtmp://h:1935${rtmpPath(app, stream)}`).pathname, `/${app}/${stream}`);
      assert.equal(PLAY_API_ROUTE.replace(':app', app).replace(':stream', stream), playApiPath(app, stream));
      // A player resolves the playlist's relative segment URI to the segment's path.
      assert.equal(new URL(segmentUri(stream, seq), `http://h${playlistPath(app, stream)}`).pathname, segmentPath(app, stream, seq));
      assert.deepEqual(parseStreamKey(streamKey(app, stream)), { app, stream });
    }),
  );
});

test('fMP4 objects: each builder parses as a stream object, resolves from the playlist and hits only its own route', () => {
  const part = fc.integer({ min: 0, max: 9999 });
  fc.assert(
    fc.property(name, name, sequence, part, (app, stream, seq, idx) => {
      const base = `http://h${playlistPath(app, stream)}`;
      const objects: Array<[string, string, RegExp, string[]]> = [
        [initUri(stream, seq), initPath(app, stream, seq), INIT_ROUTE, [app, stream, String(seq)]],
        [fmp4SegmentUri(stream, seq), fmp4SegmentPath(app, stream, seq), FMP4_SEGMENT_ROUTE, [app, stream, String(seq)]],
        [partUri(stream, seq, idx), partPath(app, stream, seq, idx), PART_ROUTE, [app, stream, String(seq), String(idx)]],
      ];
      for (const [uri, path, route, groups] of objects) {
        assert.equal(new URL(uri, base).pathname, path);
        assert.deepEqual(parsePath(path), { kind: 'segment', app, stream, path });
        assert.deepEqual(route.exec(path)?.slice(1), groups);
        for (const other of [SEGMENT_ROUTE, INIT_ROUTE, FMP4_SEGMENT_ROUTE, PART_ROUTE]) if (other !== route) assert.equal(other.exec(path), null, `${path} ~ ${other}`);
      }
    }),
  );
});

test('paths that break the contract are invalid, never a stream', () => {
  assert.equal(parsePath('/live/cam/v1/index.m3u8').kind, 'playlist');
  assert.equal(parsePath('/player/').kind, 'invalid');
  assert.equal(parsePath('/metrics').kind, 'other');
  for (const bad of ['/live/../x.m3u8', '/live/cam/../../x.ts', '/live/cam/.hidden', '/li ve/x.flv', '/live/x.mp4', '/live//x.ts', '/live/cam/', `/${'a'.repeat(65)}/x.flv`, '/%E0%A4%A/x.flv', 'live/x.flv']) {
    assert.equal(parsePath(bad).kind, 'invalid', bad);
  }
  for (const bad of ['live', 'live/', '/cam', 'live/cam/x', 'li ve/cam', `live/${'a'.repeat(65)}`]) assert.equal(parseStreamKey(bad), undefined, bad);
  assert.deepEqual(parseStreamKey(' live/cam_1 '), { app: 'live', stream: 'cam_1' });
});

test('recording, DVR and thumbnail objects are stream objects, their playlists playlists, a snapshot a live object of its own', () => {
  for (const file of ['init-1764460800.mp4', '1764460800.m4s', '1764460800.3.m4s', 'rec/20261130-083900/0.ts', 'rec/20261130-083900/thumbs.jpg', 'rec/20261130-083900/thumbs.vtt']) {
    assert.equal(parsePath(`/live/cam/${file}`).kind, 'segment', file);
  }
  assert.equal(parsePath('/live/cam/720p.m3u8').kind, 'playlist');
  assert.equal(parsePath(dvrPlaylistPath('live', 'cam')).kind, 'playlist');
  assert.equal(parsePath(vodPlaylistPath('live', 'cam', '20261130-083900')).kind, 'playlist');
  assert.deepEqual(parsePath(snapshotPath('live', 'cam')), { kind: 'snapshot', app: 'live', stream: 'cam', path: '/live/cam.jpg' });
  for (const ok of ['20261130-083900', '20261130-083900-2']) assert.match(ok, RECORDING_NAME);
  for (const bad of ['20261130083900', '2026-11-30', '20261130-083900-', '../x']) assert.doesNotMatch(bad, RECORDING_NAME);
});

test('a rung is a stream of its own: {stream}_{rung}, with the ordinary paths', () => {
  assert.equal(renditionStream('cam', '360p'), 'cam_360p');
  assert.equal(renditionStream('cam', SOURCE_RUNG), 'cam_source');
  assert.equal(flvPath('live', renditionStream('cam', '360p')), '/live/cam_360p.flv');
  assert.deepEqual(parsePath('/live/cam_360p.m3u8'), { kind: 'playlist', app: 'live', stream: 'cam_360p', path: '/live/cam_360p.m3u8' });
  for (const ok of ['360p', 'low', 'a', 'x'.repeat(16), SOURCE_RUNG]) assert.match(ok, RUNG_NAME);
  // No '_' (a rung name splits off its stream's at the last one), no upper case, at most 16.
  for (const bad of ['', 'Low', 'a_b', 'a-b', 'x'.repeat(17), '720p.m3u8']) assert.doesNotMatch(bad, RUNG_NAME);
});

test('the module stays importable by the browser bundle: no Node built-ins', () => {
  const source = readFileSync(new URL('./url-contract.ts', import.meta.url), 'utf8');
  assert.doesNotMatch(source, /from '(node:|[a-z])/);
});

test('DVR ?start=: ISO 8601 date-times with Z or an offset (a "+" decoded as a space too); anything else undefined', () => {
  const at = Date.UTC(2026, 10, 30, 8, 0, 0);
  assert.equal(parseDvrStart('2026-11-30T08:00:00Z'), at);
  assert.equal(parseDvrStart('2026-11-30T09:00:00+01:00'), at);
  assert.equal(parseDvrStart('2026-11-30T09:00:00+0100'), at);
  assert.equal(parseDvrStart(new URLSearchParams('start=2026-11-30T09:00:00+01:00').get('start') ?? ''), at);
  assert.equal(parseDvrStart('2026-11-30T05:30:00.250-02:30'), at + 250);
  assert.equal(parseDvrStart('2024-02-29T00:00:00Z'), Date.UTC(2024, 1, 29));
  for (const bad of ['', 'now', '2026-11-30', '2026-11-30T08:00:00', '2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-11-30T24:00:00Z', '1969-12-31T23:59:59Z', '2026-11-30T08:00:00+19:00', '2026-11-30T08:00:00+01:99', '2026-11-30T08:00:00-0060', `2026-11-30T08:00:00.${'1'.repeat(30)}Z`, '2026-11-30T08:00:00Z\n#EXT']) {
    assert.equal(parseDvrStart(bad), undefined, bad);
  }
});
