// LL-HLS benchmarks (issue 10), in one run on this machine:
//  1. publisher-to-screen latency in Chromium through an edge, with the player page: LL-HLS (0.2 s
//     parts, 1 s segments), plain HLS (2 s segments) and HTTP-FLV, one after the other. The clip carries each
//     frame's number in the picture (lib/frame-code.ts); the publisher logs each frame's send time; the
//     page reads the number of every frame it presents (lib/latency-probe.ts);
//  2. LL-HLS serving cost on one edge core: simulated hls.js clients (lib/llhls-client.ts) doing blocking
//     playlist reloads and part fetches, against HTTP-FLV viewers of the same stream on the same edge;
//     the origin's requests are counted at its door (lib/counting-proxy.ts).
// Servers under test are pinned to core 0; Chromium, the publisher, the load generator and the origin of
// part 2 to core 1; all of them at nice -15 (the machine is shared).
// Usage: node --import tsx bench/llhls.ts [--quick] [--no-write]
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CACHE_DIR, MEDIA_DURATION_MS, ensureCodedMedia } from './lib/media.js';
import { LatencyProbe, SendLog, STALL_MS } from './lib/latency-probe.js';
import { startCountingProxy } from './lib/counting-proxy.js';
import type { CountingProxy } from './lib/counting-proxy.js';
import { Helper } from './lib/ipc.js';
import type { CounterSnapshot, OpenArgs, OpenLlhlsArgs } from './lib/loadgen-child.js';
import type { PublishArgs, PubSnapshot } from './lib/pubprobe-child.js';
import { cpuSeconds } from './lib/proc.js';
import { fmt, mdTable, replaceSection } from './lib/report.js';
import { startPinned, type ServerProcess } from './lib/server-proc.js';
import { max, median, quantiles } from './lib/stats.js';
import { PART_ROUTE } from '../src/shared/url-contract.js';
import { launchPinnedChromium } from './lib/browser.js';
import type { BenchBrowser } from './lib/browser.js';
import { DEFAULT_HLS_REQUEST_OPTIONS, measureHlsRequestPath, summarize } from './hls-requests.js';
import type { HlsRequestSummary } from './hls-requests.js';
import { buildPlayer } from '../test/player/helpers.js';
import { freePort } from '../test/helpers/net.js';
import { sleep, waitFor } from '../test/helpers/wait.js';

const run = promisify(execFile);
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const write = !argv.includes('--no-write');
const SERVER_CORE = 0;
const LOAD_CORE = 1;
const HOST = '127.0.0.1';
/** Latency: seconds of playback measured per player, after a warm-up for start-up and live sync. */
const LATENCY_S = quick ? 20 : 60;
const LATENCY_WARM_S = quick ? 10 : 15;
/** Serving cost: seconds per measurement, after a warm-up. */
const COST_S = quick ? 5 : 15;
const COST_WARM_S = quick ? 4 : 6;
const LL_VIEWERS = quick ? [100, 200] : [100, 500];
const FLV_VIEWERS = quick ? 200 : 500;
/** Serving cost: each round measures every row once, so drift on the shared machine spreads over all; medians are reported. */
const COST_ROUNDS = quick ? 1 : 3;
/** LL-HLS clients tune in at random over this (hls.js players do not start in lock step). */
const START_SPREAD_MS = 2000;
const LL_ORIGIN_ARGS = ['--hls-part', '0.2', '--hls-segment', '1', '--hls-format', 'auto'];
const LOAD_SCRIPT = join(process.cwd(), 'bench/lib/loadgen-child.ts');
const PUB_SCRIPT = join(process.cwd(), 'bench/lib/pubprobe-child.ts');
/** Servers, publisher and load generator run at this priority, as in bench/origin: the machine is shared. */
const NICE = -15;

mkdirSync(CACHE_DIR, { recursive: true });
const cli = (args: string[]): string[] => ['--import', 'tsx', 'src/cli/main.ts', ...args];
const env = { ...process.env, LOG_LEVEL: 'warn' };

async function startServer(name: string, args: string[], ports: number[], core: number): Promise<ServerProcess> {
  return startPinned({ name, command: process.execPath, args: cli(args), core, nice: NICE, logFile: join(CACHE_DIR, `llhls-${name}.log`), ports, env });
}

interface Origin {
  proc: ServerProcess;
  http: string;
  rtmp: string;
}

async function startOrigin(name: string, hlsArgs: string[], core: number): Promise<Origin> {
  const [httpPort, rtmpPort] = [await freePort(), await freePort()];
  const proc = await startServer(name, ['origin', '--host', HOST, '--http-port', String(httpPort), '--rtmp-port', String(rtmpPort), ...hlsArgs], [httpPort, rtmpPort], core);
  return { proc, http: `http://${HOST}:${httpPort}`, rtmp: `rtmp://${HOST}:${rtmpPort}` };
}

async function startEdge(name: string, upstream: string, core: number): Promise<{ proc: ServerProcess; http: string }> {
  const port = await freePort();
  const proc = await startServer(name, ['edge', '--host', HOST, '--http-port', String(port), '--upstream', upstream, '--node-id', name], [port], core);
  return { proc, http: `http://${HOST}:${port}` };
}

async function waitForPlaylist(url: string): Promise<void> {
  await waitFor(
    `${url} to list segments`,
    async () => {
      const r = await fetch(url, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
      const text = r?.ok ? await r.text() : '';
      return (text.match(/#EXTINF/g) ?? []).length >= 2 ? true : undefined;
    },
    30_000,
    250,
  );
}

/**
 * Publishes the clip in real time to each URL from a helper process on the load core; logs[i] gets the
 * send time of every video frame of the publisher of urls[i].
 */
async function publish(file: string, urls: string[], logs: SendLog[] = []): Promise<Helper> {
  const pub = Helper.start('publisher', PUB_SCRIPT, LOAD_CORE, NICE);
  pub.on('frame', (data) => {
    const [i, n, t] = data as [number, number, number];
    logs[i]?.record(n, t);
  });
  await pub.callOrStop('publish', { file, durationMs: MEDIA_DURATION_MS, urls, stampFirstOnly: true, staggerMs: 0, logFrames: logs.length > 0 } satisfies PublishArgs);
  return pub;
}

// ---------- 1. publisher-to-screen latency ----------

interface LatencyRow {
  path: string;
  latencies: number[];
  frames: number;
  undecoded: number;
  stalls: number[];
  restarts: number;
  fatal: string[];
}

/** Plays `url` in a new page: warm-up, then LATENCY_S of frames read and matched with their send times. */
async function watchLatency(browser: BenchBrowser, path: string, url: string, log: SendLog): Promise<LatencyRow> {
  const page = await browser.newPage();
  try {
    const probe = new LatencyProbe(page);
    await probe.install();
    await page.goto(url);
    await sleep(LATENCY_WARM_S * 1000);
    const base = await probe.take();
    const row: LatencyRow = { path, latencies: [], frames: 0, undecoded: 0, stalls: [], restarts: 0, fatal: [] };
    const t0 = Date.now();
    while (Date.now() - t0 < LATENCY_S * 1000) {
      await sleep(2000);
      const t = await probe.take();
      for (const [n, shownAt] of t.samples) {
        const sent = log.sentAt(n, shownAt);
        if (sent !== undefined) row.latencies.push(shownAt - sent);
      }
      row.stalls.push(...t.stalls);
      row.frames = t.frames - base.frames;
      row.undecoded = t.undecoded - base.undecoded;
    }
    const s = (await page.evaluate('window.__livecdn ? { stats: window.__livecdn.stats(), errors: window.__livecdn.errors } : undefined')) as
      | { stats: { restarts: number; engine?: string }; errors: { fatal: boolean; message: string }[] }
      | undefined;
    row.restarts = s?.stats.restarts ?? NaN;
    row.fatal = (s?.errors ?? []).filter((e) => e.fatal).map((e) => e.message);
    const [med, p95] = quantiles(row.latencies, 0.5, 0.95);
    console.log(
      `latency ${path} (${s?.stats.engine ?? 'no engine'}): median ${fmt(med ?? NaN, 0)} ms, p95 ${fmt(p95 ?? NaN, 0)} ms (${row.latencies.length} of ${row.frames} frames read), ` +
        `${row.stalls.length} stalls (longest ${fmt(max(row.stalls), 0)} ms), restarts ${row.restarts}${row.fatal.length ? `, fatal: ${row.fatal.join('; ')}` : ''}`,
    );
    return row;
  } finally {
    await page.close();
  }
}

async function benchLatency(file: string): Promise<LatencyRow[]> {
  await buildPlayer(); // the edges serve dist/player/www: the player as it is in this tree
  const ll = await startOrigin('origin-ll', LL_ORIGIN_ARGS, SERVER_CORE);
  const plain = await startOrigin('origin-plain', ['--hls-segment', '2'], SERVER_CORE);
  const procs = [ll.proc, plain.proc];
  let pub: Helper | undefined;
  const browser = await launchPinnedChromium(LOAD_CORE, NICE, join(CACHE_DIR, 'llhls-chromium.log'));
  try {
    const edgeLl = await startEdge('edge-ll', ll.http, SERVER_CORE);
    const edgePlain = await startEdge('edge-plain', plain.http, SERVER_CORE);
    procs.push(edgeLl.proc, edgePlain.proc);
    const logLl = new SendLog();
    const logPlain = new SendLog();
    pub = await publish(file, [`${ll.rtmp}/live/lat`, `${plain.rtmp}/live/lat`], [logLl, logPlain]);
    await waitForPlaylist(`${edgeLl.http}/live/lat.m3u8`);
    await waitForPlaylist(`${edgePlain.http}/live/lat.m3u8`);

    const paths = [
      { path: 'LL-HLS (0.2 s parts, 1 s segments)', edge: edgeLl.http, src: `${edgeLl.http}/live/lat.m3u8`, log: logLl },
      { path: 'HLS (2 s segments)', edge: edgePlain.http, src: `${edgePlain.http}/live/lat.m3u8`, log: logPlain },
      { path: 'HTTP-FLV', edge: edgeLl.http, src: `${edgeLl.http}/live/lat.flv`, log: logLl },
    ];
    const rows: LatencyRow[] = [];
    for (const p of paths) rows.push(await watchLatency(browser, p.path, `${p.edge}/player/?src=${encodeURIComponent(p.src)}`, p.log));
    const ps = await pub.call<PubSnapshot>('snapshot');
    console.log(`publisher lag behind its schedule: up to ${fmt(ps.maxLagMs, 0)} ms${ps.closed.length ? `; closed: ${ps.closed.join('; ')}` : ''}`);
    return rows;
  } finally {
    await browser.close();
    await pub?.stop();
    for (const p of procs.reverse()) await p.stop();
  }
}

// ---------- 2. LL-HLS serving cost on one edge core ----------

/** Kinds of the requests the origin receives. */
function requestKind(path: string): string {
  const [pathname = '', query = ''] = path.split('?');
  if (pathname.endsWith('.m3u8')) return query.includes('_HLS_msn') ? 'blocking playlist' : 'playlist';
  if (PART_ROUTE.test(pathname)) return 'part';
  if (pathname.endsWith('.m4s') || pathname.endsWith('.ts')) return 'segment';
  if (pathname.endsWith('.mp4')) return 'init';
  if (pathname.endsWith('.flv')) return 'flv';
  return 'other';
}

interface CostRow {
  round: number;
  what: string;
  viewers: number;
  /** Edge CPU, share of a core. */
  cpu: number;
  /** Requests per second the viewers completed (HLS). */
  reqPerS: number;
  /** Origin requests per second, by kind. */
  origin: Map<string, number>;
  /** Bytes each viewer received / the stream's bytes. */
  rate: number;
  loadgenCpu: number;
  problems: string[];
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/** One row per configuration: the medians over the rounds, problems of any round. */
function medianRows(rows: readonly CostRow[]): CostRow[] {
  const out: CostRow[] = [];
  for (const r of rows) {
    if (out.some((o) => o.what === r.what && o.viewers === r.viewers)) continue;
    const same = rows.filter((o) => o.what === r.what && o.viewers === r.viewers);
    const med = (f: (x: CostRow) => number): number => median(same.map(f));
    const kinds = new Set(same.flatMap((x) => [...x.origin.keys()]));
    out.push({
      ...r,
      cpu: med((x) => x.cpu),
      reqPerS: med((x) => x.reqPerS),
      origin: new Map([...kinds].map((k) => [k, med((x) => x.origin.get(k) ?? 0)])),
      rate: med((x) => x.rate),
      loadgenCpu: med((x) => x.loadgenCpu),
      problems: same.flatMap((x) => x.problems),
    });
  }
  return out;
}

/** "9.8 (4.9 part, 4.9 blocking playlist)": the total and its kinds that occurred. */
function originCell(perKind: ReadonlyMap<string, number>): string {
  const seen = [...perKind].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
  const total = sum(seen.map(([, v]) => v));
  return seen.length ? `${fmt(total, 1)} (${seen.map(([k, v]) => `${fmt(v, 1)} ${k}`).join(', ')})` : '0';
}

async function measureCost(
  round: number,
  what: string,
  viewers: number,
  edge: ServerProcess,
  lg: Helper,
  proxy: CountingProxy,
  pub: Helper,
): Promise<CostRow> {
  const published = async (): Promise<number> => (await pub.call<PubSnapshot>('snapshot')).flvBytes[0] ?? NaN;
  await sleep(COST_WARM_S * 1000);
  const s0 = await lg.call<CounterSnapshot>('snapshot');
  const o0 = proxy.counts();
  const [c0, w0, l0, p0, t0] = [edge.cpuSeconds(), edge.runDelaySeconds(), lgCpu(lg), await published(), performance.now()];
  await sleep(COST_S * 1000);
  const s1 = await lg.call<CounterSnapshot>('snapshot');
  const o1 = proxy.counts();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = (edge.cpuSeconds() - c0) / seconds;
  const origin = new Map([...o1].map(([k, v]) => [k, (v - (o0.get(k) ?? 0)) / seconds]));
  const rate = (sum(s1.bytes) - sum(s0.bytes)) / viewers / ((await published()) - p0);
  const row: CostRow = {
    round,
    what,
    viewers,
    cpu,
    reqPerS: (s1.requests - s0.requests) / seconds,
    origin,
    rate,
    loadgenCpu: (lgCpu(lg) - l0) / seconds,
    problems: s1.ended > 0 || s1.reasons.length > 0 ? [`${s1.ended} ended`, ...s1.reasons] : [],
  };
  console.log(
    `cost round ${round}, ${what}, ${viewers} viewers: edge ${fmt(cpu * 100)}% of a core = ${fmt((cpu / viewers) * 100, 3)}% per viewer, ${fmt(row.reqPerS, 0)} req/s, ` +
      `origin ${originCell(origin)}/s, viewer bytes ${fmt(rate * 100)}% of the stream's, load generator ${fmt(row.loadgenCpu * 100)}% of a core, ` +
      `edge waited for its core ${fmt(((edge.runDelaySeconds() - w0) / seconds) * 100)}% of the time` +
      (row.problems.length ? `, problems: ${row.problems.join('; ')}` : ''),
  );
  return row;
}

/** CPU seconds of the load generator process. */
const lgCpu = (lg: Helper): number => cpuSeconds(lg.pid);

async function benchCost(file: string): Promise<CostRow[]> {
  const origin = await startOrigin('origin-cost', LL_ORIGIN_ARGS, LOAD_CORE);
  const procs = [origin.proc];
  const proxy = await startCountingProxy(new URL(origin.http).host, requestKind);
  const lg = Helper.start('loadgen', LOAD_SCRIPT, LOAD_CORE, NICE);
  let pub: Helper | undefined;
  try {
    const edge = await startEdge('edge-cost', proxy.url, SERVER_CORE);
    procs.push(edge.proc);
    pub = await publish(file, [`${origin.rtmp}/live/cost`]);
    await waitForPlaylist(`${edge.http}/live/cost.m3u8`);
    const rows: CostRow[] = [];
    for (let round = 1; round <= COST_ROUNDS; round++) {
      for (const n of LL_VIEWERS) {
        await lg.call('openLlhls', { url: `${edge.http}/live/cost.m3u8`, count: n, spreadMs: START_SPREAD_MS } satisfies OpenLlhlsArgs);
        rows.push(await measureCost(round, 'LL-HLS', n, edge.proc, lg, proxy, pub));
        await lg.call('closeAll');
        await sleep(2000);
      }
      await lg.call('open', { proto: 'flv', url: `${edge.http}/live/cost.flv`, count: FLV_VIEWERS, batch: 50, stepMs: 50 } satisfies OpenArgs);
      rows.push(await measureCost(round, 'HTTP-FLV', FLV_VIEWERS, edge.proc, lg, proxy, pub));
      await lg.call('closeAll');
      await sleep(2000);
    }
    return rows;
  } finally {
    await pub?.stop();
    await lg.stop();
    for (const p of procs.reverse()) await p.stop();
    await proxy.close();
  }
}

// ---------- 3. plain-HLS per-request path vs nginx ----------
// bench/hls-requests.ts: 500 plain-HLS viewers (2 s segments) on one edge core, against nginx with
// nginx/edge.conf.template on the same core, rounds alternating; nginx with sendfile off beside it.

async function benchPerRequest(): Promise<HlsRequestSummary[]> {
  return summarize(await measureHlsRequestPath({ rounds: quick ? 1 : 3, seconds: quick ? 8 : 15, nginxCopying: true }));
}

// ---------- report ----------

async function main(): Promise<void> {
  const file = await ensureCodedMedia();
  const latency = await benchLatency(file);
  const cost = await benchCost(file);
  const perRequest = await benchPerRequest();
  const { stdout: cpuModel } = await run('sh', ['-c', "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"]);

  const ll = latency[0];
  const llMedian = quantiles(ll?.latencies ?? [], 0.5)[0] ?? NaN;
  const costRows = medianRows(cost);
  const biggest = Math.max(...LL_VIEWERS);
  // Per round, LL-HLS at the most viewers against HTTP-FLV measured in the same round; median over rounds.
  const ratio = median(
    cost
      .filter((r) => r.what === 'LL-HLS' && r.viewers === biggest)
      .map((ll) => {
        const flv = cost.find((r) => r.what === 'HTTP-FLV' && r.round === ll.round);
        return flv ? ll.cpu / ll.viewers / (flv.cpu / flv.viewers) : NaN;
      }),
  );
  const body = [
    `Measured by \`npm run bench:llhls${quick ? ' -- --quick' : ''}\` on ${new Date().toISOString().slice(0, 10)} (${cpuModel.trim()}, 2 cores): ` +
      `servers pinned to core 0; Chromium, the publisher and the load generator to core 1; all at nice ${NICE}. ` +
      'The clip is 720p30 H.264 (1 s GOP, no B-frames, 2.5 Mbit/s) + AAC, published in real time over RTMP by the bench itself.',
    '',
    '### Publisher-to-screen latency in Chromium, through an edge',
    '',
    `Every frame carries its number as a row of black/white blocks (bench/lib/frame-code.ts); the publisher logs each frame's send time; ` +
      `the player page (/player/ on the edge, hls.js or mpegts.js) reads the number of every frame the <video> presents (requestVideoFrameCallback, canvas). ` +
      `Latency = display time - send time of that frame, over ${LATENCY_S} s after ${LATENCY_WARM_S} s of warm-up, one player after the other (same servers and publishers). ` +
      `A stall is no frame presented for over ${STALL_MS} ms.`,
    '',
    mdTable(
      ['path', 'median', 'p95', 'frames read', 'stalls (longest)', 'player restarts'],
      latency.map((r) => {
        const [med, p95] = quantiles(r.latencies, 0.5, 0.95);
        return [
          r.path,
          `${fmt((med ?? NaN) / 1000, 2)} s`,
          `${fmt((p95 ?? NaN) / 1000, 2)} s`,
          `${r.latencies.length} of ${r.frames}`,
          r.stalls.length ? `${r.stalls.length} (${fmt(max(r.stalls) / 1000, 2)} s)` : '0',
          String(r.restarts) + (r.fatal.length ? ` (fatal: ${r.fatal.join('; ')})` : ''),
        ];
      }),
    ),
    '',
    `LL-HLS median **${fmt(llMedian / 1000, 2)} s** (target <= 1.5 s), **${ll?.stalls.length ?? 'n/a'} stalls** in ${LATENCY_S} s (target: none).`,
    '',
    '### LL-HLS serving cost on one edge core',
    '',
    `Simulated hls.js clients (bench/lib/llhls-client.ts): a plain playlist load and the init segment, then blocking playlist reloads for the next part ` +
      `(\`_HLS_msn\`/\`_HLS_part\`/\`_HLS_skip=YES\`) and every new part on a second keep-alive connection, starting at random over ${START_SPREAD_MS / 1000} s; ` +
      `beside byte-counting HTTP-FLV viewers of the same stream on the same edge. Origin requests counted by a relay in front of it (HTTP-FLV: one upstream connection, opened before the window). ${COST_S} s per row and round; medians of ${COST_ROUNDS} round(s).`,
    '',
    mdTable(
      ['viewers', 'edge CPU', 'CPU per viewer', 'viewer requests/s', 'origin requests/s', 'viewer bytes / stream bytes'],
      costRows.map((r) => [
        `${r.viewers} ${r.what}`,
        `${fmt(r.cpu * 100)}%`,
        `${fmt((r.cpu / r.viewers) * 100, 3)}%`,
        r.what === 'HTTP-FLV' ? '-' : fmt(r.reqPerS, 0),
        originCell(r.origin),
        `${fmt(r.rate * 100)}%` + (r.problems.length ? ` (${r.problems.join('; ')})` : ''),
      ]),
    ),
    '',
    `LL-HLS / HTTP-FLV CPU per viewer at ${biggest} viewers: **${fmt(ratio, 2)}x** (target <= 3x; median over the rounds of each round's ratio).`,
    '',
    '### Plain HLS per request: edge vs nginx, 500 viewers',
    '',
    'bench/hls-requests.ts: 500 simulated viewers (a playlist reload every target duration, each new 2 s segment once, keep-alive) on core 1; ' +
      'the livecdn edge and nginx with nginx/edge.conf.template (one worker), and that nginx with `sendfile off`, take core 0 in turn, rounds alternating; medians.',
    '',
    mdTable(
      ['server', 'CPU', 'of which kernel', 'CPU per viewer', 'requests/s', '/ nginx (median of per-round ratios)'],
      perRequest.map((r) => [r.server, `${fmt(r.cpu * 100)}%`, `${fmt(r.sysCpu * 100)}%`, `${fmt((r.cpu / DEFAULT_HLS_REQUEST_OPTIONS.viewers) * 100, 3)}%`, fmt(r.requestsPerSecond, 0), `${fmt(r.ratio, 2)}x (${fmt(r.roundRatio, 2)}x)`]),
    ),
    '',
    `livecdn edge / nginx CPU per viewer: **${fmt(perRequest.find((r) => r.server === 'livecdn edge')?.ratio ?? NaN, 2)}x** (target <= 1.2x).`,
  ].join('\n');
  console.log('\n' + body);
  if (write) replaceSection('BENCHMARKS.md', 'LL-HLS (issue 10)', body);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
