// Integration: real FFmpeg and our client against RtmpServer with an in-test relay app.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TagType, type MediaPacket } from '../../src/media/packet.js';
import { RtmpClient, RtmpStatusError } from './client.js';
import { encodeMessage } from '../../src/rtmp/chunk-writer.js';
import { publishFlvFile } from './publish-file.js';
import { RtmpServer } from '../../src/rtmp/server.js';
import { runFfmpeg, spawnFfmpeg, type FfmpegProcess } from '../helpers/ffmpeg.js';
import { waitFor } from '../helpers/wait.js';
import { closedWithin, rawRtmpConnection } from './raw-connection.js';
import { RelayApp, isKeyframe } from './relay-app.js';

const children: FfmpegProcess[] = [];
const clients: RtmpClient[] = [];
const sockets: net.Socket[] = [];
let server: RtmpServer;
let app: RelayApp;
let port: number;
let tmp: string;

const url = (path: string): string => `rtmp://127.0.0.1:${port}/${path}`;

function ffmpegPublish(stream: string, extra: string[] = []): FfmpegProcess {
  const c = spawnFfmpeg([
    '-v', 'error', '-re',
    '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25',
    '-f', 'lavfi', '-i', 'sine',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-c:a', 'aac',
    ...extra,
    '-f', 'flv', url(`live/${stream}`),
  ], { stdio: 'ignore' });
  children.push(c);
  return c;
}

async function playWithClient(stream: string): Promise<{ client: RtmpClient; packets: MediaPacket[] }> {
  const client = await RtmpClient.connect(url('live'));
  clients.push(client);
  const packets: MediaPacket[] = [];
  await client.play(stream, (p) => packets.push(p));
  return { client, packets };
}

/** A raw TCP connection to the test server that has completed the handshake. */
async function rawConnection(): Promise<net.Socket> {
  const s = await rawRtmpConnection(port);
  sockets.push(s);
  return s;
}

describe('RtmpServer with real peers', { timeout: 120_000 }, () => {
  before(async () => {
    app = new RelayApp();
    // RTMP's 24-bit length field caps a message at 16 MiB - 1, so the cap is lowered to make a flood
    // of 20 MiB in one announced message exceed it.
    server = new RtmpServer(app, { handshakeTimeoutMs: 500, startTimeoutMs: 1500, idleTimeoutMs: 1500, maxConnections: 50, maxMessageSize: 4 << 20 });
    port = await server.listen(0, '127.0.0.1');
    tmp = await mkdtemp(join(tmpdir(), 'livecdn-rtmp-'));
    ffmpegPublish('test');
    await waitFor('ffmpeg to publish', () => app.streams.has('live/test') && app.packetsIn > 20, 20_000, 20);
  });

  after(async () => {
    await Promise.all(children.map((c) => c.stop(0)));
    for (const c of clients) c.close();
    for (const s of sockets) s.destroy();
    await server?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test('ffmpeg plays what ffmpeg publishes', async () => {
    const play = await runFfmpeg(['-v', 'error', '-i', url('live/test'), '-t', '3', '-f', 'null', '-']);
    assert.equal(play.code, 0, play.stderr);
    assert.equal(play.stderr.trim(), '');
  });

  test('ffprobe-style read sees H.264 and AAC', async () => {
    const probe = await runFfmpeg(['-i', url('live/test'), '-t', '1', '-f', 'null', '-']);
    assert.equal(probe.code, 0, probe.stderr);
    assert.match(probe.stderr, /Video: h264.*320x240/);
    assert.match(probe.stderr, /Audio: aac/);
  });

  test('RtmpClient plays and receives metadata, sequence headers and keyframes', async () => {
    const { client, packets } = await playWithClient('test');
    await waitFor('two keyframes', () => packets.filter(isKeyframe).length >= 2, 10_000, 20);
    assert.equal(packets[0]!.type, TagType.Script);
    assert.ok(packets.some((p) => p.type === TagType.Audio));
    const video = packets.filter((p) => p.type === TagType.Video);
    assert.equal(video[0]!.payload[1], 0, 'first video packet is the AVC sequence header');
    assert.ok(isKeyframe(video[1]!), 'then a keyframe (the GOP cache starts on one)');
    client.close();
  });

  test('invalid stream and app names are refused', async () => {
    const c = await RtmpClient.connect(url('live'));
    clients.push(c);
    await assert.rejects(c.publish('bad.name'), (e: unknown) => e instanceof RtmpStatusError && e.code === 'NetStream.Publish.BadName');
    await assert.rejects(RtmpClient.connect(url('no.such.app')), (e: unknown) => e instanceof RtmpStatusError && e.code === 'NetConnection.Connect.Rejected');
    const p = await RtmpClient.connect(url('live'));
    clients.push(p);
    await assert.rejects(p.play('missing', () => {}), (e: unknown) => e instanceof RtmpStatusError && e.code === 'NetStream.Play.StreamNotFound');
  });

  test('the app sees the stream name query merged over the tcUrl query', async () => {
    const c = await RtmpClient.connect(`${url('live')}?region=eu&token=a`);
    clients.push(c);
    await c.publish('q1?token=b');
    const req = app.publishes.find((r) => r.stream === 'q1');
    assert.deepEqual(req?.query, { region: 'eu', token: 'b' });
    c.close();
    const d = await RtmpClient.connect(url('live'));
    clients.push(d);
    await assert.rejects(d.publish('q2?token=bad'), (e: unknown) => e instanceof RtmpStatusError && e.code === 'NetStream.Publish.Unauthorized');
  });

  test('a 20 MiB message drops only that connection; the other stream keeps flowing', async () => {
    const s = await rawConnection();
    const before = server.stats().droppedConnections;
    // One video message of (24-bit maximum) 16 MiB - 1 at a chunk size of 64 KiB, then 20 MiB of body.
    const size = 0xffffff;
    s.write(encodeMessage({ csid: 2, timestamp: 0, typeId: 1, streamId: 0, payload: Buffer.from([0, 1, 0, 0]) }, 128));
    const flood = encodeMessage({ csid: 6, timestamp: 0, typeId: 9, streamId: 1, payload: Buffer.alloc(size) }, 65536);
    s.on('error', () => {});
    s.write(flood);
    s.write(Buffer.alloc(20 * 1024 * 1024 - size));
    assert.ok(await closedWithin(s, 5000), 'server closed the oversize sender');
    assert.equal(server.stats().droppedConnections, before + 1);
    const { packets } = await playWithClient('test');
    const n = app.packetsIn;
    await waitFor('the healthy stream to keep flowing', () => app.packetsIn > n + 25 && packets.length > 25, 10_000, 20);
  });

  test('malformed AMF and bad chunk sizes drop the connection', async () => {
    const bad = await rawConnection();
    bad.write(encodeMessage({ csid: 3, timestamp: 0, typeId: 20, streamId: 0, payload: Buffer.from([0x02, 0x00, 0x10, 0x41]) }, 128));
    assert.ok(await closedWithin(bad, 3000), 'malformed AMF closes');
    const zero = await rawConnection();
    zero.write(encodeMessage({ csid: 2, timestamp: 0, typeId: 1, streamId: 0, payload: Buffer.from([0, 0, 0, 0]) }, 128));
    assert.ok(await closedWithin(zero, 3000), 'chunk size 0 closes');
    const huge = await rawConnection();
    huge.write(encodeMessage({ csid: 2, timestamp: 0, typeId: 1, streamId: 0, payload: Buffer.from([0, 1, 0, 1]) }, 128));
    assert.ok(await closedWithin(huge, 3000), 'chunk size 65537 closes');
  });

  test('unknown message types are ignored', async () => {
    const s = await rawConnection();
    s.write(encodeMessage({ csid: 3, timestamp: 0, typeId: 99, streamId: 0, payload: Buffer.from('hello') }, 128));
    assert.equal(await closedWithin(s, 700), false);
  });

  test('a silent socket is dropped at the handshake timeout', async () => {
    const s = net.connect({ host: '127.0.0.1', port });
    sockets.push(s);
    await new Promise((r) => s.once('connect', r));
    const t0 = Date.now();
    assert.ok(await closedWithin(s, 3000), 'closed');
    assert.ok(Date.now() - t0 >= 400, 'not before the timeout');
  });

  test('an idle publisher is dropped', async () => {
    const c = await RtmpClient.connect(url('live'));
    clients.push(c);
    await c.publish('idle');
    assert.ok(app.streams.has('live/idle'));
    const t0 = Date.now();
    await new Promise<void>((resolve) => c.once('close', () => resolve()));
    assert.ok(Date.now() - t0 >= 1000, 'not before the idle timeout');
    await waitFor('sink.onEnd', () => !app.streams.has('live/idle'), 2000, 20);
  });

  test('a connection that neither publishes nor plays is dropped after the start timeout', async () => {
    const c = await RtmpClient.connect(url('live'));
    clients.push(c);
    const t0 = Date.now();
    await new Promise<void>((resolve) => c.once('close', () => resolve()));
    assert.ok(Date.now() - t0 >= 1000, 'not before the start timeout');
  });

  test('a player that receives media is not idle', async () => {
    const { client, packets } = await playWithClient('test');
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(client.isClosed, false);
    assert.ok(packets.length > 50);
    client.close();
  });

  test('publishFlvFile publishes a file in real time and a player receives it', async () => {
    const file = join(tmp, 'clip.flv');
    const rec = await runFfmpeg([
      '-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25', '-f', 'lavfi', '-i', 'sine',
      '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'aac', '-f', 'flv', '-y', file,
    ]);
    assert.equal(rec.code, 0, rec.stderr);
    const ac = new AbortController();
    const t0 = Date.now();
    const done = publishFlvFile(url('live/file'), file, { realtime: true, loop: true, signal: ac.signal });
    await waitFor('file publish', () => app.streams.has('live/file'), 5000, 20);
    const { packets } = await playWithClient('file');
    const video = (): MediaPacket[] => packets.filter((p) => p.type === TagType.Video);
    // past the 2 s file: the loop continues with growing timestamps, and pacing makes that take real time
    await waitFor('the second loop', () => (video().at(-1)?.timestamp ?? 0) > 2500, 10_000, 20);
    assert.ok(Date.now() - t0 >= 2300, `paced: ${Date.now() - t0} ms`);
    assert.ok(video().filter(isKeyframe).length >= 2);
    const ts = video().map((p) => p.timestamp);
    assert.ok(ts.every((t, i) => i === 0 || t >= ts[i - 1]! - 100), 'timestamps keep growing across the loop');
    ac.abort();
    await done;
    await waitFor('unpublish', () => !app.streams.has('live/file'), 3000, 20);
  });
});

describe('RtmpServer limits', () => {
  test('connections over maxConnections are refused', async () => {
    const srv = new RtmpServer(new RelayApp(), { maxConnections: 2 });
    const p = await srv.listen(0, '127.0.0.1');
    const socks: net.Socket[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const s = net.connect({ host: '127.0.0.1', port: p });
        socks.push(s);
        await new Promise((r) => s.once('connect', r));
      }
      assert.ok(await closedWithin(socks[2]!, 2000), 'third is closed');
      assert.equal(await closedWithin(socks[0]!, 300), false, 'first stays');
      assert.equal(srv.stats().refusedConnections, 1);
    } finally {
      for (const s of socks) s.destroy();
      await srv.close();
    }
  });
});

describe('RtmpServer connection rules', { timeout: 60_000 }, () => {
  test('connections over maxConnectionsPerIp are refused; others from the address stay', async () => {
    const srv = new RtmpServer(new RelayApp(), { maxConnectionsPerIp: 3 });
    const p = await srv.listen(0, '127.0.0.1');
    const socks: net.Socket[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const s = net.connect({ host: '127.0.0.1', port: p });
        s.on('error', () => undefined);
        socks.push(s);
        await new Promise((r) => s.once('connect', r));
      }
      assert.ok(await closedWithin(socks[3]!, 2000), 'fourth is closed');
      assert.equal(await closedWithin(socks[0]!, 300), false, 'first stays');
      assert.equal(srv.stats().refusedConnections, 1);
      // A slot freed is a slot to take again.
      socks[0]!.destroy();
      await waitFor('the close to be seen', () => srv.connections === 2, 2000, 20);
      const again = await rawRtmpConnection(p);
      socks.push(again);
      assert.equal(await closedWithin(again, 300), false, 'a new connection fits again');
    } finally {
      for (const s of socks) s.destroy();
      await srv.close();
    }
  });

  test('publisher slots: a play that would take the reserve is refused, a publish is not', async () => {
    const relay = new RelayApp();
    const srv = new RtmpServer(relay, { maxConnections: 4, publisherSlots: 2 });
    const p = await srv.listen(0, '127.0.0.1');
    const u = `rtmp://127.0.0.1:${p}/live`;
    const cs: RtmpClient[] = [];
    const open = async (): Promise<RtmpClient> => {
      const c = await RtmpClient.connect(u);
      cs.push(c);
      return c;
    };
    try {
      await (await open()).publish('a');
      await (await open()).play('a', () => undefined); // 2 of 4 in use: 2 free, the reserve is intact
      const third = await open();
      await assert.rejects(third.play('a', () => undefined), (e: unknown) => e instanceof RtmpStatusError && e.code === 'NetStream.Play.Failed');
      assert.ok(srv.stats().refusedConnections >= 1);
      await waitFor('the refused player to be closed', () => srv.connections === 2, 3000, 20);
      await (await open()).publish('b');
      await (await open()).publish('c');
      assert.equal(srv.stats().publishers, 3);
    } finally {
      for (const c of cs) c.close();
      await srv.close();
    }
  });

  test('while the reserve is in use, a connection that does not start in time is dropped', async () => {
    const srv = new RtmpServer(new RelayApp(), { maxConnections: 3, publisherSlots: 2, startTimeoutMs: 60_000 });
    const p = await srv.listen(0, '127.0.0.1');
    const socks: net.Socket[] = [];
    try {
      for (let i = 0; i < 2; i++) socks.push(await rawRtmpConnection(p));
      const t0 = Date.now();
      // Free slots (1) are below the reserve (2): idle connections go after the reserve grace (5 s).
      assert.ok(await closedWithin(socks[0]!, 9000), 'idle connection dropped');
      assert.ok(Date.now() - t0 >= 3500, 'not before the grace');
      assert.equal(srv.stats().droppedConnections >= 1, true);
    } finally {
      for (const s of socks) s.destroy();
      await srv.close();
    }
  });

  test('a player to which nothing is written is dropped after playerIdleTimeoutMs', async () => {
    const relay = new RelayApp();
    const srv = new RtmpServer(relay, { playerIdleTimeoutMs: 800 });
    const p = await srv.listen(0, '127.0.0.1');
    const u = `rtmp://127.0.0.1:${p}/live`;
    const pub = await RtmpClient.connect(u);
    const player = await RtmpClient.connect(u);
    try {
      await pub.publish('silent'); // publishes, sends nothing (the publisher idle timeout is 30 s)
      await player.play('silent', () => undefined);
      const t0 = Date.now();
      await new Promise<void>((resolve) => player.once('close', () => resolve()));
      assert.ok(Date.now() - t0 >= 600, 'not before the timeout');
      assert.equal(pub.isClosed, false, 'the publisher stays');
    } finally {
      pub.close();
      player.close();
      await srv.close();
    }
  });
});
