// Play before publish: HTTP-FLV and RTMP viewers of a stream that is not live yet wait for its publisher
// (up to --play-wait, within bounded numbers of waiters) and start when it arrives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startOrigin } from '../helpers/origin.js';
import type { TestOrigin } from '../helpers/origin.js';
import { FlvViewer, fetchText } from '../helpers/http.js';
import { publishSynthetic } from '../helpers/synthetic.js';
import { RtmpClient, RtmpStatusError } from '../rtmp/client.js';
import { TagType } from '../../src/media/packet.js';
import type { MediaPacket } from '../../src/media/packet.js';
import { waitFor } from '../helpers/wait.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** GET with extra headers; resolves with the status once the head arrives, and drops the response. */
function statusOf(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; ms: number }> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      res.destroy();
      resolve({ status: res.statusCode ?? 0, ms: Date.now() - start });
    });
    req.on('error', reject);
    req.end();
  });
}

async function rtmpPlayer(o: TestOrigin, stream: string): Promise<{ client: RtmpClient; packets: MediaPacket[]; statuses: string[] }> {
  const client = await RtmpClient.connect(`rtmp://127.0.0.1:${o.rtmpPort}/live`);
  const packets: MediaPacket[] = [];
  const statuses: string[] = [];
  client.on('status', (info: { code?: unknown }) => statuses.push(String(info.code)));
  await client.play(stream, (p) => packets.push(p));
  return { client, packets, statuses };
}

test('HTTP-FLV and RTMP viewers of a stream that is not live yet start when the publisher arrives', async (t) => {
  const o = await startOrigin({ playWaitMs: 5000 }, t);
  let headAt = 0;
  const flvOpening = FlvViewer.open(o.flvUrl('live', 'early'), 10_000).then((v) => {
    headAt = Date.now();
    return v;
  });
  const rtmp = await rtmpPlayer(o, 'early');
  t.after(() => rtmp.client.close());
  await waitFor('both viewers waiting', () => (o.origin.waits.size === 2 ? true : undefined), 3000);
  await sleep(300);
  assert.equal(o.origin.waits.size, 2, 'still waiting without a publisher');

  const publishedAt = Date.now();
  const pub = publishSynthetic(o.origin.hub, 'live', 'early');
  t.after(() => pub.stop());
  const flv = await flvOpening;
  t.after(() => flv.close());
  assert.equal(flv.status, 200);
  assert.equal(flv.headers['content-type'], 'video/x-flv');
  assert.ok(headAt >= publishedAt, 'the response head waited for the publisher');
  await flv.waitFor((p) => p.type === TagType.Video && p.payload[0] === 0x17 && p.payload[1] === 1, 3000);
  assert.deepEqual(flv.header && { audio: flv.header.audio, video: flv.header.video }, { audio: true, video: true }, 'FLV header from the real tracks');
  await waitFor('RTMP media', () => (rtmp.packets.some((p) => p.type === TagType.Video) ? true : undefined), 3000);
  assert.equal(o.origin.waits.size, 0);
  assert.equal(o.origin.hub.get('live', 'early')?.viewerCount('flv'), 1);
  assert.equal(o.origin.hub.get('live', 'early')?.viewerCount('rtmp'), 1);
});

test('the wait is bounded: time limit, waiters per stream and in total; HEAD and edges (Via) are answered at once', async (t) => {
  const o = await startOrigin({ playWaitMs: 1000, playWaitMax: { perStream: 2, total: 3 } }, t);
  // Time limit: 404 after about the wait.
  const timedOut = await statusOf(o.flvUrl('live', 'never'));
  assert.equal(timedOut.status, 404);
  assert.ok(timedOut.ms >= 900 && timedOut.ms < 3000, `answered after ${timedOut.ms} ms`);

  // HEAD and a request through an edge never wait.
  const head = await statusOf(o.flvUrl('live', 'never'), {}, 'HEAD');
  assert.equal(head.status, 404);
  assert.ok(head.ms < 500, `HEAD took ${head.ms} ms`);
  const viaEdge = await statusOf(o.flvUrl('live', 'never'), { via: '1.1 edge-a' });
  assert.equal(viaEdge.status, 404);
  assert.ok(viaEdge.ms < 500, `Via request took ${viaEdge.ms} ms`);

  // Bounds: two waiters on one stream, three in total; past them 503 at once.
  const a = [statusOf(o.flvUrl('live', 'a')), statusOf(o.flvUrl('live', 'a'))];
  await waitFor('two waiters', () => (o.origin.waits.size === 2 ? true : undefined), 2000);
  const thirdOnA = await statusOf(o.flvUrl('live', 'a'));
  assert.equal(thirdOnA.status, 503, 'per-stream bound');
  const b = statusOf(o.flvUrl('live', 'b'));
  await waitFor('three waiters', () => (o.origin.waits.size === 3 ? true : undefined), 2000);
  const fourth = await statusOf(o.flvUrl('live', 'c'));
  assert.equal(fourth.status, 503, 'total bound');
  const rtmpRefused = await RtmpClient.connect(`rtmp://127.0.0.1:${o.rtmpPort}/live`);
  t.after(() => rtmpRefused.close());
  await assert.rejects(rtmpRefused.play('c', () => undefined), (e: unknown) => e instanceof RtmpStatusError && e.code === 'NetStream.Play.StreamNotFound');
  for (const r of [...a, b]) assert.equal((await r).status, 404);
  assert.equal(o.origin.waits.size, 0);
});

test('an RTMP player that waits in vain gets StreamNotFound; a viewer that leaves stops waiting', async (t) => {
  const o = await startOrigin({ playWaitMs: 1000 }, t);
  const rtmp = await rtmpPlayer(o, 'never');
  t.after(() => rtmp.client.close());
  const closed = new Promise<void>((resolve) => rtmp.client.once('close', () => resolve()));
  await waitFor('StreamNotFound', () => (rtmp.statuses.includes('NetStream.Play.StreamNotFound') ? true : undefined), 3000);
  await closed;

  const req = http.get(o.flvUrl('live', 'gone'));
  req.on('error', () => undefined);
  await waitFor('a waiter', () => (o.origin.waits.size === 1 ? true : undefined), 2000);
  req.destroy();
  await waitFor('the waiter to leave', () => (o.origin.waits.size === 0 ? true : undefined), 2000);
  assert.equal((await fetchText(`${o.httpBase}/healthz`)).status, 200);
});
