// The cluster benchmark's failover timing (bench/lib/failover-watch.ts) and wrk figures (bench/lib/wrk.ts):
// the gap computation, stamps found in segment bytes, and the two watchers against real HTTP servers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FlvStampWatch, HlsStampWatch, gapToFirstNew, stampsIn } from '../../bench/lib/failover-watch.js';
import { insertStamp, nowMs, stampNal } from '../../bench/lib/sei.js';
import { parseWrkJson } from '../../bench/lib/wrk.js';
import { waitFor } from '../helpers/wait.js';

async function serve(t: { after(fn: () => unknown): void }, handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('gapToFirstNew', () => {
  it('is the earliest arrival of a frame sent at or after the mark, whatever the arrival order', () => {
    const arrivals = [
      { stamp: 900, at: 950 }, // sent before the kill, arrived after it: not new
      { stamp: 1200, at: 4100 },
      { stamp: 1000, at: 4000 }, // sent exactly at the kill
      { stamp: 1500, at: 4300 },
    ];
    assert.equal(gapToFirstNew(arrivals, 1000), 3000);
    assert.equal(gapToFirstNew(arrivals, 1600), undefined);
    assert.equal(gapToFirstNew([], 0), undefined);
  });
});

describe('stampsIn', () => {
  it('finds every stamp in segment bytes, escaped values included', () => {
    // 1.0 is 3f f0 00 00 00 00 00 00: emulation prevention bytes inside the value.
    const values = [1, 1796038188019.25, 1234.5];
    const bytes = Buffer.concat([Buffer.from([0x47, 0, 0, 1]), ...values.flatMap((v) => [stampNal(v), Buffer.alloc(7, 0xaa)])]);
    assert.ok(stampNal(1).length > 1 + 2 + 24 + 1, 'the vector really is escaped');
    assert.deepEqual(stampsIn(bytes), values);
  });

  it('skips a stamp cut short, implausible values and bytes without any', () => {
    const whole = stampNal(5000);
    const cut = whole.subarray(0, whole.length - 8); // the value torn off by a packet boundary
    assert.deepEqual(stampsIn(Buffer.concat([stampNal(-5), cut])), []);
    assert.deepEqual(stampsIn(Buffer.concat([stampNal(Number.NaN), stampNal(7)])), [7]);
    assert.deepEqual(stampsIn(Buffer.alloc(1000, 0x47)), []);
  });
});

describe('parseWrkJson', () => {
  it('reads the done() hook line among wrk output, and nothing from output without it', () => {
    const out = 'Running 10s test @ http://127.0.0.1:1/\n  1 threads and 4 connections\nJSON {"rps":2171.5,"p50":1.04,"p99":44.8,"max":72.5,"errors":0,"non2xx":3}\n';
    assert.deepEqual(parseWrkJson(out), { rps: 2171.5, p50: 1.04, p99: 44.8, max: 72.5, errors: 0, non2xx: 3 });
    assert.equal(parseWrkJson('unable to connect to 127.0.0.1:1 Connection refused\n'), undefined);
  });
});

describe('HlsStampWatch', () => {
  it('finds the first segment holding media sent after the mark, with the discontinuity before it and a grown sequence', async (t) => {
    const segments = new Map<string, Buffer>([
      ['/s/1.ts', stampNal(100)],
      ['/s/2.ts', stampNal(200)],
    ]);
    let list = ['1.ts', '2.ts'];
    // The new origin's segments follow a discontinuity (the tag shows once 4.ts is listed).
    const discontinuityBefore = '4.ts';
    const base = await serve(t, (req, res) => {
      if (req.url === '/s.m3u8') {
        const lines = ['#EXTM3U', '#EXT-X-TARGETDURATION:2', `#EXT-X-MEDIA-SEQUENCE:${parseInt(list[0] ?? '0', 10)}`];
        for (const u of list) lines.push(...(u === discontinuityBefore ? ['#EXT-X-DISCONTINUITY'] : []), '#EXTINF:2.0,', `s/${u}`);
        res.end(lines.join('\n') + '\n');
        return;
      }
      const body = segments.get(req.url ?? '');
      res.writeHead(body ? 200 : 404).end(body);
    });
    const w = new HlsStampWatch(`${base}/s.m3u8`, 20);
    t.after(() => w.close());
    await waitFor('a first poll', () => w.lastOkAt > 0);
    const since = nowMs();
    w.mark(since);
    // A segment the dead origin finished before the kill: listed after it, but not new.
    segments.set('/s/3.ts', stampNal(since - 500));
    list = ['1.ts', '2.ts', '3.ts'];
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await w.waitNew(10), undefined);
    segments.set('/s/4.ts', Buffer.concat([stampNal(since + 10), stampNal(since + 40)]));
    list = ['2.ts', '3.ts', '4.ts'];
    const found = await w.waitNew(5000);
    assert.ok(found, 'the new segment is found');
    assert.equal(found.sequence, 4);
    assert.equal(found.sequenceBefore, 2);
    assert.equal(found.discontinuity, true);
    assert.ok(found.at >= since);
  });
});

describe('FlvStampWatch', () => {
  it('records stamped frames, and reopens a dropped connection as a player would', async (t) => {
    const tag = (type: number, body: Buffer): Buffer => {
      const h = Buffer.alloc(11);
      h[0] = type;
      h.writeUIntBE(body.length, 1, 3);
      const prev = Buffer.alloc(4);
      prev.writeUInt32BE(11 + body.length);
      return Buffer.concat([h, body, prev]);
    };
    const header = Buffer.from([0x46, 0x4c, 0x56, 1, 1, 0, 0, 0, 9, 0, 0, 0, 0]);
    // A keyframe: AVC header (key, NALU, composition 0) + one 4-byte-length IDR NAL.
    const frame = Buffer.from([0x17, 1, 0, 0, 0, 0, 0, 0, 2, 0x65, 0x88]);
    let connections = 0;
    const base = await serve(t, (_req, res) => {
      connections++;
      res.writeHead(200, { 'content-type': 'video/x-flv' });
      res.write(header);
      res.write(tag(9, Buffer.from([0x17, 0, 0, 0, 0]))); // sequence header (not a valid record: length size 4)
      const stamp = connections === 1 ? 1000 : 2000;
      res.write(tag(9, insertStamp(frame, 4, stamp)));
      res.write(tag(9, frame)); // unstamped: not recorded
      if (connections === 1) setTimeout(() => res.end(), 50);
    });
    const w = new FlvStampWatch(`${base}/live/x.flv`, 20);
    t.after(() => w.close());
    await waitFor('the reopened connection', () => w.recorded().length === 2, 5000);
    assert.deepEqual(
      w.recorded().map((a) => a.stamp),
      [1000, 2000],
    );
    assert.equal(w.reconnects, 1);
    assert.equal(gapToFirstNew(w.recorded(), 1500), (w.recorded()[1]?.at ?? NaN) - 1500);
  });
});
