// The play answer's renditions (issue 11): an origin's heartbeat carries a source's transcoding ladder
// (`ladder`, `transcode` in its stream stats); the signal lists them in GET /api/streams and hands each
// rendition's HLS and HTTP-FLV URLs on the chosen edge, each with a play token for its own hub stream.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Signal } from '../../src/signal/signal.js';
import { MAX_LADDER_RENDITIONS } from '../../src/signal/schemas.js';
import { verifyPlayToken } from '../../src/shared/token.js';
import { TEST_KEYS, edge, load, nodeReq, req } from './util.js';

const ORIGIN = { id: 'origin-abr', kind: 'origin' as const, region: 'eu', publicUrl: 'http://origin-abr.test:8080', rtmpUrl: 'rtmp://origin-abr.test:1935', capacity: 10 };

const LADDER = [
  { rung: 'source', stream: 'cam', width: 640, height: 360, bandwidthBps: 900_000, averageBandwidthBps: 700_000, codecs: 'avc1.4d401e,mp4a.40.2', live: true },
  { rung: '240p', stream: 'cam_240p', width: 426, height: 240, bandwidthBps: 420_000, codecs: 'avc1.64001e,mp4a.40.2', live: true },
  { rung: '160p', stream: 'cam_160p', height: 160, bandwidthBps: 200_000, live: false },
];
const TRANSCODE = { where: 'local', rungsUp: 1, restarts: 2, speed: 1.25 };

const originLoad = (ladder: unknown[] = LADDER) => ({
  ...load(0, ['live/cam', 'live/cam_240p'], 1),
  streamStats: [
    { stream: 'live/cam', viewers: 0, publishing: true, ladder, transcode: TRANSCODE },
    { stream: 'live/cam_240p', viewers: 0, publishing: true },
  ],
});

interface Rendition {
  rung: string;
  stream: string;
  live: boolean;
  width?: number;
  height?: number;
  bandwidthBps?: number;
  hls: string;
  flv: string;
}

const tokenOf = (url: string): string | undefined => new URL(url).searchParams.get('token') ?? undefined;

describe('signal: renditions of a transcoding ladder', () => {
  let signal: Signal;
  let base: string;

  before(async () => {
    signal = new Signal({ apiPort: 0, host: '127.0.0.1', keys: TEST_KEYS, playTokens: true, playTokenTtlMs: 600_000 });
    base = `http://127.0.0.1:${(await signal.start()).apiPort}`;
    assert.equal((await nodeReq(base, 'POST', '/api/nodes', ORIGIN)).status, 201);
    assert.equal((await nodeReq(base, 'POST', '/api/nodes', edge('edge-abr', 'eu'))).status, 201);
    assert.equal((await nodeReq(base, 'POST', `/api/nodes/${ORIGIN.id}/heartbeat`, { load: originLoad() })).status, 204);
  });

  after(async () => {
    await signal?.stop();
  });

  test('the play answer lists the ladder, source first, as URLs on the chosen edge with their own play tokens', async () => {
    const r = await req(base, 'GET', '/api/play/live/cam?region=eu');
    assert.equal(r.status, 200);
    assert.equal(r.body.via, 'edge');
    const edgeBase = 'http://edge-abr.test:8080';
    assert.equal(String(r.body.hls).split('?')[0], `${edgeBase}/live/cam.m3u8`, 'the main HLS URL is the multivariant playlist');
    const renditions = r.body.renditions as Rendition[];
    assert.deepEqual(
      renditions.map(({ hls, flv, ...rest }) => ({ ...rest, hls: hls.split('?')[0], flv: flv.split('?')[0] })),
      [
        { rung: 'source', stream: 'cam', live: true, width: 640, height: 360, bandwidthBps: 900_000, hls: `${edgeBase}/live/cam_source.m3u8`, flv: `${edgeBase}/live/cam.flv` },
        { rung: '240p', stream: 'cam_240p', live: true, width: 426, height: 240, bandwidthBps: 420_000, hls: `${edgeBase}/live/cam_240p.m3u8`, flv: `${edgeBase}/live/cam_240p.flv` },
        { rung: '160p', stream: 'cam_160p', live: false, height: 160, bandwidthBps: 200_000, hls: `${edgeBase}/live/cam_160p.m3u8`, flv: `${edgeBase}/live/cam_160p.flv` },
      ],
    );
    // Each URL's token is for the stream it names: the source's HLS URL names cam_source.m3u8.
    for (const x of renditions) {
      for (const [url, stream] of [[x.hls, x.rung === 'source' ? 'cam_source' : x.stream], [x.flv, x.stream]] as const) {
        const check = verifyPlayToken(tokenOf(url), { app: 'live', stream }, TEST_KEYS.play);
        assert.ok(check.ok, `${url}: a play token for live/${stream}`);
      }
    }
    // A rung's token is its own: it does not open the source.
    const rungToken = tokenOf(renditions[1]?.flv ?? '');
    assert.equal(verifyPlayToken(rungToken, { app: 'live', stream: 'cam' }, TEST_KEYS.play).ok, false);
    // The source rendition carries the answer's own token.
    assert.equal(tokenOf(renditions[0]?.flv ?? ''), r.body.token);
  });

  test('a stream without a ladder, or an unknown one, has no renditions', async () => {
    const r = await req(base, 'GET', '/api/play/live/other?region=eu');
    assert.equal(r.status, 200);
    assert.equal(r.body.renditions, undefined);
    // the rung streams themselves are ordinary streams: no ladder of their own
    const rung = await req(base, 'GET', '/api/play/live/cam_240p?region=eu');
    assert.equal(rung.body.renditions, undefined);
  });

  test('GET /api/streams carries the ladder and the transcoder state; edges do not add their own', async () => {
    // An edge relaying the same streams reports no ladder: the origin's stands.
    await nodeReq(base, 'POST', '/api/nodes/edge-abr/heartbeat', {
      load: { ...load(3, ['live/cam']), streamStats: [{ stream: 'live/cam', viewers: 3, ladder: [{ rung: 'bogus', stream: 'x', live: true }] }] },
    });
    const r = await req(base, 'GET', '/api/streams');
    const streams = r.body.streams as { app: string; stream: string; ladder: unknown; transcode: unknown }[];
    const cam = streams.find((s) => s.app === 'live' && s.stream === 'cam');
    assert.deepEqual(cam?.ladder, LADDER);
    assert.deepEqual(cam?.transcode, TRANSCODE);
    const rung = streams.find((s) => s.stream === 'cam_240p');
    assert.equal(rung?.ladder, null);
    assert.equal(rung?.transcode, null);
  });

  test("a remote transcoder's speed fills in the origin's unknown one", async () => {
    const remoteLoad = { ...originLoad(), streamStats: [{ stream: 'live/cam', viewers: 0, publishing: true, ladder: LADDER, transcode: { where: 'remote', rungsUp: 1, restarts: 0, speed: null } }] };
    assert.equal((await nodeReq(base, 'POST', `/api/nodes/${ORIGIN.id}/heartbeat`, { load: remoteLoad })).status, 204);
    const tc = { id: 'tc-1', kind: 'transcoder' as const, region: 'eu', publicUrl: 'http://tc-1.test:8091', capacity: 4 };
    assert.equal((await nodeReq(base, 'POST', '/api/nodes', tc)).status, 201);
    const tcLoad = { ...load(0, ['live/cam']), streamStats: [{ stream: 'live/cam', viewers: 0, transcode: { where: 'remote', rungsUp: 2, restarts: 1, speed: 1.5 } }] };
    assert.equal((await nodeReq(base, 'POST', '/api/nodes/tc-1/heartbeat', { load: tcLoad })).status, 204);
    const streams = (await req(base, 'GET', '/api/streams')).body.streams as { stream: string; transcode: unknown }[];
    // The origin's word on rungs up and restarts (it sees the rung publishes), the transcoder's on speed.
    assert.deepEqual(streams.find((s) => s.stream === 'cam')?.transcode, { where: 'remote', rungsUp: 1, restarts: 0, speed: 1.5 });
    await nodeReq(base, 'DELETE', '/api/nodes/tc-1');
    assert.equal((await nodeReq(base, 'POST', `/api/nodes/${ORIGIN.id}/heartbeat`, { load: originLoad() })).status, 204);
  });

  test('heartbeat ladders are bounded and checked; names that would not be valid streams are left out of URLs', async () => {
    const many = Array.from({ length: MAX_LADDER_RENDITIONS + 1 }, (_, i) => ({ rung: `r${i}`, stream: `cam_r${i}`, live: true }));
    assert.equal((await nodeReq(base, 'POST', `/api/nodes/${ORIGIN.id}/heartbeat`, { load: originLoad(many) })).status, 400);
    const badWhere = { ...originLoad(), streamStats: [{ stream: 'live/cam', viewers: 0, transcode: { ...TRANSCODE, where: 'moon' } }] };
    assert.equal((await nodeReq(base, 'POST', `/api/nodes/${ORIGIN.id}/heartbeat`, { load: badWhere })).status, 400);
    assert.equal((await nodeReq(base, 'POST', `/api/nodes/${ORIGIN.id}/heartbeat`, { load: originLoad([{ rung: 'x'.repeat(17), stream: 's', live: true }]) })).status, 400);

    // Upper case, dots or a rung that makes {stream}_{rung} longer than 64 characters: no URL.
    const odd = [
      { rung: 'source', stream: 'cam', live: true },
      { rung: 'HD', stream: 'cam_HD', live: true },
      { rung: 'a.b', stream: 'cam_a.b', live: true },
      { rung: '360p', stream: 'cam_360p', live: true },
    ];
    assert.equal((await nodeReq(base, 'POST', `/api/nodes/${ORIGIN.id}/heartbeat`, { load: originLoad(odd) })).status, 204);
    const r = await req(base, 'GET', '/api/play/live/cam?region=eu');
    assert.deepEqual((r.body.renditions as Rendition[]).map((x) => x.rung), ['source', '360p']);
    const longName = 'n'.repeat(60);
    const longLoad = { ...load(0, [`live/${longName}`], 1), streamStats: [{ stream: `live/${longName}`, viewers: 0, publishing: true, ladder: odd }] };
    assert.equal((await nodeReq(base, 'POST', `/api/nodes/${ORIGIN.id}/heartbeat`, { load: longLoad })).status, 204);
    const long = await req(base, 'GET', `/api/play/live/${longName}?region=eu`);
    // `${longName}_source` would be 67 characters: not a stream name, so not even the source is listed.
    assert.equal(long.status, 200);
    assert.equal(long.body.renditions, undefined);
  });
});
