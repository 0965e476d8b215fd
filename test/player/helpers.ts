// Shared by the player's browser tests: Chromium through playwright-core, the cluster they play through,
// FFmpeg test sources, polling.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { waitFor } from '../helpers/wait.js';
import { freePort } from '../helpers/net.js';
import { originCliConfig, startOrigin } from '../helpers/origin.js';
import type { TestOrigin } from '../helpers/origin.js';
import { Edge } from '../../src/edge/edge.js';
import type { OriginConfig } from '../../src/origin/origin.js';
import { createPlayerHandler } from '../../src/player/serve.js';
import { deriveKeys } from '../../src/shared/keys.js';
import { Signal } from '../../src/signal/signal.js';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
export const artifactsDir = join(repoRoot, 'artifacts');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

export interface BuildResult {
  readonly outdir: string;
  readonly ms: number;
  readonly files: string[];
}

/** scripts/build-player.mjs, typed (it is plain JS so that `npm run build` needs no tsx). */
export async function buildPlayer(opts: { outdir?: string; minify?: boolean } = {}): Promise<BuildResult> {
  const mod = (await import(pathToFileURL(join(repoRoot, 'scripts', 'build-player.mjs')).href)) as {
    buildPlayer: (o: { outdir?: string; minify?: boolean }) => Promise<BuildResult>;
  };
  return mod.buildPlayer(opts);
}

export interface Browser {
  readonly context: BrowserContext;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Debian's Chromium with a fresh profile in a temp dir; close() removes both. */
export async function launchBrowser(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'livecdn-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
    });
  } catch (err) {
    await rm(profile, { recursive: true, force: true });
    throw err;
  }
  return {
    context,
    newPage: () => context.newPage(),
    close: async () => {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` on a new page of `browser` (asserted launched) and closes the page afterwards. */
export async function withPage<T>(browser: Browser | undefined, fn: (page: Page) => Promise<T>): Promise<T> {
  assert.ok(browser);
  const page = await browser.newPage();
  try {
    return await fn(page);
  } finally {
    await page.close();
  }
}

/** Collect the page's console errors and uncaught exceptions (printed when a test fails). */
export function watchConsole(page: Page): string[] {
  const lines: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') lines.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => lines.push(`pageerror: ${e.message}`));
  return lines;
}

export async function listen(server: Server): Promise<number> {
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', fail);
      ok();
    });
  });
  return (server.address() as AddressInfo).port;
}

export async function closeServer(server: Server | undefined): Promise<void> {
  if (!server?.listening) return;
  server.closeAllConnections();
  await new Promise<void>((ok) => server.close(() => ok()));
}

/** x264 + AAC test pattern at real-time speed, 1 s GOP: the stream the browser must decode. */
export const TEST_SOURCE_ARGS = [
  '-hide_banner',
  '-loglevel',
  'error',
  '-re',
  '-f',
  'lavfi',
  '-i',
  'testsrc2=size=640x360:rate=25',
  '-f',
  'lavfi',
  '-i',
  'sine=frequency=440:sample_rate=44100',
  '-c:v',
  'libx264',
  '-preset',
  'ultrafast',
  '-tune',
  'zerolatency',
  '-profile:v',
  'main',
  '-pix_fmt',
  'yuv420p',
  '-g',
  '25',
  '-keyint_min',
  '25',
  '-sc_threshold',
  '0',
  '-b:v',
  '600k',
  '-c:a',
  'aac',
  '-b:a',
  '64k',
];

/** Processes started by a test, stopped in after() whatever happened. */
export class Procs {
  private readonly children = new Set<ChildProcess>();
  spawn(cmd: string, args: string[]): ChildProcess {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    let err = '';
    child.stderr?.on('data', (b: Buffer) => {
      err = (err + b.toString()).slice(-4000);
    });
    Object.defineProperty(child, 'stderrTail', { get: () => err });
    return child;
  }
  async stopAll(): Promise<void> {
    const waits = [...this.children].map(
      (c) =>
        new Promise<void>((ok) => {
          if (c.exitCode !== null || c.signalCode !== null) return ok();
          const t = setTimeout(() => {
            c.kill('SIGKILL');
          }, 3000);
          c.once('exit', () => {
            clearTimeout(t);
            ok();
          });
          c.kill('SIGTERM');
        }),
    );
    await Promise.all(waits);
  }
}

export function stderrTail(c: ChildProcess): string {
  return (c as ChildProcess & { stderrTail?: string }).stderrTail ?? '';
}

export interface PlayResult {
  readonly advanced: number;
  readonly latencies: number[];
  readonly stats: Record<string, unknown>;
  readonly fatalErrors: { type: string; message: string }[];
  readonly allErrors: { fatal: boolean; type: string; message: string }[];
}

interface PageStats {
  currentTime: number;
  latency?: number;
  engine?: string;
  [k: string]: unknown;
}

/** The player page's own stats (window.__livecdn.stats()), undefined while it has none. */
export const pageStats = (page: Page): Promise<PageStats | undefined> =>
  page.evaluate(() => {
    try {
      return window.__livecdn?.stats() as unknown as PageStats | undefined;
    } catch {
      return undefined;
    }
  });

/**
 * Open the player page at `url`, wait for playback, then watch `video.currentTime` advance by
 * `advanceSeconds`, sampling the page's own latency measure once a second.
 */
export async function playAndMeasure(page: Page, url: string, advanceSeconds = 5, timeoutMs = 45_000): Promise<PlayResult> {
  await page.goto(url);
  const start = await waitFor(
    'playback to start',
    async () => {
      const s = await pageStats(page);
      return s && s.currentTime > 0.2 ? s : undefined;
    },
    timeoutMs,
    250,
  );
  const latencies: number[] = [];
  const deadline = Date.now() + timeoutMs;
  let last: PageStats = start;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    const s = await pageStats(page);
    if (!s) continue;
    last = s;
    if (typeof s.latency === 'number' && Number.isFinite(s.latency)) latencies.push(s.latency);
    if (s.currentTime - start.currentTime >= advanceSeconds && latencies.length >= 3) break;
  }
  const errors = await page.evaluate(() => (window.__livecdn?.errors ?? []).map((e) => ({ fatal: e.fatal, type: e.type, message: e.message })));
  return {
    advanced: last.currentTime - start.currentTime,
    latencies,
    stats: last,
    fatalErrors: errors.filter((e) => e.fatal),
    allErrors: errors,
  };
}

export async function saveArtifact(name: string, data: string | Buffer): Promise<string> {
  await mkdir(artifactsDir, { recursive: true });
  const p = join(artifactsDir, name);
  await writeFile(p, data);
  return p;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(artifactsDir, { recursive: true });
  const p = join(artifactsDir, name);
  await page.screenshot({ path: p, fullPage: true });
  return p;
}

export const median = (xs: number[]): number | undefined => {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

export interface PlayerClusterOptions {
  /** Names the temp directory and the nodes (origin-NAME, edge-NAME). */
  readonly name: string;
  /** `livecdn origin` flags beyond the listener and registration ones, which the cluster adds. */
  readonly originArgs?: readonly string[];
  /** Merged over the config the flags give: what a test sets without a flag (a ladder of test rungs). */
  readonly originConfig?: OriginConfig;
  /** The cluster secret: every node signs and checks with its keys. Without it the signal runs insecure. */
  readonly secret?: string;
  /** False: the origin does not register, the signal knows it by its originRtmp/originHttp instead. Default true. */
  readonly registerOrigin?: boolean;
  /** The edge registers with the signal at this heartbeat (start() waits until the signal lists it); unset: it does not. */
  readonly edgeHeartbeatMs?: number;
}

export interface PlayerCluster {
  readonly signal: Signal;
  readonly origin: TestOrigin;
  readonly edge: Edge;
  readonly browser: Browser;
  /** http://127.0.0.1:PORT of the signal and of the edge, both serving the player pages. */
  readonly signalBase: string;
  readonly edgeBase: string;
  readonly edgeId: string;
  /** Stops the browser and every node, removes the player build; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * What the player's browser tests play through, on 127.0.0.1: the player built into a temp dir, a signal
 * and an edge serving its pages, an origin from `livecdn origin` flags (registered with the signal, heartbeat
 * 0.5 s) behind the edge, and Chromium. Whatever started is stopped again when a piece fails to start.
 */
export async function startPlayerCluster(opts: PlayerClusterOptions): Promise<PlayerCluster> {
  const work = await mkdtemp(join(tmpdir(), `livecdn-${opts.name}-`));
  const started: { browser?: Browser; edge?: Edge; origin?: TestOrigin; signal?: Signal } = {};
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await started.browser?.close();
      await started.edge?.stop();
      await started.origin?.stop();
      await started.signal?.stop();
      await rm(work, { recursive: true, force: true });
    })());
  try {
    const www = join(work, 'www');
    await buildPlayer({ outdir: www });
    const pages = createPlayerHandler({ root: www });
    const keys = opts.secret === undefined ? undefined : deriveKeys(opts.secret);
    const registerOrigin = opts.registerOrigin ?? true;

    const [rtmpPort, httpPort, edgePort] = [await freePort(), await freePort(), await freePort()];
    const originHttp = `http://127.0.0.1:${httpPort}`;
    const originRtmp = `rtmp://127.0.0.1:${rtmpPort}`;
    const signal = new Signal({
      apiPort: 0,
      host: '127.0.0.1',
      ...(keys ? { keys } : { insecure: true }),
      ...(registerOrigin ? {} : { originRtmp, originHttp }),
      nodeTtlMs: 10_000,
      pages,
    });
    started.signal = signal;
    const signalBase = `http://127.0.0.1:${(await signal.start()).apiPort}`;

    const config = originCliConfig([
      ...['--host', '127.0.0.1', '--rtmp-port', String(rtmpPort), '--http-port', String(httpPort)],
      ...(opts.secret === undefined ? [] : ['--secret', opts.secret]),
      ...(registerOrigin
        ? [...['--signal', signalBase, '--public-url', originHttp, '--rtmp-url', originRtmp], ...['--region', 'eu', '--node-id', `origin-${opts.name}`, '--heartbeat', '0.5']]
        : []),
      ...(opts.originArgs ?? []),
    ]);
    const origin = await startOrigin({ ...config, ...opts.originConfig });
    started.origin = origin;

    const edgeBase = `http://127.0.0.1:${edgePort}`;
    const edgeId = `edge-${opts.name}`;
    const edge = new Edge({
      upstreams: [origin.httpBase],
      httpPort: edgePort,
      host: '127.0.0.1',
      region: 'eu',
      nodeId: edgeId,
      publicUrl: edgeBase,
      ...(opts.edgeHeartbeatMs === undefined ? {} : { signal: signalBase, heartbeatMs: opts.edgeHeartbeatMs }),
      ...(keys ? { keys } : {}),
      defaultMetrics: false,
      pages,
    });
    started.edge = edge;
    await edge.start();
    if (opts.edgeHeartbeatMs !== undefined) {
      await waitFor(
        'the edge to register with the signal',
        async () => {
          const body = (await (await fetch(`${signalBase}/api/nodes`)).json()) as { nodes: { id: string }[] };
          return body.nodes.some((n) => n.id === edgeId) ? true : undefined;
        },
        15_000,
        250,
      );
    }
    const browser = await launchBrowser();
    started.browser = browser;
    return { signal, origin, edge, browser, signalBase, edgeBase, edgeId, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
