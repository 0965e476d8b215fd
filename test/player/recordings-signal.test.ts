// The signal's side of the recordings page and the DVR player (issue 12), against a fake origin over
// real HTTP: GET /api/recordings (admin) merges the origins' lists with signed VOD and thumbnail URLs and
// drops entries that break the URL contract; DELETE passes the delete on to the origin with the admin
// bearer, its 409 included; an origin's oversized or failing answer is an error entry, not a failure;
// the play answer and /api/streams carry `dvr` and `snapshot` URLs from the origin's heartbeat.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { adminToken, deriveKeys } from '../../src/shared/keys.js';
import { signRequest, SIGNATURE_HEADER } from '../../src/shared/signed-request.js';
import { verifyPlayToken } from '../../src/shared/token.js';
import { Signal } from '../../src/signal/signal.js';
import { MAX_RECORDINGS_BODY_BYTES, mergeRecordings } from '../../src/signal/recordings.js';
import { closeServer, listen } from './helpers.js';

const SECRET = 'recordings-signal-test-secret-of-32-bytes';
const keys = deriveKeys(SECRET);
const ADMIN = { authorization: `Bearer ${adminToken(keys)}` };

const entry = (name: string, extra: object = {}) => ({
  id: `live/cam/${name}`,
  app: 'live',
  stream: 'cam',
  name,
  startedAt: `${name.slice(0, 4)}-${name.slice(4, 6)}-${name.slice(6, 8)}T${name.slice(9, 11)}:${name.slice(11, 13)}:${name.slice(13, 15)}.000Z`,
  endedAt: null,
  durationMs: 12_000,
  bytes: 800_000,
  state: 'done',
  session: name,
  part: 0,
  vod: `/live/cam/rec/${name}.m3u8`,
  file: `/api/recordings/live/cam/${name}.flv`,
  ...extra,
});

interface Seen {
  method: string;
  url: string;
  auth: string | undefined;
}

describe('signal: recordings and DVR URLs', () => {
  let origin: Server | undefined;
  let signal: Signal | undefined;
  let originUrl = '';
  let base = '';
  const seen: Seen[] = [];
  let mode: 'ok' | 'huge' | 'down' = 'ok';

  before(async () => {
    origin = createServer((req: IncomingMessage, res: ServerResponse) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization });
      const json = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.headers.authorization !== ADMIN.authorization) return json(401, { error: 'unauthorized' });
      if (req.method === 'GET' && req.url?.startsWith('/api/recordings')) {
        if (mode === 'down') return json(500, { error: 'internal' });
        if (mode === 'huge') {
          res.writeHead(200, { 'content-type': 'application/json' });
          // No content-length: the signal must count what arrives.
          res.write('{"recordings":[');
          res.end('"x",'.repeat(Math.ceil(MAX_RECORDINGS_BODY_BYTES / 4) + 10) + '"x"]}');
          return;
        }
        return json(200, {
          recordings: [
            entry('20261130-080000'),
            entry('20261130-090000', { thumbs: { sprite: '/x', vtt: '/y' }, state: 'recording' }),
            { ...entry('20261130-070000'), app: '../etc' },
            { ...entry('20261130-070000'), name: '2026-11-30' },
            { ...entry('20261130-070000'), state: 'weird' },
            'junk',
          ],
        });
      }
      if (req.method === 'DELETE' && req.url === '/api/recordings/live/cam/20261130-080000') return json(200, { deleted: true });
      if (req.method === 'DELETE' && req.url === '/api/recordings/live/cam/20261130-090000') return json(409, { error: 'recording', message: 'still being recorded' });
      return json(404, { error: 'not_found', message: 'no such recording' });
    });
    originUrl = `http://127.0.0.1:${await listen(origin)}`;
    signal = new Signal({ apiPort: 0, host: '127.0.0.1', keys, playTokens: true, nodeTtlMs: 60_000 });
    base = `http://127.0.0.1:${(await signal.start()).apiPort}`;
    // The origin registers and says, in its heartbeat, that live/cam has video and a DVR window.
    const signed = async (path: string, body: unknown): Promise<Response> => {
      const text = JSON.stringify(body);
      return fetch(base + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signRequest(keys.node, 'POST', path, text) },
        body: text,
      });
    };
    assert.equal((await signed('/api/nodes', { id: 'origin-a', kind: 'origin', region: 'eu', publicUrl: originUrl, rtmpUrl: 'rtmp://127.0.0.1:1', capacity: 10 })).status, 201);
    const load = {
      viewers: 0,
      publishers: 1,
      egressBps: 0,
      cpu: 0,
      streams: ['live/cam', 'live/nodvr'],
      streamStats: [
        { stream: 'live/cam', viewers: 0, publishing: true, video: 'h264', dvr: { windowMs: 120_000, fromMs: 1_764_489_600_000, segments: 60 } },
        { stream: 'live/nodvr', viewers: 0, publishing: true, audio: 'aac' },
      ],
    };
    assert.equal((await signed('/api/nodes/origin-a/heartbeat', { id: 'origin-a', load })).status, 204);
  });

  after(async () => {
    await signal?.stop();
    await closeServer(origin);
  });

  it('GET /api/recordings needs the admin bearer', async () => {
    const r = await fetch(`${base}/api/recordings`);
    assert.equal(r.status, 401);
  });

  it('merges the origin list: valid entries only, newest first, signed VOD and thumbnail URLs, the file on the origin', async () => {
    mode = 'ok';
    seen.length = 0;
    const r = await fetch(`${base}/api/recordings?app=live`, { headers: ADMIN });
    assert.equal(r.status, 200);
    const body = (await r.json()) as { recordings: Record<string, unknown>[]; origins: number; errors: unknown[] };
    assert.equal(body.origins, 1);
    assert.deepEqual(body.errors, []);
    assert.deepEqual(
      body.recordings.map((x) => x.id),
      ['live/cam/20261130-090000', 'live/cam/20261130-080000'],
    );
    assert.equal(seen[0]?.url, '/api/recordings?app=live', 'the filter is passed on');
    const [rec, done] = body.recordings as [{ urls: Record<string, string | null>; origin: { id: string } }, { urls: Record<string, string | null> }];
    assert.equal(rec.origin.id, 'origin-a');
    const vod = new URL(rec.urls.vod ?? '');
    assert.equal(vod.origin + vod.pathname, `${originUrl}/live/cam/rec/20261130-090000.m3u8`);
    const check = verifyPlayToken(vod.searchParams.get('token') ?? '', { app: 'live', stream: 'cam' }, keys.play, Math.floor(Date.now() / 1000));
    assert.ok(check.ok, 'the VOD URL carries a play token for live/cam');
    assert.match(rec.urls.sprite ?? '', /\/live\/cam\/rec\/20261130-090000\/thumbs\.jpg\?token=/);
    assert.match(rec.urls.vtt ?? '', /\/live\/cam\/rec\/20261130-090000\/thumbs\.vtt\?token=/);
    assert.equal(done.urls.sprite, null, 'no thumbs: no sprite URL');
    assert.equal(done.urls.file, `${originUrl}/api/recordings/live/cam/20261130-080000.flv`);
  });

  it('refuses a bad filter', async () => {
    const r = await fetch(`${base}/api/recordings?app=../x`, { headers: ADMIN });
    assert.equal(r.status, 400);
  });

  it("an origin's failing or oversized answer is an error entry, not a failure", async () => {
    for (const m of ['down', 'huge'] as const) {
      mode = m;
      const r = await fetch(`${base}/api/recordings`, { headers: ADMIN });
      assert.equal(r.status, 200);
      const body = (await r.json()) as { recordings: unknown[]; errors: { origin: string; error: string }[] };
      assert.deepEqual(body.recordings, []);
      assert.equal(body.errors[0]?.origin, 'origin-a');
      assert.match(body.errors[0]?.error ?? '', m === 'down' ? /HTTP 500/ : /over \d+ bytes/);
    }
    mode = 'ok';
  });

  it('DELETE passes the delete on with the admin bearer; 409 and 404 come back as the origin says', async () => {
    seen.length = 0;
    const ok = await fetch(`${base}/api/recordings/live/cam/20261130-080000?origin=origin-a`, { method: 'DELETE', headers: ADMIN });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { deleted: 'live/cam/20261130-080000', origin: 'origin-a' });
    assert.deepEqual(seen[0], { method: 'DELETE', url: '/api/recordings/live/cam/20261130-080000', auth: ADMIN.authorization });
    const busy = await fetch(`${base}/api/recordings/live/cam/20261130-090000`, { method: 'DELETE', headers: ADMIN });
    assert.equal(busy.status, 409);
    assert.equal(((await busy.json()) as { error: string }).error, 'recording');
    assert.equal((await fetch(`${base}/api/recordings/live/cam/20261130-100000`, { method: 'DELETE', headers: ADMIN })).status, 404);
    assert.equal((await fetch(`${base}/api/recordings/live/cam/20261130-080000?origin=nope`, { method: 'DELETE', headers: ADMIN })).status, 404);
    assert.equal((await fetch(`${base}/api/recordings/live/cam/2026-11-30`, { method: 'DELETE', headers: ADMIN })).status, 400);
    assert.equal((await fetch(`${base}/api/recordings/live/cam/20261130-080000`, { method: 'DELETE' })).status, 401);
  });

  it('the play answer carries signed dvr and snapshot URLs when the heartbeat says so, and /api/streams the window', async () => {
    const r = (await (await fetch(`${base}/api/play/live/cam`)).json()) as Record<string, unknown>;
    const dvr = new URL(String(r.dvr));
    assert.equal(dvr.origin + dvr.pathname, `${originUrl}/live/cam/dvr.m3u8`);
    assert.equal(dvr.searchParams.get('token'), r.token);
    assert.equal(String(r.snapshot), `${originUrl}/live/cam.jpg?token=${String(r.token)}`);
    const other = (await (await fetch(`${base}/api/play/live/nodvr`)).json()) as Record<string, unknown>;
    assert.equal(other.dvr, undefined, 'no DVR window: no dvr URL');
    assert.equal(other.snapshot, undefined, 'no video: no snapshot URL');
    const streams = (await (await fetch(`${base}/api/streams`)).json()) as { streams: { app: string; stream: string; dvr: unknown; snapshot: string | null }[] };
    const cam = streams.streams.find((s) => s.stream === 'cam');
    assert.deepEqual(cam?.dvr, { windowMs: 120_000, fromMs: 1_764_489_600_000, segments: 60 });
    assert.match(cam?.snapshot ?? '', /\/live\/cam\.jpg\?token=/);
  });
});

describe('mergeRecordings', () => {
  it('keeps one entry per origin and id and caps what it reads', () => {
    const o = { id: 'o1', url: 'http://o1' };
    const merged = mergeRecordings(
      [
        { origin: o, body: { recordings: [entry('20261130-080000'), entry('20261130-080000')] } },
        { origin: { id: 'o2', url: 'http://o2/' }, body: { recordings: [entry('20261130-080000', { durationMs: -5, bytes: 'x' })] } },
        { origin: o, body: 'not json' },
        { origin: o, body: { recordings: 'nope' } },
      ],
      () => undefined,
    );
    assert.equal(merged.length, 2);
    assert.equal(merged[1]?.urls.vod, 'http://o2/live/cam/rec/20261130-080000.m3u8', 'no token when play tokens are off');
    assert.equal(merged[1]?.durationMs, 0);
    assert.equal(merged[1]?.bytes, 0);
  });
});
