// Adaptive bit rate in Debian's Chromium (issue 11): FFmpeg publishes a 426x240 source of about
// 1.2 Mbit/s (testsrc2 with noise, so x264 spends its budget) to an origin that transcodes it into a
// ladder of 180p at 250 kbit/s and 120p at 100 kbit/s (the real transcoder: one FFmpeg decoding once),
// registered with a signal; a Node edge stands in front of it. The player page, served by the signal,
// asks for the stream (`?stream=`): the play answer sends it to the edge's multivariant playlist, and
// hls.js plays it with automatic ABR. The Chrome DevTools Protocol then throttles the page's network
// (`Network.emulateNetworkConditions`) below the source's bit rate: hls.js must switch down (the stats
// panel and window.__livecdn.stats() name the level on screen) without a stall over 5 s; once the limit
// is lifted it must switch back up to the source. The quality menu lists "Auto" and each level, and the
// dashboard shows the ladder and the transcoder's speed. Over HTTP-FLV the rung menu reloads the player
// on `{stream}_{rung}.flv`. Screenshots of each phase go to artifacts/abr-*.png, figures to
// artifacts/player-abr.json.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CDPSession, Page } from 'playwright-core';
import type { TestOrigin } from '../helpers/origin.js';
import { spawnFfmpeg } from '../helpers/ffmpeg.js';
import type { FfmpegProcess } from '../helpers/ffmpeg.js';
import { sleep, waitFor } from '../helpers/wait.js';
import type { Rung } from '../../src/transcode/ladder.js';
import { pageStats, saveArtifact, screenshot, startPlayerCluster, watchConsole, withPage } from './helpers.js';
import type { Browser, PlayerCluster } from './helpers.js';

const APP = 'live';
const NAME = 'abr';
const SOURCE_KBPS = 1200;
const RUNGS: Rung[] = [
  { name: '180p', height: 180, videoKbps: 250, maxFps: 25, audioKbps: 64 },
  { name: '120p', height: 120, videoKbps: 100, maxFps: 25, audioKbps: 64 },
];
/** The throttle: well under the source (with audio), above the 120p rung. */
const THROTTLE_KBPS = 450;
/** The longest stall a viewer may see while hls.js switches. */
const MAX_STALL_S = 5;
/** Each phase's wait for hls.js to settle on a level: generous, the machine is small and shared. */
const PHASE_TIMEOUT_MS = 45_000;

interface Quality {
  levels: number;
  level: number;
  rung?: string;
  height?: number;
  bitrate?: number;
  auto: boolean;
  switches: number;
}

interface Sample {
  readonly at: number;
  readonly phase: string;
  readonly currentTime: number;
  readonly rung: string | undefined;
  readonly height: number | undefined;
  readonly switches: number | undefined;
}

/** 426x240 at 25 fps, 1 s GOP, ~SOURCE_KBPS: noise keeps x264 from undershooting its budget. */
function publishSource(rtmpUrl: string): FfmpegProcess & { log(): string } {
  const p = spawnFfmpeg([
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-re'],
    ...['-f', 'lavfi', '-i', 'testsrc2=size=426x240:rate=25,noise=alls=24:allf=t'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', '25', '-keyint_min', '25', '-sc_threshold', '0'],
    ...['-b:v', `${SOURCE_KBPS}k`, '-maxrate', `${SOURCE_KBPS}k`, '-bufsize', `${SOURCE_KBPS}k`],
    ...['-c:a', 'aac', '-b:a', '64k', '-f', 'flv', rtmpUrl],
  ]);
  let err = '';
  p.child.stderr?.on('data', (b: Buffer) => {
    if (err.length < 20_000) err += b.toString();
  });
  p.child.stdout?.resume();
  return Object.assign(p, { log: () => err });
}

const qualityOf = async (page: Page): Promise<Quality | undefined> => (await pageStats(page))?.quality as Quality | undefined;

/** Counts stalls in the page: from each `waiting` to the next `playing`, in seconds, the open one included. */
async function watchStalls(page: Page): Promise<void> {
  await page.evaluate(() => {
    const v = document.querySelector('video');
    const w = window as unknown as { __abrStalls: { done: number[]; since: number | undefined } };
    w.__abrStalls = { done: [], since: undefined };
    v?.addEventListener('waiting', () => {
      w.__abrStalls.since ??= performance.now();
    });
    v?.addEventListener('playing', () => {
      if (w.__abrStalls.since !== undefined) w.__abrStalls.done.push((performance.now() - w.__abrStalls.since) / 1000);
      w.__abrStalls.since = undefined;
    });
  });
}

const stallsOf = (page: Page): Promise<number[]> =>
  page.evaluate(() => {
    const s = (window as unknown as { __abrStalls: { done: number[]; since: number | undefined } }).__abrStalls;
    return s.since === undefined ? s.done : [...s.done, (performance.now() - s.since) / 1000];
  });

/** The pointer moving over the player: video.js shows its control bar (and an open menu) for a while. */
async function showControls(page: Page): Promise<void> {
  const box = await page.locator('.video-js').boundingBox();
  assert.ok(box);
  for (const dx of [0, 20, 40]) await page.mouse.move(box.x + box.width / 2 + dx, box.y + box.height / 2);
  await page.waitForSelector('.video-js.vjs-user-active', { timeout: 5000 });
}

/** Bytes per second for CDP, from kbit/s; -1 lifts the limit. */
async function throttle(cdp: CDPSession, kbps: number | undefined): Promise<void> {
  const rate = kbps === undefined ? -1 : (kbps * 1000) / 8;
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: rate, uploadThroughput: -1 });
}

describe('ABR in Chromium: FFmpeg -> origin with a transcoding ladder -> edge -> hls.js automatic ABR', () => {
  let cluster: PlayerCluster | undefined;
  let origin: TestOrigin | undefined;
  let publisher: ReturnType<typeof publishSource> | undefined;
  let browser: Browser | undefined;
  let signalBase = '';
  let edgeBase = '';

  before(async () => {
    cluster = await startPlayerCluster({
      name: 'abr',
      originArgs: ['--hls-segment', '1'],
      originConfig: { transcode: { ladders: new Map([[APP, RUNGS]]), settings: { preset: 'ultrafast', tune: 'zerolatency' }, onDemand: false, remote: false } },
      edgeHeartbeatMs: 500,
    });
    ({ origin, browser, signalBase, edgeBase } = cluster);

    publisher = publishSource(origin.rtmpUrl(APP, NAME));
    // The ladder is up when the multivariant playlist lists the source and both rungs and each rung
    // playlist has segments; the signal knows it when the play answer lists the renditions.
    await waitFor(
      'the multivariant playlist with both rungs live, and the play answer listing them',
      async () => {
        const master = await (await fetch(`${edgeBase}/${APP}/${NAME}.m3u8`, { signal: AbortSignal.timeout(2000) })).text();
        if ((master.match(/#EXT-X-STREAM-INF/g) ?? []).length < 3) return undefined;
        for (const rung of RUNGS) {
          const r = await fetch(`${origin?.httpBase ?? ''}/${APP}/${NAME}_${rung.name}.m3u8`, { signal: AbortSignal.timeout(2000) });
          if (!r.ok || ((await r.text()).match(/#EXTINF/g) ?? []).length < 3) return undefined;
        }
        const play = (await (await fetch(`${signalBase}/api/play/${APP}/${NAME}`)).json()) as { renditions?: { live: boolean }[] };
        return play.renditions?.length === 3 && play.renditions.every((x) => x.live) ? true : undefined;
      },
      60_000,
      500,
    ).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}; ffmpeg: ${publisher?.log() ?? ''}`);
    });
  });

  after(async () => {
    await publisher?.stop();
    await cluster?.stop();
  });

  it(`switches down when the network is throttled to ${THROTTLE_KBPS} kbit/s with no stall over ${MAX_STALL_S} s, and back up when lifted`, async () => {
    await withPage(browser, async (page) => {
      const log = watchConsole(page);
      const why = async (): Promise<string> =>
        `console:\n${log.filter((l) => !l.includes('/chat')).slice(-20).join('\n')}\nerrors: ${JSON.stringify((await page.evaluate(() => window.__livecdn?.errors ?? [])).slice(-10))}`;
      await page.goto(`${signalBase}/player/?stream=${APP}/${NAME}`);
      await waitFor('playback to start', async () => ((await pageStats(page))?.currentTime ?? 0) > 0.2, 45_000, 250).catch(async (err: unknown) => {
        throw new Error(`${err instanceof Error ? err.message : String(err)}; ${await why()}`);
      });
      const stats = await pageStats(page);
      assert.equal(stats?.url, `${edgeBase}/${APP}/${NAME}.m3u8`, 'the play answer sent the page to the edge');
      await watchStalls(page);
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Network.enable');

      const started = Date.now();
      const samples: Sample[] = [];
      const settle = async (phase: string, want: (q: Quality) => boolean): Promise<Quality> =>
        waitFor(
          `${phase}: hls.js on the expected level`,
          async () => {
            const s = await pageStats(page);
            const q = s?.quality as Quality | undefined;
            samples.push({ at: Date.now() - started, phase, currentTime: s?.currentTime ?? 0, rung: q?.rung, height: q?.height, switches: q?.switches });
            return q && q.level >= 0 && want(q) ? q : undefined;
          },
          PHASE_TIMEOUT_MS,
          1000,
        ).catch(async (err: unknown) => {
          throw new Error(`${err instanceof Error ? err.message : String(err)}; last quality ${JSON.stringify(await qualityOf(page))}; ${await why()}`);
        });

      // 1. Unthrottled: the source (hls.js's top level) plays.
      const top = await settle('unthrottled', (q) => q.rung === 'source');
      assert.equal(top.levels, 3, 'hls.js sees the source and two rungs');
      assert.equal(top.level, top.levels - 1, 'the source is the highest level');
      assert.equal(top.auto, true);
      await sleep(3000);
      await screenshot(page, 'abr-1-source.png');
      const switchesBefore = (await qualityOf(page))?.switches ?? 0;

      // 2. Throttled below the source: hls.js switches down to a rung, playing on.
      await throttle(cdp, THROTTLE_KBPS);
      const throttledAt = Date.now();
      const down = await settle('throttled', (q) => q.rung !== 'source' && (q.height ?? 240) < 240);
      const downAfterS = (Date.now() - throttledAt) / 1000;
      assert.equal(down.auto, true, "hls.js's own choice");
      const tDown = (await pageStats(page))?.currentTime ?? 0;
      await sleep(4000);
      const stillDown = await qualityOf(page);
      assert.notEqual(stillDown?.rung, 'source', 'stays down while throttled');
      assert.ok(((await pageStats(page))?.currentTime ?? 0) - tDown > 2, 'playback goes on while throttled');
      assert.match((await page.textContent('#st-quality')) ?? '', /^(180|120)p \d+x(180|120) · \d+ kbit\/s, auto$/);
      await screenshot(page, 'abr-2-throttled.png');

      // 3. Lifted: back up to the source.
      await throttle(cdp, undefined);
      const liftedAt = Date.now();
      const up = await settle('lifted', (q) => q.rung === 'source');
      const upAfterS = (Date.now() - liftedAt) / 1000;
      await sleep(2000);
      const last = await qualityOf(page);
      await screenshot(page, 'abr-3-lifted.png');

      const stalls = await stallsOf(page);
      const errors = await page.evaluate(() => window.__livecdn?.errors ?? []);
      const report = {
        measuredAt: new Date().toISOString(),
        stream: `426x240 x264 ~${SOURCE_KBPS} kbit/s + AAC 64 kbit/s, 1 s GOP; ladder ${RUNGS.map((r) => `${r.name}@${r.videoKbps}k`).join(', ')} (ultrafast); origin --hls-segment 1, through one Node edge`,
        throttleKbps: THROTTLE_KBPS,
        downAfterS,
        downTo: { rung: down.rung, height: down.height, bitrate: down.bitrate },
        upAfterS,
        upTo: { rung: up.rung, height: up.height, bitrate: up.bitrate },
        switches: last?.switches,
        stallsS: stalls,
        samples,
      };
      const p = await saveArtifact('player-abr.json', JSON.stringify(report, null, 2) + '\n');
      console.log(
        `# ABR through the edge: down to ${down.rung} (${down.height}p) ${downAfterS.toFixed(1)} s after throttling to ${THROTTLE_KBPS} kbit/s, ` +
          `back to ${up.rung} ${upAfterS.toFixed(1)} s after lifting; ${last?.switches} switches; stalls ${stalls.map((s) => s.toFixed(2)).join(', ') || 'none'} (${p})`,
      );
      assert.ok(stalls.every((s) => s <= MAX_STALL_S), `stalls of ${stalls.join(', ')} s; ${await why()}`);
      assert.deepEqual(errors.filter((e) => e.fatal), [], await why());
      assert.ok((last?.switches ?? 0) >= switchesBefore + 2, `switches ${switchesBefore} -> ${last?.switches}`);
      assert.equal(await page.textContent('#st-switches'), String(last?.switches));

      // The quality menu: "Auto" checked, then each level from the top; picking 120p plays it.
      await showControls(page);
      await page.$eval('.vjs-quality-menu .vjs-menu-button', (e) => (e as HTMLElement).click());
      const items = await page.$$eval('.vjs-quality-menu .vjs-menu-item', (els) =>
        els.map((e) => ({ text: e.querySelector('.vjs-menu-item-text')?.textContent ?? '', checked: e.getAttribute('aria-checked') })),
      );
      assert.deepEqual(
        items.map((i) => i.text.replace(/ · .*$/, '')),
        ['Auto', '240p (source)', '180p', '120p'],
      );
      assert.equal(items[0]?.checked, 'true');
      await screenshot(page, 'abr-4-menu.png');
      await page.$eval('.vjs-quality-menu .vjs-menu-item[data-quality="0"]', (e) => (e as HTMLElement).click());
      const manual = await settle('manual 120p', (q) => q.rung === '120p');
      assert.equal(manual.auto, false);
      // The button's label follows on the page's next stats tick.
      await waitFor('the menu button to say 120p', async () => ((await page.textContent('.vjs-quality-menu .vjs-quality-value')) === '120p' ? true : undefined), 5000, 250);
    });
  });

  it('the dashboard shows the ladder and the transcoder speed', async () => {
    await withPage(browser, async (page) => {
      await page.goto(`${signalBase}/player/dashboard.html`);
      const cell = `tr[data-stream="${APP}/${NAME}"] [data-col="ladder"]`;
      await page.waitForSelector(`${cell} .transcode`, { timeout: 15_000 });
      await waitFor('a transcoder speed', async () => (/\d\.\d\dx local/.test((await page.textContent(`${cell} .transcode`)) ?? '') ? true : undefined), 15_000, 500);
      const chips = await page.$$eval(`${cell} .rung`, (els) => els.map((e) => `${e.textContent ?? ''}${e.classList.contains('up') ? ' up' : ''}`));
      assert.deepEqual(chips, ['240p (source) up', '180p up', '120p up']);
      // Rung streams are folded into their source's row.
      assert.equal(await page.$(`tr[data-stream="${APP}/${NAME}_180p"]`), null);
      await screenshot(page, 'abr-5-dashboard.png');
    });
  });

  it('over HTTP-FLV the rung menu reloads the player on {stream}_{rung}.flv', async () => {
    await withPage(browser, async (page) => {
      await page.goto(`${signalBase}/player/?stream=${APP}/${NAME}&proto=flv`);
      await waitFor('FLV playback', async () => ((await pageStats(page))?.currentTime ?? 0) > 0.2, 30_000, 250);
      const first = await waitFor('the rung menu', async () => ((await qualityOf(page))?.levels === 3 ? qualityOf(page) : undefined), 15_000, 250);
      assert.equal(first?.rung, 'source');
      await showControls(page);
      await page.$eval('.vjs-quality-menu .vjs-menu-button', (e) => (e as HTMLElement).click());
      const items = await page.$$eval('.vjs-quality-menu .vjs-menu-item .vjs-menu-item-text', (els) => els.map((e) => (e.textContent ?? '').replace(/ · .*$/, '')));
      assert.deepEqual(items, ['240p (source)', '180p', '120p'], 'no "Auto" over HTTP-FLV: one stream per rung');
      await screenshot(page, 'abr-6-flv-menu.png');
      await page.$eval('.vjs-quality-menu .vjs-menu-item[data-quality="2"]', (e) => (e as HTMLElement).click());
      await waitFor(
        'the 120p rung on screen',
        async () => {
          const s = await pageStats(page);
          const q = s?.quality as Quality | undefined;
          // The decoded height, within a line (rungs have square pixels: setsar=1 in ffmpeg-args.ts).
          return q?.rung === '120p' && q.height === 120 && Math.abs((s?.height as number) - 120) <= 1 && s?.url === `${edgeBase}/${APP}/${NAME}_120p.flv` && s.currentTime > 0.2 ? true : undefined;
        },
        30_000,
        250,
      ).catch(async (err: unknown) => {
        const s = await pageStats(page);
        throw new Error(`${err instanceof Error ? err.message : String(err)}; url ${String(s?.url)}, quality ${JSON.stringify(s?.quality)}; errors ${JSON.stringify(await page.evaluate(() => window.__livecdn?.errors ?? []))}`);
      });
      assert.equal((await qualityOf(page))?.switches, 1);
      await screenshot(page, 'abr-7-flv-rung.png');
    });
  });
});
