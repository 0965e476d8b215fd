// The recordings API (admin bearer): 401 without it on every route; POST/DELETE …/record start and stop
// a live stream's recording; the list and one entry; the file with Range (206, 416, HEAD); DELETE (409
// while recording, 200 after, then 404); and the --on-record-done hook's POST.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminToken, deriveKeys } from '../../src/shared/keys.js';
import { signPublishToken } from '../../src/shared/token.js';
import { recordingApiPath, recordingFilePath, streamRecordPath } from '../../src/shared/url-contract.js';
import { parseByteRange } from '../../src/record/recordings-api.js';
import { startOrigin } from '../helpers/origin.js';
import { waitFor } from '../helpers/wait.js';
import { publishTee } from './record-helpers.js';

const KEYS = deriveKeys('record-api-test-root-secret-of-32-bytes');
const ADMIN = { Authorization: `Bearer ${adminToken(KEYS)}` };

test('parseByteRange: one range, suffix ranges, open ends, unsatisfiable and ignored forms', () => {
  assert.deepEqual(parseByteRange('bytes=0-99', 1000), { start: 0, end: 99 });
  assert.deepEqual(parseByteRange('bytes=900-', 1000), { start: 900, end: 999 });
  assert.deepEqual(parseByteRange('bytes=-10', 1000), { start: 990, end: 999 });
  assert.deepEqual(parseByteRange('bytes=-5000', 1000), { start: 0, end: 999 });
  assert.deepEqual(parseByteRange('bytes=990-5000', 1000), { start: 990, end: 999 });
  assert.equal(parseByteRange('bytes=1000-', 1000), 'unsatisfiable');
  assert.equal(parseByteRange('bytes=50-10', 1000), 'unsatisfiable');
  assert.equal(parseByteRange('bytes=-0', 1000), 'unsatisfiable');
  assert.equal(parseByteRange('bytes=0-', 0), 'unsatisfiable');
  for (const ignored of [undefined, 'bytes=0-1,5-9', 'items=0-1', 'bytes=-', 'bytes=a-b', 'bytes=9999999999999999-']) assert.equal(parseByteRange(ignored, 1000), undefined, String(ignored));
});

test('recordings API: admin only, start/stop, list, entry, Range, DELETE, on_record_done', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rs-api-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const hooked: Record<string, unknown>[] = [];
  const hook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (b: Buffer) => (body += b.toString()));
    req.on('end', () => {
      hooked.push(JSON.parse(body) as Record<string, unknown>);
      res.end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => hook.close(() => r())));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/done`;
  // No pattern: nothing is recorded until asked.
  const o = await startOrigin({ keys: KEYS, record: { dir, onRecordDone: hookUrl } }, t);
  const api = (path: string, init: RequestInit = {}): Promise<Response> => fetch(o.httpBase + path, { ...init, headers: { ...ADMIN, ...(init.headers as object) } });

  assert.equal((await api(streamRecordPath('live', 'a'), { method: 'POST' })).status, 404, 'not live');
  const token = signPublishToken({ app: 'live', stream: 'a', expSec: Math.floor(Date.now() / 1000) + 120 }, KEYS.publish);
  const pub = publishTee(o.rtmpUrl('live', 'a', `token=${token}`), undefined, 30);
  t.after(() => pub.stop());
  await waitFor('live/a live', () => o.origin.hub.get('live', 'a') !== undefined, 20_000);
  assert.equal(o.origin.recordings?.list().length, 0, 'not recorded without a pattern');

  for (const [method, path] of [
    ['GET', '/api/recordings'],
    ['GET', recordingApiPath('live', 'a', '20260101-000000')],
    ['DELETE', recordingApiPath('live', 'a', '20260101-000000')],
    ['GET', recordingFilePath('live', 'a', '20260101-000000')],
    ['HEAD', recordingFilePath('live', 'a', '20260101-000000')],
    ['POST', streamRecordPath('live', 'a')],
    ['DELETE', streamRecordPath('live', 'a')],
  ] as const) {
    const res = await fetch(o.httpBase + path, { method, headers: { Authorization: 'Bearer wrong' } });
    assert.equal(res.status, 401, `${method} ${path}`);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer');
  }

  const started = await api(streamRecordPath('live', 'a'), { method: 'POST' });
  assert.equal(started.status, 201);
  assert.equal((await api(streamRecordPath('live', 'a'), { method: 'POST' })).status, 200, 'already recording');
  const rec = await waitFor('1.5 s recorded', () => {
    const r = o.origin.recordings?.list({ app: 'live', stream: 'a' })[0];
    return r && r.durationMs >= 1500 ? r : undefined;
  }, 20_000);
  assert.equal((await api(recordingApiPath('live', 'a', rec.name), { method: 'DELETE' })).status, 409, 'not while recording');

  const stopped = await api(streamRecordPath('live', 'a'), { method: 'DELETE' });
  assert.equal(stopped.status, 200);
  assert.deepEqual(await stopped.json(), { stopped: 'live/a', id: rec.id });
  assert.equal((await api(streamRecordPath('live', 'a'), { method: 'DELETE' })).status, 404, 'not recording any more');
  await waitFor('the file to end', () => rec.state === 'done', 10_000);
  const done = await waitFor('on_record_done', () => hooked[0], 5000);
  assert.deepEqual(done, { action: 'record_done', app: 'live', stream: 'a', id: rec.id, file: rec.file, durationMs: rec.durationMs, bytes: rec.bytes, state: 'done' });

  const list = (await (await api('/api/recordings?app=live')).json()) as { recordings: Record<string, unknown>[] };
  assert.equal(list.recordings.length, 1);
  const entry = list.recordings[0];
  assert.deepEqual(entry, {
    id: rec.id,
    app: 'live',
    stream: 'a',
    name: rec.name,
    startedAt: new Date(rec.startedAt).toISOString(),
    endedAt: new Date(rec.endedAt as number).toISOString(),
    durationMs: rec.durationMs,
    bytes: rec.bytes,
    state: 'done',
    session: rec.name,
    part: 0,
    vod: `/live/a/rec/${rec.name}.m3u8`,
    file: `/api/recordings/live/a/${rec.name}.flv`,
  });
  assert.deepEqual((await (await api('/api/recordings?stream=other')).json()) as object, { recordings: [] });
  assert.equal((await api('/api/recordings?app=bad%20name')).status, 400);
  assert.deepEqual(await (await api(recordingApiPath('live', 'a', rec.name))).json(), entry);
  assert.equal((await api(recordingApiPath('live', 'a', '20200101-000000'))).status, 404);

  // The file, whole and in ranges.
  const bytes = await readFile(rec.file);
  const whole = await api(recordingFilePath('live', 'a', rec.name));
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.get('accept-ranges'), 'bytes');
  assert.equal(whole.headers.get('content-type'), 'video/x-flv');
  assert.ok(Buffer.from(await whole.arrayBuffer()).equals(bytes));
  const part = await api(recordingFilePath('live', 'a', rec.name), { headers: { Range: 'bytes=100-1099' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 100-1099/${bytes.length}`);
  assert.ok(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100, 1100)));
  const tail = await api(recordingFilePath('live', 'a', rec.name), { headers: { Range: 'bytes=-16' } });
  assert.equal(tail.status, 206);
  assert.ok(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(bytes.length - 16)));
  const beyond = await api(recordingFilePath('live', 'a', rec.name), { headers: { Range: `bytes=${bytes.length}-` } });
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers.get('content-range'), `bytes */${bytes.length}`);
  const head = await api(recordingFilePath('live', 'a', rec.name), { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(bytes.length));

  const deleted = await api(recordingApiPath('live', 'a', rec.name), { method: 'DELETE' });
  assert.equal(deleted.status, 200);
  assert.equal(existsSync(rec.file), false);
  assert.equal((await api(recordingApiPath('live', 'a', rec.name))).status, 404);
  assert.equal((await api(recordingFilePath('live', 'a', rec.name))).status, 404);
  assert.equal((await api(recordingApiPath('live', 'a', rec.name), { method: 'DELETE' })).status, 404);

  // Recording again, then the origin stops: the file is closed cleanly ('done', in its sidecar too).
  assert.equal((await api(streamRecordPath('live', 'a'), { method: 'POST' })).status, 201);
  const again = await waitFor('recording again', () => o.origin.recordings?.list().find((r) => r.bytes > 0 && r.state === 'recording'), 20_000);
  await o.stop();
  assert.equal(again.state, 'done');
  assert.equal((JSON.parse(await readFile(again.file + '.json', 'utf8')) as { state: string }).state, 'done');
});
