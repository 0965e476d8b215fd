// A `livecdn edge` process whose FLV upstream misbehaves (issue 8, item 6): garbage after the FLV header,
// bodies cut mid-tag, bodies cut before a byte, reconnect after reconnect. Each costs its own relay only:
// the process stays up, its memory bounded, and a healthy stream beside them keeps flowing to its viewer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { TagType } from '../../src/media/packet.js';
import { waitListening } from '../helpers/cli-process.js';
import { FlvViewer } from '../helpers/http.js';
import { startOrigin } from '../helpers/origin.js';
import { publishTestStream } from '../helpers/publish.js';
import { startCliEdge, startFakeUpstream } from './util.js';
import { sleep } from '../helpers/wait.js';

const FLV_HEADER = Buffer.from([0x46, 0x4c, 0x56, 0x01, 0x05, 0, 0, 0, 9, 0, 0, 0, 0]);

test('edge process: misbehaving FLV upstreams cost their own relay only; a healthy stream keeps flowing', async (t) => {
  const origin = await startOrigin({}, t);
  const publisher = publishTestStream(origin.rtmpUrl('live', 'good'), 'baseline+aac-mono', { gopS: 1 });
  t.after(() => publisher.stop());
  const up = await startFakeUpstream((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/live/good.flv') {
      // The healthy stream, from the real origin.
      const proxied = http.get(`${origin.httpBase}${req.url ?? ''}`, { headers: { via: String(req.headers.via ?? '') } }, (o) => {
        res.writeHead(o.statusCode ?? 502, o.headers);
        o.pipe(res);
      });
      proxied.on('error', () => res.destroy());
      res.on('close', () => proxied.destroy());
      return;
    }
    res.writeHead(200, { 'content-type': 'video/x-flv' });
    if (path === '/live/garbage.flv') res.end(Buffer.concat([FLV_HEADER, Buffer.alloc(4096, 0xff)]));
    else if (path === '/live/cut.flv') {
      // A video tag header announcing 1000 bytes, then 10 of them, then the connection drops.
      res.write(Buffer.concat([FLV_HEADER, Buffer.from([9, 0, 0x03, 0xe8, 0, 0, 0, 0, 0, 0, 0]), Buffer.alloc(10, 0x17)]));
      setTimeout(() => res.destroy(), 50);
    } else res.destroy();
  });
  t.after(() => up.close());
  const edge = await startCliEdge(['--upstream', up.url, '--flv-grace', '3', '--upstream-down', '0']);
  t.after(() => edge.stop());
  await waitListening(edge, `${edge.base}/healthz`);

  const good = await FlvViewer.openLive(`${edge.base}/live/good.flv`, 20_000);
  t.after(() => good.close());
  await good.waitFor((p) => p.type === TagType.Video, 10_000);
  const rss = edge.rss();

  const bad: FlvViewer[] = [];
  t.after(() => bad.forEach((v) => v.close()));
  for (let round = 0; round < 5; round++) {
    for (const name of ['garbage', 'cut', 'empty']) {
      const v = await FlvViewer.open(`${edge.base}/live/${name}.flv`).catch(() => undefined);
      if (v) bad.push(v);
    }
    await sleep(500);
  }
  const before = good.bytes;
  await sleep(4000);
  assert.ok(edge.alive(), edge.stderr());
  assert.ok(good.bytes > before, 'the healthy stream kept flowing');
  assert.ok(!good.ended, 'the healthy viewer was not cut');
  assert.ok(edge.rss() - rss < 64 * 1024 * 1024, `RSS grew by ${Math.round((edge.rss() - rss) / 1024 / 1024)} MB`);
});
