// Play authorisation through a real `livecdn edge` process in front of a real origin, both with play
// tokens on (issue 8, item 9): FFmpeg plays the edge's tokenised playlist (segment URIs carry the token;
// the origin checks the edge's fetches and prefetches too), and not the bare one; every viewer joining
// an FLV relay that is already open is checked: play token, and the edge's on_play hook.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMediaPlaylist } from '../../src/media/hls/playlist.js';
import { TagType } from '../../src/media/packet.js';
import { runFfmpeg } from '../helpers/ffmpeg.js';
import { deriveKeys } from '../../src/shared/keys.js';
import { signPlayToken, signPublishToken } from '../../src/shared/token.js';
import { waitListening } from '../helpers/cli-process.js';
import { FlvViewer } from '../helpers/http.js';
import { startOrigin, type TestOrigin } from '../helpers/origin.js';
import { publishTestStream } from '../helpers/publish.js';
import { get, startCliEdge, startHookServer, type CliEdge, type HookServer } from './util.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = 'edge-play-auth-test-root-secret-of-32-bytes';
const KEYS = deriveKeys(ROOT);
const inAnHour = (): number => Math.floor(Date.now() / 1000) + 3600;
const TOKEN = signPlayToken({ app: 'live', stream: 'ep', expSec: inAnHour() }, KEYS.play);

describe('edge process with --play-tokens and --on-play, in front of an origin with --play-tokens', () => {
  let origin: TestOrigin | undefined;
  let edge: CliEdge | undefined;
  let hook: HookServer | undefined;
  let publisher: ReturnType<typeof publishTestStream> | undefined;
  const calls = (protocol: string): number => hook?.calls.filter((c) => c.protocol === protocol && c.stream === 'ep').length ?? 0;

  before(async () => {
    hook = await startHookServer((c) => c.query.deny !== '1');
    origin = await startOrigin({ keys: KEYS, playTokens: true, hlsSegmentMs: 1000, hlsWindow: 6 });
    const pub = signPublishToken({ app: 'live', stream: 'ep', expSec: inAnHour() }, KEYS.publish);
    publisher = publishTestStream(origin.rtmpUrl('live', 'ep', `token=${pub}`), 'baseline+aac-mono', { gopS: 1 });
    edge = await startCliEdge(['--upstream', origin.httpBase, '--play-tokens', '--on-play', hook.url], { LIVECDN_SECRET: ROOT });
    await waitListening(edge, `${edge.base}/healthz`);
    const base = edge.base;
    await waitFor(
      'the playlist through the edge',
      async () => {
        const r = await get(`${base}/live/ep.m3u8?token=${TOKEN}`);
        return r.status === 200 && parseMediaPlaylist(r.body.toString()).segments.length >= 3 ? true : undefined;
      },
      20_000,
      200,
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}\nedge: ${edge?.stderr() ?? ''}\nffmpeg: ${publisher?.log() ?? ''}`);
    });
  });

  after(async () => {
    await edge?.stop();
    await publisher?.stop();
    await origin?.stop();
    await hook?.close();
  });

  test('FFmpeg plays the edge\'s tokenised playlist, not the bare one; segments without a token are refused', async () => {
    const base = edge?.base as string;
    const url = `${base}/live/ep.m3u8?token=${TOKEN}`;
    const text = (await get(url)).body.toString();
    const uris = parseMediaPlaylist(text).segments.map((s) => s.uri);
    for (const uri of uris) assert.ok(uri.endsWith(`?token=${TOKEN}`), uri);
    const ok = await runFfmpeg(['-nostdin', '-v', 'error', '-i', url, '-t', '3', '-f', 'null', '-'], { timeoutMs: 30_000 });
    assert.equal(ok.code, 0, ok.stderr);
    assert.doesNotMatch(ok.stderr, /403|Forbidden/);
    const bare = await runFfmpeg(['-nostdin', '-v', 'error', '-i', `${base}/live/ep.m3u8`, '-t', '3', '-f', 'null', '-'], { timeoutMs: 30_000 });
    assert.notEqual(bare.code, 0);
    assert.match(bare.stderr, /403|Forbidden/);
    // A cached segment (FFmpeg just fetched it) is still refused without a token.
    const last = new URL(uris.at(-1) as string, url);
    assert.equal((await get(last.toString())).status, 200);
    assert.equal((await get(`${base}${last.pathname}`)).status, 403);
    assert.ok(calls('hls') >= 1 && calls('hls') <= 2, `on_play asked once per client and stream for HLS (${calls('hls')})`);
  });

  test('every viewer joining an open FLV relay is checked: token and on_play', async () => {
    const base = edge?.base as string;
    const flv = `${base}/live/ep.flv`;
    const first = await FlvViewer.open(`${flv}?token=${TOKEN}`);
    const viewers = [first];
    try {
      assert.equal(first.status, 200);
      await first.waitFor((p) => p.type === TagType.Video, 10_000);
      assert.equal(calls('flv'), 1);
      // The relay is open now: later viewers must not ride on it unchecked.
      const second = await FlvViewer.open(`${flv}?token=${TOKEN}`);
      viewers.push(second);
      assert.equal(second.status, 200);
      await second.waitFor((p) => p.type === TagType.Video, 10_000);
      assert.equal(calls('flv'), 2, 'on_play asked for the viewer joining the open relay');
      const denied = await FlvViewer.open(`${flv}?token=${TOKEN}&deny=1`);
      viewers.push(denied);
      assert.equal(denied.status, 403, 'the hook refuses a viewer of an open relay');
      const tokenless = await FlvViewer.open(flv);
      viewers.push(tokenless);
      assert.equal(tokenless.status, 403, 'no token, no stream, relay open or not');
      assert.equal(calls('flv'), 3, 'the tokenless viewer was refused before any hook');
      const bytes = first.bytes;
      await waitFor('the first viewer keeps receiving', () => (first.bytes > bytes ? true : undefined), 5000);
    } finally {
      for (const v of viewers) v.close();
    }
  });
});
