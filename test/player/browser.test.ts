// End to end in Debian's Chromium: the streamer's flow (POST /api/streams on the signal, FFmpeg pushing
// the signed URL to a real origin), a Node edge in front of the origin registered with the signal, and
// the player pages served by the edge and the signal. The player plays through the edge by HLS and by
// HTTP-FLV; video.currentTime must advance by >= 5 s with no fatal player error; the latency the page
// measures is printed and written to artifacts/player-latency.json; the dashboard lists the stream and
// its viewer count rises. Screenshots go to artifacts/*.png.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestOrigin } from '../helpers/origin.js';
import { publishTestStream } from '../helpers/publish.js';
import { adminToken, deriveKeys } from '../../src/shared/keys.js';
import { median, playAndMeasure, saveArtifact, screenshot, startPlayerCluster, watchConsole, withPage } from './helpers.js';
import type { Browser, PlayerCluster, PlayResult } from './helpers.js';
import { waitFor } from '../helpers/wait.js';

const SECRET = 'player-e2e-secret-of-at-least-32-bytes';
const APP = 'live';
const NAME = 'e2e';

interface Measured {
  readonly path: string;
  readonly url: string;
  readonly engine: unknown;
  readonly advancedS: number;
  readonly latencyMedianS: number | undefined;
  readonly latencyMinS: number | undefined;
  readonly latencyMaxS: number | undefined;
  readonly samples: number[];
}

describe('player end to end: FFmpeg -> origin -> edge -> Chromium', () => {
  let cluster: PlayerCluster | undefined;
  let origin: TestOrigin | undefined;
  let publisher: ReturnType<typeof publishTestStream> | undefined;
  let browser: Browser | undefined;
  let signalBase = '';
  let edgeBase = '';
  const measured: Record<string, Measured> = {};

  before(async () => {
    // The signal knows the origin by its flags (it does not register): the streamer's push URL names it.
    cluster = await startPlayerCluster({
      name: 'eu-e2e',
      secret: SECRET,
      originArgs: ['--hls-segment', '1', '--hls-window', '6'],
      registerOrigin: false,
      edgeHeartbeatMs: 1000,
    });
    ({ origin, browser, signalBase, edgeBase } = cluster);

    // The streamer's flow: ask the control plane for a push URL, push the signed URL with FFmpeg.
    const created = await fetch(`${signalBase}/api/streams`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken(deriveKeys(SECRET))}` },
      body: JSON.stringify({ app: APP, name: NAME }),
    });
    assert.equal(created.status, 201);
    const { pushUrl } = (await created.json()) as { pushUrl: string };
    assert.match(pushUrl, /\?token=/);
    publisher = publishTestStream(pushUrl, 'h264-high-bframes+aac-stereo', { size: '640x360', gopS: 1 });
    await waitFor(
      'the origin to list 3 HLS segments',
      async () => {
        const r = await fetch(origin?.hlsUrl(APP, NAME) ?? '', { signal: AbortSignal.timeout(2000) });
        const text = r.ok ? await r.text() : '';
        return (text.match(/#EXTINF/g) ?? []).length >= 3 ? true : undefined;
      },
      30_000,
      250,
    ).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}; ffmpeg: ${publisher?.log() ?? ''}`);
    });
  });

  after(async () => {
    const artifact = {
      measuredAt: new Date().toISOString(),
      note: 'latency as the player page measures it: hls.js `latency` (distance from the live edge of the playlist) for HLS, buffered end - currentTime for HTTP-FLV; not glass-to-glass',
      stream: '640x360 x264 High with B-frames, 1 s GOP, AAC; origin HLS segments of 1 s',
      results: measured,
    };
    if (Object.keys(measured).length) {
      const p = await saveArtifact('player-latency.json', JSON.stringify(artifact, null, 2) + '\n');
      console.log(`# latencies written to ${p}`);
    }
    await publisher?.stop();
    await cluster?.stop();
  });

  const record = (key: string, url: string, r: PlayResult): void => {
    const s = r.latencies;
    measured[key] = {
      path: key,
      url,
      engine: r.stats.engine,
      advancedS: Math.round(r.advanced * 100) / 100,
      latencyMedianS: median(s),
      latencyMinS: s.length ? Math.min(...s) : undefined,
      latencyMaxS: s.length ? Math.max(...s) : undefined,
      samples: s.map((x) => Math.round(x * 1000) / 1000),
    };
    console.log(`# ${key}: ${String(r.stats.engine)} advanced ${r.advanced.toFixed(1)} s, latency median ${median(s)?.toFixed(2) ?? '?'} s (${s.length} samples)`);
  };

  const play = async (key: string, pageUrl: string, expectEngine: string, screenshotName: string): Promise<PlayResult> => {
    return withPage(browser, async (page) => {
      const log = watchConsole(page);
      const r = await playAndMeasure(page, pageUrl, 5, 45_000);
      assert.deepEqual(r.fatalErrors, [], `fatal player errors; console:\n${log.join('\n')}`);
      assert.ok(r.advanced >= 5, `currentTime advanced ${r.advanced} s; console:\n${log.join('\n')}`);
      assert.equal(r.stats.engine, expectEngine);
      assert.ok(r.latencies.length >= 3, `latency samples: ${r.latencies.join(', ')}`);
      assert.equal(r.stats.width, 640);
      record(key, pageUrl, r);
      await screenshot(page, screenshotName);
      return r;
    });
  };

  it('the dashboard lists the stream and its viewer count rises', async () => {
    assert.ok(browser);
    const dash = await browser.newPage();
    const viewer = await browser.newPage();
    try {
      await dash.goto(`${signalBase}/player/dashboard.html?origin=${encodeURIComponent(origin?.httpBase ?? '')}`);
      const row = `tr[data-stream="${APP}/${NAME}"]`;
      await dash.waitForSelector(row, { timeout: 15_000 });
      assert.match((await dash.textContent(`${row} [data-col="codecs"]`)) ?? '', /\bh264\b/);
      assert.match((await dash.textContent(`${row} [data-col="resolution"]`)) ?? '', /^640x360/);
      await dash.waitForSelector('tr[data-node="edge-eu-e2e"]', { timeout: 15_000 });
      const viewers = async (): Promise<number> => Number((await dash.textContent(`${row} [data-col="viewers"]`)) ?? 'NaN');
      // First test of the suite, so no earlier viewer is still leaving; wait for a steady count anyway.
      const before = await waitFor(
        'a settled viewer count',
        async () => {
          const a = await viewers();
          await new Promise((r) => setTimeout(r, 2500));
          const b = await viewers();
          return Number.isFinite(a) && a === b ? b : undefined;
        },
        40_000,
        500,
      );
      // Through the edge: its FLV relay opens one connection to the origin.
      await viewer.goto(`${edgeBase}/player/?src=${encodeURIComponent(`${edgeBase}/${APP}/${NAME}.flv`)}`);
      const afterCount = await waitFor('the viewer count to rise', async () => {
        const n = await viewers();
        return n > before ? n : undefined;
      }, 20_000, 250).catch(async (err: unknown) => {
        const state = await dash.evaluate(() => JSON.stringify(window.__livecdnDashboard?.state()));
        const o = await (await fetch(`${origin?.httpBase ?? ''}/api/streams`)).text();
        const sg = await (await fetch(`${signalBase}/api/streams`)).text();
        throw new Error(`${err instanceof Error ? err.message : String(err)} (before: ${before})\ndashboard: ${state}\norigin: ${o}\nsignal: ${sg}`);
      });
      console.log(`# dashboard viewers ${before} -> ${afterCount}`);
      await screenshot(dash, 'dashboard.png');
    } finally {
      await viewer.close();
      await dash.close();
    }
  });

  it('plays HLS through the edge with hls.js (page served by the edge)', async () => {
    const src = `${edgeBase}/${APP}/${NAME}.m3u8`;
    const r = await play('hls-edge', `${edgeBase}/player/?src=${encodeURIComponent(src)}`, 'hls.js', 'player-hls-edge.png');
    assert.equal(r.stats.url, src);
    const med = median(r.latencies) as number;
    assert.ok(med > 0 && med < 10, `HLS latency ${med} s`);
    // The edge served it: its cache answered.
    const head = await fetch(src);
    assert.equal(head.status, 200);
    assert.match(head.headers.get('x-cache') ?? '', /HIT|MISS/);
  });

  it('plays HTTP-FLV through the edge with mpegts.js', async () => {
    const src = `${edgeBase}/${APP}/${NAME}.flv`;
    const probe = await fetch(src, { signal: AbortSignal.timeout(5000) });
    await probe.body?.cancel();
    assert.equal(probe.status, 200, `the edge answers ${probe.status} for HTTP-FLV`);
    const r = await play('flv-edge', `${edgeBase}/player/?src=${encodeURIComponent(src)}`, 'mpegts.js', 'player-flv-edge.png');
    const med = median(r.latencies) as number;
    assert.ok(med >= 0 && med < 5, `FLV latency ${med} s`);
  });

  it('plays ?stream= through the control plane, which places the viewer on the edge', async () => {
    const r = await play('hls-signal-placed', `${signalBase}/player/?stream=${APP}/${NAME}&proto=hls`, 'hls.js', 'player-signal.png');
    assert.ok(String(r.stats.url).startsWith(`${edgeBase}/${APP}/${NAME}.m3u8`), `placed on ${String(r.stats.url)}`);
    assert.equal(r.stats.via, 'edge-eu-e2e');
  });

  it('chat on the signal: two viewers of the stream see each other\'s message', async () => {
    assert.ok(browser);
    const a = await browser.newPage();
    const b = await browser.newPage();
    try {
      for (const p of [a, b]) {
        await p.goto(`${signalBase}/player/?stream=${APP}/${NAME}&proto=flv`);
        await p.waitForSelector('#chat-input:not([disabled])', { timeout: 10_000 });
      }
      await a.fill('#chat-input', 'hello from viewer a');
      await a.press('#chat-input', 'Enter');
      await b.waitForSelector('.chat-line >> text=hello from viewer a', { timeout: 5000 });
      await a.waitForSelector('.chat-line >> text=hello from viewer a', { timeout: 5000 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('the streamer page creates a stream on the signal and shows a push URL the origin accepts', async () => {
    await withPage(browser, async (page) => {
      await page.goto(`${signalBase}/player/streamer.html`);
      await page.fill('#name', 'fromthepage');
      // a secured control plane: without the admin token the page says what is missing
      await page.click('#create-form button');
      await page.waitForSelector('#create-error >> text=livecdn keys', { timeout: 10_000 });
      await page.fill('#admin-token', adminToken(deriveKeys(SECRET)));
      await page.click('#create-form button');
      await page.waitForSelector('#result:not([hidden])', { timeout: 10_000 });
      const server = await page.inputValue('input[data-field="Server"]');
      const key = await page.inputValue('input[data-field="Stream Key"]');
      assert.equal(server, `rtmp://127.0.0.1:${origin?.rtmpPort ?? 0}/${APP}`);
      assert.match(key, /^fromthepage\?token=/);
      await screenshot(page, 'streamer-signal.png');
      // What OBS would do with those two fields: the origin takes the publish.
      const pub = publishTestStream(`${server}/${key}`, 'baseline+aac-mono', { durationS: 20 });
      try {
        await waitFor('the origin to accept the page\'s push URL', async () => {
          const r = await fetch(origin?.hlsUrl(APP, 'fromthepage') ?? '');
          await r.body?.cancel();
          return r.status === 200 ? true : undefined;
        }, 20_000, 250);
      } finally {
        await pub.stop();
      }
    });
  });

});
