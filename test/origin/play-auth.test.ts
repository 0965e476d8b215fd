// Play authorisation on the origin (issue 8, item 9): with play tokens on, every path that serves media
// (.m3u8, segments, .flv, RTMP play) needs a valid play token, guessed segment numbers give nothing, a playlist
// fetched with a token lists its segments with it (FFmpeg then plays it: the URIs carry the token), and
// HLS asks the on_play hook once per client address and stream, not on every request.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMediaPlaylist } from '../../src/media/hls/playlist.js';
import { TagType } from '../../src/media/packet.js';
import { RtmpClient, RtmpStatusError } from '../rtmp/client.js';
import { runFfmpeg } from '../helpers/ffmpeg.js';
import { deriveKeys } from '../../src/shared/keys.js';
import { signPlayToken, signPublishToken } from '../../src/shared/token.js';
import { FlvViewer } from '../helpers/http.js';
import { startOrigin, type TestOrigin } from '../helpers/origin.js';
import { publishTestStream } from '../helpers/publish.js';
import { get, startHookServer, type HookServer } from '../edge/util.js';
import { waitFor } from '../helpers/wait.js';

const KEYS = deriveKeys('origin-play-auth-test-root-secret-32+');
const inAnHour = (): number => Math.floor(Date.now() / 1000) + 3600;
const playToken = (stream: string, key = KEYS.play): string => signPlayToken({ app: 'live', stream, expSec: inAnHour() }, key);
// 127.0.0.3 is the client the hook refuses.
const REFUSED_ADDRESS = '127.0.0.3';

/** FFmpeg reading `url` for a few seconds, as a player would: its exit code and what it printed. */
async function play(url: string): Promise<{ code: number | null; out: string }> {
  const r = await runFfmpeg(['-nostdin', '-v', 'error', '-i', url, '-t', '3', '-f', 'null', '-'], { timeoutMs: 30_000 });
  return { code: r.code, out: (r.stderr + r.stdout).trim() };
}

describe('origin with --play-tokens and an on_play hook', () => {
  let origin: TestOrigin;
  let hook: HookServer;
  let publisher: ReturnType<typeof publishTestStream> | undefined;
  let token = '';
  let playlistUrl = '';

  before(async () => {
    hook = await startHookServer((c) => c.remoteAddress !== REFUSED_ADDRESS);
    origin = await startOrigin({ keys: KEYS, playTokens: true, onPlay: hook.url, hlsSegmentMs: 1000, hlsWindow: 6 });
    const pub = signPublishToken({ app: 'live', stream: 'pt', expSec: inAnHour() }, KEYS.publish);
    publisher = publishTestStream(origin.rtmpUrl('live', 'pt', `token=${pub}`), 'baseline+aac-mono', { gopS: 1 });
    token = playToken('pt');
    playlistUrl = `${origin.hlsUrl('live', 'pt')}?token=${token}`;
    await waitFor(
      'a playlist with 3 segments',
      async () => {
        const r = await get(playlistUrl);
        return r.status === 200 && parseMediaPlaylist(r.body.toString()).segments.length >= 3 ? true : undefined;
      },
      20_000,
      200,
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}\nffmpeg: ${publisher?.log() ?? ''}`);
    });
  });

  after(async () => {
    await publisher?.stop();
    await origin?.stop();
    await hook?.close();
  });

  test('playlists, segments and FLV need a valid play token; guessed segment numbers give nothing', async () => {
    const text = (await get(playlistUrl)).body.toString();
    const uris = parseMediaPlaylist(text).segments.map((s) => s.uri);
    assert.ok(uris.length >= 3);
    for (const uri of uris) assert.match(uri, new RegExp(`^pt/\\d+\\.ts\\?token=${token.replace('.', '\\.')}$`), 'every URI carries the token');
    const listed = new URL(uris.at(-1) as string, origin.hlsUrl('live', 'pt'));
    const seq = Number(/(\d+)\.ts$/.exec(listed.pathname)?.[1]);
    assert.equal((await get(listed.toString())).status, 200, 'a listed segment with the token');

    const segment = (n: number, query = ''): string => `${origin.httpBase}/live/pt/${n}.ts${query}`;
    const refused: [string, string][] = [
      [origin.hlsUrl('live', 'pt'), 'playlist without a token'],
      [`${origin.hlsUrl('live', 'pt')}?token=${playToken('other')}`, 'playlist with another stream\'s token'],
      [`${origin.hlsUrl('live', 'pt')}?token=${playToken('pt', KEYS.publish)}`, 'playlist with a token of another key'],
      [segment(seq), 'a listed segment without a token'],
      [segment(seq - 1), 'a guessed earlier segment'],
      [segment(seq, `?token=${playToken('other')}`), 'a segment with another stream\'s token'],
      [origin.flvUrl('live', 'pt'), 'FLV without a token'],
      [`${origin.flvUrl('live', 'pt')}?token=nope`, 'FLV with a malformed token'],
    ];
    for (const [url, what] of refused) assert.equal((await get(url)).status, 403, what);

    const flv = await FlvViewer.open(`${origin.flvUrl('live', 'pt')}?token=${token}`);
    try {
      assert.equal(flv.status, 200);
      await flv.waitFor((p) => p.type === TagType.Video, 5000);
    } finally {
      flv.close();
    }
  });

  test('RTMP play needs the play token too', async () => {
    for (const [stream, reason] of [
      ['pt', /play token is required/],
      [`pt?token=${playToken('other')}`, /not valid/],
    ] as const) {
      const c = await RtmpClient.connect(`rtmp://127.0.0.1:${origin.rtmpPort}/live`);
      try {
        await assert.rejects(c.play(stream, () => undefined), (e: unknown) => e instanceof RtmpStatusError && e.code === 'NetStream.Play.Failed' && reason.test(e.message));
      } finally {
        c.close();
      }
    }
    const c = await RtmpClient.connect(`rtmp://127.0.0.1:${origin.rtmpPort}/live`);
    try {
      let video = 0;
      await c.play(`pt?token=${token}`, (p) => (video += p.type === TagType.Video ? 1 : 0));
      await waitFor('RTMP video', () => (video > 0 ? true : undefined), 5000);
    } finally {
      c.close();
    }
  });

  test('FFmpeg plays the tokenised playlist (its segment URIs carry the token) and not the bare one', async () => {
    const ok = await play(playlistUrl);
    assert.equal(ok.code, 0, ok.out);
    assert.doesNotMatch(ok.out, /403|Forbidden/, ok.out);
    const bare = await play(origin.hlsUrl('live', 'pt'));
    assert.notEqual(bare.code, 0, 'no token: FFmpeg cannot open the playlist');
    assert.match(bare.out, /403|Forbidden/);
  });

  test('HLS asks on_play once per client address and stream, not per playlist refresh or segment', async () => {
    const asked = (address: string): number =>
      hook.calls.filter((c) => c.action === 'play' && c.protocol === 'hls' && c.remoteAddress === address && c.stream === 'pt').length;
    const client = '127.0.0.2';
    assert.equal(asked(client), 0);
    for (let i = 0; i < 5; i++) {
      const r = await get(playlistUrl, {}, 'GET', client);
      assert.equal(r.status, 200);
      const uri = parseMediaPlaylist(r.body.toString()).segments.at(-1)?.uri as string;
      assert.equal((await get(new URL(uri, origin.hlsUrl('live', 'pt')).toString(), {}, 'GET', client)).status, 200);
    }
    assert.equal(asked(client), 1, 'one hook call for ten requests of one client');
    assert.equal(hook.calls.find((c) => c.remoteAddress === client)?.query.token, token, 'the hook sees the query');

    // The hook refuses this client: playlists and segments alike, and the refusal is cached too.
    for (let i = 0; i < 3; i++) {
      assert.equal((await get(playlistUrl, {}, 'GET', REFUSED_ADDRESS)).status, 403);
      assert.equal((await get(`${origin.httpBase}/live/pt/1.ts?token=${token}`, {}, 'GET', REFUSED_ADDRESS)).status, 403);
    }
    assert.equal(asked(REFUSED_ADDRESS), 1);
  });
});
