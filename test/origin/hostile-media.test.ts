// Hostile publishers against a real origin and an edge (child processes), each with a healthy FFmpeg
// stream beside the attack whose viewers (on the origin and on the edge) must keep getting video:
// - AMF3 onMetaData that grows when re-encoded as AMF0 (a ByteArray, a graph of shared references);
// - oversized AMF0 onMetaData;
// - media whose timestamp never advances (the audio-only GOP window and the open HLS segment).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startCli, waitListening } from '../helpers/cli-process.js';
import type { CliProcess } from '../helpers/cli-process.js';
import { startCliEdge } from '../edge/util.js';
import type { CliEdge } from '../edge/util.js';
import { FlvViewer } from '../helpers/http.js';
import type { ReceivedPacket } from '../helpers/http.js';
import { publishTestStream } from '../helpers/publish.js';
import { RtmpClient } from '../rtmp/client.js';
import { MessageType } from '../../src/rtmp/messages.js';
import { encodeAmf0 } from '../../src/media/amf/amf0.js';
import { encodeAmf3, encodeU29 } from '../../src/media/amf/amf3.js';
import { parseScriptData } from '../../src/media/flv/script.js';
import { TagType } from '../../src/media/packet.js';
import { aacFrame, aacHeader, videoHeader, videoKey } from '../helpers/packets.js';
import { freePort } from '../helpers/net.js';

const MB = 1024 * 1024;
/** Growth of a node's RSS over its baseline that the attacks must stay under (generous). */
const RSS_BOUND = 300 * MB;

let origin: CliProcess;
let edge: CliEdge;
let rtmp: string;
let originHttp: string;
let healthyPub: ReturnType<typeof publishTestStream>;
let healthyAtOrigin: FlvViewer;
let healthyAtEdge: FlvViewer;
const closers: (() => void)[] = [];

before(async () => {
  const [rtmpPort, httpPort] = [await freePort(), await freePort()];
  rtmp = `rtmp://127.0.0.1:${rtmpPort}/live`;
  originHttp = `http://127.0.0.1:${httpPort}`;
  origin = startCli('origin', ['--host', '127.0.0.1', '--rtmp-port', String(rtmpPort), '--http-port', String(httpPort)]);
  await waitListening(origin, `${originHttp}/healthz`);
  edge = await startCliEdge(['--upstream', originHttp]);
  await waitListening(edge, `${edge.base}/healthz`);
  healthyPub = publishTestStream(`${rtmp}/healthy`, 'baseline+aac-mono', { gopS: 1 });
  healthyAtOrigin = await openWhenLive(`${originHttp}/live/healthy.flv`);
  healthyAtEdge = await openWhenLive(`${edge.base}/live/healthy.flv`);
});

after(async () => {
  for (const c of closers) c();
  healthyAtOrigin?.close();
  healthyAtEdge?.close();
  await healthyPub?.stop();
  await edge?.stop();
  await origin?.stop();
});

/** An FLV viewer of a stream that may take a moment to go live (FFmpeg starting, the edge pulling). */
async function openWhenLive(url: string): Promise<FlvViewer> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = await FlvViewer.open(url);
    if (v.status === 200) return v;
    v.close();
    if (Date.now() > deadline) throw new Error(`${url} did not go live: ${v.status}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The node is up and its event loop free: /healthz answers within 2 s. */
async function assertResponsive(proc: CliProcess, base: string, what: string): Promise<void> {
  assert.ok(proc.alive(), `${what} exited: ${proc.stderr().slice(-3000)}`);
  const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) });
  assert.equal(res.status, 200, what);
}

/** Both healthy viewers receive new video within 5 s. */
async function assertHealthyFlows(): Promise<void> {
  for (const v of [healthyAtOrigin, healthyAtEdge]) {
    const n = v.packets.length;
    await v.waitFor((p) => p.type === TagType.Video && v.packets.indexOf(p) >= n, 5000);
  }
}

async function attacker(stream: string): Promise<RtmpClient> {
  const c = await RtmpClient.connect(rtmp);
  c.on('error', () => undefined); // the origin may drop it: the test looks at the nodes, not at this client
  closers.push(() => c.close());
  await c.publish(stream);
  return c;
}

/** Samples the RSS of both nodes every 100 ms until stopped; returns the peaks. */
function sampleRss(): () => { origin: number; edge: number } {
  const peak = { origin: origin.rss(), edge: edge.rss() };
  const timer = setInterval(() => {
    peak.origin = Math.max(peak.origin, origin.rss());
    peak.edge = Math.max(peak.edge, edge.rss());
  }, 100);
  timer.unref(); // a failed test must not hold the run open
  return () => {
    clearInterval(timer);
    return peak;
  };
}

// ---------------------------------------------------------------- AMF3 metadata

const amf3String = (s: string): Buffer => {
  const b = Buffer.from(s);
  return Buffer.concat([encodeU29((b.length << 1) | 1), b]);
};
/** A type-15 data message: format byte, '@setDataFrame', 'onMetaData', then one AMF3 value (AVM+ switch). */
const amf3Metadata = (amf3: Buffer): Buffer => Buffer.concat([Buffer.from([0]), encodeAmf0('@setDataFrame', 'onMetaData'), Buffer.from([0x11]), amf3]);
/** { data: ByteArray(n) }: n bytes, which an AMF0 re-encoding as numbers makes 9n. */
const byteArrayObject = (n: number): Buffer =>
  Buffer.concat([Buffer.from([0x0a, 0x0b, 0x01]), amf3String('data'), Buffer.from([0x0c]), encodeU29((n << 1) | 1), Buffer.alloc(n, 7), Buffer.from([0x01])]);
/**
 * { a0: [1, 2], a1: [a0, a0], ..., ak: [ak-1, ak-1] } in ~10 bytes per level, by object references:
 * expanded (AMF0 has no way to say "the same array again" that players read) it holds 2^k arrays.
 */
function referenceBomb(k: number): Buffer {
  const parts = [Buffer.from([0x0a, 0x0b, 0x01]), amf3String('a0'), Buffer.from([0x09, 0x05, 0x01, 0x04, 0x01, 0x04, 0x02])];
  // Object table: 0 is the outer object, i is a(i-1).
  for (let i = 1; i <= k; i++) parts.push(amf3String(`a${i}`), Buffer.from([0x09, 0x05, 0x01, 0x09]), encodeU29(i << 1), Buffer.from([0x09]), encodeU29(i << 1));
  parts.push(Buffer.from([0x01]));
  return Buffer.concat(parts);
}

const scripts = (v: FlvViewer): ReceivedPacket[] => v.packets.filter((p) => p.type === TagType.Script);

test('AMF3 onMetaData: small ones arrive as AMF0; expanding or oversized ones are dropped; nothing blocks or crashes', async () => {
  const pub = await attacker('amf3');
  pub.send(videoHeader());
  pub.send(aacHeader());
  pub.send(videoKey(0));
  pub.send(aacFrame(0));
  const atOrigin = await openWhenLive(`${originHttp}/live/amf3.flv`);
  const atEdge = await openWhenLive(`${edge.base}/live/amf3.flv`);
  closers.push(() => atOrigin.close(), () => atEdge.close());
  const base = { origin: origin.rss(), edge: edge.rss() };
  const stop = sampleRss();
  let t = 40;
  const more = (): void => {
    pub.send(videoKey(t));
    pub.send(aacFrame(t));
    t += 40;
  };

  // A plain AMF3 onMetaData reaches FLV viewers as AMF0, on the origin and through the edge.
  pub.sendMessage(MessageType.DataAmf3, amf3Metadata(encodeAmf3({ width: 320, title: 'ok' })), t);
  more();
  for (const v of [atOrigin, atEdge]) {
    const p = await v.waitFor((q) => q.type === TagType.Script && q.payload.includes('title'), 5000);
    assert.deepEqual(parseScriptData(p.payload).value, { width: 320, title: 'ok' });
  }

  const attacks: [string, number, Buffer][] = [
    ['2 MB ByteArray', MessageType.DataAmf3, amf3Metadata(byteArrayObject(2_000_000))],
    ['reference bomb (2^30 arrays)', MessageType.DataAmf3, amf3Metadata(referenceBomb(30))],
    ['the same bomb in a type-18 message', MessageType.DataAmf0, amf3Metadata(referenceBomb(30)).subarray(1)],
    ['1 MB AMF0 onMetaData', MessageType.DataAmf0, Buffer.concat([encodeAmf0('@setDataFrame', 'onMetaData', { blob: 'x'.repeat(MB) })])],
  ];
  for (const [what, type, body] of attacks) {
    const started = Date.now();
    pub.sendMessage(type, body, t);
    more();
    await new Promise((r) => setTimeout(r, 300));
    await assertResponsive(origin, originHttp, `origin after ${what}`);
    await assertResponsive(edge, edge.base, `edge after ${what}`);
    await assertHealthyFlows();
    // The attacker's own viewers stay connected and keep getting its media.
    for (const v of [atOrigin, atEdge]) {
      const n = v.packets.length;
      more();
      await v.waitFor((p) => p.type === TagType.Video && v.packets.indexOf(p) >= n, 5000);
    }
    assert.ok(Date.now() - started < 8000, `${what} took ${Date.now() - started} ms`);
  }
  // No viewer got anything but the small metadata: the rest was dropped at ingest.
  for (const v of [atOrigin, atEdge]) {
    for (const s of scripts(v)) assert.ok(s.payload.length < 64 * 1024, `script tag of ${s.payload.length} bytes reached a viewer`);
  }
  // A viewer joining now gets the stream (the join burst would carry stored metadata).
  const late = await openWhenLive(`${originHttp}/live/amf3.flv`);
  closers.push(() => late.close());
  more();
  await late.waitFor((p) => p.type === TagType.Video, 5000);
  const peak = stop();
  assert.ok(peak.origin - base.origin < RSS_BOUND, `origin RSS grew ${((peak.origin - base.origin) / MB).toFixed(0)} MB`);
  assert.ok(peak.edge - base.edge < RSS_BOUND, `edge RSS grew ${((peak.edge - base.edge) / MB).toFixed(0)} MB`);
  console.log(`amf3: peak RSS growth origin ${((peak.origin - base.origin) / MB).toFixed(0)} MB, edge ${((peak.edge - base.edge) / MB).toFixed(0)} MB`);
});

// ---------------------------------------------------------------- constant timestamps

/** Reads a response and counts its bytes, keeping nothing (the flat stream is hundreds of MB). */
function countingViewer(url: string): { bytes: () => number; close: () => void } {
  let n = 0;
  const req = http.get(url, (res) => res.on('data', (b: Buffer) => (n += b.length)));
  req.on('error', () => undefined);
  return { bytes: () => n, close: () => req.destroy() };
}

test('a publisher whose timestamp never advances: GOP window and HLS segment stay bounded, origin and edge', async () => {
  const SENT = Number(process.env.FLAT_MB ?? 240) * MB;
  const FRAME = 4000;
  const pub = await attacker('flat');
  pub.send(aacHeader());
  pub.send(aacFrame(1000, FRAME));
  await openWhenLive(`${originHttp}/live/flat.flv`).then((v) => v.close());
  const atEdge = countingViewer(`${edge.base}/live/flat.flv`);
  closers.push(atEdge.close);
  await new Promise((r) => setTimeout(r, 500));
  const base = { origin: origin.rss(), edge: edge.rss() };
  const stop = sampleRss();
  const started = Date.now();
  for (let sent = 0; sent < SENT; sent += FRAME) {
    pub.send(aacFrame(1000, FRAME));
    // Paced by the socket: the attack is a fast publisher, not one the test's own memory holds.
    if (pub.writableLength > 4 * MB) await new Promise((r) => pub.once('drain', r));
  }
  await new Promise((r) => setTimeout(r, 1000));
  await assertResponsive(origin, originHttp, 'origin');
  await assertResponsive(edge, edge.base, 'edge');
  await assertHealthyFlows();
  const peak = stop();
  const grew = { origin: peak.origin - base.origin, edge: peak.edge - base.edge };
  console.log(
    `flat: ${SENT / MB} MB in ${Date.now() - started} ms; edge viewer got ${(atEdge.bytes() / MB).toFixed(0)} MB;` +
      ` peak RSS growth origin ${(grew.origin / MB).toFixed(0)} MB, edge ${(grew.edge / MB).toFixed(0)} MB`,
  );
  assert.ok(atEdge.bytes() > 0, 'the edge relayed the flat stream');
  assert.ok(grew.origin < RSS_BOUND, `origin RSS grew ${(grew.origin / MB).toFixed(0)} MB`);
  assert.ok(grew.edge < RSS_BOUND, `edge RSS grew ${(grew.edge / MB).toFixed(0)} MB`);
  // The flat stream's HLS playlist exists and answers; its segments are bounded (or dropped).
  const pl = await fetch(`${originHttp}/live/flat.m3u8`, { signal: AbortSignal.timeout(2000) });
  await pl.arrayBuffer();
  assert.ok(pl.status === 200 || pl.status === 404, `playlist answered ${pl.status}`);
});
