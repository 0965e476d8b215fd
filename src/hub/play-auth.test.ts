// Play tokens are per stream: playTokenRefusal takes only a token for the very stream, and a playlist
// hands each URI the token it needs (withPlayTokens: a multivariant playlist's variants get their own).
// PlaylistsForViewers must answer exactly what withPlayTokens does, for every viewer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlaylistsForViewers, playTokenRefusal, withPlayTokens, type PlaylistViewer } from './play-auth.js';
import { signPlayToken, verifyPlayToken } from '../shared/token.js';
import { parseMediaPlaylist, parseMultivariantPlaylist } from '../media/hls/playlist.js';

const KEY = Buffer.alloc(32, 7);
const EXP = Math.floor(Date.now() / 1000) + 600;
const tokenFor = (stream: string, app = 'live', expSec = EXP): string => signPlayToken({ app, stream, expSec }, KEY);
const TOKEN_A = `1900000000.${'a'.repeat(43)}`;
const TOKEN_B = `1900000001.${'B_-9'.repeat(10)}xyz`;
const tokenOfUri = (uri: string): string | null => new URL(uri, 'http://x.invalid/live/').searchParams.get('token');

const MULTIVARIANT = [
  '#EXTM3U',
  '#EXT-X-INDEPENDENT-SEGMENTS',
  '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",URI="cam_audio.m3u8"',
  '#EXT-X-STREAM-INF:BANDWIDTH=900000',
  'cam_source.m3u8',
  '#EXT-X-STREAM-INF:BANDWIDTH=300000',
  `cam_low.m3u8?token=${TOKEN_B}`,
  // Not under cam_: the viewer's own token (never one derived for another stream).
  '#EXT-X-STREAM-INF:BANDWIDTH=200000',
  'other_low.m3u8',
  '#EXT-X-STREAM-INF:BANDWIDTH=100000',
  'camx.m3u8',
  '#EXT-X-STREAM-INF:BANDWIDTH=100000',
  '../cam_low.m3u8',
  '',
].join('\n');

// The source's media playlist (/{app}/cam_source.m3u8): its objects are cam/…; a rendition report.
const SOURCE_MEDIA = [
  '#EXTM3U',
  '#EXT-X-TARGETDURATION:2',
  '#EXT-X-MEDIA-SEQUENCE:7',
  '#EXT-X-MAP:URI="cam/init-7.mp4"',
  '#EXTINF:2.000,',
  'cam/7.m4s',
  '#EXTINF:2.000,',
  `cam/8.m4s?token=${TOKEN_B}`,
  '#EXT-X-RENDITION-REPORT:URI="cam_low.m3u8",LAST-MSN=8',
  '',
].join('\n');

const PLAYLISTS = [
  '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n#EXTINF:2.000,\ns/7.ts\n#EXTINF:2.000,\ns/8.ts\n',
  // CRLF lines, a token already there (another viewer's), other query parameters, URI attributes.
  `#EXTM3U\r\n#EXT-X-MAP:URI="s/init-7.mp4?token=${TOKEN_B}"\r\n#EXTINF:2.0,\r\ns/7.m4s?token=${TOKEN_B}&x=1\r\n#EXTINF:2.0,\r\ns/8.m4s?x=a%20b\r\n`,
  '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nlow.m3u8\n#EXT-X-MEDIA:TYPE=AUDIO,URI="audio.m3u8"\n',
  MULTIVARIANT,
  MULTIVARIANT.replaceAll('\n', '\r\n'),
  SOURCE_MEDIA,
  // The placeholders themselves in a playlist: still exact (the slow way).
  '#EXTM3U\n#EXTINF:2,\n0.livecdn-play-token-slot-0000000000000000000.ts\n',
  '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\ncam_low.m3u8?x=0.livecdn-play-token-slot-0000000000000000001\n',
  '',
];

const VIEWERS: PlaylistViewer[] = [];
for (const stream of ['cam', 'cam_source', 'cam_low', 's']) {
  for (const token of [tokenFor(stream), TOKEN_A, undefined, TOKEN_B]) {
    VIEWERS.push({ app: 'live', stream, token, key: KEY }, { app: 'live', stream, token, key: undefined });
  }
}

test('PlaylistsForViewers: every viewer gets withPlayTokens of the shared body, token or none, derived or not', () => {
  const viewers = new PlaylistsForViewers();
  for (const text of PLAYLISTS) {
    const body = Buffer.from(text, 'utf8');
    for (let round = 0; round < 2; round++) {
      for (const v of VIEWERS) {
        assert.equal(viewers.get(body, v).toString('utf8'), withPlayTokens(text, v), `${JSON.stringify(text)} for ${v.stream} with ${v.token} ${v.key ? 'key' : ''}`);
      }
    }
  }
});

test('PlaylistsForViewers: a body with no token to strip is served as it is, without a copy', () => {
  const viewers = new PlaylistsForViewers();
  const body = Buffer.from(PLAYLISTS[0] ?? '', 'utf8');
  const viewer = { app: 'live', stream: 's', key: KEY };
  assert.equal(viewers.get(body, { ...viewer, token: undefined }), body);
  assert.notEqual(viewers.get(body, { ...viewer, token: TOKEN_A }), body);
});

test('playTokenRefusal: a token plays its own stream only: not a rendition-shaped name, not the source from a rung', () => {
  const q = (stream: string, app = 'live'): URLSearchParams => new URLSearchParams({ token: tokenFor(stream, app) });
  assert.equal(playTokenRefusal(undefined, 'live', 'cam', new URLSearchParams()), undefined);
  assert.equal(playTokenRefusal(KEY, 'live', 'cam', q('cam')), undefined);
  assert.equal(playTokenRefusal(KEY, 'live', 'cam_low', q('cam_low')), undefined);
  assert.equal(playTokenRefusal(KEY, 'live', 'cam_source', q('cam_source')), undefined);
  // A token for cam opens no cam_{x}: cam_private is another stream, and a rung needs its own token too.
  for (const name of ['cam_private', 'cam_360p', 'cam_source', 'cam_low', 'cam_HD', 'cam2']) assert.match(playTokenRefusal(KEY, 'live', name, q('cam')) ?? '', /not valid/, name);
  assert.ok(playTokenRefusal(KEY, 'live', 'cam', q('cam_360p')));
  assert.ok(playTokenRefusal(KEY, 'live', 'cam', q('cam_source')));
  assert.ok(playTokenRefusal(KEY, 'other', 'cam', q('cam')));
  assert.match(playTokenRefusal(KEY, 'live', 'cam_360p', new URLSearchParams()) ?? '', /required/);
  assert.match(playTokenRefusal(KEY, 'live', 'cam', new URLSearchParams({ token: tokenFor('cam', 'live', 1000) })) ?? '', /expired/);
});

test('withPlayTokens: each variant of a multivariant playlist gets a token for its own stream, expiring with the viewer\'s', () => {
  const mine = tokenFor('cam');
  const text = withPlayTokens(MULTIVARIANT, { app: 'live', stream: 'cam', token: mine, key: KEY });
  const variants = parseMultivariantPlaylist(text).variants;
  const expect: Record<string, string> = { 'cam_source.m3u8': 'cam_source', 'cam_low.m3u8': 'cam_low' };
  for (const v of variants) {
    const path = v.uri.split('?')[0] as string;
    const token = tokenOfUri(v.uri) ?? undefined;
    const own = expect[path];
    if (own === undefined) {
      assert.equal(token, mine, `${v.uri}: not under cam_, the viewer's own token`);
      continue;
    }
    assert.deepEqual(verifyPlayToken(token, { app: 'live', stream: own }, KEY), { ok: true, expSec: EXP }, v.uri);
    assert.equal(verifyPlayToken(token, { app: 'live', stream: 'cam' }, KEY).ok, false, `${v.uri}: not a token for the source`);
  }
  assert.deepEqual(variants.map((v) => v.uri.split('?')[0]), ['cam_source.m3u8', 'cam_low.m3u8', 'other_low.m3u8', 'camx.m3u8', '../cam_low.m3u8']);
  const audio = /URI="([^"]+)"/.exec(text)?.[1] ?? '';
  assert.equal(verifyPlayToken(tokenOfUri(audio) ?? undefined, { app: 'live', stream: 'cam_audio' }, KEY).ok, true, audio);
  // Nothing is derived from a token that is not valid for the playlist's stream, nor without a key.
  for (const v of [
    { app: 'live', stream: 'cam', token: tokenFor('cam_low'), key: KEY },
    { app: 'other', stream: 'cam', token: mine, key: KEY },
    { app: 'live', stream: 'cam', token: mine, key: undefined },
  ]) {
    for (const x of parseMultivariantPlaylist(withPlayTokens(MULTIVARIANT, v)).variants) assert.equal(tokenOfUri(x.uri), v.token, x.uri);
  }
});

test('withPlayTokens: the source\'s media playlist ({stream}_source) lists its cam/… objects with a token for cam; a rung\'s keeps its own', () => {
  const mine = tokenFor('cam_source');
  const text = withPlayTokens(SOURCE_MEDIA, { app: 'live', stream: 'cam_source', token: mine, key: KEY });
  const p = parseMediaPlaylist(text);
  const objects = [...p.segments.map((s) => s.uri), p.segments[0]?.map ?? ''];
  assert.equal(objects.length, 3);
  for (const uri of objects) assert.deepEqual(verifyPlayToken(tokenOfUri(uri) ?? undefined, { app: 'live', stream: 'cam' }, KEY), { ok: true, expSec: EXP }, uri);
  assert.equal(tokenOfUri(p.renditionReports?.[0]?.uri ?? ''), mine, 'a rendition report keeps the viewer\'s token');
  // The same lines in a rung's playlist (or a plain stream's) get the viewer's own token: nothing derived.
  const rung = parseMediaPlaylist(withPlayTokens(SOURCE_MEDIA, { app: 'live', stream: 'cam_low', token: tokenFor('cam_low'), key: KEY }));
  for (const s of rung.segments) assert.equal(tokenOfUri(s.uri), tokenFor('cam_low'), s.uri);
});
