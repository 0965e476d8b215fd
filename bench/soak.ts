// Soak (issue 8), a script, not CI: an origin, an edge and a signal (for chat) as child processes under
// churning load for --minutes. 300 viewers on the edge (2/3 HTTP-FLV, 1/3 HLS), 280 of them leaving after
// 5-60 s and replaced at once, 20 staying the whole run; a publisher that republishes every 2 minutes;
// one HTTP-FLV viewer that never reads; one chat member flooding its room. Every few seconds the RSS and
// open descriptors of each process are sampled. Reported: the slope per hour of both (least squares over
// the second half, after warm-up), error-level log lines, and the received rate of every viewer still
// connected at the end against the stream's own rate (>= 98% expected).
// Usage: npm run soak -- --minutes 30 [--republish-seconds 120] [--no-write] [--out BENCHMARKS.md]
import net from 'node:net';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMediaPlaylist } from '../src/media/hls/playlist.js';
import { deriveKeys, adminToken } from '../src/shared/keys.js';
import { CACHE_DIR, ensureEncodedMedia } from './lib/media.js';
import { loadMedia, RealtimePublisher } from './lib/publisher.js';
import { fmt, fmtBytes, mdTable, replaceSection } from './lib/report.js';
import { startPinned, type ServerProcess } from './lib/server-proc.js';
import { quantiles } from './lib/stats.js';
import { HttpFlvCounter } from './lib/viewers.js';
import { ChatClient } from '../test/signal/util.js';
import { sleep } from '../test/helpers/wait.js';
import { freePort } from '../test/helpers/net.js';

const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const MINUTES = Number(arg('--minutes') ?? '30');
const OUT = arg('--out') ?? 'BENCHMARKS.md';
const WRITE = !argv.includes('--no-write');
if (!Number.isFinite(MINUTES) || MINUTES <= 0) throw new Error('--minutes must be a positive number');
const RUN_MS = MINUTES * 60_000;
const VIEWERS = 300;
const LONG_VIEWERS = 20;
const REPUBLISH_MS = Number(arg('--republish-seconds') ?? '120') * 1000;
const SAMPLE_MS = 5_000;
const MEDIA_MS = 60_000;
// The edge's HLS cache keeps immutable segments until its budget is full (512 MiB by default: hours of
// this stream), so its RSS would grow for the whole run without any leak. A small budget is full after
// a few minutes, before the second half the slopes are taken over.
const EDGE_CACHE_MB = 32;
// Every service derives its keys from this; a fresh one per run, never written anywhere.
const SECRET = `soak-${process.pid}-${Date.now()}-0123456789abcdefghijklmnopqrstuvwxyz`;

// 360p25 at a constant 600 kbit/s + AAC 64 kbit/s, GOP 2 s: the viewers' rate checks compare against a
// steady stream, and 300 viewers of it stay affordable on a shared 2-core machine.
const MEDIA_ARGS = [
  '-hide_banner', '-loglevel', 'error', '-y',
  '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25',
  '-f', 'lavfi', '-i', 'sine=frequency=440:beep_factor=4:sample_rate=48000',
  '-t', String(MEDIA_MS / 1000),
  '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'main', '-pix_fmt', 'yuv420p',
  '-g', '50', '-keyint_min', '50', '-sc_threshold', '0',
  '-b:v', '600k', '-minrate', '600k', '-maxrate', '600k', '-bufsize', '300k', '-x264-params', 'nal-hrd=cbr',
  '-c:a', 'aac', '-b:a', '64k', '-ac', '2',
  '-f', 'flv',
];

const logFile = (name: string): string => join(CACHE_DIR, `soak-${name}.log`);
const cli = (args: string[]): string[] => ['--import', 'tsx', 'src/cli/main.ts', ...args];
// Without LIVECDN_* variables of the caller: a stray LIVECDN_SECRET would turn publish tokens on.
const baseEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { LOG_LEVEL: 'warn' };
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LIVECDN_')) env[k] = v;
  return env;
};

// ---------- the publisher: the stream's own rate is what it sent ----------

class Publishing {
  private current: RealtimePublisher | undefined;
  private doneBytes = 0;
  private doneMs = 0;
  private since = 0;
  sessions = 0;
  failures = 0;
  constructor(
    private readonly url: string,
    private readonly media: ReturnType<typeof loadMedia>,
  ) {}

  async start(): Promise<void> {
    const p = new RealtimePublisher(this.url, this.media, { stamp: false });
    try {
      await p.start();
    } catch (e) {
      this.failures++;
      console.error(`publish failed: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.current = p;
    this.since = Date.now();
    this.sessions++;
  }

  stop(): void {
    const p = this.current;
    if (!p) return;
    this.current = undefined;
    p.stop();
    this.doneBytes += p.flvBytes;
    this.doneMs += Date.now() - this.since;
  }

  /** FLV bytes sent so far, over all sessions. */
  bytes(): number {
    return this.doneBytes + (this.current?.flvBytes ?? 0);
  }

  /** Media milliseconds sent so far (the time a session was live), over all sessions. */
  mediaMs(): number {
    return this.doneMs + (this.current ? Date.now() - this.since : 0);
  }
}

// ---------- viewers ----------

interface SoakViewer {
  readonly proto: 'flv' | 'hls';
  readonly openedAt: number;
  /** The publisher's bytes (FLV) or media ms (HLS) when this viewer opened. */
  readonly baseline: number;
  /** What it received: bytes (FLV) or media ms of the segments it fetched (HLS). */
  received(): number;
  ended(): string | undefined;
  close(): void;
}

/** An HLS player loop: the playlist every second, each new segment once (the newest three at the start). */
class HlsLoop implements SoakViewer {
  readonly proto = 'hls';
  readonly openedAt = Date.now();
  private mediaMs = 0;
  private stopped = false;
  private failure: string | undefined;
  errors = 0;
  private readonly seen = new Set<string>();

  constructor(
    private readonly url: string,
    readonly baseline: number,
  ) {
    void this.run();
  }

  received(): number {
    return this.mediaMs;
  }

  ended(): string | undefined {
    return this.failure;
  }

  close(): void {
    this.stopped = true;
  }

  private async run(): Promise<void> {
    let first = true;
    while (!this.stopped) {
      try {
        const res = await fetch(this.url, { signal: AbortSignal.timeout(5000) });
        const text = await res.text();
        if (res.status === 200) {
          const pl = parseMediaPlaylist(text);
          const segs = first ? pl.segments.slice(-3) : pl.segments;
          first = false;
          for (const s of segs) {
            if (this.stopped || this.seen.has(s.uri)) continue;
            const r = await fetch(new URL(s.uri, this.url), { signal: AbortSignal.timeout(10_000) });
            await r.arrayBuffer();
            if (r.status !== 200) {
              this.errors++;
              continue;
            }
            this.seen.add(s.uri);
            this.mediaMs += s.durationS * 1000;
          }
          // Keep the memory of seen URIs to about the live window.
          if (this.seen.size > 64) for (const u of [...this.seen].slice(0, this.seen.size - 32)) this.seen.delete(u);
        } else {
          this.errors++;
        }
      } catch {
        this.errors++;
      }
      await sleep(1000);
    }
  }
}

class FlvViewer implements SoakViewer {
  readonly proto = 'flv';
  readonly openedAt = Date.now();
  private readonly counter: HttpFlvCounter;
  constructor(url: string, readonly baseline: number) {
    this.counter = new HttpFlvCounter(url);
  }
  received(): number {
    return this.counter.bytes;
  }
  ended(): string | undefined {
    return this.counter.ended;
  }
  close(): void {
    this.counter.close();
  }
}

// ---------- sampling and figures ----------

interface Sample {
  readonly t: number;
  readonly rss: number;
  readonly fds: number;
}

function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

/** Least-squares slope of y over x. */
function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/** Error-level (pino level >= 50) and warn-level lines of a log, and the most frequent error messages. */
function logLevels(file: string): { errors: number; warns: number; top: string[] } {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { errors: 0, warns: 0, top: [] };
  }
  let errors = 0;
  let warns = 0;
  const msgs = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    let level = 0;
    let msg = line.slice(0, 120);
    try {
      const j = JSON.parse(line) as { level?: number; msg?: string };
      level = j.level ?? 0;
      msg = j.msg ?? msg;
    } catch {
      // Not JSON (a crash trace on stderr): it counts as an error.
      level = 50;
    }
    if (level >= 50) {
      errors++;
      msgs.set(msg, (msgs.get(msg) ?? 0) + 1);
    } else if (level >= 40) warns++;
  }
  const top = [...msgs].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([m, n]) => `${n}x ${m}`);
  return { errors, warns, top };
}

// ---------- the run ----------

async function main(): Promise<void> {
  const mediaFile = await ensureEncodedMedia('soak-360p25-v1.flv', MEDIA_ARGS);
  const media = loadMedia(mediaFile, MEDIA_MS);
  const [rtmpPort, originPort, edgePort, signalPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  // A fresh log per run: error lines are counted from it.
  for (const n of ['origin', 'edge', 'signal']) writeFileSync(logFile(n), '');
  const procs: ServerProcess[] = [];
  const origin = await startPinned({
    name: 'origin',
    command: process.execPath,
    args: cli(['origin', '--host', '127.0.0.1', '--rtmp-port', String(rtmpPort), '--http-port', String(originPort)]),
    core: 0,
    logFile: logFile('origin'),
    ports: [rtmpPort, originPort],
    env: baseEnv(),
  });
  procs.push(origin);
  const edge = await startPinned({
    name: 'edge',
    command: process.execPath,
    args: cli(['edge', '--host', '127.0.0.1', '--http-port', String(edgePort), '--upstream', `http://127.0.0.1:${originPort}`, '--cache-mb', String(EDGE_CACHE_MB)]),
    core: 1,
    logFile: logFile('edge'),
    ports: [edgePort],
    env: baseEnv(),
  });
  procs.push(edge);
  const signal = await startPinned({
    name: 'signal',
    command: process.execPath,
    args: cli([
      'signal',
      '--host', '127.0.0.1',
      '--api-port', String(signalPort),
      '--origin-rtmp', `rtmp://127.0.0.1:${rtmpPort}`,
      '--origin-http', `http://127.0.0.1:${originPort}`,
    ]),
    core: 0,
    logFile: logFile('signal'),
    ports: [signalPort],
    env: { ...baseEnv(), LIVECDN_SECRET: SECRET },
  });
  procs.push(signal);

  const pub = new Publishing(`rtmp://127.0.0.1:${rtmpPort}/live/soak`, media);
  const flvUrl = `http://127.0.0.1:${edgePort}/live/soak.flv`;
  const hlsUrl = `http://127.0.0.1:${edgePort}/live/soak.m3u8`;
  const samples = new Map<string, Sample[]>(procs.map((p) => [p.name, []]));
  const started = Date.now();
  let stopping = false;
  const timers: NodeJS.Timeout[] = [];
  const closers: Array<() => void> = [];
  const churned: Array<{ proto: string; ratio: number; lifeS: number }> = [];
  let opened = 0;
  const cacheBytes: Array<{ t: number; bytes: number }> = [];

  try {
    await pub.start();
    // The chat room is the stream's record on the signal (POST /api/streams, as a streamer gets it).
    const admin = adminToken(deriveKeys(SECRET));
    const created = await fetch(`http://127.0.0.1:${signalPort}/api/streams`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ app: 'live', name: 'soak' }),
    });
    const rec = (await created.json()) as { chat?: string };
    if (!rec.chat) throw new Error(`POST /api/streams answered ${created.status}: ${JSON.stringify(rec)}`);
    const chatUrl = `ws://127.0.0.1:${signalPort}${rec.chat}`;
    await sleep(4000); // the first HLS segments

    // Viewers: slot i keeps one viewer open; the first LONG_VIEWERS slots keep theirs for the whole run.
    const open = (i: number): SoakViewer => {
      opened++;
      return i % 3 === 0 ? new HlsLoop(hlsUrl, pub.mediaMs()) : new FlvViewer(flvUrl, pub.bytes());
    };
    const ratio = (v: SoakViewer): number => (v.proto === 'flv' ? v.received() / (pub.bytes() - v.baseline) : v.received() / (pub.mediaMs() - v.baseline));
    const slots: SoakViewer[] = [];
    for (let i = 0; i < VIEWERS; i++) {
      slots.push(open(i));
      if (i % 20 === 19) await sleep(200);
    }
    const churn = (i: number): void => {
      if (stopping) return;
      const v = slots[i];
      if (v) {
        const lifeS = (Date.now() - v.openedAt) / 1000;
        churned.push({ proto: v.proto, ratio: ratio(v), lifeS });
        v.close();
      }
      slots[i] = open(i);
      timers[i] = setTimeout(() => churn(i), 5000 + Math.random() * 55_000);
    };
    for (let i = LONG_VIEWERS; i < VIEWERS; i++) timers[i] = setTimeout(() => churn(i), 5000 + Math.random() * 55_000);
    closers.push(() => slots.forEach((v) => v.close()));

    // The stalled viewer: sends its GET, then never reads a byte.
    const stalled = net.connect({ host: '127.0.0.1', port: edgePort }, () => {
      stalled.write(`GET /live/soak.flv HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: stalled\r\n\r\n`);
    });
    stalled.pause();
    stalled.on('error', () => {});
    closers.push(() => stalled.destroy());

    // The chat flooder: 200 messages/s into the room from its own address, reconnecting whenever the
    // signal cuts it; a quiet member beside it says something every 5 s.
    let flooder = new ChatClient(chatUrl, '127.0.0.2');
    let floodConnections = 1;
    const quiet = await ChatClient.join(chatUrl);
    closers.push(() => flooder.close(), () => quiet.close());
    let quietSent = 0;
    let floodSent = 0;
    const flood = setInterval(() => {
      const ws = flooder.ws;
      if (ws.readyState === ws.CLOSED && !stopping) {
        flooder = new ChatClient(chatUrl, '127.0.0.2');
        floodConnections++;
      }
      if (ws.readyState !== ws.OPEN) return;
      for (let k = 0; k < 10; k++) flooder.send(`flood ${floodSent++}`);
    }, 50);
    const talk = setInterval(() => quiet.send(`quiet ${quietSent++}`), 5000);
    closers.push(() => clearInterval(flood), () => clearInterval(talk));

    const republish = setInterval(() => {
      pub.stop();
      setTimeout(() => void pub.start(), 1000);
    }, REPUBLISH_MS);
    closers.push(() => clearInterval(republish));

    const sample = (): void => {
      const t = (Date.now() - started) / 3_600_000;
      for (const p of procs) samples.get(p.name)?.push({ t, rss: p.rssBytes(), fds: fdCount(p.pid) });
      void fetch(`http://127.0.0.1:${edgePort}/api/edge`, { signal: AbortSignal.timeout(4000) })
        .then(async (r) => (JSON.parse(await r.text()) as { cache?: { bytes: number } }).cache?.bytes)
        .then((bytes) => bytes !== undefined && cacheBytes.push({ t, bytes }))
        .catch(() => undefined);
    };
    sample();
    const sampler = setInterval(sample, SAMPLE_MS);
    closers.push(() => clearInterval(sampler));
    let lastPrint = Date.now();
    while (Date.now() - started < RUN_MS) {
      await sleep(1000);
      for (const p of procs) if (p.exited()) throw new Error(`${p.name} exited (${p.exited() ?? ''}); log: ${p.logFile}`);
      if (Date.now() - lastPrint >= 60_000) {
        lastPrint = Date.now();
        const line = procs.map((p) => `${p.name} ${fmtBytes(p.rssBytes())} ${fdCount(p.pid)} fds`).join(', ');
        console.log(`[${fmt((Date.now() - started) / 60_000, 0)} min] ${line}; viewers opened ${opened}`);
      }
    }
    stopping = true;
    sample();

    // ---------- figures ----------
    const finalRatios = slots.map((v, i) => ({ i, proto: v.proto, long: i < LONG_VIEWERS, ended: v.ended(), ratio: ratio(v), lifeS: (Date.now() - v.openedAt) / 1000 }));
    // The stalled viewer: once it starts reading, does it get a live stream or was it cut?
    let stalledBytes = 0;
    let stalledEnded = false;
    stalled.on('data', (b: Buffer) => (stalledBytes += b.length));
    stalled.on('close', () => (stalledEnded = true));
    stalled.resume();
    await sleep(3000);
    const chatQuietSeen = quiet.messages().filter((m) => String(m.frame.text).startsWith('quiet')).length;
    const floodSeen = quiet.messages().filter((m) => String(m.frame.text).startsWith('flood')).length;

    const procRows = procs.map((p) => {
      const s = samples.get(p.name) ?? [];
      const second = s.filter((x) => x.t >= (RUN_MS / 3_600_000) / 2);
      const rssSlope = slope(second.map((x) => ({ x: x.t, y: x.rss })));
      const fdSlope = slope(second.map((x) => ({ x: x.t, y: x.fds })));
      const logs = logLevels(p.logFile);
      const rssMax = s.reduce((m, x) => Math.max(m, x.rss), 0);
      return {
        name: p.name,
        cells: [
          p.name,
          fmtBytes(s[0]?.rss ?? NaN),
          fmtBytes(s[s.length - 1]?.rss ?? NaN),
          fmtBytes(rssMax),
          `${fmtBytes(rssSlope)}/h`,
          `${s[0]?.fds ?? 'n/a'} / ${s[s.length - 1]?.fds ?? 'n/a'}`,
          `${fmt(fdSlope, 1)}/h`,
          String(logs.errors),
          String(logs.warns),
        ],
        top: logs.top,
      };
    });
    const still = finalRatios.filter((v) => v.ended === undefined);
    const gone = finalRatios.filter((v) => v.ended !== undefined);
    const long = finalRatios.filter((v) => v.long);
    const below = still.filter((v) => v.ratio < 0.98);
    const q = (xs: number[]): string => quantiles(xs, 0, 0.05, 0.5).map((x) => fmt(x * 100, 1) + '%').join(' / ');
    const byProto = (proto: string): number[] => still.filter((v) => v.proto === proto).map((v) => v.ratio);
    const churnRatios = churned.filter((c) => c.lifeS >= 10);

    const body = [
      `One origin, one edge and one signal as child processes (\`npm run soak -- --minutes ${MINUTES}\`, bench/soak.ts), ${fmt(MINUTES, 0)} minutes on this shared 2-core machine; run ${new Date(started).toISOString()}.`,
      `Load: ${VIEWERS} viewers on the edge (2/3 HTTP-FLV, 1/3 HLS), ${VIEWERS - LONG_VIEWERS} of them leaving after 5-60 s and replaced at once (${opened} viewer sessions in all), ${LONG_VIEWERS} for the whole run;`,
      `a publisher (360p25 CBR, 600 + 64 kbit/s, GOP 2 s) that republishes every ${fmt(REPUBLISH_MS / 60_000, 1)} minutes (${pub.sessions} sessions, ${pub.failures} failed); one HTTP-FLV viewer that never reads; one chat member flooding its room with 200 messages/s.`,
      `RSS and descriptors sampled every ${SAMPLE_MS / 1000} s; slopes are least squares over the second half of the run (after warm-up).`,
      '',
      mdTable(
        ['process', 'RSS first', 'RSS last', 'RSS max', 'RSS slope', 'fds first / last', 'fds slope', 'error lines', 'warn lines'],
        procRows.map((r) => r.cells),
      ),
      '',
      ...procRows.filter((r) => r.top.length > 0).map((r) => `- ${r.name} errors: ${r.top.join('; ')}`),
      `- The edge's HLS cache (--cache-mb ${EDGE_CACHE_MB}): ${fmtBytes(cacheBytes[cacheBytes.length - 1]?.bytes ?? NaN)} at the end, slope ${fmtBytes(slope(cacheBytes.filter((c) => c.t >= RUN_MS / 3_600_000 / 2).map((c) => ({ x: c.t, y: c.bytes }))))}/h over the second half.`,
      `- Viewers connected at the end: ${still.length} of ${VIEWERS} (${gone.length} ended: ${[...new Set(gone.map((g) => g.ended))].slice(0, 3).join('; ') || 'none'}).`,
      `- Their received rate against the stream's (HTTP-FLV: bytes against the publisher's FLV bytes over the same time; HLS: media seconds of the segments fetched against the seconds published), min / p5 / median: HTTP-FLV ${q(byProto('flv'))}, HLS ${q(byProto('hls'))}; below 98%: ${below.length}${below.length ? ` (${below.map((b) => `${b.proto} ${fmt(b.ratio * 100, 1)}% after ${fmt(b.lifeS, 0)} s`).slice(0, 5).join(', ')})` : ''}.`,
      `- The ${LONG_VIEWERS} viewers of the whole run (${long.filter((v) => v.ended === undefined).length} still connected), received rate min / max: ${(['flv', 'hls'] as const)
        .map((proto) => {
          const r = long.filter((v) => v.proto === proto).map((v) => v.ratio);
          return `${proto === 'flv' ? 'HTTP-FLV' : 'HLS'} ${fmt(Math.min(...r) * 100, 1)}% / ${fmt(Math.max(...r) * 100, 1)}%`;
        })
        .join(', ')}.`,
      `- Viewers that left after >= 10 s (${churnRatios.length}), received rate min / p5 / median: ${q(churnRatios.map((c) => c.ratio))}.`,
      `- Stalled viewer: ${stalledEnded ? 'cut by the edge' : `still connected, ${fmtBytes(stalledBytes)} within 3 s once it read`}.`,
      `- Chat: the quiet member saw ${chatQuietSeen} of its ${quietSent} messages and ${floodSeen} of the flooder's ${floodSent} (sent over ${floodConnections} connections).`,
    ].join('\n');
    console.log('\n' + body);
    if (WRITE) {
      replaceSection(OUT, 'Soak', body);
      console.log(`\nwritten to ${OUT}`);
    }
  } finally {
    stopping = true;
    for (const t of timers) clearTimeout(t);
    for (const c of closers) c();
    pub.stop();
    await Promise.all(procs.map((p) => p.stop()));
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
