// The ABR benchmark's rung delay (bench/lib/flv-arrivals.ts): pairing by PTS, and a real HTTP-FLV
// connection recording arrivals.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { FlvArrivals, addedDelays } from '../../bench/lib/flv-arrivals.js';
import { waitFor } from '../helpers/wait.js';

describe('addedDelays', () => {
  it('pairs each rung frame with the source frame of the nearest PTS within the tolerance', () => {
    const source = new Map([
      [1000, 50_000],
      [1033, 50_033],
      [1067, 50_067],
      [1100, 50_100],
    ]);
    const rung = new Map([
      [1000, 50_300], // exact
      [1034, 50_340], // rounded by 1 ms: nearest is 1033
      [1066, 50_370], // nearest is 1067
      [2000, 51_000], // no counterpart
    ]);
    assert.deepEqual(addedDelays(source, rung, 2), [300, 307, 303]);
    assert.deepEqual(addedDelays(new Map(), rung, 2), []);
  });
});

describe('FlvArrivals', () => {
  it('records each video frame by PTS (DTS + composition time), skipping the sequence header and audio', async (t) => {
    const tag = (type: number, ts: number, body: Buffer): Buffer => {
      const h = Buffer.alloc(11);
      h[0] = type;
      h.writeUIntBE(body.length, 1, 3);
      h.writeUIntBE(ts & 0xffffff, 4, 3);
      h[7] = ts >>> 24;
      const prev = Buffer.alloc(4);
      prev.writeUInt32BE(11 + body.length);
      return Buffer.concat([h, body, prev]);
    };
    const header = Buffer.from([0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9, 0, 0, 0, 0]);
    const avc = (packetType: number, cts: number): Buffer => Buffer.from([0x17, packetType, 0, 0, cts, 0, 0, 0, 1, 0x65]);
    const server = http.createServer((req, res) => {
      if (req.url !== '/live/x.flv') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'video/x-flv' });
      res.write(Buffer.concat([header, tag(9, 0, Buffer.from([0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff])), tag(8, 5, Buffer.from([0xaf, 1, 0]))]));
      // Split mid-tag: the reader must join the pieces.
      const frames = Buffer.concat([tag(9, 1000, avc(1, 66)), tag(9, 1033, avc(1, 0))]);
      res.write(frames.subarray(0, 7));
      setTimeout(() => res.write(frames.subarray(7)), 50);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => {
      server.closeAllConnections(); // the FLV response never ends
      server.close();
    });
    const port = (server.address() as { port: number }).port;
    const a = new FlvArrivals(`http://127.0.0.1:${port}/live/x.flv`);
    t.after(() => a.close());
    const seen = new Map<number, number>();
    await waitFor('two frames', async () => {
      for (const [k, v] of a.take()) seen.set(k, v);
      return seen.size >= 2 ? true : undefined;
    }, 5000, 20);
    assert.deepEqual([...seen.keys()].sort((x, y) => x - y), [1033, 1066]);
    assert.equal(a.ended, undefined);
    const missing = new FlvArrivals(`http://127.0.0.1:${port}/live/nope.flv`);
    t.after(() => missing.close());
    await waitFor('the 404', () => missing.ended, 5000, 20);
    assert.equal(missing.ended, 'HTTP 404');
  });
});
