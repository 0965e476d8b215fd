// PlaylistsForViewers must answer exactly what withPlayToken does, for every viewer's token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlaylistsForViewers, withPlayToken } from './play-auth.js';

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
