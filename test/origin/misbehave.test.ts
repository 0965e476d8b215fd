// Misbehaving clients at the origin's layer, each with a healthy FFmpeg stream running beside them that
// must keep flowing: bad names, a second publisher for a live key, a viewer that stops reading.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startOrigin } from '../helpers/origin.js';
import type { TestOrigin } from '../helpers/origin.js';
import { publishTestStream } from '../helpers/publish.js';
import { FlvViewer, fetchText } from '../helpers/http.js';
import { publishSynthetic } from '../helpers/synthetic.js';
import { RtmpClient, RtmpStatusError } from '../rtmp/client.js';
import { TagType } from '../../src/media/packet.js';
import { waitFor } from '../helpers/wait.js';

const MAX_QUEUE = 256 * 1024;
let o: TestOrigin;
let healthyPub: ReturnType<typeof publishTestStream>;
let healthy: FlvViewer;

before(async () => {
  o = await startOrigin({
    // Unknown streams answer 404 at once here; waiting for a publisher is play-wait.test.ts's.
    playWaitMs: 0,
    hlsSegmentMs: 1000,
    slowViewer: { maxQueueBytes: MAX_QUEUE, resumeQueueBytes: MAX_QUEUE / 4, maxLagMs: 1500 },
  });
  healthyPub = publishTestStream(o.rtmpUrl('live', 'healthy'), 'baseline+aac-mono', { gopS: 1 });
  await waitFor('healthy stream live', () => (o.origin.hub.get('live', 'healthy') ? true : undefined), 15_000);
  healthy = await FlvViewer.open(o.flvUrl('live', 'healthy'));
});

after(async () => {
  healthy?.close();
  await healthyPub?.stop();
  await o?.stop();
});

/** The healthy viewer receives new video within the next 2 s. */
async function assertHealthyFlows(): Promise<void> {
  const before = healthy.packets.length;
  await healthy.waitFor((p) => p.type === TagType.Video && healthy.packets.indexOf(p) >= before, 2000);
}

/** Raw GET of a path exactly as written (fetch would normalize it). */
function rawStatus(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: o.httpPort, path, method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

test('invalid names over HTTP are 400, unknown streams 404', async () => {
  for (const path of ['/live/bad.name.flv', `/live/${'a'.repeat(65)}.m3u8`, '/li%20ve/x.flv', '/live/..%2f..%2fetc%2fpasswd.flv', '/live/x%2F..%2Fy/1.ts', '/bad$app/x/1.ts']) {
    assert.equal(await rawStatus(path), 400, path);
  }
  assert.equal(await rawStatus('/live/nosuch.flv'), 404);
  assert.equal(await rawStatus('/live/nosuch.m3u8'), 404);
  assert.equal(await rawStatus('/live/nosuch/1.ts'), 404);
  assert.equal(await rawStatus('/../../etc/passwd'), 404);
  await assertHealthyFlows();
});

test('RTMP publish with an invalid name is refused with BadName', async () => {
  const c = await RtmpClient.connect(`rtmp://127.0.0.1:${o.rtmpPort}/live`);
  try {
    await assert.rejects(c.publish('bad.name'), (e: unknown) => e instanceof RtmpStatusError && e.code === 'NetStream.Publish.BadName');
  } finally {
    c.close();
  }
  await assertHealthyFlows();
});

test('a second publisher for a live key is refused; the first keeps flowing', async () => {
  const c = await RtmpClient.connect(`rtmp://127.0.0.1:${o.rtmpPort}/live`);
  try {
    await assert.rejects(
      c.publish('healthy'),
      (e: unknown) => e instanceof RtmpStatusError && e.code === 'NetStream.Publish.BadName' && /already publishing/.test(e.message),
    );
  } finally {
    c.close();
  }
  assert.equal(o.origin.hub.get('live', 'healthy')?.publisher?.remoteAddress, '127.0.0.1');
  await assertHealthyFlows();
});

test('a viewer that stops reading stays bounded and is dropped; a healthy one keeps getting frames', async () => {
  // ~3.2 MB/s, so a stalled reader's kernel buffers fill within a couple of seconds.
  const pub = publishSynthetic(o.origin.hub, 'live', 'fat', { frameBytes: 64 * 1024, intervalMs: 20, gop: 25 });
  const good = await FlvViewer.open(o.flvUrl('live', 'fat'));
  const stalled = await FlvViewer.open(o.flvUrl('live', 'fat'));
  try {
    stalled.response.pause();
    const stream = o.origin.hub.get('live', 'fat');
    assert.ok(stream);
    let maxQueued = 0;
    const sample = setInterval(() => {
      for (const v of stream.viewers()) maxQueued = Math.max(maxQueued, v.sink.writableLength);
    }, 10);
    try {
      await waitFor('the stalled viewer to be disconnected', () => (stream.viewerCount('flv') === 1 ? true : undefined), 20_000);
    } finally {
      clearInterval(sample);
    }
    // Bounded: the queue limit plus at most one write (a batch, or the join burst of one GOP).
    assert.ok(maxQueued <= MAX_QUEUE + 2 * 1024 * 1024, `queued ${maxQueued} bytes`);
    assert.ok(maxQueued > 0, 'the sampler saw the stalled queue');
    assert.equal(o.origin.hub.totals.slowDisconnects, 1);
    assert.ok(o.origin.hub.totals.droppedFrames > 0);
    const metrics = (await fetchText(`${o.httpBase}/metrics`)).text;
    assert.match(metrics, /livecdn_slow_viewer_disconnects_total 1\b/);
    // The healthy viewer of the same stream is still current.
    const seen = good.packets.length;
    await good.waitFor((p) => good.packets.indexOf(p) >= seen && p.type === TagType.Video, 2000);
    assert.equal(good.error, undefined);
  } finally {
    good.close();
    stalled.close();
    pub.stop();
  }
  await assertHealthyFlows();
});
