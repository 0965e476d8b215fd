// The per-request path, plain HLS (issue 10): what cache hits cost a livecdn edge per viewer against
// nginx with nginx/edge.conf.template, on one core each, in the same run. LL-HLS multiplies requests
// per viewer, so this cost decides an edge's capacity.
//
// One origin with a published stream (2 s segments); a livecdn edge and nginx (one worker), both
// pinned to core 0 and loaded in turn; N simulated viewers (bench/lib/hls-viewer.ts: a playlist reload
// every target duration, each new segment once, keep-alive) in the load generator on core 1 with the
// origin and FFmpeg. The two servers alternate in each round, so drift on this shared machine spreads
// over both; medians over the rounds are reported.
// Usage: node --import tsx bench/hls-requests.ts [--quick] [--viewers N (0: none)] [--rounds N] [--seconds S] [--profile DIR]
//        [--before DIR: also measure the edge of another checkout, e.g. the tree before a change]
//        [--nginx-copying: also measure nginx with sendfile off] [--saturate S: then wrk on the playlist, S s per server and round]
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Helper } from './lib/ipc.js';
import type { CounterSnapshot } from './lib/loadgen-child.js';
import { CACHE_DIR, ensureTestMedia } from './lib/media.js';
import { fmt } from './lib/report.js';
import { startPinned, type ServerProcess } from './lib/server-proc.js';
import { median } from './lib/stats.js';
import { clkTck } from './lib/proc.js';
import { topSelfTime } from './lib/cpuprofile.js';
import { NGINX, prepareNginx } from '../test/edge/nginx.js';
import { ffmpegPath } from '../test/helpers/ffmpeg.js';
import { freePort } from '../test/helpers/net.js';
import { sleep } from '../test/helpers/wait.js';

export interface HlsRequestOptions {
  readonly viewers: number;
  /** Measurement rounds; each measures the edge and nginx once. */
  readonly rounds: number;
  /** Length of one measurement, s. */
  readonly seconds: number;
  readonly serverCore: number;
  readonly loadCore: number;
  /** Run the edge with --cpu-prof into this directory (its summary is printed at the end). */
  readonly profileDir?: string;
  /** Another checkout (with node_modules) whose edge is measured too, as "livecdn edge (before)": a before/after pair in one run. */
  readonly beforeTree?: string;
  /** Also measure nginx with `sendfile off`: it then copies each body into the socket as Node must. */
  readonly nginxCopying?: boolean;
  /**
   * Then also drive each server flat out with playlist hits (wrk, 32 connections, this many seconds per
   * round): CPU per request with next to no body, the cost LL-HLS multiplies.
   */
  readonly saturateSeconds?: number;
  readonly log?: (line: string) => void;
}

export interface HlsRequestRow {
  /** Viewers as hls.js behaves, or wrk fetching the playlist as fast as the server answers. */
  readonly mode: 'viewers' | 'playlist hits, saturated';
  readonly server: ServerLabel;
  readonly round: number;
  readonly viewers: number;
  /** Server CPU, fraction of one core. */
  readonly cpu: number;
  /** The part of `cpu` spent in the kernel (sockets, TCP; nginx's sendfile saves the copy). */
  readonly sysCpu: number;
  /** cpu / viewers. */
  readonly cpuPerViewer: number;
  readonly requestsPerSecond: number;
  readonly bitsPerSecond: number;
  /** Viewers that ended (an error status or a dropped connection) during the round. */
  readonly ended: number;
  readonly endReasons: readonly string[];
}

export type ServerLabel = 'livecdn edge' | 'livecdn edge (before)' | 'nginx' | 'nginx, sendfile off';

export const DEFAULT_HLS_REQUEST_OPTIONS: HlsRequestOptions = { viewers: 500, rounds: 5, seconds: 20, serverCore: 0, loadCore: 1 };

// Servers under test and the load get priority over the other jobs of this shared machine.
const NICE = -15;
const run = promisify(execFile);
const SEGMENT_S = 2;
const ROOT = process.cwd();
const logFile = (name: string): string => join(CACHE_DIR, `hls-requests-${name}.log`);
const CLI = 'src/cli/main.ts';
const cli = (args: readonly string[]): string[] => ['--import', 'tsx', CLI, ...args];
const env = { ...process.env, LOG_LEVEL: 'warn' };

/** Runs the measurement; one row per server and round. */
export async function measureHlsRequestPath(opts: Partial<HlsRequestOptions> = {}): Promise<HlsRequestRow[]> {
  const o = { ...DEFAULT_HLS_REQUEST_OPTIONS, ...opts };
  const log = o.log ?? ((l: string) => console.log(l));
  mkdirSync(CACHE_DIR, { recursive: true });
  const media = await ensureTestMedia();
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const originHttp = await freePort();
    const originRtmp = await freePort();
    const origin = await startPinned({
      name: 'origin',
      command: process.execPath,
      args: cli(['origin', '--http-port', String(originHttp), '--rtmp-port', String(originRtmp), '--host', '127.0.0.1']),
      core: o.loadCore,
      nice: NICE,
      logFile: logFile('origin'),
      ports: [originHttp, originRtmp],
      env,
    });
    stops.push(() => origin.stop());
    const ffmpeg = await startPinned({
      name: 'ffmpeg',
      command: ffmpegPath(),
      args: ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', media, '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${originRtmp}/live/bench`],
      core: o.loadCore,
      logFile: logFile('ffmpeg'),
      ports: [],
    });
    stops.push(() => ffmpeg.stop());
    await waitForSegments(`http://127.0.0.1:${originHttp}/live/bench.m3u8`, 3);

    const startEdge = async (name: string, main: string, prof: readonly string[]): Promise<{ proc: ServerProcess; port: number }> => {
      const port = await freePort();
      const proc = await startPinned({
        name,
        command: process.execPath,
        args: [...prof, '--import', 'tsx', main, 'edge', '--upstream', `http://127.0.0.1:${originHttp}`, '--http-port', String(port), '--host', '127.0.0.1'],
        core: o.serverCore,
        nice: NICE,
        logFile: logFile(name),
        ports: [port],
        env,
      });
      // SIGINT lets node write its --cpu-prof profile on the way out.
      stops.push(() => proc.stop(prof.length > 0 ? 'SIGINT' : 'SIGTERM'));
      return { proc, port };
    };
    const edge = await startEdge('edge', CLI, o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] : []);
    const before = o.beforeTree ? await startEdge('edge-before', join(o.beforeTree, CLI), []) : undefined;
    const startNginx = async (name: string, sendfile: boolean): Promise<{ proc: ServerProcess; port: number }> => {
      const port = await freePort();
      const ng = await prepareNginx(`127.0.0.1:${originHttp}`, port, { workers: 1 });
      stops.push(() => rm(ng.prefix, { recursive: true, force: true }));
      if (!sendfile) {
        const conf = join(ng.prefix, 'nginx.conf');
        writeFileSync(conf, readFileSync(conf, 'utf8').replace('sendfile on;', 'sendfile off;'));
      }
      const proc = await startPinned({ name, command: NGINX, args: ng.args, core: o.serverCore, nice: NICE, logFile: logFile(name), ports: [port] });
      stops.push(() => proc.stop('SIGQUIT'));
      return { proc, port };
    };
    const nginx = await startNginx('nginx', true);
    const copying = o.nginxCopying ? await startNginx('nginx-copying', false) : undefined;

    const lg = Helper.start('loadgen', join(ROOT, 'bench/lib/loadgen-child.ts'), o.loadCore, NICE);
    stops.push(() => lg.stop());
    const playlist = (port: number): string => `http://127.0.0.1:${port}/live/bench.m3u8`;
    const servers: { server: ServerLabel; proc: ServerProcess; url: string }[] = [
      { server: 'livecdn edge', proc: edge.proc, url: playlist(edge.port) },
      ...(before ? [{ server: 'livecdn edge (before)' as const, proc: before.proc, url: playlist(before.port) }] : []),
      { server: 'nginx', proc: nginx.proc, url: playlist(nginx.port) },
      ...(copying ? [{ server: 'nginx, sendfile off' as const, proc: copying.proc, url: playlist(copying.port) }] : []),
    ];
    const rows: HlsRequestRow[] = [];
    for (let round = 1; o.viewers > 0 && round <= o.rounds; round++) {
      // Alternate which server goes first, so a slow drift of the machine does not favour one.
      const order = round % 2 === 1 ? servers : [...servers].reverse();
      for (const s of order) {
        const row = await measureOne(lg, s.server, s.proc, s.url, round, o);
        rows.push(row);
        log(
          `round ${round} ${row.server}: ${fmt(row.cpu * 100)}% of a core, ${fmt(row.cpuPerViewer * 100, 4)}% per viewer, ` +
            `${fmt(row.requestsPerSecond, 0)} req/s, ${fmt(row.bitsPerSecond / 1e6, 0)} Mbit/s, kernel ${fmt(row.sysCpu * 100)}%` +
            (row.ended ? `, ${row.ended} viewers ended (${row.endReasons.join('; ')})` : ''),
        );
      }
    }
    for (let round = 1; o.saturateSeconds && round <= o.rounds; round++) {
      const order = round % 2 === 1 ? servers : [...servers].reverse();
      for (const s of order) {
        const row = await saturate(s.server, s.proc, s.url, round, o.saturateSeconds, o.loadCore);
        rows.push(row);
        log(`round ${round} ${row.server}, playlist hits flat out: ${fmt(row.requestsPerSecond, 0)} req/s at ${fmt(row.cpu * 100)}% of a core = ${fmt(usPerRequest(row), 1)} us per request`);
      }
    }
    return rows;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

async function measureOne(
  lg: Helper,
  server: HlsRequestRow['server'],
  proc: ServerProcess,
  url: string,
  round: number,
  o: HlsRequestOptions,
): Promise<HlsRequestRow> {
  await lg.call('open', { proto: 'hls', url, count: o.viewers, batch: 50, stepMs: 100 }, 600_000);
  try {
    // Two reload periods: every viewer is at its steady pace (one playlist and one segment per period).
    await sleep(2 * SEGMENT_S * 1000);
    const s0 = await lg.call<CounterSnapshot>('snapshot');
    const c0 = proc.cpuSeconds();
    const k0 = systemSeconds(proc);
    await sleep(o.seconds * 1000);
    const c1 = proc.cpuSeconds();
    const k1 = systemSeconds(proc);
    const s1 = await lg.call<CounterSnapshot>('snapshot');
    const seconds = (s1.at - s0.at) / 1000;
    const cpu = (c1 - c0) / seconds;
    const bytes = s1.bytes.reduce((a, b) => a + b, 0) - s0.bytes.reduce((a, b) => a + b, 0);
    return {
      mode: 'viewers',
      server,
      round,
      viewers: o.viewers,
      cpu,
      sysCpu: (k1 - k0) / seconds,
      cpuPerViewer: cpu / o.viewers,
      requestsPerSecond: (s1.requests - s0.requests) / seconds,
      bitsPerSecond: (bytes * 8) / seconds,
      ended: s1.ended,
      endReasons: s1.reasons,
    };
  } finally {
    await lg.call('closeAll');
    await sleep(1000);
  }
}

/** CPU time per request, us. */
export const usPerRequest = (r: HlsRequestRow): number => (r.cpu * 1e6) / r.requestsPerSecond;

async function saturate(server: ServerLabel, proc: ServerProcess, url: string, round: number, seconds: number, loadCore: number): Promise<HlsRequestRow> {
  const c0 = proc.cpuSeconds();
  const k0 = systemSeconds(proc);
  const t0 = performance.now();
  const { stdout } = await run('taskset', ['-c', String(loadCore), 'wrk', '-t', '1', '-c', '32', '-d', `${seconds}s`, url]);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = (proc.cpuSeconds() - c0) / elapsed;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN);
  const errors = /Non-2xx or 3xx responses: \d+|Socket errors: [^\n]+/.exec(stdout)?.[0];
  return {
    mode: 'playlist hits, saturated',
    server,
    round,
    viewers: 0,
    cpu,
    sysCpu: (systemSeconds(proc) - k0) / elapsed,
    cpuPerViewer: NaN,
    requestsPerSecond: rps,
    bitsPerSecond: NaN,
    ended: errors ? 1 : 0,
    endReasons: errors ? [errors] : [],
  };
}

/** Kernel CPU seconds (stime) of the process tree. */
function systemSeconds(proc: ServerProcess): number {
  let sum = 0;
  for (const pid of proc.tree()) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      sum += Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[12]) / clkTck();
    } catch {
      // the process ended between listing and reading
    }
  }
  return sum;
}

async function waitForSegments(url: string, count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const r = await fetch(url).catch(() => undefined);
    const text = r?.ok ? await r.text() : '';
    if ((text.match(/^#EXTINF/gm) ?? []).length >= count) return;
    await sleep(500);
  }
  throw new Error(`no ${count} segments at ${url} within 60 s`);
}

export interface HlsRequestSummary {
  readonly server: ServerLabel;
  /** Medians over the rounds: CPU (fraction of a core) and requests per second. */
  readonly cpu: number;
  readonly sysCpu: number;
  readonly requestsPerSecond: number;
  /** Median CPU over nginx's median CPU. */
  readonly ratio: number;
  /** Median of the per-round ratios (each round's servers measured back to back). */
  readonly roundRatio: number;
}

/** One line per server, nginx's ratio being 1. */
export function summarize(all: readonly HlsRequestRow[], mode: HlsRequestRow['mode'] = 'viewers'): HlsRequestSummary[] {
  const rows = all.filter((r) => r.mode === mode);
  const of = (server: ServerLabel): HlsRequestRow[] => rows.filter((r) => r.server === server);
  const nginx = of('nginx');
  const nginxCpu = median(nginx.map((r) => r.cpu));
  return [...new Set(rows.map((r) => r.server))].map((server) => {
    const mine = of(server);
    const cpu = median(mine.map((r) => r.cpu));
    return {
      server,
      cpu,
      sysCpu: median(mine.map((r) => r.sysCpu)),
      requestsPerSecond: median(mine.map((r) => r.requestsPerSecond)),
      ratio: cpu / nginxCpu,
      roundRatio: median(mine.map((e) => e.cpu / (nginx.find((n) => n.round === e.round)?.cpu ?? NaN))),
    };
  });
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const num = (name: string, fallback: number): number => Number(argValue(name) ?? fallback);
  const profileDir = argValue('profile');
  const beforeTree = argValue('before');
  const opts: Partial<HlsRequestOptions> = {
    viewers: num('viewers', DEFAULT_HLS_REQUEST_OPTIONS.viewers),
    rounds: num('rounds', quick ? 1 : DEFAULT_HLS_REQUEST_OPTIONS.rounds),
    seconds: num('seconds', quick ? 8 : DEFAULT_HLS_REQUEST_OPTIONS.seconds),
    ...(profileDir ? { profileDir } : {}),
    ...(beforeTree ? { beforeTree } : {}),
    nginxCopying: process.argv.includes('--nginx-copying'),
    saturateSeconds: num('saturate', 0),
  };
  const rows = await measureHlsRequestPath(opts);
  const n = opts.viewers ?? 0;
  if (n > 0) console.log(`\nmedians over ${Math.max(...rows.map((r) => r.round))} rounds, ${n} viewers:`);
  for (const s of n > 0 ? summarize(rows) : []) {
    console.log(
      `${s.server}: ${fmt(s.cpu * 100)}% of a core (kernel ${fmt(s.sysCpu * 100)}%), ${fmt((s.cpu / n) * 100, 4)}% per viewer, ${fmt(s.requestsPerSecond, 0)} req/s; ` +
        `/ nginx ${fmt(s.ratio, 2)}x (median of per-round ratios ${fmt(s.roundRatio, 2)}x)`,
    );
  }
  const saturated = rows.filter((r) => r.mode !== 'viewers');
  if (saturated.length > 0) {
    console.log('\nplaylist hits flat out (wrk), medians:');
    const nginxUs = median(saturated.filter((r) => r.server === 'nginx').map(usPerRequest));
    for (const server of [...new Set(saturated.map((r) => r.server))]) {
      const mine = saturated.filter((r) => r.server === server);
      const us = median(mine.map(usPerRequest));
      console.log(`${server}: ${fmt(median(mine.map((r) => r.requestsPerSecond)), 0)} req/s, ${fmt(us, 1)} us CPU per request (kernel ${fmt(median(mine.map((r) => (r.sysCpu * 1e6) / r.requestsPerSecond)), 1)}); / nginx ${fmt(us / nginxUs, 2)}x`);
    }
  }
  if (profileDir) {
    for (const f of readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'))) {
      const { total, rows: top } = topSelfTime(join(profileDir, f), 30);
      console.log(`\nedge profile ${f}: ${fmt(total, 0)} ms busy`);
      for (const r of top) console.log(`${fmt(r.share * 100).padStart(5)}%  ${r.fn}  ${r.where}`);
    }
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
