// ABR ladder benchmarks (issue 11), in one run on this machine:
//  1. CPU: one decode against one FFmpeg per rung. The source (720p30, 2.5 Mbit/s, 2 s GOP, AAC) is
//     published in real time to an origin that transcodes it itself (`--transcode live=480p,360p,240p`:
//     one FFmpeg decodes once and encodes every rung), and to an origin without a ladder beside which one
//     FFmpeg per rung pulls the source over HTTP-FLV and publishes its rung back over RTMP (nginx-rtmp's
//     `exec ffmpeg` way) with the same encoder arguments (src/transcode/ffmpeg-args.ts, one rung each).
//     Rounds alternate the two; CPU seconds of the origin and every FFmpeg per stream-minute, medians.
//  2. Added delay of each rung against the source over HTTP-FLV: a rung encoded with -copyts keeps the
//     source's PTS, so the arrival times of the same PTS on the two connections give what the rung adds
//     (bench/lib/flv-arrivals.ts), with x264's zerolatency tune (the default) and without.
//  3. Encode speed: live (what the transcoder reports) and offline on one core (how much faster than
//     real time the ladder can be encoded: the headroom).
//  4. Rung alignment over a long run: the source's and each rung's playlists polled, every segment's
//     first video PTS read (bench/lib/segment-start.ts) and compared by sequence number
//     (bench/lib/rung-alignment.ts).
// Origins and every transcoding FFmpeg are pinned to core 0, the publisher to core 1, all at nice -15.
// Each part's figures are kept in .bench-tmp/abr-results.json, so a part run alone (`--only align
// --minutes 10`) updates its own table and the BENCHMARKS.md section keeps the others.
// Usage: node --import tsx bench/abr.ts [--quick] [--rounds N] [--minutes N] [--only cpu,speed,align] [--designs ours,theirs] [--no-write]
// (`--only none` renders the section from the kept figures without measuring.)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { CACHE_DIR, MEDIA_DURATION_MS, ensureEncodedMedia, ensureTestMedia } from './lib/media.js';
import { Helper } from './lib/ipc.js';
import type { PublishArgs } from './lib/pubprobe-child.js';
import { cpuSeconds } from './lib/proc.js';
import { fmt, mdTable, replaceSection, subsection } from './lib/report.js';
import { startPinned, type ServerProcess } from './lib/server-proc.js';
import { median, quantiles } from './lib/stats.js';
import { FlvArrivals, addedDelays } from './lib/flv-arrivals.js';
import { firstVideoPtsMs } from './lib/segment-start.js';
import { compareRung } from './lib/rung-alignment.js';
import type { Alignment, SegmentLog, SegmentStart } from './lib/rung-alignment.js';
import { DEFAULT_RUNGS } from '../src/transcode/ladder.js';
import type { Rung, TranscodeSettings } from '../src/transcode/ladder.js';
import { transcodeArgs } from '../src/transcode/ffmpeg-args.js';
import { ProgressParser } from '../src/transcode/progress.js';
import { parseMediaPlaylist } from '../src/media/hls/playlist.js';
import { SOURCE_RUNG, renditionStream } from '../src/shared/url-contract.js';
import { ffmpegPath } from '../test/helpers/ffmpeg.js';
import { freePort } from '../test/helpers/net.js';
import { sleep, waitFor } from '../test/helpers/wait.js';

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
};
const QUICK = argv.includes('--quick');
const WRITE = !argv.includes('--no-write');
const ONLY = new Set((flag('only') ?? 'cpu,speed,align').split(','));
/** For development: --designs ours or theirs runs one design only (no ratio). */
const DESIGNS = new Set((flag('designs') ?? 'ours,theirs').split(','));
const ROUNDS = Number(flag('rounds') ?? (QUICK ? 1 : 3));
const MINUTES = Number(flag('minutes') ?? 2);
const SERVER_CORE = 0;
const LOAD_CORE = 1;
const NICE = -15;
const HOST = '127.0.0.1';
const APP = 'live';
const STREAM = 'bench';
const LADDER = ['480p', '360p', '240p'];
const RUNGS: Rung[] = LADDER.map((n) => {
  const r = DEFAULT_RUNGS[n];
  if (!r) throw new Error(`no default rung ${n}`);
  return r;
});
const PRESET = 'veryfast';
const TUNES = ['zerolatency', 'none'] as const;
type Tune = (typeof TUNES)[number];
const FPS = 30;
/** One frame at 30 fps, with a ms of rounding: the alignment and PTS-pairing tolerance. */
const FRAME_MS = 1000 / FPS + 1;
/** Per trial: settle after every rung is live, then the CPU window, then the delay window. */
const WARM_S = QUICK ? 6 : 10;
const CPU_S = QUICK ? 15 : 30;
const DELAY_WARM_S = 4;
const DELAY_S = QUICK ? 10 : 20;
const RESULTS = join(CACHE_DIR, 'abr-results.json');
const SECTION = 'ABR ladder (issue 11)';

const env = { ...process.env, LOG_LEVEL: 'warn' };
const cli = (args: string[]): string[] => ['--import', 'tsx', 'src/cli/main.ts', ...args];
const rungStream = (rung: string): string => renditionStream(STREAM, rung);

type Design = 'ours' | 'theirs';
const DESIGN_NAME: Record<Design, string> = {
  ours: 'one decode (origin --transcode)',
  theirs: 'one FFmpeg per rung (nginx-rtmp exec style)',
};

const settingsFor = (tune: Tune): TranscodeSettings => ({ preset: PRESET, tune: tune === 'none' ? undefined : tune });

// ---------- processes ----------

interface Origin {
  proc: ServerProcess;
  http: string;
  rtmp: string;
}

async function startOrigin(name: string, extra: string[]): Promise<Origin> {
  const [httpPort, rtmpPort] = [await freePort(), await freePort()];
  const proc = await startPinned({
    name,
    command: process.execPath,
    args: cli(['origin', '--host', HOST, '--http-port', String(httpPort), '--rtmp-port', String(rtmpPort), ...extra]),
    core: SERVER_CORE,
    nice: NICE,
    logFile: join(CACHE_DIR, `abr-${name}.log`),
    ports: [httpPort, rtmpPort],
    env,
  });
  return { proc, http: `http://${HOST}:${httpPort}`, rtmp: `rtmp://${HOST}:${rtmpPort}` };
}

const ladderArgs = (tune: Tune): string[] => ['--transcode', `${APP}=${LADDER.join(',')}`, '--transcode-preset', PRESET, '--transcode-tune', tune];

/** An FFmpeg with `args`, pinned like the servers; its -progress blocks go to its log. */
function startFfmpeg(name: string, args: string[]): Promise<ServerProcess> {
  return startPinned({ name, command: ffmpegPath(), args, core: SERVER_CORE, nice: NICE, logFile: join(CACHE_DIR, `abr-${name}.log`), ports: [] });
}

/** The last speed an FFmpeg's -progress blocks reported in its log (x real time). */
function lastSpeed(logFile: string): number {
  const blocks = new ProgressParser().push(readFileSync(logFile, 'utf8'));
  for (let i = blocks.length - 1; i >= 0; i--) {
    const s = blocks[i]?.speed;
    if (s !== undefined) return s;
  }
  return NaN;
}

/** Publishes the clip in real time from a helper process on the load core. */
async function publish(file: string, url: string): Promise<Helper> {
  const pub = Helper.start('publisher', join(process.cwd(), 'bench/lib/pubprobe-child.ts'), LOAD_CORE, NICE);
  await pub.callOrStop('publish', { file, durationMs: MEDIA_DURATION_MS, urls: [url], stampFirstOnly: true, staggerMs: 0 } satisfies PublishArgs);
  return pub;
}

interface ApiStream {
  name: string;
  publisher: unknown;
  transcode?: { speed?: number | null; restarts?: number } | null;
}

async function apiStreams(origin: Origin): Promise<ApiStream[]> {
  const r = await fetch(`${origin.http}/api/streams`, { signal: AbortSignal.timeout(5000) });
  return ((await r.json()) as { streams: ApiStream[] }).streams;
}

async function waitLive(origin: Origin, names: readonly string[]): Promise<void> {
  await waitFor(
    `${names.join(', ')} live on ${origin.proc.name}`,
    async () => {
      const live = new Set((await apiStreams(origin)).filter((s) => s.publisher !== null).map((s) => s.name));
      return names.every((n) => live.has(n)) ? true : undefined;
    },
    60_000,
    250,
  );
}

/** Restarts of our transcoder so far (/api/streams `transcode.restarts`; 0 when not reported). */
async function oursRestarts(origin: Origin): Promise<number> {
  return (await apiStreams(origin)).find((x) => x.name === STREAM)?.transcode?.restarts ?? 0;
}

/** Our transcoder's speed: /api/streams `transcode.speed`, else the livecdn_transcode_speed gauge. */
async function oursSpeed(origin: Origin): Promise<number> {
  const s = (await apiStreams(origin)).find((x) => x.name === STREAM)?.transcode?.speed;
  if (typeof s === 'number') return s;
  const text = await (await fetch(`${origin.http}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const m = /^livecdn_transcode_speed(?:\{[^}]*\})?\s+(\S+)/m.exec(text);
  return m ? Number(m[1]) : NaN;
}

// ---------- 1 + 2. CPU per stream-minute, and the added delay ----------

interface Trial {
  round: number;
  design: Design;
  tune: Tune;
  /** CPU seconds per stream-minute: all, the origin process alone, the FFmpeg processes. */
  cpu: number;
  originCpu: number;
  ffmpegCpu: number;
  /** Encode speed at the end of the window (x real time; the slowest FFmpeg for theirs). */
  speed: number;
  /** Added delay samples (ms) per rung. */
  delays: Map<string, number[]>;
  problems: string[];
}

/** Delay of each rung against the source over HTTP-FLV: arrival of the same PTS on both connections. */
async function measureDelays(origin: Origin): Promise<Map<string, number[]>> {
  const source = new FlvArrivals(`${origin.http}/${APP}/${STREAM}.flv`);
  const rungs = LADDER.map((r) => [r, new FlvArrivals(`${origin.http}/${APP}/${rungStream(r)}.flv`)] as const);
  try {
    // The GOP caches arrive at once on connecting: not the live delay.
    await sleep(DELAY_WARM_S * 1000);
    source.take();
    for (const [, a] of rungs) a.take();
    await sleep(DELAY_S * 1000);
    const src = source.take();
    const out = new Map<string, number[]>();
    for (const [r, a] of rungs) {
      if (a.ended) throw new Error(`${rungStream(r)}.flv ended: ${a.ended}`);
      out.set(r, addedDelays(src, a.take(), FRAME_MS / 2));
    }
    if (source.ended) throw new Error(`${STREAM}.flv ended: ${source.ended}`);
    return out;
  } finally {
    source.close();
    for (const [, a] of rungs) a.close();
  }
}

async function trial(file: string, round: number, design: Design, tune: Tune): Promise<Trial> {
  const name = `${design}-${tune}`;
  const origin = await startOrigin(`origin-${name}`, design === 'ours' ? ladderArgs(tune) : []);
  const ffmpegs: ServerProcess[] = [];
  let pub: Helper | undefined;
  try {
    pub = await publish(file, `${origin.rtmp}/${APP}/${STREAM}`);
    await waitLive(origin, [STREAM]);
    if (design === 'theirs') {
      for (const r of RUNGS) {
        const args = transcodeArgs({
          input: `${origin.http}/${APP}/${STREAM}.flv`,
          rungs: [r],
          outputs: [`${origin.rtmp}/${APP}/${rungStream(r.name)}`],
          settings: settingsFor(tune),
          sourceFps: FPS,
          audio: 'copy',
        });
        ffmpegs.push(await startFfmpeg(`ffmpeg-${name}-${r.name}`, args));
      }
    }
    await waitLive(origin, LADDER.map(rungStream));
    await sleep(WARM_S * 1000);
    const originOnly = (): number => cpuSeconds(origin.proc.pid);
    const all = (): number => origin.proc.cpuSeconds() + ffmpegs.reduce((s, p) => s + p.cpuSeconds(), 0);
    const restarts0 = await oursRestarts(origin);
    const [a0, o0, t0] = [all(), originOnly(), performance.now()];
    await sleep(CPU_S * 1000);
    const [a1, o1] = [all(), originOnly()];
    // A transcoder that exited during the window took its CPU seconds with it.
    const restarted = (await oursRestarts(origin)) - restarts0;
    const minutes = (performance.now() - t0) / 60_000;
    const speed = design === 'ours' ? await oursSpeed(origin) : Math.min(...ffmpegs.map((p) => lastSpeed(p.logFile)));
    const problems = [origin.proc, ...ffmpegs].filter((p) => p.exited()).map((p) => `${p.name} exited (${p.exited() ?? ''})`);
    if (restarted > 0) problems.push(`the transcoder restarted ${restarted} times`);
    if (speed < 0.97) problems.push(`encoding behind real time (${fmt(speed, 2)}x): the CPU figure is of less work`);
    const delays = await measureDelays(origin);
    const t: Trial = {
      round,
      design,
      tune,
      cpu: (a1 - a0) / minutes,
      originCpu: (o1 - o0) / minutes,
      ffmpegCpu: (a1 - a0 - (o1 - o0)) / minutes,
      speed,
      delays,
      problems,
    };
    const d = [...delays].map(([r, xs]) => `${r} ${fmt(median(xs), 0)} ms`).join(', ');
    console.log(
      `round ${round} ${DESIGN_NAME[design]}, tune ${tune}: ${fmt(t.cpu, 1)} CPU s per stream-minute (origin ${fmt(t.originCpu, 1)}, FFmpeg ${fmt(t.ffmpegCpu, 1)}), ` +
        `speed ${fmt(speed, 2)}x, added delay ${d}${problems.length ? `; problems: ${problems.join('; ')}` : ''}`,
    );
    return t;
  } finally {
    await pub?.stop();
    for (const p of ffmpegs) await p.stop();
    await origin.proc.stop();
  }
}

interface CpuRow {
  design: Design;
  tune: Tune;
  rounds: number;
  cpu: number;
  originCpu: number;
  ffmpegCpu: number;
  speed: number;
  /** Per rung: median and p95 of the added delay (ms), and the frames paired. */
  delay: { rung: string; median: number; p95: number; frames: number }[];
  problems: string[];
}

interface CpuResult {
  date: string;
  command: string;
  /** Load average (1 min) of the machine when the part started: how shared it was. */
  load?: number;
  rows: CpuRow[];
  /** Median over the rounds of each round's ours/theirs ratio (default tune). */
  ratio: number;
  /** The same without a tune (one round). */
  ratioNoTune: number;
}

function summarizeTrials(trials: readonly Trial[]): CpuRow[] {
  const rows: CpuRow[] = [];
  for (const tune of TUNES) {
    for (const design of ['ours', 'theirs'] as const) {
      const same = trials.filter((t) => t.design === design && t.tune === tune);
      if (same.length === 0) continue;
      rows.push({
        design,
        tune,
        rounds: same.length,
        cpu: median(same.map((t) => t.cpu)),
        originCpu: median(same.map((t) => t.originCpu)),
        ffmpegCpu: median(same.map((t) => t.ffmpegCpu)),
        speed: median(same.map((t) => t.speed)),
        delay: LADDER.map((rung) => {
          const xs = same.flatMap((t) => t.delays.get(rung) ?? []);
          const [m, p95] = quantiles(xs, 0.5, 0.95);
          return { rung, median: m ?? NaN, p95: p95 ?? NaN, frames: xs.length };
        }),
        problems: same.flatMap((t) => t.problems),
      });
    }
  }
  return rows;
}

/** Median over the rounds of ours/theirs measured in the same round. */
function roundRatio(trials: readonly Trial[], tune: Tune): number {
  const ours = trials.filter((t) => t.design === 'ours' && t.tune === tune);
  return median(
    ours.flatMap((o) => {
      const t = trials.find((x) => x.design === 'theirs' && x.tune === tune && x.round === o.round);
      return t ? [o.cpu / t.cpu] : [];
    }),
  );
}

async function benchCpu(file: string): Promise<CpuResult> {
  const started = stamp();
  const trials: Trial[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    // Alternating which goes first, so a drift on the shared machine does not favour one.
    const order: Design[] = round % 2 === 1 ? ['ours', 'theirs'] : ['theirs', 'ours'];
    for (const d of order) if (DESIGNS.has(d)) trials.push(await trial(file, round, d, 'zerolatency'));
  }
  // Without a tune: x264's lookahead and B-frames, one round.
  for (const d of ['ours', 'theirs'] as const) if (DESIGNS.has(d)) trials.push(await trial(file, 1, d, 'none'));
  return {
    ...started,
    rows: summarizeTrials(trials),
    ratio: roundRatio(trials, 'zerolatency'),
    ratioNoTune: roundRatio(trials, 'none'),
  };
}

// ---------- 3. offline encode speed on one core ----------

interface SpeedResult {
  date: string;
  command: string;
  /** Load average (1 min) of the machine when the part started: how shared it was. */
  load?: number;
  mediaS: number;
  /** x real time, and CPU seconds per media minute, for the ladder. */
  ours: { speed: number; cpu: number };
  theirs: { speed: number; cpu: number; perRung: { rung: string; speed: number }[] };
}

const SPEED_MEDIA_S = 20;

/** Runs FFmpeg to the end on the server core; returns wall seconds and CPU seconds. */
async function runPinned(name: string, args: string[]): Promise<{ wallS: number; cpuS: number }> {
  const t0 = performance.now();
  // -y: the outputs are /dev/null, which FFmpeg would otherwise refuse to overwrite.
  const p = await startFfmpeg(name, ['-y', ...args]);
  let cpu = 0;
  while (!p.exited()) {
    cpu = Math.max(cpu, p.cpuSeconds());
    await sleep(50);
  }
  if (p.exited() !== 'code 0') throw new Error(`${name} ${p.exited() ?? ''} (log: ${p.logFile})`);
  // The last samples before exit miss the final ~50 ms of CPU: small against seconds of encoding.
  return { wallS: (performance.now() - t0) / 1000, cpuS: cpu };
}

async function benchSpeed(file: string): Promise<SpeedResult> {
  const started = stamp();
  const clip = await ensureEncodedMedia(`bench-720p30-v1-${SPEED_MEDIA_S}s.flv`, ['-hide_banner', '-loglevel', 'error', '-y', '-i', file, '-t', String(SPEED_MEDIA_S), '-c', 'copy', '-f', 'flv']);
  const settings = settingsFor('zerolatency');
  const common = { input: clip, settings, sourceFps: FPS, audio: 'copy' as const };
  const ours = await runPinned('speed-ours', transcodeArgs({ ...common, rungs: RUNGS, outputs: RUNGS.map(() => '/dev/null') }));
  const perRung: { rung: string; speed: number; cpuS: number }[] = [];
  for (const r of RUNGS) {
    const x = await runPinned(`speed-theirs-${r.name}`, transcodeArgs({ ...common, rungs: [r], outputs: ['/dev/null'] }));
    perRung.push({ rung: r.name, speed: SPEED_MEDIA_S / x.wallS, cpuS: x.cpuS });
  }
  const theirsWall = perRung.reduce((s, r) => s + SPEED_MEDIA_S / r.speed, 0);
  const perMin = 60 / SPEED_MEDIA_S;
  const result: SpeedResult = {
    ...started,
    mediaS: SPEED_MEDIA_S,
    ours: { speed: SPEED_MEDIA_S / ours.wallS, cpu: ours.cpuS * perMin },
    theirs: { speed: SPEED_MEDIA_S / theirsWall, cpu: perRung.reduce((s, r) => s + r.cpuS, 0) * perMin, perRung: perRung.map(({ rung, speed }) => ({ rung, speed })) },
  };
  console.log(
    `offline on one core: one decode ${fmt(result.ours.speed, 2)}x real time (${fmt(result.ours.cpu, 1)} CPU s per media minute), ` +
      `one FFmpeg per rung ${fmt(result.theirs.speed, 2)}x (${fmt(result.theirs.cpu, 1)} CPU s; ${perRung.map((r) => `${r.rung} ${fmt(r.speed, 2)}x`).join(', ')})`,
  );
  return result;
}

// ---------- 4. rung alignment ----------

interface AlignResult {
  date: string;
  command: string;
  /** Load average (1 min) of the machine when the part started: how shared it was. */
  load?: number;
  minutes: number;
  sourceSegments: number;
  rungs: (Alignment & { rung: string; segments: number })[];
  fetchErrors: number;
}

/** Polls a media playlist and reads the first PTS of every new segment into `log`. */
async function pollPlaylist(url: string, log: Map<number, SegmentStart>, errors: { n: number; last?: string }): Promise<void> {
  const r = await fetch(url, { signal: AbortSignal.timeout(5000) }).catch((e: unknown) => e as Error);
  if (r instanceof Error || !r.ok) {
    errors.n++;
    errors.last = `${url}: ${r instanceof Error ? r.message : `HTTP ${r.status}`}`;
    return;
  }
  let p;
  try {
    p = parseMediaPlaylist(await r.text());
  } catch (e) {
    errors.n++;
    errors.last = `${url}: ${e instanceof Error ? e.message : String(e)}`;
    return;
  }
  for (const [i, seg] of p.segments.entries()) {
    const seq = p.mediaSequence + i;
    if (log.has(seq)) continue;
    let startMs: number | undefined;
    const s = await fetch(new URL(seg.uri, url), { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
    if (s?.ok) {
      try {
        startMs = firstVideoPtsMs(Buffer.from(await s.arrayBuffer()));
      } catch (e) {
        errors.n++;
        errors.last = `${seg.uri}: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    log.set(seq, { durationS: seg.durationS, startMs });
  }
}

/** The source's media playlist: `{stream}_source.m3u8` when `{stream}.m3u8` is the multivariant playlist of a ladder. */
async function sourcePlaylistUrl(origin: Origin): Promise<string> {
  const plain = `${origin.http}/${APP}/${STREAM}.m3u8`;
  const text = await waitFor(`${plain} to list segments or variants`, async () => {
    const r = await fetch(plain, { signal: AbortSignal.timeout(5000) });
    const t = r.ok ? await r.text() : '';
    return /#EXT-X-STREAM-INF|#EXTINF/.test(t) ? t : undefined;
  }, 30_000, 500);
  return text.includes('#EXT-X-STREAM-INF') ? `${origin.http}/${APP}/${rungStream(SOURCE_RUNG)}.m3u8` : plain;
}

async function benchAlign(file: string): Promise<AlignResult> {
  const started = stamp();
  const origin = await startOrigin('origin-align', ladderArgs('zerolatency'));
  let pub: Helper | undefined;
  try {
    pub = await publish(file, `${origin.rtmp}/${APP}/${STREAM}`);
    await waitLive(origin, [STREAM, ...LADDER.map(rungStream)]);
    const sourceUrl = await sourcePlaylistUrl(origin);
    const streams = [{ name: 'source', url: sourceUrl }, ...LADDER.map((r) => ({ name: r, url: `${origin.http}/${APP}/${rungStream(r)}.m3u8` }))];
    const logs = new Map(streams.map((s) => [s.name, new Map<number, SegmentStart>()]));
    const errors = { n: 0, last: undefined as string | undefined };
    const end = Date.now() + MINUTES * 60_000;
    let nextReport = Date.now() + 60_000;
    while (Date.now() < end) {
      const t = Date.now();
      for (const s of streams) await pollPlaylist(s.url, logs.get(s.name) ?? new Map(), errors);
      if (origin.proc.exited()) throw new Error(`origin exited (${origin.proc.exited() ?? ''})`);
      if (Date.now() > nextReport) {
        nextReport += 60_000;
        console.log(`alignment: ${[...logs].map(([n, l]) => `${n} ${l.size}`).join(', ')} segments seen`);
      }
      await sleep(Math.max(0, 1000 - (Date.now() - t)));
    }
    // The segments still open at the end are listed next: one more poll after a segment's time.
    await sleep(2500);
    for (const s of streams) await pollPlaylist(s.url, logs.get(s.name) ?? new Map(), errors);
    const source: SegmentLog = logs.get('source') ?? new Map();
    const result: AlignResult = {
      ...started,
      minutes: MINUTES,
      sourceSegments: source.size,
      rungs: LADDER.map((rung) => {
        const l = logs.get(rung) ?? new Map<number, SegmentStart>();
        return { rung, segments: l.size, ...compareRung(source, l, FRAME_MS) };
      }),
      fetchErrors: errors.n,
    };
    const seqs = [...source.keys()];
    const first = source.get(Math.min(...seqs));
    console.log(`alignment source: #${Math.min(...seqs)}..#${Math.max(...seqs)}, the first starting at PTS ${fmt(first?.startMs ?? NaN, 1)} ms`);
    for (const r of result.rungs) {
      console.log(
        `alignment ${r.rung}: ${r.segments} segments, ${r.compared} compared (source unreadable ${r.sourceUnread}), ${r.missing} missing, ${r.misaligned} misaligned, worst start difference ${fmt(r.worstMs, 1)} ms` +
          (r.examples.length ? ` (${r.examples.join('; ')})` : ''),
      );
    }
    if (errors.n) console.log(`alignment: ${errors.n} fetch errors, last: ${errors.last ?? ''}`);
    return result;
  } finally {
    await pub?.stop();
    await origin.proc.stop();
  }
}

// ---------- report ----------

interface Results {
  machine?: string;
  cpu?: CpuResult;
  speed?: SpeedResult;
  align?: AlignResult;
}

/** When, how and under what load a part's figures were made. */
function stamp(): { date: string; command: string; load: number } {
  return { date: new Date().toISOString().slice(0, 10), command: commandLine(), load: os.loadavg()[0] ?? NaN };
}

/** Date, command and load of a part, for its paragraph. */
const made = (x: { date: string; command: string; load?: number }): string =>
  `\`${x.command}\`, ${x.date}${x.load === undefined ? '' : `, load average ${fmt(x.load, 1)} at the start`}`;

/** How the figures were made (without --no-write, which does not change them). */
function commandLine(): string {
  const args = argv.filter((a) => a !== '--no-write');
  return `npm run bench:abr${args.length ? ` -- ${args.join(' ')}` : ''}`;
}

const ms = (x: number): string => `${fmt(x, 0)} ms`;

function render(r: Results): string {
  const out: string[] = [
    `${r.machine ?? 'this machine'}. The origin and every transcoding FFmpeg pinned to core 0, the publisher to core 1, all at nice ${NICE}. ` +
      `Source: a 720p30 H.264 clip (2 s GOP, 2.5 Mbit/s CBR) + AAC 128 kbit/s, published in real time over RTMP by the bench. ` +
      `Ladder ${LADDER.join(', ')} (${RUNGS.map((x) => `${x.height}p ${x.videoKbps} kbit/s`).join(', ')}), libx264 -preset ${PRESET}, keyframes at the source's, AAC copied; ` +
      `the same FFmpeg arguments (src/transcode/ffmpeg-args.ts) for both designs, one rung per process for the second.`,
  ];
  if (r.cpu) {
    const c = r.cpu;
    out.push(
      ...subsection(
        'CPU: one decode against one FFmpeg per rung',
        `${made(c)}. Each trial: a fresh origin and publisher, ${WARM_S} s after every rung is live, then ${CPU_S} s of CPU (utime + stime from /proc of the origin ` +
          `and every FFmpeg; the publisher excluded). The second design is an origin without a ladder and one FFmpeg per rung pulling the source over HTTP-FLV and publishing the rung back over RTMP. ` +
          `Rounds alternate the designs; medians. Speed: the encoder's own -progress speed at the end of the window (x real time; the slowest FFmpeg for the second design).`,
        mdTable(
          ['design', 'tune', 'rounds', 'CPU s per stream-minute', 'origin process', 'FFmpeg', 'speed'],
          c.rows.map((x) => [DESIGN_NAME[x.design], x.tune, String(x.rounds), fmt(x.cpu, 1), fmt(x.originCpu, 1), fmt(x.ffmpegCpu, 1), `${fmt(x.speed, 2)}x` + (x.problems.length ? ` (${x.problems.join('; ')})` : '')]),
        ),
        `One decode / one FFmpeg per rung: **${fmt(c.ratio, 2)}x** the CPU (tune zerolatency, median of the per-round ratios; target <= 0.75x); without a tune ${fmt(c.ratioNoTune, 2)}x.`,
      ),
      ...subsection(
        'Added delay of a rung over HTTP-FLV',
        `The same trials, after the CPU window: HTTP-FLV connections to the source and to every rung; a rung keeps the source's PTS (-copyts), so a rung frame's arrival minus the arrival ` +
          `of the source frame with the same PTS is the delay the rung adds (${DELAY_S} s per trial after ${DELAY_WARM_S} s, all rounds pooled). ` +
          `PTS pairing stands in for the SEI send-time stamps of the origin benchmark, which x264's re-encoding does not carry into the rungs.`,
        mdTable(
          ['design', 'tune', ...LADDER.map((x) => `${x} median / p95`)],
          c.rows.map((x) => [DESIGN_NAME[x.design], x.tune, ...x.delay.map((d) => `${ms(d.median)} / ${ms(d.p95)} (${d.frames} frames)`)]),
        ),
      ),
    );
  }
  if (r.speed) {
    const s = r.speed;
    out.push(
      ...subsection(
        'Encode speed on one core',
        `${made(s)}. The first ${s.mediaS} s of the clip from a file, as fast as FFmpeg goes, on core 0 (tune zerolatency): how many times real time one core encodes the whole ladder.`,
        mdTable(
          ['design', 'x real time', 'CPU s per media minute'],
          [
            [DESIGN_NAME.ours, `${fmt(s.ours.speed, 2)}x`, fmt(s.ours.cpu, 1)],
            [`${DESIGN_NAME.theirs} (${s.theirs.perRung.map((x) => `${x.rung} ${fmt(x.speed, 2)}x`).join(', ')}, one after the other)`, `${fmt(s.theirs.speed, 2)}x`, fmt(s.theirs.cpu, 1)],
          ],
        ),
      ),
    );
  }
  if (r.align) {
    const a = r.align;
    out.push(
      ...subsection(
        'Rung alignment',
        `${made(a)}: ${a.minutes} minutes of the origin with the ladder; the source's and every rung's playlists polled every second, the first video PTS of every ` +
          `segment read from its MPEG-TS and compared by media sequence number (misaligned: a start or EXTINF more than one frame apart, or a number only the rung lists; missing: ` +
          `listed by the source, not by the rung or without media). ${a.sourceSegments} source segments; ${a.fetchErrors} fetch errors.`,
        mdTable(
          ['rung', 'segments', 'compared', 'source unreadable', 'missing', 'misaligned', 'worst start difference'],
          a.rungs.map((x) => [x.rung, String(x.segments), String(x.compared), String(x.sourceUnread), String(x.missing), String(x.misaligned), `${fmt(x.worstMs, 1)} ms`]),
        ),
        `Misaligned or missing segments over ${a.minutes} minutes: **${a.rungs.reduce((n, x) => n + x.missing + x.misaligned, 0)}** (target: 0).`,
      ),
    );
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const file = await ensureTestMedia();
  const results: Results = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as Results) : {};
  results.machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, shared with other work`;
  const save = (): void => writeFileSync(RESULTS, JSON.stringify(results, null, 1));
  if (ONLY.has('speed')) {
    results.speed = await benchSpeed(file);
    save();
  }
  if (ONLY.has('cpu')) {
    results.cpu = await benchCpu(file);
    save();
  }
  if (ONLY.has('align')) {
    results.align = await benchAlign(file);
    save();
  }
  const body = render(results);
  console.log('\n' + body);
  if (WRITE) replaceSection('BENCHMARKS.md', SECTION, body);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
