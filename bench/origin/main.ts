// Origin benchmark (`npm run bench:origin`, or `node --import tsx bench/origin/main.ts [--quick]`):
// livecdn's origin against node-media-server 4.4 (HTTP-FLV, RTMP play) and nginx-rtmp (RTMP play) on the
// same stream and load, server pinned to core 0, publisher + probes + load generator on core 1.
// Writes the "## Origin" section of BENCHMARKS.md. See issue 2, "## Benchmarks".
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { Helper } from '../lib/ipc.js';
import type { CounterSnapshot } from '../lib/loadgen-child.js';
import type { HlsResult, PubSnapshot } from '../lib/pubprobe-child.js';
import { CACHE_DIR, MEDIA_DURATION_MS, ensureTestMedia } from '../lib/media.js';
import { coreBusy, coreTimes, cpuSeconds, runDelaySeconds } from '../lib/proc.js';
import { diffHistogram, histogramQuantile, parseHistograms } from '../lib/prom.js';
import type { Histogram } from '../lib/prom.js';
import { fmt, fmtBytes, mdTable, pct, replaceSection } from '../lib/report.js';
import { startPinned } from '../lib/server-proc.js';
import type { ServerProcess } from '../lib/server-proc.js';
import { median, min, quantile } from '../lib/stats.js';
import { topSelfTime } from '../lib/cpuprofile.js';
import type { Protocol } from '../lib/viewers.js';
import { nginxRtmpArgs } from './nginx-rtmp.js';
import { compileLivecdn } from '../lib/livecdn-build.js';
import { sleep } from '../../test/helpers/wait.js';
import { freePort } from '../../test/helpers/net.js';
import { ffmpegPath } from '../../test/helpers/ffmpeg.js';

// ---------------------------------------------------------------------------------------------------
// Settings

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const argValue = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
/**
 * For development: --only=flv,rtmp,hls,sweep (hls includes ingest; 'none' for nothing),
 * --servers=livecdn,nms,nginx-rtmp, --no-write, --no-profile, --profile=flv,rtmp,ingest (profile even
 * without a miss), --batch-sweep=0,20,60 (livecdn --write-batch-ms values at 1000 viewers; '' for none).
 */
const ONLY = new Set((argValue('only') ?? 'flv,rtmp,hls,sweep').split(','));
const SERVERS = new Set((argValue('servers') ?? 'livecdn,nms,nginx-rtmp').split(','));
const WRITE = !argv.includes('--no-write');

const SERVER_CORE = 0;
const LOAD_CORE = 1;
/**
 * Priority of the server and of our helpers. The machine is shared with other engineers' builds and
 * tests; without it they starve whichever process runs and the figures measure the scheduler. Every
 * server gets the same treatment.
 */
const NICE = -15;
const GOP_MS = 2000;
const PROBES = 2;
const STREAM = 'live/bench';
const HTTP_FLV_LEVELS = QUICK ? [0, 100, 1000] : [0, 100, 500, 1000];
const RTMP_LEVELS = QUICK ? [0, 1000] : [0, 500, 1000];
const INGEST_PUBLISHERS = 50;
/** --write-batch-ms values tried at 1000 viewers beside the default (what the batching window buys). */
const BATCH_SWEEP = (argValue('batch-sweep') ?? (QUICK ? '' : '0,20,60')).split(',').filter(Boolean).map(Number);
const SWEEP_VIEWERS = 1000;
const T = QUICK
  ? { warmMs: 3000, windowMs: 4000, windows: 1, extraWindows: 1, hlsMs: 8000, profileMs: 8000 }
  : { warmMs: 6000, windowMs: 8000, windows: 3, extraWindows: 3, hlsMs: 24_000, profileMs: 15_000 };
/** Every viewer must get at least this share of the stream's bit rate. */
const MIN_RATE = 0.98;

const ROOT = process.cwd();
const TMP = CACHE_DIR;
const LOAD_SCRIPT = join(ROOT, 'bench/lib/loadgen-child.ts');
const PUB_SCRIPT = join(ROOT, 'bench/lib/pubprobe-child.ts');

// ---------------------------------------------------------------------------------------------------
// Servers

type ServerName = 'livecdn' | 'nms' | 'nginx-rtmp';
interface Ports {
  rtmp: number;
  http: number;
}
interface ServerSpec {
  name: ServerName;
  start(ports: Ports, cpuProfDir?: string): Promise<ServerProcess>;
}

/** livecdn with extra CLI flags (the --write-batch-ms sweep). */
function livecdnWith(flags: readonly string[]): ServerSpec {
  return { name: 'livecdn', start: (ports, prof) => startLivecdn(ports, prof, flags) };
}

let livecdnEntry: { args: string[]; how: string } | undefined;
let livecdnHelp = '';

/**
 * The origin as production runs it: compiled JS. We compile into our cache dir (not dist/, which the
 * build owns) and fall back to tsx only if that fails.
 */
function livecdnCommand(): { args: string[]; how: string } {
  if (livecdnEntry) return livecdnEntry;
  livecdnEntry = compileLivecdn(ROOT, join(TMP, 'livecdn-dist'));
  livecdnHelp = spawnSync(process.execPath, [...livecdnEntry.args, 'origin', '--help'], { cwd: ROOT, encoding: 'utf8' }).stdout ?? '';
  return livecdnEntry;
}

/** The value of `--write-batch-ms` in effect: the CLI's stated default, else the Origin's. */
function writeBatchDefault(): string {
  // The help may wrap the description over several lines: read up to the first default after the flag.
  const m = /--write-batch-ms[\s\S]*?default:?\s*"?(\d+(?:\.\d+)?)/i.exec(livecdnHelp);
  return m?.[1] ?? '20';
}

const livecdn: ServerSpec = { name: 'livecdn', start: (ports, cpuProfDir) => startLivecdn(ports, cpuProfDir, []) };

async function startLivecdn(ports: Ports, cpuProfDir: string | undefined, flags: readonly string[]): Promise<ServerProcess> {
  const cmd = livecdnCommand();
  const extra: string[] = [];
  // 1000 RTMP viewers + probes + publisher exceed the default RTMP connection limit of 1000.
  if (/--max-connections\b/.test(livecdnHelp)) extra.push('--max-connections', '10000');
  // ...and all come from loopback, one address.
  if (/--max-connections-per-ip\b/.test(livecdnHelp)) extra.push('--max-connections-per-ip', '10000');
  const prof = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  return startPinned({
    name: 'livecdn',
    command: process.execPath,
    // Loopback: an origin bound to every address needs the cluster secret (or --insecure).
    args: [...prof, ...cmd.args, 'origin', '--host', '127.0.0.1', '--rtmp-port', String(ports.rtmp), '--http-port', String(ports.http), ...extra, ...flags],
    core: SERVER_CORE,
    nice: NICE,
    logFile: join(TMP, 'livecdn.log'),
    ports: [ports.rtmp, ports.http],
    env: { ...process.env, NODE_ENV: 'production' },
  });
}

const nms: ServerSpec = {
  name: 'nms',
  start: (ports) => {
    const data = join(TMP, 'nms-data');
    mkdirSync(data, { recursive: true });
    return startPinned({
      name: 'nms',
      command: process.execPath,
      args: ['--import', 'tsx', join(ROOT, 'bench/origin/nms-start.ts'), String(ports.rtmp), String(ports.http), data],
      core: SERVER_CORE,
      nice: NICE,
      logFile: join(TMP, 'nms.log'),
      ports: [ports.rtmp, ports.http],
    });
  },
};

const nginx: ServerSpec = {
  name: 'nginx-rtmp',
  start: (ports) => {
    const prefix = join(TMP, 'nginx-rtmp');
    return startPinned({
      name: 'nginx-rtmp',
      command: '/usr/sbin/nginx',
      args: nginxRtmpArgs(prefix, ports.rtmp),
      core: SERVER_CORE,
      nice: NICE,
      logFile: join(TMP, 'nginx-rtmp.log'),
      ports: [ports.rtmp],
    });
  },
};

const rtmpUrl = (p: Ports, stream = STREAM): string => `rtmp://127.0.0.1:${p.rtmp}/${stream}`;
const flvUrl = (p: Ports, stream = STREAM): string => `http://127.0.0.1:${p.http}/${stream}.flv`;
const viewUrl = (proto: Protocol, p: Ports): string => (proto === 'flv' ? flvUrl(p) : rtmpUrl(p));

// ---------------------------------------------------------------------------------------------------
// Measurement

interface Level {
  server: ServerName;
  proto: Protocol | 'ingest';
  /** Counting viewers (probes not included), or publishers for ingest. */
  n: number;
  /** Server CPU, fraction of one core: median over the windows, and each window. */
  cpu: number;
  /** CPU of the main thread alone (the rest: GC and libuv threads, or nginx's master). */
  mainCpu: number;
  cpuWindows: number[];
  /** Windows thrown away as noisy; noisy = no clean window at all (figures from noisy windows). */
  discarded: number;
  noisy: boolean;
  rss: number;
  streamMbps: number;
  /** Per-viewer rate over the stream's rate: minimum and median (NaN without viewers). */
  rateMin: number;
  rateMedian: number;
  below: number;
  ended: number;
  endReasons: string[];
  delayMedian: number;
  delayP95: number;
  delayN: number;
  /** CPU of our helpers (publisher+probes, load generator), fraction of a core. */
  loadCpu: number;
  /** Busy share of the load core (our helpers and anything else). */
  loadCoreBusy: number;
  /** Busy share of the server core not used by the server: other engineers' work, the noise. */
  core0Other: number;
  serverWait: number;
  loadWait: number;
  publisherLagMs: number;
  hls?: { median: number; p95: number; count: number } | undefined;
}

interface Ctx {
  server: ServerName;
  proto: Protocol | 'ingest';
  srv: ServerProcess;
  pub: Helper;
  lg?: Helper | undefined;
  ports: Ports;
}

interface Snap {
  t: number;
  cpu: number;
  mainCpu: number;
  wait: number;
  helpersWait: number;
  rss: number;
  cores: number[][];
  helpers: number;
  pub: PubSnapshot;
  lg: CounterSnapshot | undefined;
  metrics: Map<string, Histogram> | undefined;
}

const HLS_METRIC = 'livecdn_hls_segment_publish_latency_ms';

async function scrapeMetrics(ports: Ports): Promise<Map<string, Histogram> | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${ports.http}/metrics`);
    if (!r.ok) return undefined;
    return parseHistograms(await r.text());
  } catch {
    return undefined;
  }
}

function helperSum(ctx: Ctx, f: (pid: number) => number): number {
  let s = 0;
  for (const h of [ctx.pub, ctx.lg]) {
    if (!h) continue;
    try {
      s += f(h.pid);
    } catch {
      // helper gone; its absence shows elsewhere
    }
  }
  return s;
}

async function snap(ctx: Ctx): Promise<Snap> {
  const [pub, lg, metrics] = await Promise.all([
    ctx.pub.call<PubSnapshot>('snapshot'),
    ctx.lg ? ctx.lg.call<CounterSnapshot>('snapshot') : Promise.resolve(undefined),
    ctx.server === 'livecdn' ? scrapeMetrics(ctx.ports) : Promise.resolve(undefined),
  ]);
  return {
    t: performance.now(),
    cpu: ctx.srv.cpuSeconds(),
    mainCpu: ctx.srv.mainThreadCpuSeconds(),
    wait: ctx.srv.runDelaySeconds(),
    rss: ctx.srv.rssBytes(),
    cores: coreTimes(),
    helpers: helperSum(ctx, cpuSeconds),
    helpersWait: helperSum(ctx, runDelaySeconds),
    pub,
    lg,
    metrics,
  };
}

/** Waits for the middle of a GOP, so that window edges never cut through a keyframe in flight. */
async function alignMidGop(pub: Helper): Promise<void> {
  await new Promise<void>((resolveKf) => {
    const timer = setTimeout(() => {
      off();
      resolveKf();
    }, GOP_MS * 2);
    const off = pub.on('kf', () => {
      clearTimeout(timer);
      off();
      resolveKf();
    });
  });
  await sleep(GOP_MS / 2);
}

interface Window {
  cpu: number;
  mainCpu: number;
  /** Share of the window the server's / our helpers' main threads waited for a CPU while runnable. */
  serverWait: number;
  loadWait: number;
  rss: number;
  other: number;
  loadCoreBusy: number;
  load: number;
  stream: number;
  delays: number[];
  /** Per viewer: received rate / stream rate. */
  ratios: number[];
}

/**
 * A window is noisy when the server waited for its core while other processes ran on it (a Node
 * server's main thread also waits for its own GC threads on one core: that is not noise), or when our
 * publisher/viewers had to wait for theirs.
 */
const MAX_SERVER_WAIT = 0.1;
const MAX_OTHER = 0.1;
const MAX_LOAD_WAIT = 0.2;
const isClean = (w: Window): boolean => (w.serverWait <= MAX_SERVER_WAIT || w.other <= MAX_OTHER) && w.loadWait <= MAX_LOAD_WAIT;

async function measure(ctx: Ctx, n: number): Promise<Level> {
  if (ctx.srv.exited()) throw new Error(`${ctx.server} exited (${ctx.srv.exited() ?? ''}); see ${ctx.srv.logFile}`);
  await alignMidGop(ctx.pub);
  let prev = await snap(ctx);
  const first = prev;
  const windows: Window[] = [];
  // Other engineers' jobs share the machine: windows where they took the server core (or saturated the
  // load core) are measured again, up to a few extra windows, and only clean ones are kept if any.
  while (windows.filter(isClean).length < T.windows && windows.length < T.windows + T.extraWindows) {
    // Window lengths are whole GOPs: the next edge falls mid-GOP too.
    await sleep(Math.max(0, prev.t + T.windowMs - performance.now()));
    const cur = await snap(ctx);
    const dt = (cur.t - prev.t) / 1000;
    const cpu = (cur.cpu - prev.cpu) / dt;
    const busy = coreBusy(prev.cores, cur.cores);
    const pubDt = (cur.pub.at - prev.pub.at) / 1000;
    const stream = (((cur.pub.flvBytes[0] ?? 0) - (prev.pub.flvBytes[0] ?? 0)) * 8) / pubDt;
    let ratios: number[] = [];
    if (cur.lg && prev.lg) {
      const lgDt = (cur.lg.at - prev.lg.at) / 1000;
      const before = prev.lg.bytes;
      ratios = cur.lg.bytes.slice(0, n).map((b, i) => ((b - (before[i] ?? 0)) * 8) / lgDt / stream);
    }
    windows.push({
      cpu,
      mainCpu: (cur.mainCpu - prev.mainCpu) / dt,
      serverWait: (cur.wait - prev.wait) / dt,
      loadWait: (cur.helpersWait - prev.helpersWait) / dt,
      rss: cur.rss,
      other: Math.max(0, (busy[SERVER_CORE] ?? 0) - cpu),
      loadCoreBusy: busy[LOAD_CORE] ?? 0,
      load: (cur.helpers - prev.helpers) / dt,
      stream,
      delays: cur.pub.delays,
      ratios,
    });
    prev = cur;
  }
  const last = prev;
  const clean = windows.filter(isClean);
  const used = clean.length > 0 ? clean : windows;
  // Each viewer's worst window.
  const ratios = used.reduce<number[]>((acc, w) => (acc.length === 0 ? [...w.ratios] : acc.map((x, i) => Math.min(x, w.ratios[i] ?? 0))), []);
  const delays = used.flatMap((w) => w.delays);
  let hls: Level['hls'];
  const hAfter = last.metrics?.get(HLS_METRIC);
  if (hAfter) {
    const h = diffHistogram(hAfter, first.metrics?.get(HLS_METRIC));
    if (h.count > 0) hls = { median: histogramQuantile(h, 0.5), p95: histogramQuantile(h, 0.95), count: h.count };
  }
  return {
    server: ctx.server,
    proto: ctx.proto,
    n,
    cpu: median(used.map((w) => w.cpu)),
    mainCpu: median(used.map((w) => w.mainCpu)),
    cpuWindows: used.map((w) => w.cpu),
    discarded: windows.length - used.length,
    noisy: clean.length === 0,
    rss: median(used.map((w) => w.rss)),
    streamMbps: median(used.map((w) => w.stream)) / 1e6,
    rateMin: min(ratios),
    rateMedian: median(ratios),
    below: ratios.filter((x) => x < MIN_RATE).length,
    ended: last.lg?.ended ?? 0,
    endReasons: last.lg?.reasons ?? [],
    delayMedian: median(delays),
    delayP95: quantile(delays, 0.95),
    delayN: delays.length,
    loadCpu: median(used.map((w) => w.load)),
    loadCoreBusy: median(used.map((w) => w.loadCoreBusy)),
    core0Other: median(used.map((w) => w.other)),
    serverWait: median(used.map((w) => w.serverWait)),
    loadWait: median(used.map((w) => w.loadWait)),
    publisherLagMs: last.pub.maxLagMs,
    hls,
  };
}

function log(msg: string): void {
  const s = ((performance.now() - T0) / 1000).toFixed(0).padStart(4);
  console.log(`[${s}s] ${msg}`);
}

function describe(l: Level): string {
  const per = l.n > 0 ? ` ${fmt((l.cpu * 100) / l.n, 4)}%/viewer` : '';
  const rate = Number.isFinite(l.rateMin) ? ` rate min/med ${fmt(l.rateMin * 100)}/${fmt(l.rateMedian * 100)}%` : '';
  const hls = l.hls ? ` hls med ${fmt(l.hls.median, 2)} ms (n=${l.hls.count})` : '';
  return (
    `${l.server} ${l.proto} n=${l.n}: cpu ${fmt(l.cpu * 100)}% [${l.cpuWindows.map((c) => fmt(c * 100)).join(' ')}${l.discarded ? ` +${l.discarded} noisy` : ''}${l.noisy ? ' ALL NOISY' : ''}]${per} (main thread ${fmt(l.mainCpu * 100)}%) rss ${fmtBytes(l.rss)}` +
    `${rate} delay med/p95 ${fmt(l.delayMedian, 2)}/${fmt(l.delayP95, 2)} ms (n=${l.delayN}) load ${fmt(l.loadCpu * 100)}% core1 ${fmt(l.loadCoreBusy * 100)}% core0-other ${fmt(l.core0Other * 100)}% wait srv/load ${fmt(l.serverWait * 100)}/${fmt(l.loadWait * 100)}%` +
    `${l.ended ? ` ENDED ${l.ended} ${l.endReasons.join('; ')}` : ''}${hls}`
  );
}

async function withServer<R>(spec: ServerSpec, run: (srv: ServerProcess, ports: Ports, pub: Helper, lg: Helper) => Promise<R>, cpuProfDir?: string): Promise<R> {
  const ports = { rtmp: await freePort(), http: await freePort() };
  const srv = await spec.start(ports, cpuProfDir);
  const pub = Helper.start('publisher', PUB_SCRIPT, LOAD_CORE, NICE);
  const lg = Helper.start('loadgen', LOAD_SCRIPT, LOAD_CORE, NICE);
  try {
    return await run(srv, ports, pub, lg);
  } finally {
    await lg.call('closeAll').catch(() => null);
    await pub.call('stopAll').catch(() => null);
    await lg.stop();
    await pub.stop();
    // SIGINT lets node write its --cpu-prof profile on the way out.
    await srv.stop(cpuProfDir ? 'SIGINT' : 'SIGTERM');
  }
}

async function publishOne(pub: Helper, ports: Ports, media: string): Promise<void> {
  await pub.call('publish', { file: media, durationMs: MEDIA_DURATION_MS, urls: [rtmpUrl(ports)], stampFirstOnly: true, staggerMs: 0 });
}

async function openViewers(lg: Helper, proto: Protocol, ports: Ports, count: number): Promise<void> {
  await lg.call('open', { proto, url: viewUrl(proto, ports), count, batch: 50, stepMs: 100 }, 600_000);
}

/**
 * livecdn keeps each stream's HLS window plus as many retained segments in memory (2 x 6 x 2 s): its
 * RSS grows for ~26 s after a publish starts. The zero-viewer baseline of the HTTP-FLV run (where RSS
 * per viewer is a target) waits for that, or the stream's own growth would be charged to the viewers.
 */
const HLS_SETTLE_MS = 28_000;

/** One server, one protocol: a zero-viewer baseline then growing viewer counts on the same stream. */
async function fanout(spec: ServerSpec, proto: Protocol, levels: readonly number[], media: string, settleMs = 0): Promise<Level[]> {
  return withServer(spec, async (srv, ports, pub, lg) => {
    await publishOne(pub, ports, media);
    await sleep(GOP_MS);
    await pub.call('probes', { proto, url: viewUrl(proto, ports), count: PROBES });
    await sleep(Math.max(T.warmMs, settleMs));
    const ctx: Ctx = { server: spec.name, proto, srv, pub, lg, ports };
    const out: Level[] = [];
    let opened = 0;
    for (const n of levels) {
      if (n > opened) {
        // Probes sit in the middle of the join order, so their delay is a typical viewer's, not the
        // first-served (or last-served) one's.
        const before = Math.max(0, Math.floor(n / 2) - opened);
        if (before > 0) await openViewers(lg, proto, ports, before);
        await pub.call('closeProbes');
        await pub.call('probes', { proto, url: viewUrl(proto, ports), count: PROBES });
        await openViewers(lg, proto, ports, n - opened - before);
        opened = n;
        await sleep(T.warmMs);
      }
      const l = await measure(ctx, n);
      log(describe(l));
      out.push(l);
    }
    return out;
  });
}

interface HlsFigures {
  poll: HlsResult | undefined;
  metric: { median: number; p95: number; count: number } | undefined;
  ingest: Level[];
  /** CPU by thread during the 50-publisher windows. */
  threads: string;
  playlistsOk: string;
}

/**
 * livecdn alone: idle baseline, then one stamped stream whose playlist we poll (HLS listing latency),
 * then 49 more publishers for the ingest figure (50 streams, each segmented to HLS).
 */
async function hlsAndIngest(media: string): Promise<HlsFigures> {
  return withServer(livecdn, async (srv, ports, pub) => {
    const ctx: Ctx = { server: 'livecdn', proto: 'ingest', srv, pub, ports };
    // Idle: no publisher at all.
    const c0 = srv.cpuSeconds();
    const t0 = performance.now();
    await sleep(T.windowMs / 2);
    const idle = (srv.cpuSeconds() - c0) / ((performance.now() - t0) / 1000);
    const idleRss = srv.rssBytes();
    await publishOne(pub, ports, media);
    await sleep(GOP_MS * 2 + 500);
    const m0 = await scrapeMetrics(ports);
    await pub.call('hlsStart', { url: `http://127.0.0.1:${ports.http}/${STREAM}.m3u8`, intervalMs: 2 });
    await sleep(T.hlsMs);
    const poll = (await pub.call<HlsResult | null>('hlsStop')) ?? undefined;
    const m1 = await scrapeMetrics(ports);
    const hAfter = m1?.get(HLS_METRIC);
    let metric: HlsFigures['metric'];
    if (hAfter) {
      const h = diffHistogram(hAfter, m0?.get(HLS_METRIC));
      metric = { median: histogramQuantile(h, 0.5), p95: histogramQuantile(h, 0.95), count: h.count };
    }
    log(`livecdn HLS listing: poll med ${fmt(median(poll?.latencies ?? []), 2)} ms (n=${poll?.latencies.length ?? 0}, polls ${poll?.polls ?? 0}, errors ${poll?.errors ?? 0} ${poll?.lastError ?? ''}); /metrics ${HLS_METRIC} med ${fmt(metric?.median ?? NaN, 2)} ms (n=${metric?.count ?? 0})`);
    const one = await measure(ctx, 1);
    log(`ingest baseline: idle ${fmt(idle * 100, 2)}%; ${describe(one)}`);
    const urls = Array.from({ length: INGEST_PUBLISHERS - 1 }, (_, i) => rtmpUrl(ports, `live/ingest${i + 1}`));
    // Spread the streams' keyframes over the GOP, as independent encoders would.
    await pub.call('publish', { file: media, durationMs: MEDIA_DURATION_MS, urls, stampFirstOnly: true, staggerMs: Math.floor(GOP_MS / INGEST_PUBLISHERS) }, 300_000);
    // Steady state: every stream's HLS window and retained segments full (memory, hence GC, plateaus).
    await sleep(QUICK ? HLS_SETTLE_MS / 2 : HLS_SETTLE_MS);
    const th0 = srv.threadCpu();
    const tt0 = performance.now();
    const all = await measure(ctx, INGEST_PUBLISHERS);
    const dt = (performance.now() - tt0) / 1000;
    const threads = [...srv.threadCpu()]
      .map(([name, sec]) => ({ name, cores: (sec - (th0.get(name) ?? 0)) / dt }))
      .filter((t) => t.cores >= 0.005)
      .sort((a, b) => b.cores - a.cores)
      .map((t) => `${t.name} ${pct(t.cores, 1)}`)
      .join(', ');
    log(`ingest threads: ${threads}`);
    const snapAll = await pub.call<PubSnapshot>('snapshot');
    log(`ingest: ${describe(all)}; publishers closed: ${snapAll.closed.length}`);
    // Every stream must really be segmented: check a few playlists.
    const checks: string[] = [];
    for (const s of [STREAM, 'live/ingest1', `live/ingest${INGEST_PUBLISHERS - 1}`]) {
      try {
        const r = await fetch(`http://127.0.0.1:${ports.http}/${s}.m3u8`);
        const body = await r.text();
        checks.push(`${s}: ${r.status} ${body.split('\n').filter((x) => x.startsWith('#EXTINF')).length} segments`);
      } catch (e) {
        checks.push(`${s}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    log(`playlists: ${checks.join(', ')}`);
    const idleLevel: Level = { ...one, n: 0, cpu: idle, mainCpu: NaN, cpuWindows: [idle], rss: idleRss, streamMbps: NaN, discarded: 0, noisy: false };
    return { poll, metric, ingest: [idleLevel, one, all], threads, playlistsOk: `${checks.join('; ')}; publishers closed early: ${snapAll.closed.length}` };
  });
}

/** Re-runs livecdn under a load with --cpu-prof and summarizes where the time goes. */
async function profile(what: 'flv' | 'rtmp' | 'ingest', media: string): Promise<string> {
  const dir = join(TMP, `cpuprof-${what}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await withServer(
    livecdn,
    async (_srv, ports, pub, lg) => {
      if (what === 'ingest') {
        const urls = Array.from({ length: INGEST_PUBLISHERS }, (_, i) => rtmpUrl(ports, i === 0 ? STREAM : `live/ingest${i}`));
        await pub.call('publish', { file: media, durationMs: MEDIA_DURATION_MS, urls, stampFirstOnly: true, staggerMs: Math.floor(GOP_MS / INGEST_PUBLISHERS) }, 300_000);
      } else {
        await publishOne(pub, ports, media);
        await sleep(GOP_MS);
        await openViewers(lg, what, ports, 1000);
      }
      await sleep(T.profileMs);
    },
    dir,
  );
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const file = files.map((f) => join(dir, f)).sort((a, b) => statSync(b).size - statSync(a).size)[0];
  if (!file) return `(no profile written in ${dir}: the origin did not exit normally on SIGINT)`;
  const { total, rows } = topSelfTime(file, 15, ROOT);
  const table = mdTable(
    ['self ms', 'share of busy', 'function', 'where'],
    rows.map((r) => [fmt(r.ms, 0), `${fmt(r.share * 100)}%`, `\`${r.fn}\``, r.where ? `\`${r.where}\`` : '']),
  );
  return `Profile \`${file.replace(ROOT + '/', '')}\` (${what === 'ingest' ? `${INGEST_PUBLISHERS} publishers` : `1000 ${what === 'flv' ? 'HTTP-FLV' : 'RTMP'} viewers`}, whole process life incl. start-up, ${fmt(total / 1000)} s busy), top self time:\n\n${table}`;
}

// ---------------------------------------------------------------------------------------------------
// Report

interface Target {
  what: string;
  measured: string;
  limit: string;
  pass: boolean | undefined;
  profile?: 'flv' | 'rtmp' | 'ingest';
}

const perViewer = (l: Level): number => (l.n > 0 ? l.cpu / l.n : NaN);

function levelRow(l: Level, base: Level | undefined, prev: Level | undefined): string[] {
  const marginal = base && l.n > 0 ? (l.cpu - base.cpu) / l.n : NaN;
  const rssPer = base && l.n > 0 ? (l.rss - base.rss) / l.n : NaN;
  // Slope from the previous level too: at small N, one-off growth (JIT, buffers) weighs on the first.
  const rssStep = prev && prev !== base && l.n > prev.n ? ` (${fmtBytes((l.rss - prev.rss) / (l.n - prev.n))} from ${prev.n})` : '';
  const rate = Number.isFinite(l.rateMin) ? `${fmt(l.rateMin * 100)} / ${fmt(l.rateMedian * 100)}${l.below > 0 || l.ended > 0 ? ' LOW' : ''}` : '-';
  return [
    l.server,
    l.proto === 'flv' ? 'HTTP-FLV' : l.proto === 'rtmp' ? 'RTMP play' : 'ingest',
    String(l.n),
    `${pct(l.cpu, 1)}${l.noisy ? ' (noisy)' : ''}`,
    l.n > 0 ? pct(perViewer(l)) : '-',
    l.n > 0 ? pct(marginal) : '-',
    fmtBytes(l.rss),
    l.n > 0 ? `${fmtBytes(rssPer)}${rssStep}` : '-',
    fmt(l.streamMbps, 2),
    rate,
    l.delayN > 0 ? `${fmt(l.delayMedian, 1)} / ${fmt(l.delayP95, 1)}` : '-',
    `${pct(l.loadCpu, 0)} (core ${pct(l.loadCoreBusy, 0)})`,
    pct(l.core0Other, 0),
  ];
}

const LEVEL_HEADERS = [
  'server',
  'protocol',
  'viewers (ingest: publishers)',
  'CPU (of 1 core)',
  'CPU/viewer',
  'marginal CPU/viewer',
  'RSS',
  'RSS/extra viewer',
  'stream Mbit/s',
  'viewer rate min / median (% of stream)',
  'added delay median / p95 (ms)',
  'load generator CPU (load core busy)',
  'other load on server core',
];

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const ver = (cmd: string, args: string[]): string => {
    try {
      const r = spawnSync(cmd, args, { encoding: 'utf8' });
      return `${r.stdout}${r.stderr}`.split('\n')[0]?.trim() ?? '?';
    } catch {
      return '?';
    }
  };
  return `${os.cpus().length} × ${cpu}, ${fmt(os.totalmem() / 2 ** 30, 0)} GiB RAM, Linux ${os.release()}; Node ${process.version}; ${ver('/usr/sbin/nginx', ['-v'])} + libnginx-mod-rtmp; node-media-server ${nmsVersion()}; ${ver(ffmpegPath(), ['-version']).replace(/ Copyright.*/, '')}`;
}

function nmsVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules/node-media-server/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

// ---------------------------------------------------------------------------------------------------
// Main

const T0 = performance.now();

async function main(): Promise<void> {
  // The driver itself stays off the server core.
  spawnSync('taskset', ['-a', '-p', '-c', String(LOAD_CORE), String(process.pid)], { stdio: 'ignore' });
  mkdirSync(TMP, { recursive: true });
  const media = await ensureTestMedia();
  log(`test media: ${media}`);
  if (SERVERS.has('livecdn')) {
    const c = livecdnCommand();
    log(`livecdn: ${c.how}; --write-batch-ms default ${writeBatchDefault()} ms`);
  }

  const flv: Level[] = [];
  const rtmp: Level[] = [];
  let hls: HlsFigures | undefined;
  const errors: string[] = [];
  const attempt = async <R>(label: string, f: () => Promise<R>): Promise<R | undefined> => {
    try {
      return await f();
    } catch (e) {
      const msg = `${label}: ${e instanceof Error ? e.message : String(e)}`;
      errors.push(msg);
      log(`FAILED ${msg}`);
      return undefined;
    }
  };

  if (ONLY.has('flv')) {
    for (const spec of [livecdn, nms].filter((s) => SERVERS.has(s.name))) {
      // --quick skips the settle to stay within 5 minutes (its RSS per viewer at 100 is then inflated).
      const settle = spec.name === 'livecdn' && !QUICK ? HLS_SETTLE_MS : 0;
      flv.push(...((await attempt(`${spec.name} HTTP-FLV`, () => fanout(spec, 'flv', HTTP_FLV_LEVELS, media, settle))) ?? []));
    }
  }
  if (ONLY.has('rtmp')) {
    for (const spec of [livecdn, nginx, nms].filter((s) => SERVERS.has(s.name))) {
      rtmp.push(...((await attempt(`${spec.name} RTMP play`, () => fanout(spec, 'rtmp', RTMP_LEVELS, media))) ?? []));
    }
  }
  if (ONLY.has('hls') && SERVERS.has('livecdn')) hls = await attempt('livecdn HLS + ingest', () => hlsAndIngest(media));
  const sweep: { batchMs: number; level: Level }[] = [];
  if (ONLY.has('sweep') && SERVERS.has('livecdn')) {
    for (const batchMs of BATCH_SWEEP) {
      for (const proto of ['flv', 'rtmp'] as const) {
        log(`livecdn --write-batch-ms ${batchMs}, ${proto}`);
        const ls = await attempt(`livecdn batch ${batchMs} ${proto}`, () => fanout(livecdnWith(['--write-batch-ms', String(batchMs)]), proto, [SWEEP_VIEWERS], media));
        for (const level of ls ?? []) sweep.push({ batchMs, level });
      }
    }
  }

  // Targets (issue 2): ratios at equal viewer counts, measured in this run.
  const find = (ls: Level[], s: ServerName, n: number): Level | undefined => ls.find((l) => l.server === s && l.n === n);
  const targets: Target[] = [];
  // Marginal = without the zero-viewer baseline (ingest, timers): shown beside the issue's CPU at N / N.
  const marginal = (ls: Level[], s: ServerName, n: number): number => {
    const a = find(ls, s, n);
    const b = find(ls, s, 0);
    return a && b ? (a.cpu - b.cpu) / n : NaN;
  };
  const ratioText = (ls: Level[], a: ServerName, b: ServerName, n: number): { ratio: number; text: string } => {
    const la = find(ls, a, n);
    const lb = find(ls, b, n);
    const ratio = la && lb ? perViewer(la) / perViewer(lb) : NaN;
    const mr = marginal(ls, a, n) / marginal(ls, b, n);
    return { ratio, text: `${fmt(ratio, 2)} (${pct(la ? perViewer(la) : NaN)} vs ${pct(lb ? perViewer(lb) : NaN)}; marginal ratio ${fmt(mr, 2)})` };
  };
  for (const n of HTTP_FLV_LEVELS.filter((x) => x > 0)) {
    const r = ratioText(flv, 'livecdn', 'nms', n);
    targets.push({ what: `HTTP-FLV ${n} viewers: CPU/viewer livecdn / NMS`, measured: r.text, limit: '<= 0.30', pass: Number.isFinite(r.ratio) ? r.ratio <= 0.3 : undefined, profile: 'flv' });
  }
  const flvBase = find(flv, 'livecdn', 0);
  for (const n of HTTP_FLV_LEVELS.filter((x) => x > 0)) {
    const a = find(flv, 'livecdn', n);
    const per = a && flvBase ? (a.rss - flvBase.rss) / n : NaN;
    targets.push({ what: `HTTP-FLV ${n} viewers: livecdn RSS per extra viewer`, measured: fmtBytes(per), limit: '<= 64 KiB', pass: Number.isFinite(per) ? per <= 64 * 1024 : undefined });
  }
  for (const n of RTMP_LEVELS.filter((x) => x > 0)) {
    const r = ratioText(rtmp, 'livecdn', 'nginx-rtmp', n);
    targets.push({ what: `RTMP play ${n} viewers: CPU/viewer livecdn / nginx-rtmp`, measured: r.text, limit: '<= 0.55', pass: Number.isFinite(r.ratio) ? r.ratio <= 0.55 : undefined, profile: 'rtmp' });
  }
  for (const n of RTMP_LEVELS.filter((x) => x > 0)) {
    const r = ratioText(rtmp, 'livecdn', 'nms', n);
    targets.push({ what: `RTMP play ${n} viewers: CPU/viewer livecdn / NMS (no target; for reference)`, measured: r.text, limit: '-', pass: undefined });
  }
  for (const l of [...flv, ...rtmp].filter((x) => x.server === 'livecdn' && x.n > 0)) {
    targets.push({ what: `added delay, livecdn ${l.proto === 'flv' ? 'HTTP-FLV' : 'RTMP'} ${l.n} viewers (median)`, measured: `${fmt(l.delayMedian, 1)} ms (p95 ${fmt(l.delayP95, 1)})`, limit: '<= 50 ms', pass: l.delayN > 0 ? l.delayMedian <= 50 : undefined });
  }
  if (hls) {
    const pm = median(hls.poll?.latencies ?? []);
    const metricMed = hls.metric?.median ?? NaN;
    const best = Number.isFinite(metricMed) ? metricMed : pm;
    targets.push({ what: `HLS keyframe-to-listed latency (median; /metrics \`${HLS_METRIC}\`, playlist poll as cross-check)`, measured: `${fmt(metricMed, 2)} ms (poll: ${fmt(pm, 1)} ms, n=${hls.poll?.latencies.length ?? 0})`, limit: '<= 10 ms', pass: Number.isFinite(best) ? best <= 10 : undefined });
    const all = hls.ingest.find((l) => l.n === INGEST_PUBLISHERS);
    const per = all ? all.cpu / INGEST_PUBLISHERS : NaN;
    targets.push({ what: `ingest: ${INGEST_PUBLISHERS} publishers + HLS, livecdn CPU per publisher`, measured: pct(per), limit: '<= 0.5%', pass: Number.isFinite(per) ? per <= 0.005 : undefined, profile: 'ingest' });
  }
  // Validity: every viewer of every run at >= 98% of the stream's rate.
  const low = [...flv, ...rtmp].filter((l) => l.below > 0 || l.ended > 0);

  // Profiles of what missed (full runs only: they cost a minute each).
  const profiles: string[] = [];
  const forced = argValue('profile')?.split(',') ?? [];
  if ((!QUICK || forced.length > 0) && SERVERS.has('livecdn') && !argv.includes('--no-profile')) {
    const missed = new Set([...targets.filter((t) => t.pass === false && t.profile).map((t) => t.profile), ...forced]);
    for (const what of ['flv', 'rtmp', 'ingest'] as const) {
      if (!missed.has(what)) continue;
      log(`profiling livecdn under the ${what} load`);
      const p = await attempt(`profile ${what}`, () => profile(what, media));
      if (p) profiles.push(p);
    }
  }

  const levelsTable = mdTable(LEVEL_HEADERS, [
    ...[flv, rtmp].flatMap((ls) =>
      ls.map((l, i) => {
        const prev = i > 0 && ls[i - 1]?.server === l.server ? ls[i - 1] : undefined;
        return levelRow(l, ls.find((b) => b.server === l.server && b.n === 0), prev);
      }),
    ),
    ...(hls ? hls.ingest.map((l) => levelRow(l, hls?.ingest[0], undefined)) : []),
  ]);
  const targetsTable = mdTable(
    ['target (issue 2)', 'measured', 'limit', 'result'],
    targets.map((t) => [t.what, t.measured, t.limit, t.limit === '-' ? '' : t.pass === undefined ? 'n/a' : t.pass ? 'PASS' : 'MISS']),
  );
  const batch = SERVERS.has('livecdn') ? writeBatchDefault() : '?';
  const peerOf = (proto: Protocol | 'ingest'): Level | undefined =>
    proto === 'flv' ? find(flv, 'nms', SWEEP_VIEWERS) : find(rtmp, 'nginx-rtmp', SWEEP_VIEWERS);
  const defaultRows = [find(flv, 'livecdn', SWEEP_VIEWERS), find(rtmp, 'livecdn', SWEEP_VIEWERS)].filter((l): l is Level => l !== undefined).map((level) => ({ batchMs: Number(batch), level, isDefault: true }));
  const sweepTable = mdTable(
    ['--write-batch-ms', 'protocol', 'viewers', 'CPU', 'CPU/viewer', 'ratio to the target peer (limit)', 'added delay median / p95 (ms)', 'viewer rate min (%)'],
    [...defaultRows, ...sweep.map((x) => ({ ...x, isDefault: false }))]
      .sort((a, b) => (a.level.proto === b.level.proto ? a.batchMs - b.batchMs : a.level.proto === 'flv' ? -1 : 1))
      .map(({ batchMs, level: l, isDefault }) => {
        const peer = peerOf(l.proto);
        const ratio = peer ? perViewer(l) / perViewer(peer) : NaN;
        return [
          `${batchMs}${isDefault ? ' (default)' : ''}`,
          l.proto === 'flv' ? 'HTTP-FLV' : 'RTMP play',
          String(l.n),
          `${pct(l.cpu, 1)}${l.noisy ? ' (noisy)' : ''}`,
          pct(perViewer(l)),
          `${fmt(ratio, 2)} vs ${l.proto === 'flv' ? 'NMS (<= 0.30)' : 'nginx-rtmp (<= 0.55)'}`,
          `${fmt(l.delayMedian, 1)} / ${fmt(l.delayP95, 1)}`,
          `${fmt(l.rateMin * 100)}${l.below > 0 || l.ended > 0 ? ' LOW' : ''}`,
        ];
      }),
  );
  const lines: string[] = [];
  lines.push(`Run: \`node --import tsx bench/origin/main.ts${QUICK ? ' --quick' : ''}\` (\`npm run bench:origin\`), ${new Date().toISOString()}, ${fmt((performance.now() - T0) / 60000)} min.`);
  lines.push('');
  lines.push(`Machine: ${machine()}. The machine is shared and noisy (other engineers' tests run on it): the "other load on server core" column shows how much of core ${SERVER_CORE} something else used during each measurement.`);
  lines.push('');
  lines.push(
    `Method: one ${fmt(median([...flv, ...rtmp].map((l) => l.streamMbps)), 2)} Mbit/s stream (720p30 H.264 CBR 2.5 Mbit/s, GOP 2 s, + AAC 128k stereo; ffmpeg testsrc2 + sine, 60 s looped) published in real time over RTMP; ` +
      `each video frame carries its send time in an H.264 SEI user_data_unregistered message inserted as it is sent. ` +
      `Server pinned to core ${SERVER_CORE} (\`taskset -c ${SERVER_CORE}\`), publisher + ${PROBES} probe viewers and the load generator (two Node processes) on core ${LOAD_CORE}. ` +
      `Load-generator viewers only count bytes (HTTP-FLV: plain socket, hand-written GET; RTMP: own minimal client, handshake + connect + createStream + play, then counting and acknowledging); the probes parse every FLV tag / RTMP chunk and read the stamps: added delay = arrival - send time. ` +
      `livecdn's HTTP-FLV baseline and the ingest figure are taken ${QUICK ? 'without settling (--quick) / ' + HLS_SETTLE_MS / 2000 + ' s' : HLS_SETTLE_MS / 1000 + ' s'} after publishing starts, once its in-memory HLS window and retained segments are full. ` +
      `Viewers join in steps of 50 per 100 ms (the probes rejoin in the middle of the join order at each level), then ${T.warmMs / 1000} s warm-up, then ${T.windows} window(s) of ${T.windowMs / 1000} s, aligned to the middle of a GOP; server and helpers run at nice ${NICE} so that the other jobs on this shared machine cannot starve them, and a window in which the server's main thread waited for its core > ${MAX_SERVER_WAIT * 100}% of the time (run-queue delay from /proc/PID/schedstat) while other processes used > ${MAX_OTHER * 100}% of that core, or our helpers waited > ${MAX_LOAD_WAIT * 100}%, is discarded and measured again (up to ${T.extraWindows} extra; "(noisy)" marks a level with no clean window); server CPU = (utime+stime of its process tree) / wall time, median of the windows; RSS = VmRSS of the tree. ` +
      `CPU/viewer = CPU at N / N (as the issue's reference table); marginal = (CPU at N - CPU with 0 counting viewers) / N; RSS/extra viewer = (RSS at N - RSS at 0) / N. ` +
      `Viewer rate = bytes received / bytes of FLV tags published in the same window (each viewer's worst window); LOW marks a level where a viewer got < ${MIN_RATE * 100}% or disconnected. ` +
      `livecdn runs compiled (${livecdnEntry?.how ?? 'not run'}), at its default \`--write-batch-ms\` = ${batch} ms; NMS from \`bench/origin/nms-start.ts\` (RTMP + HTTP-FLV, no admin/API); nginx-rtmp from a generated config (\`worker_processes 1; chunk_size 4096; live on\`). ` +
      `HLS: \`${HLS_METRIC}\` histogram delta over ${T.hlsMs / 1000} s from livecdn's /metrics, cross-checked by polling the playlist every 2 ms (latency = midpoint of the poll interval that first lists the segment - send time of the closing keyframe).`,
  );
  lines.push('');
  lines.push(levelsTable);
  lines.push('');
  lines.push(targetsTable);
  lines.push('');
  if (sweep.length > 0) {
    lines.push(`What the batching window buys: livecdn at ${SWEEP_VIEWERS} viewers with other \`--write-batch-ms\` values (separate runs of the same method; ratios against the peers' figures above):`, '', sweepTable, '');
  }
  if (hls) lines.push(`HLS: playlist polls ${hls.poll?.polls ?? 0} (errors ${hls.poll?.errors ?? 0}); /metrics listing latency median ${fmt(hls.metric?.median ?? NaN, 2)} ms, p95 ${fmt(hls.metric?.p95 ?? NaN, 2)} ms over ${hls.metric?.count ?? 0} segments. Ingest check: ${hls.playlistsOk}. Ingest CPU by livecdn thread ("main" = the event loop; "node" = V8's platform workers, i.e. concurrent/parallel GC, which the --cpu-prof profile below does not see; "libuv-worker" = the thread pool): ${hls.threads}.`, '');
  if (low.length > 0) lines.push(`**Rate check failed** in: ${low.map((l) => `${l.server} ${l.proto} ${l.n} (min ${fmt(l.rateMin * 100)}%, below ${l.below}, ended ${l.ended} ${l.endReasons.join('; ')})`).join('; ')}.`, '');
  else lines.push(`Rate check: every viewer of every level received >= ${MIN_RATE * 100}% of the stream's bit rate.`, '');
  if (errors.length > 0) lines.push(`Errors: ${errors.map((e) => e.split('\n')[0]).join('; ')}`, '');
  for (const p of profiles) lines.push(p, '');
  const body = lines.join('\n');
  console.log('\n' + body);
  writeFileSync(join(TMP, `origin-report${QUICK ? '-quick' : ''}.md`), body);
  if (WRITE) {
    replaceSection(resolve(ROOT, 'BENCHMARKS.md'), 'Origin', body);
    log('wrote the "## Origin" section of BENCHMARKS.md');
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
