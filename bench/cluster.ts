// Origin cluster benchmarks (issue 13), `npm run bench:cluster`:
//  1. Origin egress. A signal, 2 origins (a stream published on each) and 3 edges (`--signal`, both
//     origins as `--upstream`s), 1,000 HTTP-FLV viewers spread over the 3 edges and both streams; then
//     100. Each origin's egress (its livecdn_media_bytes_out_total + livecdn_hls_bytes_out_total) over a
//     window, against its stream's rate (the publisher's FLV bytes) x the edges pulling it (the origin's
//     viewers of that stream): ~1 per edge, whatever the viewers.
//  2. Lookup cost. A signal (the CLI, memory store, a secret) pinned to one core, 10 origins x 1,000
//     streams and 1,000 edges (10 streams each) registered and heartbeating with signed requests; wrk on
//     the other core GETs /api/route/live/{random stream} with the admin bearer: requests/s (and per
//     CPU-second of the signal) and latency percentiles, at saturation and with few connections.
//  3. Failover gap. A signal, 2 origins, 2 edges (`--signal`, `--upstream A,B`), a publisher stamping
//     each video frame's send time (sei.ts) through the ingest front (nginx/ingest.conf.template), an
//     HTTP-FLV and an HLS viewer on each edge. `kill -9` of the
//     origin holding the stream, the publisher republishing at once; the gap from the kill to the first
//     frame sent after it reaching the FLV viewers, and to the first segment holding such frames that the
//     HLS viewers (polling every 100 ms) can fetch; the killed origin restarted between runs; median of 5.
// Servers on core 0 (the lookup's signal alone there), load generators and publishers on core 1, all at
// nice -15; livecdn compiled once (bench/lib/livecdn-build.ts).
// Each part's figures are kept in .bench-tmp/cluster-results.json: a part run alone redraws the section with
// the others' last figures (`--only report` redraws it from them alone).
// Usage: node --import tsx bench/cluster.ts [--only egress,lookup,failover] [--runs 5] [--seconds 15] [--quick] [--no-write]
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { Helper } from './lib/ipc.js';
import type { CounterSnapshot, OpenArgs } from './lib/loadgen-child.js';
import type { PubSnapshot, PublishArgs } from './lib/pubprobe-child.js';
import { CACHE_DIR, ensureEncodedMedia } from './lib/media.js';
import { loadMedia, RealtimePublisher } from './lib/publisher.js';
import { FlvStampWatch, gapToFirstNew, HlsStampWatch } from './lib/failover-watch.js';
import type { HlsNewSegment } from './lib/failover-watch.js';
import { metricTotal } from './lib/prom.js';
import { fmt, mdTable, replaceSection, subsection } from './lib/report.js';
import { startPinned, type ServerProcess } from './lib/server-proc.js';
import { median } from './lib/stats.js';
import { compileLivecdn } from './lib/livecdn-build.js';
import type { LivecdnEntry } from './lib/livecdn-build.js';
import { runWrk, type WrkResult } from './lib/wrk.js';
import { nowMs } from './lib/sei.js';
import { adminToken, deriveKeys } from '../src/shared/keys.js';
import { signPublishToken } from '../src/shared/token.js';
import { signedFetch } from '../src/shared/signed-request.js';
import type { RouteAnswer } from '../src/shared/cluster.js';
import { flvPath, playlistPath, routeApiPath, rtmpPath } from '../src/shared/url-contract.js';
import { freePort } from '../test/helpers/net.js';
import { sleep, waitFor } from '../test/helpers/wait.js';
import { NGINX, prepareIngestNginx } from '../test/edge/nginx.js';

// ---------- settings ----------

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const QUICK = argv.includes('--quick');
const WRITE = !argv.includes('--no-write');
const ONLY = new Set((flag('only') ?? 'egress,lookup,failover').split(','));
const SECONDS = Number(flag('seconds') ?? (QUICK ? 6 : 15));
const RUNS = Number(flag('runs') ?? (QUICK ? 2 : 5));

const SERVER_CORE = 0;
const LOAD_CORE = 1;
const NICE = -15;
const HOST = '127.0.0.1';
const APP = 'live';
const SECRET = 'livecdn-bench-cluster-root-secret-0123456789';
const KEYS = deriveKeys(SECRET);
const ADMIN = `Bearer ${adminToken(KEYS)}`;
const env = { ...process.env, LOG_LEVEL: 'warn', LIVECDN_SECRET: SECRET };
const SECTION = 'Origin cluster';
const RESULTS = join(CACHE_DIR, 'cluster-results.json');

const EGRESS_EDGES = 3;
const EGRESS_VIEWERS = [1000, 100];
const LOOKUP_ORIGINS = 10;
const LOOKUP_STREAMS_PER_ORIGIN = 1000;
const LOOKUP_EDGES = 1000;
const LOOKUP_EDGE_STREAMS = 10;
const LOOKUP_SECONDS = QUICK ? 5 : 10;
const LOOKUP_CONNECTIONS = [32, 4];
/** Nodes' heartbeat period (the CLI's default --heartbeat): 1,010 nodes make ~200 heartbeats/s. */
const HEARTBEAT_PERIOD_MS = 5000;
/** A failover run waits this long for every viewer to resume. */
const GAP_TIMEOUT_MS = 40_000;
/**
 * Between a publish and the kill of its origin: past the front's passive health check (max_fails=1
 * fail_timeout=10s avoids the restarted origin for 10 s after the failed connect: the republish must be
 * able to land on it), and younger than the 15 s an edge's FLV relay would once take a new timeline near
 * the old one for its GOP replay (without publication ids, flv-relay.ts): the gap measured is that of a
 * stream killed early in its publish, the case the ids fixed.
 */
const PUBLISH_AGE_MS = 12_000;

mkdirSync(CACHE_DIR, { recursive: true });
let entry: LivecdnEntry | undefined;
const cli = (args: string[]): string[] => [...(entry ??= compileLivecdn(process.cwd(), join(CACHE_DIR, 'cluster-dist'))).args, ...args];
const logFile = (name: string): string => join(CACHE_DIR, `cluster-${name}.log`);
/** `{rtmpBase}/{app}/{stream}?token=…`: the origins hold the cluster secret, so a publish needs a token. */
const publishUrl = (rtmpBase: string, stream: string): string =>
  `${rtmpBase}${rtmpPath(APP, stream)}?token=${signPublishToken({ app: APP, stream, expSec: Math.floor(Date.now() / 1000) + 86_400 }, KEYS.publish)}`;

const T0 = performance.now();
function log(msg: string): void {
  console.log(`[${((performance.now() - T0) / 1000).toFixed(0).padStart(4)}s] ${msg}`);
}

/** 640x360 30 fps CBR 800 kbit/s + AAC, 2 s GOP, 10 s (a whole number of GOPs: the loop keeps the cadence). */
const ensureClip = (): Promise<string> =>
  ensureEncodedMedia('cluster-360p30-10s-v1.flv', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440:beep_factor=4:sample_rate=48000',
    '-t', '10',
    '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-pix_fmt', 'yuv420p',
    '-g', '60', '-keyint_min', '60', '-sc_threshold', '0',
    '-b:v', '800k', '-minrate', '800k', '-maxrate', '800k', '-bufsize', '400k', '-x264-params', 'nal-hrd=cbr',
    '-c:a', 'aac', '-b:a', '64k', '-ac', '2',
    '-f', 'flv',
  ]);
const CLIP_MS = 10_000;

// ---------- processes ----------

interface Node {
  proc: ServerProcess;
  id: string;
  /** HTTP base. */
  url: string;
}
interface OriginNode extends Node {
  httpPort: number;
  rtmpPort: number;
  rtmp: string;
}

const stops: (() => Promise<void>)[] = [];
async function stopAll(): Promise<void> {
  for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
}
function track(p: ServerProcess): ServerProcess {
  stops.push(() => p.stop());
  return p;
}

async function startSignal(core: number, extra: readonly string[] = []): Promise<Node> {
  const port = await freePort();
  const proc = track(
    await startPinned({ name: 'signal', command: process.execPath, args: cli(['signal', '--api-port', String(port), '--host', HOST, ...extra]), core, nice: NICE, logFile: logFile('signal'), ports: [port], env }),
  );
  return { proc, id: 'signal', url: `http://${HOST}:${port}` };
}

/** An origin registered with `signal`; `ports` reuses an earlier origin's (a restart). */
async function startOrigin(id: string, core: number, signal: string, ports?: { httpPort: number; rtmpPort: number }): Promise<OriginNode> {
  const httpPort = ports?.httpPort ?? (await freePort());
  const rtmpPort = ports?.rtmpPort ?? (await freePort());
  const url = `http://${HOST}:${httpPort}`;
  const rtmp = `rtmp://${HOST}:${rtmpPort}`;
  const proc = track(
    await startPinned({
      name: id,
      command: process.execPath,
      args: cli(['origin', '--host', HOST, '--http-port', String(httpPort), '--rtmp-port', String(rtmpPort), '--node-id', id, '--signal', signal, '--public-url', url, '--rtmp-url', rtmp, '--max-connections-per-ip', '1000']),
      core,
      nice: NICE,
      logFile: logFile(id),
      ports: [httpPort, rtmpPort],
      env,
    }),
  );
  return { proc, id, url, httpPort, rtmpPort, rtmp };
}

async function startEdge(id: string, core: number, signal: string, upstreams: readonly string[]): Promise<Node> {
  const port = await freePort();
  const proc = track(
    await startPinned({
      name: id,
      command: process.execPath,
      args: cli(['edge', '--host', HOST, '--http-port', String(port), '--node-id', id, '--signal', signal, '--upstream', upstreams.join(',')]),
      core,
      nice: NICE,
      logFile: logFile(id),
      ports: [port],
      env,
    }),
  );
  return { proc, id, url: `http://${HOST}:${port}` };
}

/**
 * GET on a connection of its own: fetch()'s pool may hand out a kept-alive socket the server is closing
 * just then (idle past its keep-alive timeout while wrk or the viewers ran), which fails the request.
 */
function getText(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timeout`)));
    req.on('error', reject);
  });
}

const metricsOf = async (base: string): Promise<string> => (await getText(`${base}/metrics`)).text;

/** An origin's own streams (GET /api/streams: never proxied): HTTP-FLV connections and publisher per stream name. */
async function originStreams(base: string): Promise<Map<string, { flvViewers: number; publishing: boolean }>> {
  const body = JSON.parse((await getText(`${base}/api/streams`)).text) as { streams: { app: string; name: string; viewers: { flv: number }; publisher: unknown }[] };
  return new Map(body.streams.filter((s) => s.app === APP).map((s) => [s.name, { flvViewers: s.viewers.flv, publishing: s.publisher !== null }]));
}

async function waitOriginLive(origin: OriginNode, stream: string): Promise<void> {
  await waitFor(
    `${APP}/${stream} live on ${origin.id}`,
    async () => {
      const r = await getText(origin.url + playlistPath(APP, stream), { via: '1.1 bench' });
      return r.status === 200 && (r.text.match(/#EXTINF/g)?.length ?? 0) >= 1;
    },
    30_000,
    250,
  );
}

// ---------- 1. origin egress ----------

interface EgressRow {
  viewers: number;
  origin: string;
  streamBps: number;
  edgesPulling: number;
  egressBps: number;
  /** egress / (stream rate x edges pulling). */
  perEdge: number;
  /** egress / stream rate. */
  streams: number;
  viewerRate: number;
  viewersEnded: number;
}

const originBytesOut = (text: string): number => metricTotal(text, 'livecdn_media_bytes_out_total') + (metricTotal(text, 'livecdn_hls_bytes_out_total') || 0);

async function benchEgress(clip: string): Promise<EgressRow[]> {
  const signal = await startSignal(LOAD_CORE);
  const origins = [await startOrigin('origin-a', SERVER_CORE, signal.url), await startOrigin('origin-b', SERVER_CORE, signal.url)];
  const upstreams = origins.map((o) => o.url);
  const edges: Node[] = [];
  for (let i = 0; i < EGRESS_EDGES; i++) edges.push(await startEdge(`edge-${i + 1}`, i % 2 === 0 ? SERVER_CORE : LOAD_CORE, signal.url, upstreams));
  const streams = ['ega', 'egb'];
  const pub = Helper.start('publisher', join(process.cwd(), 'bench/lib/pubprobe-child.ts'), LOAD_CORE, NICE);
  stops.push(() => pub.stop());
  const pubArgs: PublishArgs = { file: clip, durationMs: CLIP_MS, urls: origins.map((o, i) => publishUrl(o.rtmp, streams[i] ?? '')), stampFirstOnly: false, staggerMs: 500 };
  await pub.callOrStop('publish', pubArgs, 60_000);
  for (const [i, o] of origins.entries()) await waitOriginLive(o, streams[i] ?? '');
  log('egress: 2 origins live, 3 edges up');
  const loadgen = Helper.start('loadgen', join(process.cwd(), 'bench/lib/loadgen-child.ts'), LOAD_CORE, NICE);
  stops.push(() => loadgen.stop());
  const rows: EgressRow[] = [];
  for (const total of EGRESS_VIEWERS) {
    // Viewer k watches stream k % 2 on edge floor(k / 2) % 3: both streams on every edge, evenly.
    const pairs = edges.flatMap((e) => streams.map((s) => e.url + flvPath(APP, s)));
    for (const [k, url] of pairs.entries()) {
      const count = Math.floor(total / pairs.length) + (k < total % pairs.length ? 1 : 0);
      await loadgen.call('open', { proto: 'flv', url, count, batch: 50, stepMs: 50 } satisfies OpenArgs, 120_000);
    }
    await sleep(4000);
    const m0 = await Promise.all(origins.map((o) => metricsOf(o.url)));
    const v0 = await loadgen.call<CounterSnapshot>('snapshot');
    const p0 = await pub.call<PubSnapshot>('snapshot');
    await sleep(SECONDS * 1000);
    const m1 = await Promise.all(origins.map((o) => metricsOf(o.url)));
    const v1 = await loadgen.call<CounterSnapshot>('snapshot');
    const p1 = await pub.call<PubSnapshot>('snapshot');
    const held = await Promise.all(origins.map((o) => originStreams(o.url)));
    const seconds = (p1.at - p0.at) / 1000;
    const viewerBytes = v1.bytes.reduce((a, b) => a + b, 0) - v0.bytes.reduce((a, b) => a + b, 0);
    const meanStreamBps = ((p1.flvBytes.reduce((a, b) => a + b, 0) - p0.flvBytes.reduce((a, b) => a + b, 0)) * 8) / seconds / streams.length;
    for (const [i, o] of origins.entries()) {
      const streamBps = (((p1.flvBytes[i] ?? 0) - (p0.flvBytes[i] ?? 0)) * 8) / seconds;
      const egressBps = ((originBytesOut(m1[i] ?? '') - originBytesOut(m0[i] ?? '')) * 8) / seconds;
      const edgesPulling = held[i]?.get(streams[i] ?? '')?.flvViewers ?? NaN;
      const row: EgressRow = {
        viewers: total,
        origin: o.id,
        streamBps,
        edgesPulling,
        egressBps,
        perEdge: egressBps / (streamBps * edgesPulling),
        streams: egressBps / streamBps,
        viewerRate: (viewerBytes * 8) / seconds / total / meanStreamBps,
        viewersEnded: v1.ended,
      };
      rows.push(row);
      log(
        `egress, ${total} viewers: ${o.id} sent ${fmt(egressBps / 1e6, 2)} Mbit/s = ${fmt(row.streams, 2)} x its stream (${fmt(streamBps / 1e6, 2)} Mbit/s), ` +
          `${edgesPulling} edges pulling: ${fmt(row.perEdge, 3)} per edge; viewers got ${fmt(row.viewerRate * 100)}% of the stream rate, ${v1.ended} ended ${v1.reasons.join('; ')}`,
      );
    }
    await loadgen.call('closeAll');
    await sleep(1000);
  }
  await stopAll();
  return rows;
}

// ---------- 2. lookup cost ----------

interface LookupRow extends WrkResult {
  perCpu: number;
  /** Heartbeats per second sent meanwhile (0: a still registry), and how many failed. */
  heartbeatsPerSec: number;
  heartbeatErrors: number;
}
interface LookupResult {
  rows: LookupRow[];
  registerSeconds: number;
  /** livecdn_signal_route_lookups_total{result="found"} over the measured runs / wrk's requests. */
  foundShare: number;
  missing?: string;
}

async function inBatches<T>(items: readonly T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

async function signedPost(url: string, json: unknown): Promise<void> {
  const r = await signedFetch(url, { method: 'POST', json, key: KEYS.node, timeoutMs: 30_000 });
  if (r.status >= 300) throw new Error(`POST ${url}: ${r.status} ${r.body.slice(0, 200)}`);
}

interface FakeNode {
  registration: Record<string, unknown> & { id: string };
  load: Record<string, unknown>;
}

/** The registry of the lookup bench: origins listing LOOKUP_STREAMS_PER_ORIGIN streams each (all publishing), edges a few random ones. */
function fakeNodes(): FakeNode[] {
  const streamOf = (i: number): string => `${APP}/s${i}`;
  const total = LOOKUP_ORIGINS * LOOKUP_STREAMS_PER_ORIGIN;
  const out: FakeNode[] = [];
  for (let i = 0; i < LOOKUP_ORIGINS; i++) {
    const id = `origin-${i}`;
    const streams = Array.from({ length: LOOKUP_STREAMS_PER_ORIGIN }, (_, k) => streamOf(i * LOOKUP_STREAMS_PER_ORIGIN + k));
    out.push({
      registration: { id, kind: 'origin', region: 'eu', publicUrl: `http://${id}.bench:8080`, rtmpUrl: `rtmp://${id}.bench:1935`, capacity: 2000 },
      load: { viewers: 0, publishers: streams.length, egressBps: 0, cpu: 0.2, streams, streamStats: streams.map((stream) => ({ stream, viewers: 3, publishing: true })) },
    });
  }
  for (let i = 0; i < LOOKUP_EDGES; i++) {
    const id = `edge-${i}`;
    const streams = new Set(Array.from({ length: LOOKUP_EDGE_STREAMS }, () => streamOf(Math.floor(Math.random() * total))));
    out.push({ registration: { id, kind: 'edge', region: 'eu', publicUrl: `http://${id}.bench:8080`, capacity: 5000 }, load: { viewers: 30, publishers: 0, egressBps: 7.5e7, cpu: 0.3, streams: [...streams] } });
  }
  return out;
}

/** Every node heartbeats once per `periodMs`, spread evenly (as nodes started at random times do), until stopped. */
function heartbeatLoad(signal: string, nodes: readonly FakeNode[], periodMs: number): { stop(): Promise<{ sent: number; errors: number }> } {
  let sent = 0;
  let errors = 0;
  const inFlight = new Set<Promise<void>>();
  const t0 = performance.now();
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) / periodMs) * nodes.length);
    for (; sent < due; sent++) {
      const n = nodes[sent % nodes.length] as FakeNode;
      const p = signedPost(`${signal}/api/nodes/${n.registration.id}/heartbeat`, { id: n.registration.id, load: n.load }).catch(() => void errors++);
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
  }, 5);
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all(inFlight);
      return { sent, errors };
    },
  };
}

async function benchLookup(): Promise<LookupResult> {
  const signal = await startSignal(SERVER_CORE, ['--node-ttl', '3600']);
  const t0 = performance.now();
  const nodes = fakeNodes();
  await inBatches(nodes, 25, async (n) => {
    await signedPost(`${signal.url}/api/nodes`, n.registration);
    await signedPost(`${signal.url}/api/nodes/${n.registration.id}/heartbeat`, { id: n.registration.id, load: n.load });
  });
  const registerSeconds = (performance.now() - t0) / 1000;
  log(`lookup: ${LOOKUP_ORIGINS} origins x ${LOOKUP_STREAMS_PER_ORIGIN} streams and ${LOOKUP_EDGES} edges registered in ${fmt(registerSeconds)} s`);
  try {
    const probe = await getText(signal.url + routeApiPath(APP, 's4321'), { authorization: ADMIN });
    let answer: RouteAnswer | undefined;
    try {
      answer = JSON.parse(probe.text) as RouteAnswer;
    } catch {
      // not JSON (an error page): reported below
    }
    if (probe.status !== 200 || answer?.origins?.[0]?.id !== 'origin-4') {
      return { rows: [], registerSeconds, foundShare: NaN, missing: `GET ${routeApiPath(APP, 's4321')} answered ${probe.status}: ${probe.text.slice(0, 200)}` };
    }
    const total = LOOKUP_ORIGINS * LOOKUP_STREAMS_PER_ORIGIN;
    const request = `return wrk.format("GET", "${routeApiPath(APP, 's')}" .. math.random(0, ${total - 1}))`;
    const prefix = ['nice', '-n', String(NICE), 'taskset', '-c', String(LOAD_CORE)];
    const base = { url: `${signal.url}/`, request, headers: [`Authorization: ${ADMIN}`], prefix };
    await runWrk({ ...base, connections: 32, seconds: 2 }); // warm-up: JIT, the view's index
    const found0 = metricTotal(await metricsOf(signal.url), 'livecdn_signal_route_lookups_total', 'result="found"');
    const rows: LookupRow[] = [];
    let requests = 0;
    for (const periodMs of [0, HEARTBEAT_PERIOD_MS]) {
      for (const connections of LOOKUP_CONNECTIONS) {
        const beats = periodMs > 0 ? heartbeatLoad(signal.url, nodes, periodMs) : undefined;
        const c0 = signal.proc.cpuSeconds();
        const r = await runWrk({ ...base, connections, seconds: LOOKUP_SECONDS });
        const cpu = signal.proc.cpuSeconds() - c0;
        const hb = (await beats?.stop()) ?? { sent: 0, errors: 0 };
        if (!r) throw new Error('wrk is not installed');
        requests += r.rps * LOOKUP_SECONDS;
        const row: LookupRow = { ...r, perCpu: (r.rps * LOOKUP_SECONDS) / cpu, heartbeatsPerSec: hb.sent / LOOKUP_SECONDS, heartbeatErrors: hb.errors };
        rows.push(row);
        log(
          `lookup (${r.tool}, ${fmt(row.heartbeatsPerSec, 0)} heartbeats/s): ${fmt(r.rps, 0)} req/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms, max ${fmt(r.max, 1)} ms, ` +
            `errors ${r.errors + r.non2xx}; ${fmt(row.perCpu, 0)} req per signal CPU-second; heartbeat errors ${hb.errors}`,
        );
      }
    }
    const found = metricTotal(await metricsOf(signal.url), 'livecdn_signal_route_lookups_total', 'result="found"') - found0;
    return { rows, registerSeconds, foundShare: found / requests };
  } finally {
    await stopAll();
  }
}

// ---------- 3. failover gap ----------

interface FailoverRun {
  killed: string;
  /** How long the publish had been live when its origin was killed, ms. */
  publishAgeMs: number;
  /** Kill to the publisher's new publish being accepted, ms. */
  republishMs: number;
  /** Kill to the first new frame / segment, per edge (undefined: none within the timeout). */
  flv: (number | undefined)[];
  hls: (number | undefined)[];
  /** FLV viewers whose connection was dropped during the run (the watcher reopened it). */
  flvDropped: number;
  hlsDiscontinuity: boolean[];
  hlsSequenceGrew: boolean[];
}
interface FailoverResult {
  runs: FailoverRun[];
  via: string;
}

interface Ingest {
  url: string;
  proc: ServerProcess;
  prefix: string;
}

/** nginx/ingest.conf.template in front of the two origins' RTMP ports (rendered as test/edge/nginx.ts does), on core 1. */
async function startIngest(origins: readonly OriginNode[]): Promise<Ingest> {
  const port = await freePort();
  const { prefix, args } = await prepareIngestNginx([`${HOST}:${origins[0]?.rtmpPort ?? 0}`, `${HOST}:${origins[1]?.rtmpPort ?? 0}`], port);
  const proc = track(await startPinned({ name: 'ingest', command: NGINX, args, core: LOAD_CORE, nice: NICE, logFile: logFile('ingest'), ports: [port] }));
  return { url: `rtmp://${HOST}:${port}`, proc, prefix };
}

/** Publishes `file` with send-time stamps to `target()`, republishing at once (retrying every 100 ms) whenever the connection drops. */
class StampedPublisher {
  private current: RealtimePublisher | undefined;
  private stopped = false;
  private readonly media;
  /** nowMs when the latest publish was accepted. */
  publishedAt = 0;
  private readonly loop: Promise<void>;

  constructor(
    file: string,
    private readonly target: () => string,
  ) {
    this.media = loadMedia(file, CLIP_MS);
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (!this.current || this.current.closed) {
        this.current?.stop();
        const p = new RealtimePublisher(this.target(), this.media, { stamp: true });
        try {
          await p.start();
          this.current = p;
          this.publishedAt = nowMs();
        } catch {
          p.stop();
          this.current = undefined;
          await sleep(100);
          continue;
        }
      }
      await sleep(5);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    this.current?.stop();
  }
}

async function benchFailover(clip: string): Promise<FailoverResult> {
  const stream = 'failover';
  const signal = await startSignal(LOAD_CORE);
  const origins = [await startOrigin('origin-a', SERVER_CORE, signal.url), await startOrigin('origin-b', SERVER_CORE, signal.url)];
  const ingest = await startIngest(origins);
  const via = 'through the ingest front (nginx/ingest.conf.template, nginx stream module)';
  log(`failover: publishing ${via}`);
  const edges = [await startEdge('edge-1', SERVER_CORE, signal.url, origins.map((o) => o.url)), await startEdge('edge-2', LOAD_CORE, signal.url, origins.map((o) => o.url))];
  const publisher = new StampedPublisher(clip, () => publishUrl(ingest.url, stream));
  stops.push(() => publisher.stop());
  const runs: FailoverRun[] = [];
  const flv = edges.map((e) => new FlvStampWatch(e.url + flvPath(APP, stream)));
  const hls = edges.map((e) => new HlsStampWatch(e.url + playlistPath(APP, stream)));
  try {
    const holder = async (): Promise<number> =>
      waitFor(
        `an origin holding ${stream}`,
        async () => {
          for (const [i, o] of origins.entries()) if ((await originStreams(o.url).catch(() => undefined))?.get(stream)?.publishing) return i + 1;
          return undefined;
        },
        30_000,
        200,
      ).then((i) => i - 1);
    for (let run = 0; run < RUNS; run++) {
      const h = await holder();
      await sleep(Math.max(0, publisher.publishedAt + PUBLISH_AGE_MS - nowMs()));
      // Steady: every viewer got a frame sent in the last 2 s and a segment listed recently.
      await waitFor('viewers playing', () => flv.every((w) => (gapToFirstNew(w.recorded(), nowMs() - 2000) ?? Infinity) < 2000) && hls.every((w) => nowMs() - w.lastOkAt < 1000), 60_000, 200).catch((e: unknown) => log(`warning: ${e instanceof Error ? e.message : String(e)}`));
      const victim = origins[h];
      if (!victim) throw new Error('no holder');
      const dropped0 = flv.reduce((s, w) => s + w.reconnects, 0);
      const killAt = nowMs();
      const publishAgeMs = killAt - publisher.publishedAt;
      for (const w of hls) w.mark(killAt);
      process.kill(victim.proc.pid, 'SIGKILL');
      const deadline = Date.now() + GAP_TIMEOUT_MS;
      const hlsNew: (HlsNewSegment | undefined)[] = await Promise.all(hls.map((w) => w.waitNew(GAP_TIMEOUT_MS)));
      await waitFor('FLV viewers resumed', () => flv.every((w) => gapToFirstNew(w.recorded(), killAt) !== undefined), Math.max(100, deadline - Date.now()), 50).catch(() => undefined);
      const r: FailoverRun = {
        killed: victim.id,
        publishAgeMs,
        republishMs: publisher.publishedAt >= killAt ? publisher.publishedAt - killAt : NaN,
        flv: flv.map((w) => gapToFirstNew(w.recorded(), killAt)),
        hls: hlsNew.map((s) => (s ? s.at - killAt : undefined)),
        flvDropped: flv.reduce((s, w) => s + w.reconnects, 0) - dropped0,
        hlsDiscontinuity: hlsNew.map((s) => s?.discontinuity === true),
        hlsSequenceGrew: hlsNew.map((s) => s !== undefined && s.sequence > s.sequenceBefore),
      };
      runs.push(r);
      log(
        `failover run ${run + 1}: killed ${r.killed}; republished after ${fmt(r.republishMs, 0)} ms; first new FLV frame ${r.flv.map((x) => fmt(x ?? NaN, 0)).join(' / ')} ms, ` +
          `first new HLS segment ${r.hls.map((x) => fmt(x ?? NaN, 0)).join(' / ')} ms (edge-1 / edge-2); FLV connections dropped: ${r.flvDropped}; ` +
          `DISCONTINUITY ${r.hlsDiscontinuity.join('/')}, sequence grew ${r.hlsSequenceGrew.join('/')}`,
      );
      // Restart the killed origin on its ports for the next run (which kills the other one).
      await victim.proc.stop('SIGKILL');
      origins[h] = await startOrigin(victim.id, SERVER_CORE, signal.url, { httpPort: victim.httpPort, rtmpPort: victim.rtmpPort });
    }
  } finally {
    for (const w of flv) w.close();
    await Promise.all(hls.map((w) => w.close()));
    await stopAll();
    rmSync(ingest.prefix, { recursive: true, force: true });
  }
  return { runs, via };
}

// ---------- report ----------

interface Results {
  date: string;
  /** Load average at the end of the last measuring run, and how livecdn was run. */
  loadavg: string;
  how: string;
  egress?: EgressRow[];
  lookup?: LookupResult;
  failover?: FailoverResult;
}

const ms = (x: number | undefined): string => (x === undefined ? 'none' : fmt(x, 0));
const worst = (xs: readonly (number | undefined)[]): number | undefined => (xs.some((x) => x === undefined) ? undefined : Math.max(...(xs as number[])));

function report(r: Results): string {
  const out: string[] = [
    `\`npm run bench:cluster\` (bench/cluster.ts), ${r.date}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}. ` +
      'Pinned, at nice -15: origins and edge-1 (and edge-3) on core 0; the signal, edge-2, the ingest front, the viewers and the publishers on core 1; for the lookup, the signal alone on core 0 and wrk on core 1. ' +
      `A shared ${os.cpus().length}-core machine (load average at the end: ${r.loadavg}). livecdn ${r.how}.`,
  ];
  if (r.egress) {
    out.push(
      ...subsection(
        `Origin egress: 2 origins x ${EGRESS_EDGES} edges, HTTP-FLV viewers over both streams and every edge (${SECONDS} s window)`,
        'Each origin holds one stream (640x360 800 kbit/s CBR + AAC), published in real time; edges locate it through the signal. "Edges pulling" = the HTTP-FLV connections the origin counts for its stream. "Per edge" = the origin\'s egress (its FLV + HLS bytes out) / (its stream\'s rate as published x the edges pulling it): 1 means one stream\'s worth per edge, whatever the viewers.',
        mdTable(
          ['viewers (all)', 'origin', 'stream Mbit/s', 'edges pulling', 'origin egress Mbit/s', 'streams\' worth', 'per edge', 'viewer rate / stream rate', 'viewers dropped'],
          r.egress.map((e) => [String(e.viewers), e.origin, fmt(e.streamBps / 1e6, 2), String(e.edgesPulling), fmt(e.egressBps / 1e6, 2), fmt(e.streams, 2), `**${fmt(e.perEdge, 3)}**`, `${fmt(e.viewerRate * 100)}%`, String(e.viewersEnded)]),
        ),
      ),
    );
  }
  if (r.lookup) {
    const l = r.lookup;
    out.push(
      ...subsection(
        `Lookup cost: GET /api/route/{app}/{stream}, ${LOOKUP_ORIGINS * LOOKUP_STREAMS_PER_ORIGIN} streams (${LOOKUP_ORIGINS} origins x ${LOOKUP_STREAMS_PER_ORIGIN}), ${LOOKUP_EDGES} edges (${LOOKUP_EDGE_STREAMS} streams each)`,
        l.missing
          ? `Not measured: ${l.missing}`
          : [
              `The signal (CLI, memory store, a secret) pinned to core 0; wrk on core 1 with the admin bearer, a random stream per request, ${LOOKUP_SECONDS} s per run: ` +
                `first with a still registry, then with every node heartbeating (signed) once per ${HEARTBEAT_PERIOD_MS / 1000} s, the CLI's default, from the driver process. ` +
                `Registering and a first heartbeat of every node took ${fmt(l.registerSeconds)} s; lookups the signal counted "found": ${fmt(l.foundShare * 100)}% of wrk's requests.`,
              '',
              mdTable(
                ['load', 'heartbeats/s meanwhile', 'requests/s', 'requests per signal CPU-second', 'p50 ms', 'p99 ms', 'max ms', 'errors'],
                l.rows.map((x) => [`${x.tool} (closed loop)`, `${fmt(x.heartbeatsPerSec, 0)}${x.heartbeatErrors ? ` (${x.heartbeatErrors} failed)` : ''}`, fmt(x.rps, 0), fmt(x.perCpu, 0), fmt(x.p50, 2), fmt(x.p99, 2), fmt(x.max, 1), String(x.errors + x.non2xx)]),
              ),
            ].join('\n'),
      ),
    );
  }
  if (r.failover) {
    const f = r.failover;
    const flvWorst = f.runs.map((x) => worst(x.flv));
    const hlsWorst = f.runs.map((x) => worst(x.hls));
    const defined = (xs: (number | undefined)[]): number[] => xs.filter((x): x is number => x !== undefined);
    out.push(
      ...subsection(
        `Failover gap: kill -9 of the origin holding the stream, ${f.runs.length} runs`,
        `2 origins, 2 edges (\`--signal\`, \`--upstream A,B\`, defaults otherwise: heartbeats 5 s, \`--flv-grace\` 10 s, 2 s HLS segments), a publisher (2 s GOP) republishing at once ${f.via}, each publish live for ${fmt(Math.min(...f.runs.map((x) => x.publishAgeMs)) / 1000, 0)} s or more before its origin is killed; the killed origin restarted on its ports after each run. ` +
          'Gap = from the kill to the first video frame sent after it (by the send time stamped in the frame) arriving at the HTTP-FLV viewer, and to the first segment holding such frames fetched by the HLS viewer, which polls the edge\'s playlist every 100 ms (a player reloading once per target duration adds up to 2 s; the new publish\'s first segment is listed once closed, so the HLS gap is at least one segment). The medians take the slower of the two edges per run.',
        mdTable(
          ['run', 'killed', 'live for s', 'republished ms', 'HTTP-FLV gap ms (edge-1 / edge-2)', 'HLS gap ms (edge-1 / edge-2)', 'FLV connections dropped', 'HLS DISCONTINUITY / sequence grew (edge-1, edge-2)'],
          f.runs.map((x, i) => [
            String(i + 1),
            x.killed,
            fmt(x.publishAgeMs / 1000, 0),
            fmt(x.republishMs, 0),
            x.flv.map(ms).join(' / '),
            x.hls.map(ms).join(' / '),
            String(x.flvDropped),
            x.hlsDiscontinuity.map((d, k) => `${d ? 'yes' : 'no'}/${x.hlsSequenceGrew[k] ? 'yes' : 'no'}`).join(', '),
          ]),
        ),
        `Median over the runs: republished after **${fmt(median(f.runs.map((x) => x.republishMs)), 0)} ms**, first new HTTP-FLV frame after **${ms(median(defined(flvWorst)))} ms**, ` +
          `first new HLS segment after **${ms(median(defined(hlsWorst)))} ms**${flvWorst.includes(undefined) || hlsWorst.includes(undefined) ? ` (runs without a resume within ${GAP_TIMEOUT_MS / 1000} s left out)` : ''}.`,
      ),
    );
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  // Parts run alone keep the other parts' last figures in the section.
  const prev = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as Results) : undefined;
  const measuring = ['egress', 'lookup', 'failover'].some((p) => ONLY.has(p));
  const results: Results = { date: '', loadavg: '', how: '', ...prev };
  if (measuring) {
    const clip = await ensureClip();
    log(`livecdn: ${(entry ??= compileLivecdn(process.cwd(), join(CACHE_DIR, 'cluster-dist'))).how}`);
    try {
      if (ONLY.has('egress')) results.egress = await benchEgress(clip);
      if (ONLY.has('lookup')) results.lookup = await benchLookup();
      if (ONLY.has('failover')) results.failover = await benchFailover(clip);
    } finally {
      await stopAll();
    }
    Object.assign(results, { date: new Date().toISOString().slice(0, 10), loadavg: os.loadavg().map((x) => x.toFixed(1)).join(' / '), how: entry.how });
    writeFileSync(RESULTS, JSON.stringify(results, null, 2));
  } else if (!prev) throw new Error(`nothing measured and no ${RESULTS} to redraw from`);
  const body = report(results);
  console.log(`\n${body}`);
  if (WRITE) {
    replaceSection('BENCHMARKS.md', SECTION, body);
    log(`wrote the "## ${SECTION}" section of BENCHMARKS.md`);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    void stopAll().finally(() => process.exit(1));
  },
);
