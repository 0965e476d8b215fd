// `livecdn edge --workers 2` as a child process: ownership by hash makes the whole edge fetch each
// object once and hold one upstream FLV connection per stream, whichever worker each viewer lands on;
// a worker that dies is replaced and its siblings learn the replacement's private port.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EdgeStatus } from '../../src/edge/edge.js';
import { parseMediaPlaylist } from '../../src/media/hls/playlist.js';
import { TagType } from '../../src/media/packet.js';
import { FlvViewer } from '../helpers/http.js';
import type { TestOrigin } from '../helpers/origin.js';
import { startLiveOrigin, type LiveOrigin } from './live-origin.js';
import { startCountingProxy } from './proxy.js';
import { bytes, get, startCliEdge, startFakeUpstream, type CliEdge } from './util.js';
import { waitFor, sleep } from '../helpers/wait.js';

const SEG = 32 * 1024;

/** /live/s/N.ts after a delay, so that concurrent misses overlap with the upstream fetch. */
const slowSegments = (): ReturnType<typeof startFakeUpstream> =>
  startFakeUpstream((req, res) => {
    const m = /^\/live\/s\/(\d+)\.ts$/.exec(req.url ?? '');
    if (!m) {
      res.writeHead(404);
      res.end();
      return;
    }
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'video/mp2t', 'cache-control': 'max-age=60' });
      res.end(bytes(SEG, Number(m[1]) + 1));
    }, 150);
  });

async function status(base: string): Promise<EdgeStatus> {
  return JSON.parse((await get(`${base}/api/edge`)).body.toString()) as EdgeStatus;
}

/** Each worker's /api/edge (new connection per request, so the cluster hands them round); waits until all know all peers. */
async function workersReady(edge: CliEdge, count: number): Promise<Map<number, EdgeStatus>> {
  return waitFor(
    'every worker up and knowing every sibling',
    async () => {
      const seen = new Map<number, EdgeStatus>();
      for (let i = 0; i < count * 4; i++) {
        const s = await status(edge.base).catch(() => undefined);
        if (s?.shard) seen.set(s.shard.index, s);
      }
      const all = [...seen.values()];
      return seen.size === count && all.every((s) => s.shard?.peers.every((p) => p !== null)) ? seen : undefined;
    },
    20_000,
    200,
  ).catch((e: unknown) => {
    throw new Error(`${String(e)}\n${edge.stderr()}`);
  });
}

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

const metric = (text: string, pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? NaN);

test('--workers 2: requests for the same segments spread over both workers make one upstream request per segment', async () => {
  const up = await slowSegments();
  const edge = await startCliEdge(['--upstream', up.url, '--workers', '2', '--no-prefetch']);
  try {
    const workers = await workersReady(edge, 2);
    assert.notEqual(workers.get(0)?.pid, workers.get(1)?.pid);
    // Both workers agree on the map.
    assert.deepEqual(workers.get(0)?.shard?.peers, workers.get(1)?.shard?.peers);
    for (let n = 0; n < 6; n++) {
      // Concurrent first (coalescing in each worker and at the owner), then more once it is cached.
      const all = await Promise.all(Array.from({ length: 20 }, () => get(`${edge.base}/live/s/${n}.ts`)));
      for (let i = 0; i < 10; i++) all.push(await get(`${edge.base}/live/s/${n}.ts`));
      const want = bytes(SEG, n + 1);
      for (const r of all) {
        assert.equal(r.status, 200);
        assert.ok(r.body.equals(want), 'exact bytes on every worker');
      }
      assert.equal(up.count(`/live/s/${n}.ts`), 1, `segment ${n}: one upstream request for the whole edge`);
    }
    const metrics = await (await fetch(`${edge.base}/metrics`)).text();
    const viewerRequests =
      metric(metrics, /livecdn_edge_cache_requests_total\{kind="segment",result="hit"\} (\d+)/) +
      metric(metrics, /livecdn_edge_cache_requests_total\{kind="segment",result="miss"\} (\d+)/);
    assert.equal(viewerRequests, 6 * 30, 'requests from a sibling are not counted as viewer requests');
    assert.ok(metric(metrics, /livecdn_edge_peer_requests_total\{kind="hls"\} (\d+)/) >= 1, 'a non-owner fetched from the owner');
    assert.equal(metric(metrics, /livecdn_edge_upstream_requests_total\{kind="hls",upstream="[^"]+"\} (\d+)/), 6);
  } finally {
    await edge.stop();
    await up.close();
  }
});

test('--workers 2: a worker that dies is restarted in its slot and its siblings route to the replacement', async () => {
  const up = await slowSegments();
  const edge = await startCliEdge(['--upstream', up.url, '--workers', '2', '--no-prefetch']);
  try {
    const before = await workersReady(edge, 2);
    const victim = before.get(1);
    assert.ok(victim?.shard);
    process.kill(victim.pid, 'SIGKILL');
    // Until the primary has reaped it, the cluster may still hand it a connection (which then hangs).
    await waitFor('the worker reaped', () => (isGone(victim.pid) ? true : undefined), 5000);
    await sleep(200);
    const after = await waitFor(
      'a replacement in slot 1, known to slot 0',
      async () => {
        const seen = await workersReady(edge, 2);
        const w1 = seen.get(1);
        const w0 = seen.get(0);
        return w1 && w0 && w1.pid !== victim.pid && w0.shard?.peers[1] === w1.shard?.peers[1] ? seen : undefined;
      },
      20_000,
      200,
    );
    assert.notEqual(after.get(1)?.shard?.peers[1], victim.shard.peers[1], 'the replacement listens on a new private port');
    for (let n = 100; n < 106; n++) {
      const all = await Promise.all(Array.from({ length: 10 }, () => get(`${edge.base}/live/s/${n}.ts`)));
      for (const r of all) assert.equal(r.status, 200);
      assert.equal(up.count(`/live/s/${n}.ts`), 1, `segment ${n}: one upstream request after the restart`);
    }
  } finally {
    await edge.stop();
    await up.close();
  }
});

test('--workers 2: a worker killed while the primary aggregates its /metrics leaves the primary up (no unhandled error)', async () => {
  const up = await slowSegments();
  const edge = await startCliEdge(['--upstream', up.url, '--workers', '2', '--no-prefetch']);
  let stopped: number | undefined;
  try {
    const ready = await workersReady(edge, 2);
    const [a, b] = [ready.get(0), ready.get(1)];
    assert.ok(a && b);
    // A stopped worker answers no metrics round, so each round waits its 2 s for it ...
    process.kill(b.pid, 'SIGSTOP');
    stopped = b.pid;
    const pending = Array.from({ length: 4 }, () => get(`${edge.base}/metrics`).catch(() => undefined));
    await sleep(500);
    // ... and the worker that asked dies before the answer: the primary must not send to it.
    process.kill(a.pid, 'SIGKILL');
    await sleep(2500);
    process.kill(b.pid, 'SIGCONT');
    stopped = undefined;
    assert.ok(edge.alive(), `the primary died: ${edge.stderr()}`);
    await workersReady(edge, 2);
    assert.equal((await get(`${edge.base}/metrics`)).status, 200);
    assert.equal((await get(`${edge.base}/live/s/1.ts`)).status, 200);
    await Promise.all(pending);
    assert.ok(edge.alive());
  } finally {
    if (stopped !== undefined) process.kill(stopped, 'SIGCONT');
    await edge.stop();
    await up.close();
  }
});

let origin: TestOrigin;
let live: LiveOrigin | undefined;

before(async () => {
  live = await startLiveOrigin('w', 'baseline+aac-mono', 2);
  origin = live.origin;
});

after(async () => {
  await live?.stop();
});

test('--workers 2 before a real origin: FLV viewers on both workers share one upstream FLV connection', async () => {
  const proxy = await startCountingProxy(origin.httpBase);
  const edge = await startCliEdge(['--upstream', proxy.url, '--workers', '2']);
  const viewers: FlvViewer[] = [];
  try {
    await workersReady(edge, 2);
    // One at a time, each on its own connection: the cluster hands them to the workers in turn.
    for (let i = 0; i < 6; i++) viewers.push(await FlvViewer.open(`${edge.base}/live/w.flv`));
    for (const v of viewers) assert.equal(v.status, 200);
    await Promise.all(viewers.map((v) => v.waitFor((p) => p.type === TagType.Video && p.payload[0] === 0x17 && p.payload[1] === 1, 10_000)));
    assert.equal(proxy.flv.opened, 1, 'one upstream FLV connection for the whole edge');
    assert.equal(proxy.count('/live/w.flv'), 1);
    const metrics = await (await fetch(`${edge.base}/metrics`)).text();
    assert.equal(metric(metrics, /livecdn_edge_viewers\{protocol="flv"\} (\d+)/), 6, 'the sibling relay is not counted as a viewer');
    assert.equal(metric(metrics, /livecdn_edge_peer_requests_total\{kind="flv"\} (\d+)/), 1, 'the other worker relays from the owner');
    // HLS through both workers: each segment once at the origin.
    for (let i = 0; i < 4; i++) {
      const pl = await get(`${edge.base}/live/w.m3u8`);
      assert.equal(pl.status, 200);
      for (const s of parseMediaPlaylist(pl.body.toString()).segments) {
        assert.equal((await get(new URL(s.uri, `${edge.base}/live/w.m3u8`).toString())).status, 200);
      }
    }
    const segs = [...proxy.counts.keys()].filter((p) => p.startsWith('/live/w/'));
    assert.ok(segs.length >= 2);
    for (const p of segs) assert.equal(proxy.count(p), 1, `${p} fetched once from the origin`);
  } finally {
    for (const v of viewers) v.close();
    await edge.stop();
    await proxy.kill();
  }
});
