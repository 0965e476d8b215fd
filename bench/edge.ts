// Edge benchmarks (issue 3), in one run on this machine:
//  1. cache-hit serving of 2 s, 2.5 Mbit/s segments with wrk: edge CPU per Gbit/s vs nginx proxy_cache;
//  2. HTTP-FLV fan-out: CPU per viewer through an edge vs directly on the origin;
//  3. origin egress with one origin, two edges and 1,000 HTTP-FLV viewers.
// Servers are pinned to core 0; wrk, FFmpeg and the viewers (this process) run on the other core.
// Usage: node --import tsx bench/edge.ts [--quick] [--no-write]
import http from 'node:http';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CACHE_DIR, ensureTestMedia } from './lib/media.js';
import { fmt, mdTable, replaceSection } from './lib/report.js';
import { startPinned, type ServerProcess } from './lib/server-proc.js';
import { openCounters, type Viewer } from './lib/viewers.js';
import { NGINX, prepareNginx } from '../test/edge/nginx.js';
import { sleep } from '../test/helpers/wait.js';
import { freePort } from '../test/helpers/net.js';
import { ffmpegPath } from '../test/helpers/ffmpeg.js';

const run = promisify(execFile);
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const write = !argv.includes('--no-write');
const SECONDS = quick ? 5 : 15;
const SERVER_CORE = 0;
const LOAD_CORE = 1;
const SEGMENT_BYTES = Math.round((2.5e6 * 2) / 8); // 2 s at 2.5 Mbit/s
const SEGMENTS = 10;
const FLV_VIEWERS = quick ? 200 : 500;
const EGRESS_VIEWERS = 1000;
mkdirSync(CACHE_DIR, { recursive: true });
const logFile = (name: string): string => join(CACHE_DIR, `edge-bench-${name}.log`);
const cli = (args: string[]): string[] => ['--import', 'tsx', 'src/cli/main.ts', ...args];
const env = { ...process.env, LOG_LEVEL: 'warn' };

async function cpuOver<T>(procs: readonly ServerProcess[], fn: () => Promise<T>): Promise<{ cores: number[]; seconds: number; result: T }> {
  const c0 = procs.map((p) => p.cpuSeconds());
  const t0 = performance.now();
  const result = await fn();
  const seconds = (performance.now() - t0) / 1000;
  return { cores: procs.map((p, i) => (p.cpuSeconds() - (c0[i] ?? 0)) / seconds), seconds, result };
}

// ---------- 1. cache hits: edge vs nginx ----------

function unitBytes(n: string, unit: string): number {
  const k = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 }[unit] ?? NaN;
  return Number(n) * k;
}

async function wrk(base: string, seconds: number, connections: number): Promise<{ bytes: number; requests: number; errors: string }> {
  const script = join(CACHE_DIR, 'edge-bench-rotate.lua');
  writeFileSync(
    script,
    `counter = 0\nrequest = function()\n  counter = counter + 1\n  return wrk.format("GET", "/live/bench/" .. (counter % ${SEGMENTS}) .. ".ts")\nend\n`,
  );
  const { stdout } = await run('taskset', ['-c', String(LOAD_CORE), 'wrk', '-t', '1', '-c', String(connections), '-d', `${seconds}s`, '-s', script, base], {
    maxBuffer: 1 << 20,
  });
  const m = /(\d+) requests in [\d.]+\w+, ([\d.]+)(B|KB|MB|GB|TB) read/.exec(stdout);
  const errs = /Non-2xx or 3xx responses: (\d+)|Socket errors: [^\n]+/.exec(stdout);
  return { requests: Number(m?.[1] ?? NaN), bytes: m ? unitBytes(m[2] ?? '', m[3] ?? '') : NaN, errors: errs?.[0] ?? '' };
}

async function segmentOrigin(): Promise<{ url: string; close(): Promise<void> }> {
  const bodies = Array.from({ length: SEGMENTS }, (_, i) => Buffer.alloc(SEGMENT_BYTES, i));
  const server = http.createServer((req, res) => {
    const m = /^\/live\/bench\/(\d+)\.ts$/.exec(req.url ?? '');
    const body = m ? bodies[Number(m[1])] : undefined;
    if (!body) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'video/mp2t', 'cache-control': 'public, max-age=3600', 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function warm(base: string): Promise<void> {
  for (let i = 0; i < SEGMENTS; i++) {
    const r = await fetch(`${base}/live/bench/${i}.ts`);
    await r.arrayBuffer();
  }
}

interface HitRow {
  server: string;
  gbps: number;
  cores: number;
  perGbps: number;
  errors: string;
}

async function benchCacheHits(): Promise<HitRow[]> {
  const up = await segmentOrigin();
  const rows: HitRow[] = [];
  try {
    const edgePort = await freePort();
    const edge = await startPinned({
      name: 'edge',
      command: process.execPath,
      args: cli(['edge', '--upstream', up.url, '--http-port', String(edgePort), '--host', '127.0.0.1', '--no-prefetch']),
      core: SERVER_CORE,
      logFile: logFile('edge'),
      ports: [edgePort],
      env,
    });
    const ngPort = await freePort();
    const ng = await prepareNginx(new URL(up.url).host, ngPort, { workers: 1 });
    const nginx = await startPinned({ name: 'nginx', command: NGINX, args: ng.args, core: SERVER_CORE, logFile: logFile('nginx'), ports: [ngPort] });
    try {
      for (const [name, proc, port] of [
        ['livecdn edge', edge, edgePort],
        ['nginx proxy_cache', nginx, ngPort],
      ] as const) {
        const base = `http://127.0.0.1:${port}`;
        await warm(base);
        await wrk(base, 2, 32); // let JIT and caches settle
        const { cores, seconds, result } = await cpuOver([proc], () => wrk(base, SECONDS, 64));
        const gbps = (result.bytes * 8) / seconds / 1e9;
        const c = cores[0] ?? NaN;
        rows.push({ server: name, gbps, cores: c, perGbps: c / gbps, errors: result.errors });
        console.log(`cache hits ${name}: ${fmt(gbps, 2)} Gbit/s, ${fmt(c * 100)}% of a core, ${fmt((c / gbps) * 100)}% core per Gbit/s ${result.errors}`);
      }
    } finally {
      await edge.stop();
      await nginx.stop('SIGQUIT');
      await rm(ng.prefix, { recursive: true, force: true });
    }
  } finally {
    await up.close();
  }
  return rows;
}

// ---------- 2 and 3: HTTP-FLV fan-out ----------

async function startOriginProc(core: number): Promise<{ proc: ServerProcess; http: string; rtmp: string }> {
  const httpPort = await freePort();
  const rtmpPort = await freePort();
  const proc = await startPinned({
    name: 'origin',
    command: process.execPath,
    args: cli(['origin', '--http-port', String(httpPort), '--rtmp-port', String(rtmpPort), '--host', '127.0.0.1']),
    core,
    logFile: logFile('origin'),
    ports: [httpPort, rtmpPort],
    env,
  });
  return { proc, http: `http://127.0.0.1:${httpPort}`, rtmp: `rtmp://127.0.0.1:${rtmpPort}` };
}

async function startEdgeProc(upstream: string, core: number, name: string): Promise<{ proc: ServerProcess; http: string }> {
  const port = await freePort();
  const proc = await startPinned({
    name,
    command: process.execPath,
    args: cli(['edge', '--upstream', upstream, '--http-port', String(port), '--host', '127.0.0.1', '--node-id', name]),
    core,
    logFile: logFile(name),
    ports: [port],
    env,
  });
  return { proc, http: `http://127.0.0.1:${port}` };
}

async function publish(rtmp: string, media: string): Promise<ServerProcess> {
  return startPinned({
    name: 'ffmpeg',
    command: ffmpegPath(),
    args: ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', media, '-c', 'copy', '-f', 'flv', `${rtmp}/live/bench`],
    core: LOAD_CORE,
    logFile: logFile('ffmpeg'),
    ports: [],
  });
}

const openViewers = (url: string, n: number): Promise<Viewer[]> => openCounters('flv', url, n, 50, 50);

const totalBytes = (vs: readonly Viewer[]): number => vs.reduce((s, v) => s + v.bytes, 0);

async function promCounter(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+]+)$`, 'm').exec(text);
  return Number(m?.[1] ?? NaN);
}

interface FanoutRow {
  via: string;
  viewers: number;
  cores: number;
  perViewer: number;
  rate: number;
}

async function measureFanout(label: string, url: string, proc: ServerProcess, n: number, streamBps: number): Promise<FanoutRow> {
  const viewers = await openViewers(url, n);
  try {
    await sleep(3000);
    const b0 = totalBytes(viewers);
    const { cores, seconds } = await cpuOver([proc], () => sleep(SECONDS * 1000));
    const perViewerBps = ((totalBytes(viewers) - b0) * 8) / seconds / n;
    const c = cores[0] ?? NaN;
    const row = { via: label, viewers: n, cores: c, perViewer: c / n, rate: perViewerBps / streamBps };
    console.log(`flv fan-out ${label}: ${n} viewers, ${fmt(c * 100)}% of a core, ${fmt((c / n) * 100, 3)}% per viewer, ${fmt(row.rate * 100)}% of the stream rate`);
    return row;
  } finally {
    for (const v of viewers) v.close();
    await sleep(500);
  }
}

async function benchFlv(): Promise<{ fanout: FanoutRow[]; egress: { viewers: number; originBps: number; streamBps: number; rate: number } }> {
  const media = await ensureTestMedia();
  const origin = await startOriginProc(SERVER_CORE);
  const ffmpeg = await publish(origin.rtmp, media);
  const procs: ServerProcess[] = [];
  try {
    const flvPath = '/live/bench.flv';
    // Wait for the stream, then measure its bit rate with one viewer.
    for (let i = 0; i < 100; i++) {
      const r = await fetch(`${origin.http}/live/bench.m3u8`).catch(() => undefined);
      if (r?.status === 200) break;
      await sleep(200);
    }
    const probe = await openViewers(origin.http + flvPath, 1);
    await sleep(2000);
    const p0 = totalBytes(probe);
    await sleep(5000);
    const streamBps = ((totalBytes(probe) - p0) * 8) / 5;
    for (const v of probe) v.close();
    console.log(`stream: ${fmt(streamBps / 1e6, 2)} Mbit/s`);

    const fanout: FanoutRow[] = [];
    fanout.push(await measureFanout('origin (direct)', origin.http + flvPath, origin.proc, FLV_VIEWERS, streamBps));
    // The edge takes the server core; the origin (one viewer: the edge) moves aside to the load core.
    const edge = await startEdgeProc(origin.http, SERVER_CORE, 'edge-a');
    procs.push(edge.proc);
    await run('taskset', ['-a', '-p', '-c', String(LOAD_CORE), String(origin.proc.pid)]);
    fanout.push(await measureFanout('edge', edge.http + flvPath, edge.proc, FLV_VIEWERS, streamBps));

    // 3. one origin, two edges, 1,000 viewers (500 per edge): what does the origin send?
    const edgeB = await startEdgeProc(origin.http, LOAD_CORE, 'edge-b');
    procs.push(edgeB.proc);
    const half = EGRESS_VIEWERS / 2;
    const viewers = [...(await openViewers(edge.http + flvPath, half)), ...(await openViewers(edgeB.http + flvPath, half))];
    try {
      await sleep(3000);
      const o0 = await promCounter(origin.http, 'livecdn_media_bytes_out_total');
      const v0 = totalBytes(viewers);
      const t0 = performance.now();
      await sleep(SECONDS * 1000);
      const seconds = (performance.now() - t0) / 1000;
      const originBps = ((await promCounter(origin.http, 'livecdn_media_bytes_out_total')) - o0) * 8 / seconds;
      const rate = ((totalBytes(viewers) - v0) * 8) / seconds / EGRESS_VIEWERS / streamBps;
      console.log(`origin egress with 2 edges and ${EGRESS_VIEWERS} viewers: ${fmt(originBps / 1e6, 2)} Mbit/s = ${fmt(originBps / streamBps, 2)} streams; viewers got ${fmt(rate * 100)}% of the stream rate`);
      return { fanout, egress: { viewers: EGRESS_VIEWERS, originBps, streamBps, rate } };
    } finally {
      for (const v of viewers) v.close();
    }
  } finally {
    for (const p of procs) await p.stop();
    await ffmpeg.stop();
    await origin.proc.stop();
  }
}

async function main(): Promise<void> {
  const hits = await benchCacheHits();
  const flv = await benchFlv();
  const edgeHit = hits.find((h) => h.server.startsWith('livecdn'));
  const ngHit = hits.find((h) => h.server.startsWith('nginx'));
  const ratio = edgeHit && ngHit ? edgeHit.perGbps / ngHit.perGbps : NaN;
  const fo = flv.fanout;
  const foRatio = (fo[1]?.perViewer ?? NaN) / (fo[0]?.perViewer ?? NaN);
  const body = [
    `Measured by \`node --import tsx bench/edge.ts${quick ? ' --quick' : ''}\` on ${new Date().toISOString().slice(0, 10)}: servers pinned to core 0, wrk / FFmpeg / viewers on core 1 of this 2-core machine; ${SECONDS} s per measurement.`,
    '',
    `### Cache hits: ${SEGMENTS} segments of 2 s at 2.5 Mbit/s (${(SEGMENT_BYTES / 1024).toFixed(0)} KiB), wrk with 64 connections`,
    '',
    mdTable(
      ['server', 'delivered', 'CPU', 'CPU per Gbit/s', 'errors'],
      hits.map((h) => [h.server, `${fmt(h.gbps, 2)} Gbit/s`, `${fmt(h.cores * 100)}%`, `${fmt(h.perGbps * 100)}% of a core`, h.errors || 'none']),
    ),
    '',
    `livecdn edge / nginx CPU per Gbit/s: **${fmt(ratio, 2)}x** (target <= 2x).`,
    '',
    `### HTTP-FLV fan-out (720p30, ${fmt(flv.egress.streamBps / 1e6, 2)} Mbit/s)`,
    '',
    mdTable(
      ['served by', 'viewers', 'CPU', 'CPU per viewer', 'viewer rate / stream rate'],
      fo.map((r) => [r.via, String(r.viewers), `${fmt(r.cores * 100)}%`, `${fmt(r.perViewer * 100, 3)}%`, `${fmt(r.rate * 100)}%`]),
    ),
    '',
    `Edge / origin CPU per viewer: **${fmt(foRatio, 2)}x** (target <= 1x; the edge also parses the upstream FLV).`,
    '',
    '### Origin egress: one origin, two edges, 1,000 HTTP-FLV viewers (500 per edge)',
    '',
    `Origin sent ${fmt(flv.egress.originBps / 1e6, 2)} Mbit/s = **${fmt(flv.egress.originBps / flv.egress.streamBps, 2)} streams' worth** (target: 2); viewers received ${fmt(flv.egress.rate * 100)}% of the stream rate on average (the load generator shares one core with edge-b and the origin).`,
  ].join('\n');
  console.log('\n' + body);
  if (write) replaceSection('BENCHMARKS.md', 'Edge', body);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
