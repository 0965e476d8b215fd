// Recording and snapshot benchmarks (issue 12), `npm run bench:record`:
//  1. Recording cost. N publishers (default 50) replay one pre-encoded 10 s clip (720p30 H.264 CBR
//     2.5 Mbit/s + AAC) in real time over RTMP into a server pinned to core 0: livecdn's origin without
//     and with `--record '*/*'`, nginx-rtmp without and with `record all`. Over several windows of the
//     steady state: the server's CPU (utime+stime of its process tree), write syscalls and bytes
//     (/proc/PID/io syscw, wchar) and the growth of the recorded files; medians of the clean windows;
//     the extra per recorded stream = (with - without) / N, median over pairs of runs (without, with).
//  2. Snapshot latency. One origin, a 720p and a 1080p source published; GET /{app}/{stream}.jpg
//     sequentially (each request 2.1 s after the previous one: past the 1 s reuse and, with the clips'
//     2 s GOP, on a newer keyframe, so every one decodes; the origin's livecdn_snapshot_decodes_total
//     checks it), the same URL at once after each (the reused JPEG), and rounds of 100 concurrent
//     requests (spaced the same way: one decode each).
// Servers and their FFmpeg children on core 0, publishers and this driver on core 1, all at nice -15.
// Each part's figures are kept in .bench-tmp/record-results.json, so a part run alone (`--only
// snapshot`) redraws the section with the other part's last figures.
// Usage: node --import tsx bench/record.ts [--streams 50] [--seconds 40] [--warm 20] [--pairs 2]
//   [--only cost,snapshot] [--servers livecdn,nginx-rtmp] [--requests 15] [--rounds 8] [--profile] [--no-write]
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { Helper } from './lib/ipc.js';
import type { PubSnapshot, PublishArgs } from './lib/pubprobe-child.js';
import { CACHE_DIR, ensureEncodedMedia } from './lib/media.js';
import { coreBusy, coreTimes } from './lib/proc.js';
import { readProcIo, threadSyscw } from './lib/proc-io.js';
import { extraPerStream, medianByName, medianPerStream, ratesByName, summarize, windowRates } from './lib/record-cost.js';
import type { CostSummary, Counters, PerStream, WindowRates } from './lib/record-cost.js';
import { KeepAliveConnection } from './lib/http-keepalive.js';
import { isWholeJpeg, jpegSize } from './lib/jpeg-size.js';
import { metricTotal } from './lib/prom.js';
import { topSelfTime } from './lib/cpuprofile.js';
import type { SelfTime } from './lib/cpuprofile.js';
import { fmt, fmtBytes, mdTable, pct, replaceSection, subsection } from './lib/report.js';
import { startPinned, type ServerProcess } from './lib/server-proc.js';
import { median, quantiles } from './lib/stats.js';
import { nginxRtmpArgs } from './origin/nginx-rtmp.js';
import { compileLivecdn } from './lib/livecdn-build.js';
import type { LivecdnEntry } from './lib/livecdn-build.js';
import { snapshotPath } from '../src/shared/url-contract.js';
import { ffmpegPath } from '../test/helpers/ffmpeg.js';
import { freePort } from '../test/helpers/net.js';
import { sleep, waitFor } from '../test/helpers/wait.js';

// ---------- settings ----------

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
};
const num = (name: string, dflt: number): number => {
  const v = Number(flag(name) ?? dflt);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} wants a positive number`);
  return v;
};
const STREAMS = num('streams', 50);
/** Measured seconds per configuration, cut into windows of ~10 s (at least 3). */
const SECONDS = num('seconds', 40);
const WINDOWS = Math.max(3, Math.round(SECONDS / 10));
/** After the last publisher started: livecdn's in-memory HLS window and retained segments fill in ~26 s. */
const WARM_S = num('warm', 20);
/** Runs without then with recording, per server: the extra is the median of the pairs' differences (drift). */
const PAIRS = num('pairs', 2);
const ONLY = new Set((flag('only') ?? 'cost,snapshot').split(','));
const SERVERS = new Set((flag('servers') ?? 'livecdn,nginx-rtmp').split(','));
const REQUESTS = num('requests', 15);
const ROUNDS = num('rounds', 8);
const CONCURRENCY = num('concurrency', 100);
const WRITE = !argv.includes('--no-write');
/** One more livecdn run recording every stream under --cpu-prof, summarized in the section. */
const PROFILE = argv.includes('--profile');

const SERVER_CORE = 0;
const LOAD_CORE = 1;
const NICE = -15;
const HOST = '127.0.0.1';
const APP = 'live';
const GOP_MS = 2000;
const CLIP_MS = 10_000;
/**
 * Between snapshot requests that must decode: past the reuse (<= 1 s) and more than a GOP, so that the
 * stream has a newer keyframe than the last picture (the same keyframe is never decoded twice).
 */
const DECODE_GAP_MS = GOP_MS + 100;
/** A window is noisy when the server's main threads waited for a CPU this share of it (see bench/origin). */
const MAX_WAIT = 0.1;
const MAX_OTHER = 0.1;
const TARGET_CPU_PER_STREAM = 0.001;
const DECODES_METRIC = 'livecdn_snapshot_decodes_total';
const SECTION = 'Recording and snapshots (issue 12)';
const RESULTS = join(CACHE_DIR, 'record-results.json');
const PUB_SCRIPT = join(process.cwd(), 'bench/lib/pubprobe-child.ts');
const env = { ...process.env, LOG_LEVEL: 'warn' };
let entry: LivecdnEntry | undefined;
/** Node arguments running `livecdn args…`, compiled once per run (see bench/lib/livecdn-build.ts). */
const cli = (args: string[]): string[] => [...(entry ??= compileLivecdn(process.cwd(), join(CACHE_DIR, 'record-dist'))).args, ...args];

const T0 = performance.now();
function log(msg: string): void {
  console.log(`[${((performance.now() - T0) / 1000).toFixed(0).padStart(4)}s] ${msg}`);
}

// ---------- media ----------

interface Source {
  label: string;
  width: number;
  height: number;
  kbps: number;
}
const SOURCE_720: Source = { label: '720p', width: 1280, height: 720, kbps: 2500 };
const SOURCE_1080: Source = { label: '1080p', width: 1920, height: 1080, kbps: 4500 };

/** A 10 s clip (a whole number of 2 s GOPs: the cadence survives the publisher's loop), CBR, + AAC. */
function ensureClip(s: Source): Promise<string> {
  const rate = `${s.kbps}k`;
  return ensureEncodedMedia(`rec-${s.label}30-10s-v1.flv`, [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${s.width}x${s.height}:rate=30`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:beep_factor=4:sample_rate=48000',
    '-t', String(CLIP_MS / 1000),
    '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-pix_fmt', 'yuv420p',
    '-g', '60', '-keyint_min', '60', '-sc_threshold', '0',
    '-b:v', rate, '-minrate', rate, '-maxrate', rate, '-bufsize', `${s.kbps / 2}k`, '-x264-params', 'nal-hrd=cbr',
    '-c:a', 'aac', '-b:a', '128k', '-ac', '2',
    '-f', 'flv',
  ]);
}

// ---------- servers ----------

type ServerName = 'livecdn' | 'nginx-rtmp';

interface Server {
  proc: ServerProcess;
  rtmp: string;
  http: string | undefined;
}

let originHelp: string | undefined;
function livecdnHasRecord(): boolean {
  originHelp ??= spawnSync(process.execPath, cli(['origin', '--help']), { encoding: 'utf8', env }).stdout ?? '';
  return /--record\b/.test(originHelp) && /--record-dir\b/.test(originHelp);
}

/** `nodeFlags` go before the script (--cpu-prof). */
async function startLivecdn(name: string, extra: readonly string[], nodeFlags: readonly string[] = []): Promise<Server> {
  const [httpPort, rtmpPort] = [await freePort(), await freePort()];
  const proc = await startPinned({
    name,
    command: process.execPath,
    // Every publisher comes from loopback: past the per-address RTMP limit.
    args: [...nodeFlags, ...cli(['origin', '--host', HOST, '--http-port', String(httpPort), '--rtmp-port', String(rtmpPort), '--max-connections-per-ip', '1000', ...extra])],
    core: SERVER_CORE,
    nice: NICE,
    logFile: join(CACHE_DIR, `record-${name}.log`),
    ports: [httpPort, rtmpPort],
    env,
  });
  return { proc, rtmp: `rtmp://${HOST}:${rtmpPort}`, http: `http://${HOST}:${httpPort}` };
}

const recordFlags = (dir: string): string[] => ['--record', '*/*', '--record-dir', dir];

async function startServer(server: ServerName, recordDir: string | undefined): Promise<Server> {
  if (server === 'livecdn') {
    if (recordDir && !livecdnHasRecord()) throw new Error('livecdn origin has no --record/--record-dir flags yet');
    return startLivecdn(`livecdn${recordDir ? '-rec' : ''}`, recordDir ? recordFlags(recordDir) : []);
  }
  const port = await freePort();
  const prefix = join(CACHE_DIR, 'record-nginx-rtmp');
  // As root nginx's worker runs as nobody: the record directory must be writable by it.
  if (recordDir) chmodSync(recordDir, 0o777);
  const proc = await startPinned({
    name: 'nginx-rtmp',
    command: '/usr/sbin/nginx',
    args: nginxRtmpArgs(prefix, port, recordDir ? `record all; record_path ${recordDir}; ` : ''),
    core: SERVER_CORE,
    nice: NICE,
    logFile: join(CACHE_DIR, 'record-nginx-rtmp.log'),
    ports: [port],
  });
  return { proc, rtmp: `rtmp://${HOST}:${port}`, http: undefined };
}

/** Publishes `file` to each URL from a helper on the load core, keyframes spread over the GOP. */
async function publish(file: string, urls: string[]): Promise<Helper> {
  const pub = Helper.start('publisher', PUB_SCRIPT, LOAD_CORE, NICE);
  const args: PublishArgs = { file, durationMs: CLIP_MS, urls, stampFirstOnly: true, staggerMs: Math.floor(GOP_MS / urls.length) };
  await pub.callOrStop('publish', args, 300_000);
  return pub;
}

/** Files under `dir` whose name ends with `ext`: count and bytes (a bounded walk). */
function filesUnder(dir: string, ext: string): { count: number; bytes: number } {
  const out = { count: 0, bytes: 0 };
  const walk = (d: string, depth: number): void => {
    if (depth > 6) return;
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      try {
        const st = statSync(p);
        if (st.isDirectory()) walk(p, depth + 1);
        else if (n.endsWith(ext)) {
          out.count++;
          out.bytes += st.size;
        }
      } catch {
        // removed meanwhile
      }
    }
  };
  walk(dir, 0);
  return out;
}

// ---------- 1. recording cost ----------

interface CostWindow extends WindowRates {
  /** Busy share of the server core not used by the server: other jobs on this shared machine. */
  other: number;
}

interface CostRun {
  server: ServerName;
  record: boolean;
  pair: number;
  streams: number;
  summary: CostSummary;
  windows: CostWindow[];
  /** Per publisher, FLV tag bytes sent, Mbit/s (median over publishers and windows). */
  streamMbps: number;
  closed: number;
  otherMedian: number;
  /** Write syscalls/s per thread name of the server's processes (median of the windows). */
  threads: Record<string, number>;
  files: number;
  fileBytes: number;
}

const isClean = (w: CostWindow): boolean => w.wait <= MAX_WAIT || w.other <= MAX_OTHER;

async function costRun(server: ServerName, record: boolean, pair: number, clip: string): Promise<CostRun> {
  const dir = join(CACHE_DIR, `record-files-${server}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const srv = await startServer(server, record ? dir : undefined);
  let pub: Helper | undefined;
  try {
    const urls = Array.from({ length: STREAMS }, (_, i) => `${srv.rtmp}/${APP}/rec${i}`);
    pub = await publish(clip, urls);
    const p = pub;
    await sleep(WARM_S * 1000);
    const read = async (): Promise<{ c: Counters; cores: number[][]; pub: PubSnapshot; threads: Map<string, number> }> => {
      const ps = await p.call<PubSnapshot>('snapshot');
      const tree = srv.proc.tree();
      const io = readProcIo(tree);
      const threads = new Map<string, number>();
      for (const pid of tree) for (const [name, n] of threadSyscw(pid)) threads.set(name, (threads.get(name) ?? 0) + n);
      return {
        threads,
        c: { atMs: performance.now(), cpuSeconds: srv.proc.cpuSeconds(), syscw: io.syscw, wchar: io.wchar, diskBytes: filesUnder(dir, '.flv').bytes, waitSeconds: srv.proc.runDelaySeconds() },
        cores: coreTimes(),
        pub: ps,
      };
    };
    const windowMs = (SECONDS * 1000) / WINDOWS;
    let prev = await read();
    const windows: CostWindow[] = [];
    const rates: number[] = [];
    const threads: Record<string, number>[] = [];
    for (let i = 0; i < WINDOWS; i++) {
      await sleep(Math.max(0, prev.c.atMs + windowMs - performance.now()));
      const cur = await read();
      const w = windowRates(prev.c, cur.c);
      windows.push({ ...w, other: Math.max(0, (coreBusy(prev.cores, cur.cores)[SERVER_CORE] ?? 0) - w.cpu) });
      threads.push(ratesByName(prev.threads, cur.threads, w.seconds));
      const pubS = (cur.pub.at - prev.pub.at) / 1000;
      rates.push(...cur.pub.flvBytes.map((b, k) => ((b - (prev.pub.flvBytes[k] ?? 0)) * 8) / pubS / 1e6));
      if (srv.proc.exited()) throw new Error(`${server} exited (${srv.proc.exited() ?? ''}); see ${srv.proc.logFile}`);
      prev = cur;
    }
    const summary = summarize(windows, isClean);
    const files = filesUnder(dir, '.flv');
    const run: CostRun = {
      server,
      record,
      pair,
      streams: STREAMS,
      summary,
      windows,
      streamMbps: median(rates),
      closed: prev.pub.closed.length,
      otherMedian: median(windows.map((w) => w.other)),
      threads: medianByName(threads),
      files: files.count,
      fileBytes: files.bytes,
    };
    log(
      `${server} ${record ? 'recording' : 'not recording'}: cpu ${pct(summary.cpu, 2)} [${summary.cpuWindows.map((c) => pct(c, 1)).join(' ')}${summary.discarded ? ` +${summary.discarded} noisy` : ''}] syscw/s ${fmt(summary.syscwPerS, 0)} (${threadText(run.threads)}) wchar/s ${fmtBytes(summary.wcharPerS)} disk/s ${fmtBytes(summary.diskPerS)}; stream ${fmt(run.streamMbps, 2)} Mbit/s, publishers closed ${run.closed}, files ${files.count} (${fmtBytes(files.bytes)}), core0 other ${pct(run.otherMedian, 0)}`,
    );
    return run;
  } finally {
    await pub?.call('stopAll').catch(() => null);
    await pub?.stop();
    await srv.proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface RecordProfile {
  /** Busy (non-idle) seconds of the event loop over the profile. */
  busyS: number;
  wallS: number;
  /** Self time in the recording's own code (src/record/, media/flv/file-meta.ts), ms. */
  recordMs: number;
  rows: SelfTime[];
  file: string;
}

/** Self time of the recording's own modules: where they run, not what they cost in natives and GC. */
const isRecordCode = (where: string): boolean => /(^|\/)(src|record-dist)\/(record\/|media\/flv\/file-meta\.)/.test(where);

/** livecdn recording every stream under --cpu-prof: where its event loop spends the time. */
async function profileRecording(clip: string): Promise<RecordProfile> {
  const dir = join(CACHE_DIR, 'record-files-profile');
  const profDir = join(CACHE_DIR, 'record-cpuprof');
  for (const d of [dir, profDir]) {
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d, { recursive: true });
  }
  const srv = await startLivecdn('livecdn-profile', recordFlags(dir), ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
  let pub: Helper | undefined;
  const t0 = performance.now();
  try {
    pub = await publish(clip, Array.from({ length: STREAMS }, (_, i) => `${srv.rtmp}/${APP}/rec${i}`));
    await sleep((WARM_S + SECONDS) * 1000);
  } finally {
    await pub?.call('stopAll').catch(() => null);
    await pub?.stop();
    // SIGINT: a graceful exit, on which node writes the profile.
    await srv.proc.stop('SIGINT');
    rmSync(dir, { recursive: true, force: true });
  }
  const wallS = (performance.now() - t0) / 1000;
  const file = readdirSync(profDir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(profDir, f))
    .sort((a, b) => statSync(b).size - statSync(a).size)[0];
  if (!file) throw new Error(`no profile written in ${profDir}`);
  const all = topSelfTime(file, Infinity);
  return { busyS: all.total / 1000, wallS, recordMs: all.rows.filter((r) => isRecordCode(r.where)).reduce((sum, r) => sum + r.ms, 0), rows: all.rows.slice(0, 12), file };
}

// ---------- 2. snapshot latency ----------

interface SnapRow {
  source: string;
  mode: 'sequential' | 'reused' | 'concurrent';
  requests: number;
  /** FFmpeg decodes the origin counted over these requests (NaN without the metric). */
  decodes: number;
  /** Latency (ms) of every 200 answer, request sent to last body byte. */
  latencies: number[];
  failures: string[];
}

async function decodes(http: string): Promise<number> {
  try {
    const r = await fetch(`${http}/metrics`);
    return metricTotal(await r.text(), DECODES_METRIC);
  } catch {
    return NaN;
  }
}

async function timedGet(conn: KeepAliveConnection, path: string, s: Source, failures: string[]): Promise<number | undefined> {
  const t = performance.now();
  try {
    const r = await conn.get(path, true);
    const ms = performance.now() - t;
    const body = r.body ?? Buffer.alloc(0);
    const size = jpegSize(body);
    if (r.status !== 200) failures.push(`HTTP ${r.status}`);
    else if (!isWholeJpeg(body) || size?.width !== s.width || size.height !== s.height) failures.push(`bad JPEG (${body.length} B, ${size ? `${size.width}x${size.height}` : 'no size'})`);
    else return ms;
  } catch (e) {
    failures.push(e instanceof Error ? e.message : String(e));
  }
  return undefined;
}

async function snapshotSource(http: string, stream: string, s: Source): Promise<SnapRow[]> {
  const url = new URL(http);
  const path = snapshotPath(APP, stream);
  const conns = Array.from({ length: CONCURRENCY }, () => new KeepAliveConnection(url.hostname, Number(url.port), 30_000));
  const first = conns[0] as KeepAliveConnection;
  try {
    await waitFor(`a snapshot of ${stream}`, async () => (await first.get(path, false)).status === 200, 30_000, 250);
    // Connections opened before timing: the latencies are the snapshot's, not TCP set-ups.
    await Promise.all(conns.map((c) => c.get('/', false)));
    const seq: SnapRow = { source: s.label, mode: 'sequential', requests: 0, decodes: 0, latencies: [], failures: [] };
    const reused: SnapRow = { source: s.label, mode: 'reused', requests: 0, decodes: 0, latencies: [], failures: [] };
    for (let i = 0; i < REQUESTS; i++) {
      await sleep(DECODE_GAP_MS);
      const d0 = await decodes(http);
      const ms = await timedGet(first, path, s, seq.failures);
      const d1 = await decodes(http);
      const again = await timedGet(first, path, s, reused.failures);
      const d2 = await decodes(http);
      seq.requests++;
      reused.requests++;
      seq.decodes += d1 - d0;
      reused.decodes += d2 - d1;
      if (ms !== undefined) seq.latencies.push(ms);
      if (again !== undefined) reused.latencies.push(again);
    }
    const conc: SnapRow = { source: s.label, mode: 'concurrent', requests: 0, decodes: 0, latencies: [], failures: [] };
    for (let r = 0; r < ROUNDS; r++) {
      await sleep(DECODE_GAP_MS);
      const d0 = await decodes(http);
      const all = await Promise.all(conns.map((c) => timedGet(c, path, s, conc.failures)));
      conc.decodes += (await decodes(http)) - d0;
      conc.requests += conns.length;
      for (const ms of all) if (ms !== undefined) conc.latencies.push(ms);
    }
    const rows = [seq, reused, conc];
    for (const row of rows) log(`snapshot ${describeSnap(row)}`);
    return rows;
  } finally {
    for (const c of conns) c.close();
  }
}

async function snapshots(clips: Map<Source, string>): Promise<SnapRow[]> {
  const srv = await startLivecdn('snapshot', []);
  const pubs: Helper[] = [];
  try {
    const http = srv.http ?? '';
    // One helper per clip: a helper loads one clip.
    for (const [s, file] of clips) pubs.push(await publish(file, [`${srv.rtmp}/${APP}/snap${s.label}`]));
    await sleep(GOP_MS * 2);
    const rows: SnapRow[] = [];
    for (const s of clips.keys()) rows.push(...(await snapshotSource(http, `snap${s.label}`, s)));
    return rows;
  } finally {
    for (const p of pubs) {
      await p.call('stopAll').catch(() => null);
      await p.stop();
    }
    await srv.proc.stop();
  }
}

// ---------- report ----------

const threadText = (t: Record<string, number>): string =>
  Object.entries(t)
    .filter(([, n]) => n >= 0.5)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${fmt(n, 0)}`)
    .join(', ') || 'none';
/**
 * Write syscalls of a Node server's threads other than the event loop: libuv's thread pool, where file
 * writes run (each also wakes the loop through an eventfd write from the pool thread). Node 20 names every
 * thread "node", so the pool is told apart only as "not main"; V8's own threads write next to nothing.
 */
const offLoop = (t: Record<string, number>): number => Object.entries(t).reduce((sum, [name, n]) => sum + (name === 'main' ? 0 : n), 0);

function describeSnap(r: SnapRow): string {
  const [p50, p95] = quantiles(r.latencies, 0.5, 0.95);
  return `${r.source} ${r.mode}: ${r.latencies.length}/${r.requests} ok, p50 ${fmt(p50 ?? NaN, 1)} ms p95 ${fmt(p95 ?? NaN, 1)} ms, decodes ${fmt(r.decodes, 0)}${r.failures.length ? `; failures: ${[...new Set(r.failures)].slice(0, 3).join('; ')}` : ''}`;
}

interface Results {
  cost?: {
    at: string;
    settings: { streams: number; seconds: number; windows: number; warm: number; pairs: number; livecdn: string };
    runs: CostRun[];
    profile?: RecordProfile;
    errors: string[];
  };
  snapshot?: { at: string; settings: { requests: number; rounds: number; concurrency: number; gapMs: number; livecdn: string }; rows: SnapRow[]; errors: string[] };
}

function machine(): string {
  const ver = (cmd: string, args: string[]): string => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0]?.trim() ?? '?';
  };
  return `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Linux ${os.release()}, Node ${process.version}, ${ver('/usr/sbin/nginx', ['-v'])} + libnginx-mod-rtmp, ${ver(ffmpegPath(), ['-version']).replace(/ Copyright.*/, '')}`;
}

function costSection(c: NonNullable<Results['cost']>): string[] {
  const runs = c.runs;
  const row = (r: CostRun): string[] => [
    r.server,
    r.record ? (r.server === 'livecdn' ? "`--record '*/*'`" : '`record all`') : 'off',
    String(r.streams),
    fmt(r.streamMbps, 2),
    `${pct(r.summary.cpu, 2)} [${r.summary.cpuWindows.map((x) => fmt(x * 100, 1)).join(', ')}]${r.summary.discarded ? ` (+${r.summary.discarded} noisy)` : ''}`,
    `${fmt(r.summary.syscwPerS, 0)} (${threadText(r.threads)})`,
    `${fmtBytes(r.summary.wcharPerS)}/s`,
    r.record ? `${fmtBytes(r.summary.diskPerS)}/s` : '-',
    r.record ? `${r.files} (${fmtBytes(r.fileBytes)})` : '-',
    String(r.closed),
    pct(r.otherMedian, 0),
  ];
  const table = mdTable(
    ['server', 'recording', 'streams', 'Mbit/s per stream', 'CPU, of one core: median [windows]', 'write syscalls/s (by thread)', 'bytes to write syscalls', 'recorded files grow', 'files (bytes)', 'publishers dropped', 'other load on core 0'],
    runs.map(row),
  );
  /** Each pair's extra per stream (pairs missing a run are left out), and their median. */
  const extra = (s: ServerName): { pairs: PerStream[]; median: PerStream } | undefined => {
    const pairs: PerStream[] = [];
    for (const on of runs.filter((r) => r.server === s && r.record)) {
      const off = runs.find((r) => r.server === s && !r.record && r.pair === on.pair);
      if (off) pairs.push(extraPerStream(on.summary, off.summary, on.streams));
    }
    return pairs.length > 0 ? { pairs, median: medianPerStream(pairs) } : undefined;
  };
  const oursPairs = extra('livecdn');
  const theirsPairs = extra('nginx-rtmp');
  const ours = oursPairs?.median;
  const theirs = theirsPairs?.median;
  /** The pool's writes: the process total also counts the event loop's own eventfd writes, which vary run to run by more. */
  const poolPairs = runs
    .filter((r) => r.server === 'livecdn' && r.record)
    .flatMap((on) => {
      const off = runs.find((r) => r.server === 'livecdn' && !r.record && r.pair === on.pair);
      return off ? [(offLoop(on.threads) - offLoop(off.threads)) / on.streams] : [];
    });
  const oursPool = median(poolPairs);
  const cpuCell = (e: typeof oursPairs): string => (e ? `${pct(e.median.cpu)} [${e.pairs.map((p) => pct(p.cpu)).join(', ')}]` : 'n/a');
  const ratio = (a: number | undefined, b: number | undefined): string => (a !== undefined && b !== undefined ? fmt(a / b, 2) : 'n/a');
  const perStream = mdTable(
    ['per recorded stream: (with - without) / streams, median of the pairs', 'livecdn', 'nginx-rtmp `record all`', 'livecdn / nginx-rtmp'],
    [
      ['CPU, % of one core [each pair]', cpuCell(oursPairs), cpuCell(theirsPairs), ratio(ours?.cpu, theirs?.cpu)],
      ['write syscalls/s', fmt(ours?.syscwPerS ?? NaN, 1), fmt(theirs?.syscwPerS ?? NaN, 1), ratio(ours?.syscwPerS, theirs?.syscwPerS)],
      ["write syscalls/s off livecdn's event loop (its file writes + their wake-ups; nginx: all)", fmt(oursPool, 1), fmt(theirs?.syscwPerS ?? NaN, 1), fmt(oursPool / (theirs?.syscwPerS ?? NaN), 2)],
      ['bytes to write syscalls/s', fmtBytes(ours?.wcharPerS ?? NaN), fmtBytes(theirs?.wcharPerS ?? NaN), ratio(ours?.wcharPerS, theirs?.wcharPerS)],
      ['recorded file growth/s', fmtBytes(ours?.diskPerS ?? NaN), fmtBytes(theirs?.diskPerS ?? NaN), ratio(ours?.diskPerS, theirs?.diskPerS)],
    ],
  );
  const target = ours ? `${pct(ours.cpu)} of a core per recorded stream against a target of <= ${pct(TARGET_CPU_PER_STREAM, 1)}: **${ours.cpu <= TARGET_CPU_PER_STREAM ? 'PASS' : 'MISS'}**.` : 'livecdn: no figure (see errors).';
  const o = c.settings;
  const method =
    `${o.streams} publishers (one Node process, bench/lib/publisher.ts) each replay a 10 s clip (1280x720 30 fps H.264 High CBR 2.5 Mbit/s, GOP 2 s, + AAC 128k; FFmpeg testsrc2 + sine, encoded once) in real time over RTMP, keyframes spread over the GOP, into the server pinned to core ${SERVER_CORE} (publishers on core ${LOAD_CORE}, all at nice ${NICE}). ` +
    `Per server, ${o.pairs} pair(s) of runs, without then with recording, each a fresh server: ${o.warm} s of warm-up after the last publisher started (livecdn's HLS windows and retained segments fill), then ${o.windows} windows over ${o.seconds} s; ` +
    `CPU = utime+stime of the server's process tree (/proc/PID/stat) / wall time; write syscalls and bytes = /proc/PID/io \`syscw\`, \`wchar\` (every write-like syscall: sockets too, which the difference cancels); recorded files grow = bytes of the .flv files on disk. ` +
    `Medians of the windows; the extra per stream of each pair, then their median; a window in which the server waited for its core > ${MAX_WAIT * 100}% of the time while other jobs took > ${MAX_OTHER * 100}% of it is set aside. livecdn (\`livecdn origin\`) ${o.livecdn}, its recordings under .bench-tmp; nginx-rtmp with \`record all; record_path …\` in \`application live\` (one worker).`;
  const prof = c.profile;
  const profText = prof
    ? [
        `Profile of one more livecdn run recording all ${o.streams} streams (\`node --cpu-prof\`, \`${prof.file.replace(process.cwd() + '/', '')}\`): the event loop was busy ${fmt(prof.busyS, 1)} s of ${fmt(prof.wallS, 0)} s; self time in the recording's own code (src/record/, media/flv/file-meta.ts) ${fmt(prof.recordMs, 0)} ms = ${pct(prof.recordMs / 1000 / prof.wallS / o.streams)} of a core per stream (natives it calls, GC and the thread pool not included). Top self time:`,
        mdTable(
          ['self ms', 'share of busy', 'function', 'where'],
          prof.rows.map((r) => [fmt(r.ms, 0), pct(r.share, 1), `\`${r.fn}\``, r.where ? `\`${r.where}\`` : '']),
        ),
      ]
    : [];
  return [...subsection(`Recording cost (${c.at})`, method, table, perStream, target, ...profText, ...(c.errors.length ? [`Errors: ${c.errors.join('; ')}`] : []))];
}

function snapshotSection(sn: NonNullable<Results['snapshot']>): string[] {
  const o = sn.settings;
  const gap = o.gapMs / 1000;
  const table = mdTable(
    ['source', 'requests', 'answered', 'FFmpeg decodes', 'p50 (ms)', 'p95 (ms)', 'max (ms)', 'failures'],
    sn.rows.map((r) => {
      const [p50, p95, max] = quantiles(r.latencies, 0.5, 0.95, 1);
      const mode =
        r.mode === 'sequential'
          ? `sequential, ${gap} s apart`
          : r.mode === 'reused'
            ? 'the same URL again at once (reused JPEG)'
            : `${o.concurrency} concurrent, rounds ${gap} s apart`;
      return [`${r.source}: ${mode}`, String(r.requests), String(r.latencies.length), fmt(r.decodes, 0), fmt(p50 ?? NaN, 1), fmt(p95 ?? NaN, 1), fmt(max ?? NaN, 1), r.failures.length ? `${r.failures.length}: ${[...new Set(r.failures)].slice(0, 2).join('; ')}` : '0'];
    }),
  );
  const method =
    `One livecdn origin (${o.livecdn}; core ${SERVER_CORE}; its FFmpeg decodes inherit the core) with two sources published in real time: 1280x720 CBR 2.5 Mbit/s and 1920x1080 CBR 4.5 Mbit/s (30 fps, GOP 2 s, testsrc2). ` +
    `\`GET ${snapshotPath(APP, '{stream}')}\` (native size, no \`?width=\`) over kept-alive connections opened beforehand; latency = request written to last body byte; each answer checked: 200, a whole JPEG whose frame header has the source's size. ` +
    `Sequential: one request every ${gap} s: past the 1 s reuse and a GOP, so the stream has a newer keyframe and every request waits for its FFmpeg decode (the decodes column, from the origin's \`${DECODES_METRIC}\`, checks it); then the same URL at once (the reused JPEG, no decode). ` +
    `Concurrent: ${o.rounds} rounds of ${o.concurrency} requests at once, ${gap} s apart (one decode per round expected).`;
  return [...subsection(`Snapshot latency (${sn.at})`, method, table, ...(sn.errors.length ? [`Errors: ${sn.errors.join('; ')}`] : []))];
}

function render(res: Results): string {
  const lines = [`Run: \`npm run bench:record\` (\`node --import tsx bench/record.ts\`). Machine: ${machine()}; shared with other jobs.`];
  if (res.cost) lines.push(...costSection(res.cost));
  if (res.snapshot) lines.push(...snapshotSection(res.snapshot));
  return lines.join('\n');
}

// ---------- main ----------

async function main(): Promise<void> {
  // The driver stays off the server core.
  spawnSync('taskset', ['-a', '-p', '-c', String(LOAD_CORE), String(process.pid)], { stdio: 'ignore' });
  mkdirSync(CACHE_DIR, { recursive: true });
  const res: Results = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as Results) : {};
  const at = `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, load average ${fmt(os.loadavg()[0] ?? NaN, 1)} at the start`;
  if (ONLY.has('snapshot') || (ONLY.has('cost') && SERVERS.has('livecdn'))) {
    cli([]);
    log(`livecdn: ${entry?.how ?? '?'}`);
  }
  if (ONLY.has('cost')) {
    const clip = await ensureClip(SOURCE_720);
    const runs: CostRun[] = [];
    const errors: string[] = [];
    for (const server of ['livecdn', 'nginx-rtmp'] as const) {
      if (!SERVERS.has(server)) continue;
      for (let pair = 0; pair < PAIRS; pair++) {
        for (const record of [false, true]) {
          try {
            runs.push(await costRun(server, record, pair, clip));
          } catch (e) {
            const msg = `${server}${record ? ' recording' : ''} (pair ${pair + 1}): ${e instanceof Error ? e.message : String(e)}`;
            errors.push(msg);
            log(`FAILED ${msg}`);
          }
        }
      }
    }
    let profile: RecordProfile | undefined;
    if (PROFILE && SERVERS.has('livecdn')) {
      try {
        profile = await profileRecording(clip);
        log(`profile ${profile.file}: busy ${fmt(profile.busyS, 1)} s of ${fmt(profile.wallS, 0)} s, recording's own code ${fmt(profile.recordMs, 0)} ms`);
      } catch (e) {
        errors.push(`profile: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    res.cost = { at, settings: { streams: STREAMS, seconds: SECONDS, windows: WINDOWS, warm: WARM_S, pairs: PAIRS, livecdn: entry?.how ?? 'not run' }, runs, profile, errors };
  }
  if (ONLY.has('snapshot')) {
    const clips = new Map<Source, string>([
      [SOURCE_720, await ensureClip(SOURCE_720)],
      [SOURCE_1080, await ensureClip(SOURCE_1080)],
    ]);
    const settings = { requests: REQUESTS, rounds: ROUNDS, concurrency: CONCURRENCY, gapMs: DECODE_GAP_MS };
    try {
      const rows = await snapshots(clips);
      res.snapshot = { at, settings: { ...settings, livecdn: entry?.how ?? 'not run' }, rows, errors: [] };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      log(`FAILED snapshots: ${msg}`);
      res.snapshot = { at, settings: { ...settings, livecdn: entry?.how ?? 'not run' }, rows: [], errors: [msg] };
    }
  }
  writeFileSync(RESULTS, JSON.stringify(res, null, 1));
  const body = render(res);
  console.log('\n' + body);
  if (WRITE) {
    replaceSection(resolve('BENCHMARKS.md'), SECTION, body);
    log(`wrote the "## ${SECTION}" section of BENCHMARKS.md`);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
