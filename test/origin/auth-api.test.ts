// Publish tokens, HTTP hooks, /api/streams, the revoking DELETE, and /metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startOrigin } from '../helpers/origin.js';
import { FlvViewer, fetchText } from '../helpers/http.js';
import { RtmpClient, RtmpStatusError } from '../rtmp/client.js';
import { signPublishToken } from '../../src/shared/token.js';
import { adminToken, deriveKeys } from '../../src/shared/keys.js';
import { SIGNATURE_HEADER, signRequest } from '../../src/shared/signed-request.js';
import { aacFrame, aacHeader, videoHeader, videoKey } from '../helpers/packets.js';
import { TagType } from '../../src/media/packet.js';
import { waitFor } from '../helpers/wait.js';

const KEYS = deriveKeys('auth-api-test-root-secret-of-32-bytes!');

async function publisher(port: number, stream: string): Promise<RtmpClient> {
  const c = await RtmpClient.connect(`rtmp://127.0.0.1:${port}/live`);
  try {
    await c.publish(stream);
  } catch (e) {
    c.close();
    throw e;
  }
  c.send(videoHeader());
  c.send(aacHeader());
  c.send(videoKey(0));
  c.send(aacFrame(5));
  return c;
}

test('with a secret, publish needs a valid token; DELETE with the bearer kicks the publisher', async (t) => {
  const o = await startOrigin({ keys: KEYS }, t);
  for (const [stream, reason] of [
    ['s1', /token is required/],
    ['s1?token=nope', /malformed/],
    [`s1?token=${signPublishToken({ app: 'live', stream: 'other', expSec: 4e9 }, KEYS.publish)}`, /not valid/],
    [`s1?token=${signPublishToken({ app: 'live', stream: 's1', expSec: 1000 }, KEYS.publish)}`, /expired/],
  ] as const) {
    await assert.rejects(
      publisher(o.rtmpPort, stream),
      (e: unknown) => e instanceof RtmpStatusError && e.code === 'NetStream.Publish.Unauthorized' && reason.test(e.message),
      stream,
    );
  }
  const token = signPublishToken({ app: 'live', stream: 's1', expSec: Math.floor(Date.now() / 1000) + 60 }, KEYS.publish);
  const c = await publisher(o.rtmpPort, `s1?token=${token}`);
  t.after(() => c.close());
  await waitFor('s1 live', () => (o.origin.hub.get('live', 's1') ? true : undefined));

  const api = await fetchText(`${o.httpBase}/api/streams`);
  assert.equal(api.status, 200);
  const s1 = (JSON.parse(api.text) as { streams: Array<Record<string, unknown>> }).streams.find((s) => s.name === 's1');
  assert.ok(s1);
  assert.equal(s1.app, 'live');
  assert.deepEqual(s1.codecs, { video: 'h264', audio: 'aac' });
  assert.deepEqual(s1.viewers, { flv: 0, rtmp: 0, hls: 0 });
  // the publisher's address is for admin callers only
  assert.ok(!api.text.includes('127.0.0.1'), api.text);
  const asAdmin = await fetchText(`${o.httpBase}/api/streams`, { headers: { Authorization: `Bearer ${adminToken(KEYS)}` } });
  assert.match(asAdmin.text, /"remoteAddress":"(::ffff:)?127\.0\.0\.1"/);

  const del = (auth?: string): Promise<number> =>
    fetchText(`${o.httpBase}/api/streams/live/s1`, { method: 'DELETE', headers: auth ? { Authorization: auth } : {} }).then((r) => r.status);
  assert.equal(await del(), 401);
  assert.equal(await del('Bearer wrong'), 401);
  // the signal's kick: signed with the node key for this path; another path's signature or another key is refused
  const signed = (path: string, key: Buffer): Promise<number> =>
    fetchText(`${o.httpBase}/api/streams/live/s1`, { method: 'DELETE', headers: { [SIGNATURE_HEADER]: signRequest(key, 'DELETE', path) } }).then((r) => r.status);
  assert.equal(await signed('/api/streams/live/other', KEYS.node), 401);
  assert.equal(await signed('/api/streams/live/s1', KEYS.admin), 401);
  assert.equal(await signed('/api/streams/live/s1', KEYS.node), 200);
  assert.equal(o.origin.hub.get('live', 's1'), undefined);
  await waitFor('publisher connection closed', () => (c.isClosed ? true : undefined), 5000);
  assert.equal(await del(`Bearer ${adminToken(KEYS)}`), 404);
});

test('the admin bearer kicks too', async (t) => {
  const o = await startOrigin({ keys: KEYS }, t);
  const token = signPublishToken({ app: 'live', stream: 's1', expSec: Math.floor(Date.now() / 1000) + 60 }, KEYS.publish);
  const c = await publisher(o.rtmpPort, `s1?token=${token}`);
  t.after(() => c.close());
  await waitFor('s1 live', () => (o.origin.hub.get('live', 's1') ? true : undefined));
  const del = (auth?: string): Promise<number> =>
    fetchText(`${o.httpBase}/api/streams/live/s1`, { method: 'DELETE', headers: auth ? { Authorization: auth } : {} }).then((r) => r.status);
  assert.equal(await del(`Bearer ${adminToken(KEYS)}`), 200);
  assert.equal(o.origin.hub.get('live', 's1'), undefined);
  await waitFor('publisher connection closed', () => (c.isClosed ? true : undefined), 5000);
  assert.equal(await del(`Bearer ${adminToken(KEYS)}`), 404);
});

test('hooks: on_publish refusal refuses, on_play is asked, on_done is told', async (t) => {
  const calls: Array<Record<string, unknown>> = [];
  const hookServer = http.createServer((req, res) => {
    let body = '';
    req.on('data', (b: Buffer) => (body += b.toString()));
    req.on('end', () => {
      const j = JSON.parse(body) as Record<string, unknown>;
      calls.push({ path: req.url, ...j });
      res.statusCode = j.stream === 'denied' ? 403 : 200;
      res.end();
    });
  });
  await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => hookServer.close(() => r())));
  const base = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}`;
  const o = await startOrigin({ onPublish: `${base}/pub`, onPlay: `${base}/play`, onDone: `${base}/done` }, t);

  await assert.rejects(publisher(o.rtmpPort, 'denied'), (e: unknown) => e instanceof RtmpStatusError && e.code === 'NetStream.Publish.Unauthorized');
  const c = await publisher(o.rtmpPort, 'ok?x=1');
  await waitFor('ok live', () => (o.origin.hub.get('live', 'ok') ? true : undefined));
  const pub = calls.find((c) => c.path === '/pub' && c.stream === 'ok');
  assert.ok(pub);
  assert.equal(pub.action, 'publish');
  assert.equal(pub.app, 'live');
  assert.deepEqual(pub.query, { x: '1' });

  const v = await FlvViewer.open(o.flvUrl('live', 'ok'));
  try {
    assert.equal(v.status, 200);
    await v.waitFor((p) => p.type === TagType.Video, 2000);
  } finally {
    v.close();
  }
  assert.ok(calls.some((c) => c.path === '/play' && c.stream === 'ok' && c.protocol === 'flv'));
  c.close();
  await waitFor('on_done for the publisher', () => (calls.some((c) => c.path === '/done' && c.role === 'publish') ? true : undefined), 5000);
  await waitFor('on_done for the viewer', () => (calls.some((c) => c.path === '/done' && c.role === 'play') ? true : undefined), 5000);
});

test('/metrics counts streams, viewers and bytes in its own registry', async (t) => {
  const a = await startOrigin({}, t);
  const b = await startOrigin({}, t); // a second origin in the same process must not collide
  const c = await publisher(a.rtmpPort, 'm');
  t.after(() => c.close());
  await waitFor('m live', () => (a.origin.hub.get('live', 'm') ? true : undefined));
  const v = await FlvViewer.open(a.flvUrl('live', 'm'));
  t.after(() => v.close());
  await v.waitFor((p) => p.type === TagType.Video, 2000);
  const text = (await fetchText(`${a.httpBase}/metrics`)).text;
  assert.match(text, /^livecdn_streams 1$/m);
  assert.match(text, /^livecdn_publishers 1$/m);
  assert.match(text, /^livecdn_viewers\{protocol="flv"\} 1$/m);
  const bytesIn = Number(/^livecdn_media_bytes_in_total (\d+)/m.exec(text)?.[1]);
  assert.ok(bytesIn > 0);
  assert.match((await fetchText(`${b.httpBase}/metrics`)).text, /^livecdn_streams 0$/m);
});
