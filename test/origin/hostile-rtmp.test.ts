// Hostile RTMP peers against a real `livecdn origin` process (issue 8, items 3, 5, 6 and 13 for RTMP).
// Each test asserts that the process stays up, that its resident memory stays bounded, and that a healthy
// stream published beside the attack keeps flowing to an HTTP-FLV viewer.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { startCli, waitListening, type CliProcess } from '../helpers/cli-process.js';
import { FlvViewer } from '../helpers/http.js';
import { RtmpClient, RtmpStatusError } from '../rtmp/client.js';
import { ChunkReader } from '../../src/rtmp/chunk-reader.js';
import { encodeMessage } from '../../src/rtmp/chunk-writer.js';
import { MessageType, commandMessage, parseCommand, setChunkSize } from '../../src/rtmp/messages.js';
import { closedWithin, rawRtmpConnection } from '../rtmp/raw-connection.js';
import { aacFrame, aacHeader, videoHeader, videoInter, videoKey } from '../helpers/packets.js';
import { TagType } from '../../src/media/packet.js';
import { waitFor } from '../helpers/wait.js';
import { freePort } from '../helpers/net.js';

const MAX_CONNECTIONS = 64;
const PUBLISHER_SLOTS = 8;
const PER_IP = 16;
/** Long enough to tell the reserve's quicker drop (5 s) from it. */
const START_TIMEOUT_S = 12;
/** Generous: the attack below grew the process by ~1 GB before the fix. */
const RSS_BOUND = 100 * 1024 * 1024;
const MiB = 1024 * 1024;

let proc: CliProcess;
let rtmpPort: number;
let httpPort: number;
let hookPort: number;
let hookServer: http.Server;
let stdout = '';
let healthyPub: RtmpClient;
let healthyTimer: NodeJS.Timeout;
let healthy: FlvViewer;

const rtmpUrl = (path: string): string => `rtmp://127.0.0.1:${rtmpPort}/${path}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

before(async () => {
  [rtmpPort, httpPort, hookPort] = await Promise.all([freePort(), freePort(), freePort()]);
  // on_publish / on_play: streams named slow* are answered after a delay (to close peers mid-decision).
  hookServer = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const { stream } = JSON.parse(body) as { stream: string };
      setTimeout(() => res.writeHead(200).end(), stream.startsWith('slow') ? 800 : 0);
    });
  });
  await new Promise<void>((r) => hookServer.listen(hookPort, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${hookPort}/hook`;
  proc = startCli(
    'origin',
    [
      '--host', '127.0.0.1',
      '--rtmp-port', String(rtmpPort),
      '--http-port', String(httpPort),
      '--max-connections', String(MAX_CONNECTIONS),
      '--publisher-slots', String(PUBLISHER_SLOTS),
      '--max-connections-per-ip', String(PER_IP),
      '--start-timeout', String(START_TIMEOUT_S),
      '--play-wait', '0',
      '--on-publish', hook,
      '--on-play', hook,
    ],
    { LOG_LEVEL: 'info' },
  );
  // Logs go to stdout: kept (the tail) to check what the RTMP layer writes about hostile names.
  proc.child.stdout.on('data', (b: Buffer) => (stdout = (stdout + b.toString()).slice(-2_000_000)));
  await waitListening(proc, `http://127.0.0.1:${httpPort}/healthz`);
  healthyPub = await RtmpClient.connect(rtmpUrl('live'));
  await healthyPub.publish('healthy');
  healthyPub.send(videoHeader());
  healthyPub.send(aacHeader());
  let n = 0;
  healthyTimer = setInterval(() => {
    const t = n * 40;
    healthyPub.send(n % 25 === 0 ? videoKey(t, 2000) : videoInter(t, 500));
    healthyPub.send(aacFrame(t + 1));
    n++;
  }, 40);
  healthy = await FlvViewer.open(`http://127.0.0.1:${httpPort}/live/healthy.flv`);
  await healthy.waitFor((p) => p.type === TagType.Video && p.payload[0] === 0x17 && p.payload[1] === 1, 5000);
});

after(async () => {
  clearInterval(healthyTimer);
  healthy?.close();
  healthyPub?.close();
  await proc?.stop();
  await new Promise<void>((r) => (hookServer ? hookServer.close(() => r()) : r()));
});

/** The node is up and the healthy viewer receives new video within the next 3 s. */
async function assertHealthy(): Promise<void> {
  assert.ok(proc.alive(), `origin exited: ${proc.stderr().slice(-2000)}`);
  const from = healthy.packets.length;
  await healthy.waitFor((p) => p.type === TagType.Video && healthy.packets.indexOf(p) >= from, 3000);
}

/** Samples the process's RSS every 50 ms while `run` goes; returns the largest growth over the start. */
async function rssGrowthDuring(t: TestContext, what: string, run: () => Promise<void>): Promise<number> {
  const start = proc.rss();
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, proc.rss())), 50);
  try {
    await run();
    await sleep(300);
    peak = Math.max(peak, proc.rss());
  } finally {
    clearInterval(timer);
  }
  const growth = peak - start;
  t.diagnostic(`${what}: RSS ${(start / MiB).toFixed(0)} MB -> peak ${(peak / MiB).toFixed(0)} MB (+${(growth / MiB).toFixed(1)} MB)`);
  assert.ok(growth < RSS_BOUND, `${what}: RSS grew ${(growth / MiB).toFixed(0)} MB`);
  return growth;
}

/** Writes `data` in slices, honouring backpressure; stops quietly when the server closes the socket. */
async function writeAll(s: net.Socket, data: Buffer, slice = MiB): Promise<void> {
  for (let off = 0; off < data.length && !s.destroyed; off += slice) {
    if (!s.write(data.subarray(off, off + slice))) {
      await new Promise<void>((r) => {
        const done = (): void => {
          s.off('drain', done);
          s.off('close', done);
          r();
        };
        s.on('drain', done);
        s.on('close', done);
      });
    }
  }
}

/** Writes `block` again and again until the peer stops reading for `stallMs` or `max` bytes went; returns the bytes written. */
async function writeUntilStalled(s: net.Socket, block: Buffer, max: number, stallMs = 1500): Promise<number> {
  let sent = 0;
  while (sent < max && !s.destroyed) {
    sent += block.length;
    if (s.write(block)) continue;
    const drained = await new Promise<boolean>((r) => {
      const timer = setTimeout(() => done(false), stallMs);
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        s.off('drain', onDrain);
        r(ok);
      };
      const onDrain = (): void => done(true);
      s.on('drain', onDrain);
    });
    if (!drained) break;
  }
  return sent;
}

/** A message of `length` bytes on csid 6 as chunks of 1 byte (chunk size 1 must be set): 2 bytes per payload byte. */
function oneByteChunks(length: number): Buffer {
  const head = Buffer.from([0x06, 0, 0, 0, length >> 16, (length >> 8) & 0xff, length & 0xff, MessageType.Video, 1, 0, 0, 0, 0x27]);
  const wire = Buffer.alloc(head.length + 2 * (length - 1), 0x55);
  head.copy(wire);
  for (let i = head.length; i < wire.length; i += 2) wire[i] = 0xc6;
  return wire;
}

/**
 * A raw publisher: handshake, connect, createStream and publish by hand, then the socket, free for crafted
 * chunks. Resolves once the server answered NetStream.Publish.Start.
 */
async function rawPublisher(stream: string): Promise<net.Socket> {
  const s = await rawRtmpConnection(rtmpPort);
  const reader = new ChunkReader();
  const started = new Promise<void>((resolve, reject) => {
    s.on('data', (d: Buffer) => {
      for (const m of reader.feed(d)) {
        if (m.typeId !== MessageType.CommandAmf0) continue;
        const cmd = parseCommand(m.typeId, m.payload);
        const info = cmd.args[0] as { code?: string } | undefined;
        if (cmd.name === 'onStatus' && info?.code === 'NetStream.Publish.Start') resolve();
        else if (cmd.name === 'onStatus' || cmd.name === '_error') reject(new Error(`publish answered ${info?.code}`));
      }
    });
    s.once('close', () => reject(new Error('closed before Publish.Start')));
  });
  s.write(
    Buffer.concat(
      [
        commandMessage(0, 'connect', 1, { app: 'live', tcUrl: rtmpUrl('live') }),
        commandMessage(0, 'createStream', 2, null),
        commandMessage(1, 'publish', 3, null, stream, 'live'),
      ].map((m) => encodeMessage(m, 128)),
    ),
  );
  await started;
  s.removeAllListeners('data');
  s.resume();
  return s;
}

test('item 3: an 8 MiB message in 1-byte chunks after publish costs its size, not a hundred times it', async (t) => {
  const s = await rawPublisher('onebyte');
  t.after(() => s.destroy());
  await rssGrowthDuring(t, '8 MiB as 1-byte chunks after publish', async () => {
    await writeAll(s, encodeMessage(setChunkSize(1), 128));
    await writeAll(s, oneByteChunks(8 * MiB));
  });
  await assertHealthy();
});

test('item 3: before publish, messages are capped small: the 8 MiB header alone drops the peer', async (t) => {
  const s = await rawRtmpConnection(rtmpPort);
  t.after(() => s.destroy());
  await rssGrowthDuring(t, '8 MiB as 1-byte chunks before publish', async () => {
    await writeAll(s, encodeMessage(setChunkSize(1), 128));
    await writeAll(s, oneByteChunks(8 * MiB));
    assert.ok(await closedWithin(s, 3000), 'dropped');
  });
  assert.match(stdout, /message-too-large/);
  await assertHealthy();
});

test('item 3: chunk streams a peer opens are capped, and so are their partial messages, before and after publish', async (t) => {
  // Chunk stream 64 + i starts a message of `size` bytes and sends its first 128-byte chunk only: a fmt 0
  // header with a two-byte basic header (first byte 0, second csid - 64).
  const partials = (size: number, streams: number): Buffer =>
    Buffer.concat(
      Array.from({ length: streams }, (_, i) =>
        Buffer.concat([
          Buffer.from([0, i, 0, 0, 0, size >> 16, (size >> 8) & 0xff, size & 0xff, MessageType.Video, 1, 0, 0, 0]),
          Buffer.alloc(128, 0x27),
        ]),
      ),
    );
  // Complete 1-byte messages (video before publish: ignored) on 300 chunk streams: each keeps state.
  const many = Buffer.concat(
    Array.from({ length: 300 }, (_, i) => encodeMessage({ csid: 64 + i, timestamp: 0, typeId: MessageType.Video, streamId: 1, payload: Buffer.from([0x27]) }, 128)),
  );
  const before = await rawRtmpConnection(rtmpPort);
  const after = await rawPublisher('partials');
  const streams = await rawRtmpConnection(rtmpPort);
  t.after(() => [before, after, streams].forEach((s) => s.destroy()));
  await rssGrowthDuring(t, 'partial messages and messages on 300 chunk streams', async () => {
    await writeAll(before, partials(60_000, 300));
    await writeAll(after, partials(16 * MiB - 1, 300));
    await writeAll(streams, many);
    assert.ok(await closedWithin(before, 3000), 'the peer before publish is dropped');
    assert.ok(await closedWithin(after, 3000), 'the publisher is dropped');
    assert.ok(await closedWithin(streams, 3000), 'the peer opening 300 chunk streams is dropped');
  });
  assert.match(stdout, /buffered-too-much/);
  assert.match(stdout, /too-many-chunk-streams/);
  await assertHealthy();
});

test('item 3: a peer that sends pings and never reads the replies is not read either', async (t) => {
  const s = await rawRtmpConnection(rtmpPort, { localAddress: '127.0.0.5' });
  t.after(() => s.destroy());
  s.pause(); // never read: replies pile up on the server unless it stops reading too
  // A ping request with a full header, then 1 MiB of 7-byte repeats (fmt 3): each asks for an 18-byte reply.
  const first = encodeMessage({ csid: 2, timestamp: 0, typeId: MessageType.UserControl, streamId: 0, payload: Buffer.from([0, 6, 0, 0, 0, 1]) }, 128);
  const repeat = Buffer.from([0xc2, 0, 6, 0, 0, 0, 1]);
  const block = Buffer.concat(Array.from({ length: Math.floor(MiB / repeat.length) }, () => repeat));
  let sent = 0;
  await rssGrowthDuring(t, 'unread ping replies', async () => {
    s.write(first);
    sent = await writeUntilStalled(s, block, 300 * MiB);
  });
  t.diagnostic(`the server read ${(sent / MiB).toFixed(1)} MiB of pings before it stopped reading`);
  assert.ok(sent < 50 * MiB, `the server kept reading: ${(sent / MiB).toFixed(0)} MiB`);
  await assertHealthy();
});

test('item 5: connections per address are capped; other addresses still connect', async (t) => {
  const socks: net.Socket[] = [];
  t.after(() => socks.forEach((s) => s.destroy()));
  await rssGrowthDuring(t, `${PER_IP + 1} connections from one address`, async () => {
    for (let i = 0; i < PER_IP; i++) socks.push(await rawRtmpConnection(rtmpPort, { localAddress: '127.0.0.2' }));
    await assert.rejects(rawRtmpConnection(rtmpPort, { localAddress: '127.0.0.2' }), 'one more from 127.0.0.2 is refused');
    const other = await rawRtmpConnection(rtmpPort, { localAddress: '127.0.0.3' });
    socks.push(other);
    assert.equal(await closedWithin(other, 300), false, 'another address is served');
  });
  await assertHealthy();
});

test('item 5: connections that never publish or play are dropped after the start timeout', async (t) => {
  const s = await rawRtmpConnection(rtmpPort, { localAddress: '127.0.0.4' });
  t.after(() => s.destroy());
  const t0 = Date.now();
  assert.ok(await closedWithin(s, (START_TIMEOUT_S + 4) * 1000), 'dropped');
  assert.ok(Date.now() - t0 >= (START_TIMEOUT_S - 1) * 1000, 'not before the timeout');
  await assertHealthy();
});

test('item 5: publisher slots: plays are refused when only the reserve is left, a publish still gets in', async (t) => {
  const socks: net.Socket[] = [];
  const clients: RtmpClient[] = [];
  t.after(() => {
    socks.forEach((s) => s.destroy());
    clients.forEach((c) => c.close());
  });
  // Idle fillers from other addresses, up to the point where exactly the reserve is free.
  await sleep(500); // connections of earlier tests are closed
  const inUse = 1; // the healthy publisher
  const fill = MAX_CONNECTIONS - PUBLISHER_SLOTS - inUse;
  await rssGrowthDuring(t, `${fill} idle connections and a refused player`, async () => {
    const filledAt = Date.now();
    for (let i = 0; i < fill; i++) socks.push(await rawRtmpConnection(rtmpPort, { localAddress: `127.0.1.${1 + Math.floor(i / PER_IP)}` }));
    const player = await RtmpClient.connect(rtmpUrl('live'));
    clients.push(player);
    await assert.rejects(player.play('healthy', () => undefined), (e: unknown) => e instanceof RtmpStatusError && e.code === 'NetStream.Play.Failed');
    const pub = await RtmpClient.connect(rtmpUrl('live'));
    clients.push(pub);
    await pub.publish('reserved');
    // While the reserve is in use, idle connections are dropped after a short grace (well before the start timeout).
    await waitFor('idle fillers dropped', () => (socks.every((s) => s.destroyed) ? true : undefined), 12_000);
    assert.ok(Date.now() - filledAt < (START_TIMEOUT_S - 2) * 1000, 'dropped for the reserve, before the start timeout');
    const later = await RtmpClient.connect(rtmpUrl('live'));
    clients.push(later);
    await later.play('healthy', () => undefined);
  });
  await assertHealthy();
});

test('item 6: peers that leave while the publish/play hooks decide leave the node up', async (t) => {
  await rssGrowthDuring(t, 'peers closing mid-decision', async () => {
    for (let i = 0; i < 5; i++) {
      const pub = await RtmpClient.connect(rtmpUrl('live'));
      void pub.publish(`slowpub${i}`).catch(() => undefined);
      const play = await RtmpClient.connect(rtmpUrl('live'));
      void play.play(`slowplay${i}`, () => undefined).catch(() => undefined);
      await sleep(200);
      pub.close();
      play.close();
    }
    await sleep(1500); // the hooks answer after 800 ms, to sessions already closed
  });
  assert.ok(!/unhandled|uncaught/i.test(proc.stderr()), proc.stderr().slice(-2000));
  await assertHealthy();
});

test('items 5 and 13: client names are truncated and tokens redacted in logs and replies', async () => {
  const secret = 'S3CRETTOKENVALUE';
  const long = 'x'.repeat(5000);
  // An invalid app carrying a token (%3F: the client sends it as part of the app string): the connect is
  // rejected, and the reply quotes a short, redacted name.
  await assert.rejects(RtmpClient.connect(rtmpUrl(`bad.app${long}%3Ftoken=${secret}`)), (e: unknown) => {
    assert.ok(e instanceof RtmpStatusError && e.code === 'NetConnection.Connect.Rejected', String(e));
    assert.ok(e.message.length < 300, `reply of ${e.message.length} chars`);
    assert.ok(!e.message.includes(secret));
    return true;
  });
  // An invalid stream name with a token, on a valid app that carries a token too.
  const c = await RtmpClient.connect(rtmpUrl(`live%3Ftoken=${secret}`));
  try {
    await assert.rejects(c.publish(`bad.name${long}?token=${secret}`), (e: unknown) => {
      assert.ok(e instanceof RtmpStatusError && e.code === 'NetStream.Publish.BadName', String(e));
      assert.ok(e.message.length < 300, `reply of ${e.message.length} chars`);
      assert.ok(!e.message.includes(secret));
      return true;
    });
  } finally {
    c.close();
  }
  await waitFor('the refusals logged', () => (/rtmp publish refused/.test(stdout) && /invalid app name/.test(stdout) ? true : undefined), 5000);
  assert.ok(!stdout.includes(secret), 'no token in the logs');
  const longest = Math.max(...stdout.split('\n').map((l) => l.length));
  assert.ok(longest < 2000, `a log line of ${longest} chars`);
  await assertHealthy();
});
