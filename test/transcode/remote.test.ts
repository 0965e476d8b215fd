// Remote transcoding with real processes, as an operator runs them: a signal, an origin with a ladder and
// --transcode-remote (nothing spawned there), a `livecdn transcode` process and an edge. FFmpeg publishes
// a small source to the origin; the signal assigns it to the transcoder, which pulls it over HTTP-FLV and
// publishes the rungs back over RTMP with publish tokens. The multivariant playlist, a rung's HLS and a
// rung's HTTP-FLV play through the edge. Then the transcoder is killed (kill -9): its FFmpeg ends with it
// (no orphan keeps publishing), and a second transcoder, pulling through the edge (--upstream), gets the
// source once the first one's TTL passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser } from 'm3u8-parser';
import { deriveKeys } from '../../src/shared/keys.js';
import { signPublishToken } from '../../src/shared/token.js';
import { parseMediaPlaylist, type PlaylistSegment } from '../../src/media/hls/playlist.js';
import { firstVideoPtsMs } from '../../bench/lib/segment-start.js';
import { childPids, pidAlive, startCli, waitListening, type CliProcess } from '../helpers/cli-process.js';
import { ffprobeJson, runFfmpeg } from '../helpers/ffmpeg.js';
import { crossCheckMultivariant } from '../helpers/m3u8-crosscheck.js';
import { freePort } from '../helpers/net.js';
import { publishTestStream } from '../helpers/publish.js';
import { waitFor } from '../helpers/wait.js';
import { SECRET } from '../chaos/cluster.js';

const ENV = { LIVECDN_SECRET: SECRET };
const TTL_S = 3;

interface OriginStream {
  name: string;
  height: number | null;
  publisher: { id: string } | null;
}

const json = async <T>(url: string): Promise<T> => {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
};

test('remote transcoder: rungs published back to the origin, played through an edge, reassigned after kill -9', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'livecdn-remote-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ladder = join(dir, 'ladder.json');
  writeFileSync(ladder, JSON.stringify({ live: [{ name: '180p', height: 180, videoKbps: 250 }, { name: '120p', height: 120, videoKbps: 150, maxFps: 15 }] }));
  const [signalPort, rtmpPort, httpPort, edgePort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const signal = `http://127.0.0.1:${signalPort}`;
  const origin = `http://127.0.0.1:${httpPort}`;
  const edge = `http://127.0.0.1:${edgePort}`;
  const procs: CliProcess[] = [];
  const start = (command: string, args: string[]): CliProcess => {
    const p = startCli(command, args, ENV);
    procs.push(p);
    return p;
  };
  t.after(() => Promise.all(procs.map((p) => p.stop())));

  const sig = start('signal', ['--host', '127.0.0.1', '--api-port', String(signalPort), '--node-ttl', String(TTL_S)]);
  await waitListening(sig, `${signal}/api/health`);
  const org = start('origin', [
    '--host', '127.0.0.1', '--rtmp-port', String(rtmpPort), '--http-port', String(httpPort), '--hls-segment', '1',
    '--signal', signal, '--heartbeat', '1', '--transcode-file', ladder, '--transcode-remote', '--transcode-preset', 'ultrafast',
  ]);
  const edg = start('edge', ['--host', '127.0.0.1', '--http-port', String(edgePort), '--upstream', origin]);
  await Promise.all([waitListening(org, `${origin}/healthz`), waitListening(edg, `${edge}/healthz`)]);
  const transcoder = async (id: string, extra: string[] = []): Promise<CliProcess> => {
    const port = await freePort();
    const p = start('transcode', ['--signal', signal, '--host', '127.0.0.1', '--http-port', String(port), '--heartbeat', '1', '--node-id', id, ...extra]);
    await waitListening(p, `http://127.0.0.1:${port}/healthz`);
    return p;
  };
  const first = await transcoder('transcoder-a');

  const token = signPublishToken({ app: 'live', stream: 'cam', expSec: Math.floor(Date.now() / 1000) + 600 }, deriveKeys(SECRET).publish);
  const source = publishTestStream(`rtmp://127.0.0.1:${rtmpPort}/live/cam?token=${token}`, 'baseline+aac-mono', { gopS: 1 });
  t.after(() => source.stop());

  const streams = async (): Promise<Map<string, OriginStream>> =>
    new Map((await json<{ streams: OriginStream[] }>(`${origin}/api/streams`)).streams.map((s) => [s.name, s]));
  const rungsLive = async (): Promise<Map<string, OriginStream> | false> => {
    const s = await streams();
    return s.get('cam_180p')?.publisher && s.get('cam_120p')?.publisher && s.get('cam_180p')?.height === 180 && s.get('cam_120p')?.height === 120 ? s : false;
  };
  await waitFor('the rungs published by the transcoder', rungsLive, 45_000, 250);
  // The transcoder says it runs the source (its /api/transcoder and, through its heartbeat, the signal).
  const nodes = await json<{ nodes: Array<{ id: string; kind: string; load: { streams: string[] } }> }>(`${signal}/api/nodes`);
  assert.deepEqual(nodes.nodes.find((n) => n.id === 'transcoder-a')?.load.streams ?? ['(not yet)'], ['live/cam']);

  // The multivariant playlist through the edge: the source and both rungs, read by m3u8-parser.
  const master = await waitFor(
    'a multivariant playlist with both rungs',
    async () => {
      const res = await fetch(`${edge}/live/cam.m3u8`, { signal: AbortSignal.timeout(5000) });
      const text = await res.text();
      return res.status === 200 && text.includes('cam_180p.m3u8') && text.includes('cam_120p.m3u8') ? text : false;
    },
    20_000,
    250,
  );
  const parser = new Parser();
  parser.push(master);
  parser.end();
  const variants = (parser.manifest.playlists ?? []).map((p) => ({ uri: p.uri, height: p.attributes.RESOLUTION?.height }));
  assert.deepEqual(variants, [
    { uri: 'cam_source.m3u8', height: 240 },
    { uri: 'cam_180p.m3u8', height: 180 },
    { uri: 'cam_120p.m3u8', height: 120 },
  ]);
  assert.deepEqual(crossCheckMultivariant(master), []);

  // A rung's HLS through the edge: a segment decodes cleanly at the rung's height.
  const playlist = await waitFor(
    'segments of the 180p rung',
    async () => {
      const res = await fetch(`${edge}/live/cam_180p.m3u8`, { signal: AbortSignal.timeout(5000) });
      const pl = res.status === 200 ? parseMediaPlaylist(await res.text()) : undefined;
      return pl && pl.segments.length >= 2 ? pl : false;
    },
    20_000,
    250,
  );
  const segment = `${edge}/live/${playlist.segments[0]?.uri ?? ''}`;
  const probed = (await ffprobeJson(segment, ['-show_streams'])) as { streams: Array<{ codec_type: string; height?: number }> };
  assert.equal(probed.streams.find((s) => s.codec_type === 'video')?.height, 180);
  const decoded = await runFfmpeg(['-v', 'error', '-i', segment, '-f', 'null', '-'], { timeoutMs: 30_000 });
  assert.equal(decoded.code, 0);
  assert.equal(decoded.stderr.trim(), '');

  // The same rungs as the origin's own transcoder: a rung's segment starts at the media time of the
  // source's segment of the same number (the remote FFmpeg keeps the source's clock over HTTP-FLV and RTMP).
  const listed = async (name: string): Promise<Map<number, PlaylistSegment>> => {
    const pl = parseMediaPlaylist(await (await fetch(`${edge}/live/${name}.m3u8`, { signal: AbortSignal.timeout(5000) })).text());
    return new Map(pl.segments.map((x, i) => [pl.mediaSequence + i, x]));
  };
  const [rungSegs, sourceSegs] = [await listed('cam_180p'), await listed('cam_source')];
  const startOf = async (x: PlaylistSegment): Promise<number | undefined> => firstVideoPtsMs(Buffer.from(await (await fetch(`${edge}/live/${x.uri}`)).arrayBuffer()));
  let compared = 0;
  for (const [seq, x] of rungSegs) {
    const twin = sourceSegs.get(seq);
    if (!twin || x.gap || twin.gap) continue;
    const [a, b] = await Promise.all([startOf(x), startOf(twin)]);
    assert.ok(a !== undefined && b !== undefined && Math.abs(a - b) <= 40, `${x.uri} starts at ${a} ms, the source's ${twin.uri} at ${b} ms`);
    compared++;
  }
  assert.ok(compared >= 2, `${compared} rung segments compared with the source's`);

  // A rung's HTTP-FLV through the edge: two seconds decode cleanly at the rung's height.
  const flv = await runFfmpeg(['-v', 'error', '-i', `${edge}/live/cam_120p.flv`, '-t', '2', '-vf', 'showinfo', '-f', 'null', '-'], { timeoutMs: 30_000 });
  assert.equal(flv.code, 0);
  const flvProbe = (await ffprobeJson(`${edge}/live/cam_120p.flv`, ['-show_streams'])) as { streams: Array<{ codec_type: string; height?: number }> };
  assert.equal(flvProbe.streams.find((s) => s.codec_type === 'video')?.height, 120);

  // kill -9 of the transcoder: its FFmpeg reads EOF and ends (no orphan), the rungs go; once its TTL
  // passes, the second transcoder gets the source and the rungs return, from another publisher.
  const before = (await streams()).get('cam_180p')?.publisher?.id;
  const ffmpegs = childPids(first.pid);
  assert.equal(ffmpegs.length, 1, `transcoder children: ${ffmpegs.join(',')}`);
  // The second one pulls its sources through the edge (--upstream) rather than from the origin.
  const second = await transcoder('transcoder-b', ['--upstream', edge]);
  const killedAt = Date.now();
  await first.kill();
  await waitFor('the killed transcoder\'s ffmpeg to exit', () => ffmpegs.every((pid) => !pidAlive(pid)), 10_000, 100);
  const back = await waitFor(
    'the rungs from the second transcoder',
    async () => {
      const s = await rungsLive();
      return s && s.get('cam_180p')?.publisher?.id !== before ? s : false;
    },
    (TTL_S + 20) * 1000,
    250,
  );
  const movedMs = Date.now() - killedAt;
  assert.ok(back.get('cam_120p')?.publisher);
  assert.ok(movedMs < (TTL_S + 15) * 1000, `reassigned after ${movedMs} ms`);
  assert.equal(childPids(second.pid).length, 1);
  // It pulls through the edge: the edge relays the source's HTTP-FLV, which no viewer asked it for.
  const relays = await json<{ flv: Array<{ stream: string }> }>(`${edge}/api/edge`);
  assert.ok(relays.flv.some((r) => r.stream === 'live/cam'), JSON.stringify(relays.flv));
  const after = await json<{ nodes: Array<{ id: string; load: { streams: string[] } }> }>(`${signal}/api/nodes`);
  assert.equal(after.nodes.some((n) => n.id === 'transcoder-a'), false);
  t.diagnostic(`reassigned ${movedMs} ms after kill -9 (node TTL ${TTL_S} s)`);

  // The rung keeps playing through the edge from the new transcoder.
  const again = await runFfmpeg(['-v', 'error', '-i', `${edge}/live/cam_180p.flv`, '-t', '1', '-f', 'null', '-'], { timeoutMs: 30_000 });
  assert.equal(again.code, 0);

  // Stopping the transcoder (SIGTERM) deregisters it and ends its FFmpeg.
  const last = childPids(second.pid);
  await second.stop();
  await waitFor('the stopped transcoder\'s ffmpeg to exit', () => last.every((pid) => !pidAlive(pid)), 10_000, 100);
  // No token in any process's logs.
  for (const p of procs) assert.doesNotMatch(p.stdout() + p.stderr(), /token=\d/);
});
