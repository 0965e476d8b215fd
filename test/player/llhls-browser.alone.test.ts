// LL-HLS in Debian's Chromium through an edge (issue 10): FFmpeg publishes 320x240 H.264 (High, B-frames, 1 s GOP)
// + AAC to an origin started with the LL-HLS flags (`--hls-part 0.2 --hls-format auto --hls-segment 1`),
// registered with a signal; a Node edge stands in front of it and serves the player page. The page plays
// the edge's playlist with hls.js in lowLatencyMode for >= 30 s, and the test asserts what a viewer would
// notice: no stall once playing (no `waiting` event, no hls.js bufferStalledError; the first seconds after
// the first frame are start-up, where hls.js seeks over the gap to the first part it loaded), currentTime
// advancing all along, and the page's latency readout present and under a generous bound. It also asserts that the
// LL-HLS machinery was used end to end (blocking playlist reloads and part requests through the edge)
// and that the dashboard shows the stream's HLS mode, carried by the origin's heartbeat to the signal.
// Latency samples go to artifacts/player-llhls.json.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestOrigin } from '../helpers/origin.js';
import { publishTestStream } from '../helpers/publish.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { median, pageStats, saveArtifact, screenshot, startPlayerCluster, watchConsole, withPage } from './helpers.js';
import type { Browser, PlayerCluster } from './helpers.js';

const APP = 'live';
const NAME = 'lowlat';
const PART_S = 0.2;
/** Start-up: from the first frame until the watch begins. */
const WARMUP_S = 5;
/** Seconds of playback watched after the warm-up, every one without a stall. */
const WATCH_S = 32;
/** Generous (a loaded 2-core machine): LL-HLS aims at PART-HOLD-BACK (0.6 s), +1 s per stall hls.js saw. */
const MAX_MEDIAN_LATENCY_S = 4;
/** Publisher to screen by the PDT clock also carries the encoder's and the demuxer's delay. */
const MAX_MEDIAN_PDT_LATENCY_S = 5;

/** EXT-X-PART-INF:PART-TARGET: whole frames near the configured --hls-part (0.2 s at 25 fps, up to a frame more). */
function partTargetOf(playlist: string): number {
  const t = Number(/#EXT-X-PART-INF:PART-TARGET=([\d.]+)/.exec(playlist)?.[1]);
  assert.ok(t >= PART_S && t <= PART_S + 0.04 + 1e-9, `PART-TARGET ${t} for --hls-part ${PART_S}`);
  return t;
}

interface Sample {
  readonly at: number;
  readonly currentTime: number;
  readonly latency: number | undefined;
  readonly readout: string;
  readonly wallClockLatency: number | undefined;
  readonly targetLatency: number | undefined;
  readonly partTarget: number | undefined;
  readonly container: string | undefined;
}

describe('LL-HLS in Chromium: FFmpeg -> origin (parts of 0.2 s) -> edge -> hls.js lowLatencyMode', () => {
  let cluster: PlayerCluster | undefined;
  let origin: TestOrigin | undefined;
  let publisher: ReturnType<typeof publishTestStream> | undefined;
  let browser: Browser | undefined;
  let signalBase = '';
  let edgeBase = '';

  before(async () => {
    cluster = await startPlayerCluster({ name: 'll', originArgs: ['--hls-segment', '1', '--hls-part', String(PART_S), '--hls-format', 'auto'] });
    ({ origin, browser, signalBase, edgeBase } = cluster);

    publisher = publishTestStream(origin.rtmpUrl(APP, NAME), 'h264-high-bframes+aac-stereo', { gopS: 1 });
    await waitFor(
      'the origin to list 3 segments and LL-HLS parts',
      async () => {
        const r = await fetch(origin?.hlsUrl(APP, NAME) ?? '', { signal: AbortSignal.timeout(2000) });
        const text = r.ok ? await r.text() : '';
        return (text.match(/#EXTINF/g) ?? []).length >= 3 && text.includes('#EXT-X-PART:') ? true : undefined;
      },
      30_000,
      250,
    ).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}; ffmpeg: ${publisher?.log() ?? ''}`);
    });
  });

  after(async () => {
    await publisher?.stop();
    await cluster?.stop();
  });

  it(`plays LL-HLS through the edge for ${WATCH_S} s without a stall, latency readout under ${MAX_MEDIAN_LATENCY_S} s`, async () => {
    await withPage(browser, async (page) => {
      const log = watchConsole(page);
      const requests: string[] = [];
      page.on('request', (r) => {
        if (r.url().startsWith(`${edgeBase}/${APP}/`)) requests.push(r.url().slice(edgeBase.length));
      });
      const src = `${edgeBase}/${APP}/${NAME}.m3u8`;
      await page.goto(`${edgeBase}/player/?src=${encodeURIComponent(src)}`);
      await waitFor('playback to start', async () => ((await pageStats(page))?.currentTime ?? 0) > 0.2, 45_000, 250).catch((err: unknown) => {
        throw new Error(`${err instanceof Error ? err.message : String(err)}; console:\n${log.join('\n')}`);
      });
      await sleep(WARMUP_S * 1000);
      // From here on a viewer would see every `waiting` as a stall: counted by the test, not the page.
      const startedAt = await page.evaluate(() => {
        const v = document.querySelector('video');
        const w = window as unknown as { __stalls: number[] };
        w.__stalls = [];
        v?.addEventListener('waiting', () => w.__stalls.push(v.currentTime));
        return Date.now();
      });

      const samples: Sample[] = [];
      while (Date.now() - startedAt < WATCH_S * 1000) {
        await sleep(1000);
        const s = await pageStats(page);
        if (!s) continue;
        const live = s.live as Partial<Sample> | undefined;
        samples.push({
          at: Date.now() - startedAt,
          currentTime: s.currentTime as number,
          latency: s.latency as number | undefined,
          readout: (await page.textContent('#st-latency')) ?? '',
          wallClockLatency: live?.wallClockLatency,
          targetLatency: live?.targetLatency,
          partTarget: live?.partTarget,
          container: live?.container,
        });
      }
      const stalls = await page.evaluate(() => (window as unknown as { __stalls: number[] }).__stalls);
      const errors = await page.evaluate(() => window.__livecdn?.errors ?? []);
      await screenshot(page, 'player-llhls-edge.png');

      const latencies = samples.map((s) => s.latency).filter((x): x is number => typeof x === 'number');
      const pdt = samples.map((s) => s.wallClockLatency).filter((x): x is number => typeof x === 'number');
      const blocking = requests.filter((u) => /[?&]_HLS_msn=\d+/.test(u)).length;
      const parts = requests.filter((u) => /\/\d+\.\d+\.m4s(\?|$)/.test(u)).length;
      const report = {
        measuredAt: new Date().toISOString(),
        stream: '320x240 x264 High with B-frames, 1 s GOP, AAC; origin --hls-segment 1 --hls-part 0.2, through one Node edge',
        note: 'latency: hls.js `latency` (behind the playlist edge); wallClock: now - PDT of the frame on screen (same host clock)',
        warmupS: WARMUP_S,
        watchedS: WATCH_S,
        advancedS: (samples.at(-1)?.currentTime ?? 0) - (samples[0]?.currentTime ?? 0),
        stalls: stalls.length,
        latencyMedianS: median(latencies),
        latencyMaxS: latencies.length ? Math.max(...latencies) : undefined,
        wallClockMedianS: median(pdt),
        targetLatencyS: samples.at(-1)?.targetLatency,
        requests: { total: requests.length, blockingPlaylist: blocking, parts },
        samples,
      };
      const p = await saveArtifact('player-llhls.json', JSON.stringify(report, null, 2) + '\n');
      console.log(
        `# LL-HLS through the edge: advanced ${report.advancedS.toFixed(1)} s in ${WATCH_S} s, ${stalls.length} stalls, latency median ${report.latencyMedianS?.toFixed(2) ?? '?'} s` +
          ` (target ${report.targetLatencyS?.toFixed(2) ?? '?'} s), behind PDT ${report.wallClockMedianS?.toFixed(2) ?? '?'} s; ${blocking} blocking reloads, ${parts} part requests (${p})`,
      );
      // (The edge has no chat: the page's chat socket retries are left out.)
      const why = `console:\n${log.filter((l) => !l.includes('/chat')).slice(-30).join('\n')}\nerrors: ${JSON.stringify(errors.slice(-10))}`;

      assert.deepEqual(errors.filter((e) => e.fatal), [], `fatal player errors; ${why}`);
      // The playlist through the edge: LL-HLS, and what hls.js and the stats panel say of it.
      const playlist = await (await fetch(src)).text();
      const partTarget = partTargetOf(playlist);
      assert.equal(samples.at(-1)?.partTarget, partTarget, `hls.js saw no EXT-X-PART-INF:PART-TARGET=${partTarget}; ${why}`);
      assert.equal(samples.at(-1)?.container, 'fmp4');
      assert.equal(await page.textContent('#st-mode'), `LL-HLS fMP4, parts ${partTarget.toFixed(2)} s`);
      assert.ok(blocking >= 10, `hls.js made ${blocking} blocking playlist requests (_HLS_msn) through the edge`);
      assert.ok(parts >= 10, `hls.js fetched ${parts} parts through the edge`);

      // No stall: no `waiting` and no hls.js stall report after playback started.
      const stalledErrors = errors.filter((e) => e.at >= startedAt && e.message.startsWith('bufferStalledError'));
      assert.deepEqual(stalls, [], `waiting events at currentTime ${stalls.join(', ')}; ${why}`);
      assert.deepEqual(stalledErrors, [], why);
      // hls.js steers to the playlist's PART-HOLD-BACK (no stall raised it): the LL-HLS target, not a plain one.
      const partHoldBack = Number(/PART-HOLD-BACK=([\d.]+)/.exec(playlist)?.[1]);
      assert.ok(partHoldBack > 0 && Math.abs((samples.at(-1)?.targetLatency ?? 0) - partHoldBack) < 0.01, `target ${String(samples.at(-1)?.targetLatency)} s, PART-HOLD-BACK ${partHoldBack} s`);
      // currentTime advances all along: about as fast as the clock (hls.js may catch up at up to 1.25x),
      // and in every 3 s window.
      assert.ok(report.advancedS >= WATCH_S - 4, `currentTime advanced ${report.advancedS} s in ${WATCH_S} s`);
      for (let i = 3; i < samples.length; i++) {
        const gain = (samples[i]?.currentTime ?? 0) - (samples[i - 3]?.currentTime ?? 0);
        assert.ok(gain > 1.5, `currentTime moved ${gain.toFixed(2)} s between ${samples[i - 3]?.at} and ${samples[i]?.at} ms`);
      }
      // The page's latency readout is there and low.
      assert.ok(latencies.length >= WATCH_S - 4, `latency samples: ${latencies.length}`);
      assert.ok(samples.every((s) => /^\d+\.\d\d s$/.test(s.readout)), `latency readouts: ${samples.map((s) => s.readout).join(', ')}`);
      const med = median(latencies) as number;
      assert.ok(med > 0 && med < MAX_MEDIAN_LATENCY_S, `median latency ${med} s`);
      assert.ok(pdt.length >= WATCH_S - 4, 'the page reads EXT-X-PROGRAM-DATE-TIME');
      const pdtMed = median(pdt) as number;
      assert.ok(pdtMed > 0 && pdtMed < MAX_MEDIAN_PDT_LATENCY_S, `median latency behind PDT ${pdtMed} s`);
    });
  });

  it("the dashboard shows the stream's HLS mode, part target and codecs, from the origin's heartbeat", async () => {
    // Through the signal alone: the heartbeat carries the origin's `hls` stream info.
    const viaSignal = await waitFor(
      "the origin's heartbeat with the stream's HLS mode",
      async () => {
        const body = (await (await fetch(`${signalBase}/api/streams`)).json()) as { streams: { app: string; stream: string; hls: unknown }[] };
        const s = body.streams.find((x) => x.app === APP && x.stream === NAME);
        return s?.hls ? s.hls : undefined;
      },
      15_000,
      250,
    );
    const partTarget = partTargetOf(await (await fetch(`${edgeBase}/${APP}/${NAME}.m3u8`)).text());
    assert.equal((viaSignal as { format: string }).format, 'fmp4');
    assert.equal((viaSignal as { partTargetS: number }).partTargetS, partTarget);
    assert.match((viaSignal as { codecs: string }).codecs, /^avc1\.64[0-9a-f]{4},mp4a\.40\.2$/);
    await withPage(browser, async (page) => {
      await page.goto(`${signalBase}/player/dashboard.html`);
      const cell = `tr[data-stream="${APP}/${NAME}"] [data-col="hls"]`;
      await page.waitForSelector(`${cell} .hls-mode`, { timeout: 15_000 });
      assert.match((await page.textContent(cell)) ?? '', new RegExp(`^LL-HLS fMP4, parts ${partTarget.toFixed(2)} s avc1\\.64[0-9a-f]{4},mp4a\\.40\\.2$`));
      await screenshot(page, 'dashboard-llhls.png');
    });
  });
});
