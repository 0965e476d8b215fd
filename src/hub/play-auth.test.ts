// PlaylistsForViewers must answer exactly what withPlayToken does, for every viewer's token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlaylistsForViewers, playTokenRefusal, withPlayToken } from './play-auth.js';
import { signPlayToken } from '../shared/token.js';

const TOKEN_A = `1900000000.${'a'.repeat(43)}`;
const TOKEN_B = `1900000001.${'B_-9'.repeat(10)}xyz`;

const PLAYLISTS = [
  '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n#EXTINF:2.000,\ns/7.ts\n#EXTINF:2.000,\ns/8.ts\n',
  // CRLF lines, a token already there (another viewer's), other query parameters, URI attributes.
  `#EXTM3U\r\n#EXT-X-MAP:URI="s/init-7.mp4?token=${TOKEN_B}"\r\n#EXTINF:2.0,\r\ns/7.m4s?token=${TOKEN_B}&x=1\r\n#EXTINF:2.0,\r\ns/8.m4s?x=a%20b\r\n`,
  '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nlow.m3u8\n#EXT-X-MEDIA:TYPE=AUDIO,URI="audio.m3u8"\n',
  // The placeholder itself in a playlist: still exact (the slow way).
  '#EXTM3U\n#EXTINF:2,\n0.livecdn-play-token-placeholder-D2x8Qf7LzA0.ts\n',
  '',
];

test('PlaylistsForViewers: every viewer gets withPlayToken of the shared body, token or none', () => {
  const viewers = new PlaylistsForViewers();
  for (const text of PLAYLISTS) {
    const body = Buffer.from(text, 'utf8');
    for (let round = 0; round < 2; round++) {
      for (const token of [TOKEN_A, undefined, TOKEN_B]) {
        assert.equal(viewers.get(body, token).toString('utf8'), withPlayToken(text, token), `${JSON.stringify(text)} with ${token}`);
      }
    }
  }
});

test('PlaylistsForViewers: a body with no token to strip is served as it is, without a copy', () => {
  const viewers = new PlaylistsForViewers();
  const body = Buffer.from(PLAYLISTS[0] ?? '', 'utf8');
  assert.equal(viewers.get(body, undefined), body);
  assert.notEqual(viewers.get(body, TOKEN_A), body);
});

test('playTokenRefusal: a source\'s token also plays its renditions ({stream}_{rung}, {stream}_source), not the reverse', () => {
  const key = Buffer.alloc(32, 7);
  const q = (stream: string): URLSearchParams => new URLSearchParams({ token: signPlayToken({ app: 'live', stream, expSec: Math.floor(Date.now() / 1000) + 60 }, key) });
  assert.equal(playTokenRefusal(undefined, 'live', 'cam', new URLSearchParams()), undefined);
  assert.equal(playTokenRefusal(key, 'live', 'cam', q('cam')), undefined);
  for (const name of ['cam_360p', 'cam_source', 'cam_low']) assert.equal(playTokenRefusal(key, 'live', name, q('cam')), undefined, name);
  // Not a rung name (upper case, too long, no source part), another source, the rung's token for the source.
  for (const name of ['cam_HD', 'cam_abcdefghijklmnopq', '_360p', 'cam2_360p']) assert.ok(playTokenRefusal(key, 'live', name, q('cam')), name);
  assert.ok(playTokenRefusal(key, 'live', 'cam', q('cam_360p')));
  assert.ok(playTokenRefusal(key, 'other', 'cam_360p', q('cam')));
  assert.match(playTokenRefusal(key, 'live', 'cam_360p', new URLSearchParams()) ?? '', /required/);
});
