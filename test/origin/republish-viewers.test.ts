// Publisher end: HTTP-FLV and RTMP viewers stay connected for a republish within the grace (RTMP players
// get Play.UnpublishNotify, then Play.PublishNotify), and their timestamps continue monotonic; without a
// republish they end when the grace runs out. Relays (edges, Via) end with the publisher as before.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startOrigin } from '../helpers/origin.js';
import { FlvViewer } from '../helpers/http.js';
import { publishSynthetic } from '../helpers/synthetic.js';
import type { SyntheticPublisher } from '../helpers/synthetic.js';
import { RtmpClient } from '../rtmp/client.js';
import { TagType } from '../../src/media/packet.js';
import type { MediaPacket } from '../../src/media/packet.js';
import { waitFor } from '../helpers/wait.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const lastVideoTs = (packets: readonly MediaPacket[]): number => {
  const v = packets.filter((p) => p.type === TagType.Video);
  return v[v.length - 1]?.timestamp ?? -1;
};

const isMonotonic = (packets: readonly MediaPacket[], type: TagType): boolean => {
  let last = -1;
  for (const p of packets) {
    if (p.type !== type) continue;
    if (p.timestamp < last) return false;
    last = p.timestamp;
  }
  return true;
};

/** An origin with the given grace, a synthetic publisher of live/NAME and an HTTP-FLV viewer of it. */
async function liveWithViewer(t: TestContext, hlsGraceMs: number, name: string) {
  const o = await startOrigin({ hlsGraceMs }, t);
  const publish = (audio = true): SyntheticPublisher => {
    const p = publishSynthetic(o.origin.hub, 'live', name, { audio });
    t.after(() => p.stop());
    return p;
  };
  const pub = publish();
  const flv = await FlvViewer.open(o.flvUrl('live', name));
  t.after(() => flv.close());
  return { o, pub, flv, publish };
}

test('viewers stay over a republish within the grace, with monotonic timestamps, and end after it', async (t) => {
  const { o, flv, publish, ...first } = await liveWithViewer(t, 1500, 'rp');
  let pub = first.pub;
  const rtmp = await RtmpClient.connect(`rtmp://127.0.0.1:${o.rtmpPort}/live`);
  t.after(() => rtmp.close());
  const rtmpPackets: MediaPacket[] = [];
  const statuses: string[] = [];
  rtmp.on('status', (info: { code?: unknown }) => statuses.push(String(info.code)));
  await rtmp.play('rp', (p) => rtmpPackets.push(p));
  // A relay (an edge's upstream request) is not kept.
  const relayEnded = new Promise<boolean>((resolve, reject) => {
    http
      .get(o.flvUrl('live', 'rp'), { headers: { via: '1.1 edge-x' } }, (res) => {
        res.resume();
        res.once('end', () => resolve(true));
      })
      .on('error', reject);
  });

  await sleep(600);
  pub.stop();
  const flvBefore = lastVideoTs(flv.packets);
  const rtmpBefore = lastVideoTs(rtmpPackets);
  assert.ok(flvBefore > 0 && rtmpBefore > 0, 'media before the unpublish');
  await waitFor('UnpublishNotify', () => (statuses.includes('NetStream.Play.UnpublishNotify') ? true : undefined), 2000);
  assert.equal(await relayEnded, true, 'the relay request ended with the publisher');
  await sleep(500);
  assert.equal(flv.ended, false, 'the HTTP-FLV viewer is still connected');
  assert.equal(rtmp.isClosed, false, 'the RTMP player is still connected');

  // The republish restarts its raw timestamps at 0; the viewers see them continue.
  const flvCount = flv.packets.length;
  const rtmpCount = rtmpPackets.length;
  pub = publish();
  await waitFor('PublishNotify', () => (statuses.includes('NetStream.Play.PublishNotify') ? true : undefined), 2000);
  await flv.waitFor((p) => p.type === TagType.Video && flv.packets.indexOf(p) >= flvCount + 5, 3000);
  await waitFor('RTMP media after the republish', () => (rtmpPackets.slice(rtmpCount).filter((p) => p.type === TagType.Video).length >= 5 ? true : undefined), 3000);
  const flvAfter = flv.packets.slice(flvCount);
  assert.ok(flvAfter.some((p) => p.type === TagType.Video && p.payload[1] === 0), 'the new sequence header reaches the viewer');
  assert.ok(Math.min(...flvAfter.filter((p) => p.type === TagType.Video).map((p) => p.timestamp)) > flvBefore, 'FLV timestamps continue after the old ones');
  assert.ok(isMonotonic(flv.packets, TagType.Video) && isMonotonic(flv.packets, TagType.Audio), 'FLV timestamps monotonic per track');
  assert.ok(isMonotonic(rtmpPackets, TagType.Video), 'RTMP timestamps monotonic');
  assert.ok(lastVideoTs(rtmpPackets) > rtmpBefore);
  assert.equal(o.origin.hub.get('live', 'rp')?.viewerCount('flv'), 1);

  // No republish: the grace runs out and the viewers end cleanly.
  pub.stop();
  const endedAt = Date.now();
  assert.equal(await flv.waitEnd(4000), true, 'the FLV viewer ends after the grace');
  assert.ok(Date.now() - endedAt >= 1200, 'not before the grace');
  await waitFor('the RTMP player to be closed', () => (rtmp.isClosed ? true : undefined), 3000);
});

test('a kept HTTP-FLV viewer whose FLV header no longer matches the tracks is ended on republish', async (t) => {
  const { pub, flv, publish } = await liveWithViewer(t, 3000, 'tracks');
  await flv.waitFor((p) => p.type === TagType.Audio, 3000);
  pub.stop();
  await sleep(200);
  assert.equal(flv.ended, false);
  publish(false);
  assert.equal(await flv.waitEnd(3000), true, 'a header announcing audio cannot continue a video-only stream');
});

test('shutdown ends viewers that wait for a republish', async () => {
  const o = await startOrigin({ hlsGraceMs: 30_000 });
  const pub = publishSynthetic(o.origin.hub, 'live', 'bye');
  const flv = await FlvViewer.open(o.flvUrl('live', 'bye'));
  try {
    await flv.waitFor((p) => p.type === TagType.Video, 3000);
    pub.stop();
    await sleep(100);
    assert.equal(flv.ended, false);
    const stopping = o.stop();
    assert.equal(await flv.waitEnd(3000), true);
    await stopping;
  } finally {
    flv.close();
    await o.stop();
  }
});
