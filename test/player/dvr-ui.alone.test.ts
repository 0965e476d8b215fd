// The player's DVR controls and the dashboard's thumbnails in Debian's Chromium (issue 12): FFmpeg
// publishes to an origin keeping a DVR window, registered with the signal, behind a Node edge. The
// signal's play answer names the edge's dvr.m3u8, and the player plays it: video.js's live seek bar spans
// the window; a click on the bar seeks back (the picture is then well behind the PDT clock and the LIVE
// button says so), the LIVE button goes back to live; `?start=` starts the DVR playlist at a wall-clock
// time. The dashboard's stream list and the streamer page show the stream's thumbnail, loaded at 160 px;
// the streamer page hides it for a stream that is not live.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { publishTestStream } from '../helpers/publish.js';
import { waitFor } from '../helpers/wait.js';
import { pageStats, screenshot, startPlayerCluster, watchConsole, withPage } from './helpers.js';
import type { PlayerCluster } from './helpers.js';

const APP = 'live';
const NAME = 'dvrui';
/** Seconds of DVR before the player opens: video.js shows its live seek bar from a 20 s window on. */
const WINDOW_BEFORE_S = 32;

interface Dvr {
  window: number | undefined;
  atLiveEdge: boolean;
}
interface Stats {
  currentTime: number;
  url?: string;
  dvr?: Dvr;
  live?: { wallClockLatency?: number };
  latency?: number;
}

const stats = async (page: Page): Promise<Stats | undefined> => (await pageStats(page)) as Stats | undefined;

/** currentTime moves on by `seconds` (the picture plays, not stalls). */
async function advances(page: Page, seconds: number, what: string): Promise<void> {
  const t0 = (await stats(page))?.currentTime ?? 0;
  await waitFor(what, async () => ((await stats(page))?.currentTime ?? 0) - t0 >= seconds, 30_000, 250);
}

describe('player: DVR seek bar, back to live, ?start=; dashboard thumbnails', () => {
  let cluster: PlayerCluster | undefined;
  let publisher: ReturnType<typeof publishTestStream> | undefined;
  let work = '';

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'livecdn-dvr-ui-'));
    cluster = await startPlayerCluster({
      name: 'dvr-ui',
      originArgs: ['--hls-segment', '1', '--hls-window', '6'],
      originConfig: { dvr: { windowMs: 120_000, dir: join(work, 'dvr') }, record: { dir: join(work, 'rec') } },
      edgeHeartbeatMs: 1000,
    });
    publisher = publishTestStream(cluster.origin.rtmpUrl(APP, NAME), 'baseline+aac-mono', { size: '320x240', gopS: 1 });
  });

  after(async () => {
    await publisher?.stop();
    await cluster?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the dashboard shows the live stream with a 160 px thumbnail', async () => {
    const { signalBase } = cluster as PlayerCluster;
    await withPage(cluster?.browser, async (page) => {
      const log = watchConsole(page);
      await page.goto(`${signalBase}/player/dashboard.html`);
      const img = `tr[data-stream="${APP}/${NAME}"] img.thumb`;
      const width = await waitFor(
        'a loaded thumbnail',
        () => page.evaluate((sel) => {
          const el = document.querySelector<HTMLImageElement>(sel);
          return el && el.complete && !el.hidden && el.naturalWidth > 0 ? { w: el.naturalWidth, src: el.src } : undefined;
        }, img),
        40_000,
        500,
      ).catch((err: unknown) => {
        throw new Error(`${err instanceof Error ? err.message : String(err)}; console:\n${log.join('\n')}; ffmpeg: ${publisher?.log() ?? ''}`);
      });
      assert.equal(width.w, 160);
      assert.match(width.src, /\/live\/dvrui\.jpg\?width=160&t=\d+$/);
      await screenshot(page, 'dashboard-thumbnails.png');
    });
  });

  it('the streamer page shows the thumbnail of its live stream, none for one not live', async () => {
    const { signalBase } = cluster as PlayerCluster;
    await withPage(cluster?.browser, async (page) => {
      const log = watchConsole(page);
      const thumb = () =>
        page.evaluate(() => {
          const el = document.querySelector<HTMLImageElement>('#stream-thumb');
          return el ? { hidden: el.hidden, w: el.naturalWidth, src: el.getAttribute('src') } : undefined;
        });
      await page.goto(`${signalBase}/player/streamer.html`);
      await page.fill('#name', 'notlive');
      await page.click('#create-form button');
      await page.waitForSelector('#stream-thumb', { state: 'attached', timeout: 10_000 });
      // Its play answer names no snapshot (no video yet): nothing is shown.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal((await thumb())?.hidden, true);
      await page.fill('#name', NAME);
      await page.click('#create-form button');
      const t = await waitFor('the streamer page thumbnail', async () => {
        const x = await thumb();
        return x && !x.hidden && x.w > 0 ? x : undefined;
      }, 20_000, 250).catch((err: unknown) => {
        throw new Error(`${err instanceof Error ? err.message : String(err)}; console:\n${log.join('\n')}`);
      });
      assert.equal(t.w, 160);
      assert.match(t.src ?? '', /\/live\/dvrui\.jpg\?width=160&t=\d+$/);
    });
  });

  it('plays the DVR playlist with a seek bar over the window; seeking back and the LIVE button work', async () => {
    const { signalBase, origin } = cluster as PlayerCluster;
    await waitFor(
      `${WINDOW_BEFORE_S} s of DVR`,
      async () => {
        const body = (await (await fetch(`${origin.httpBase}/api/streams`)).json()) as { streams: { name: string; dvr: { fromMs: number } | null }[] };
        const dvr = body.streams.find((s) => s.name === NAME)?.dvr;
        return dvr && Date.now() - dvr.fromMs >= WINDOW_BEFORE_S * 1000 ? true : undefined;
      },
      90_000,
      1000,
    );
    await withPage(cluster?.browser, async (page) => {
      const log = watchConsole(page);
      const fail = (what: string) => (err: unknown) => {
        throw new Error(`${what}: ${err instanceof Error ? err.message : String(err)}; console:\n${log.join('\n')}`);
      };
      await page.goto(`${signalBase}/player/?stream=${APP}/${NAME}`);
      const first = await waitFor('playback', async () => {
        const s = await stats(page);
        return s && s.currentTime > 0.5 ? s : undefined;
      }, 45_000, 250).catch(fail('playback'));
      assert.match(first.url ?? '', /\/live\/dvrui\/dvr\.m3u8(\?|$)/, 'the play answer named the DVR playlist, and the player plays it');
      assert.ok(first.url?.startsWith(cluster?.edgeBase ?? '?'), `through the edge: ${first.url ?? ''}`);
      // video.js's live UI: the seek bar over the window and the LIVE button, at the live edge.
      await page.waitForSelector('.video-js.vjs-liveui .vjs-progress-control', { state: 'visible', timeout: 30_000 }).catch(fail('the live seek bar'));
      const s0 = await waitFor('the DVR window', async () => {
        const s = await stats(page);
        return s?.dvr?.window !== undefined && s.dvr.window >= 20 ? s : undefined;
      }, 30_000, 250);
      assert.equal(s0.dvr?.atLiveEdge, true);
      await waitFor('the stats panel to say DVR', async () => /^HLS TS, DVR \d+ s$/.test((await page.textContent('#st-mode')) ?? ''), 5000, 250).catch(fail('#st-mode'));
      assert.ok((s0.live?.wallClockLatency ?? 99) < 10, `starts near live: ${s0.live?.wallClockLatency} s behind PDT`);

      // A click at 10% of the seek bar: about 0.9 window back.
      const bar = await page.locator('.vjs-progress-control .vjs-progress-holder').boundingBox();
      assert.ok(bar);
      await page.mouse.click(bar.x + bar.width * 0.1, bar.y + bar.height / 2);
      const back = await waitFor('playing well behind live', async () => {
        const s = await stats(page);
        return s && (s.live?.wallClockLatency ?? 0) > 15 && s.dvr?.atLiveEdge === false ? s : undefined;
      }, 30_000, 250).catch(fail('seek back'));
      await advances(page, 2, 'playback after seeking back');
      assert.ok(!(await page.locator('.vjs-seek-to-live-control').getAttribute('class'))?.includes('vjs-at-live-edge'), 'the LIVE button shows the viewer behind');
      console.log(`# seeked back: ${back.live?.wallClockLatency?.toFixed(1)} s behind the PDT clock, window ${back.dvr?.window?.toFixed(0)} s`);
      await screenshot(page, 'player-dvr-behind.png');

      await page.click('.vjs-seek-to-live-control');
      const live = await waitFor('back at live', async () => {
        const s = await stats(page);
        return s && (s.live?.wallClockLatency ?? 99) < 8 && s.dvr?.atLiveEdge === true ? s : undefined;
      }, 30_000, 250).catch(fail('back to live'));
      await advances(page, 2, 'playback after going back to live');
      console.log(`# back to live: ${live.live?.wallClockLatency?.toFixed(1)} s behind the PDT clock`);
      const errors = await page.evaluate(() => (window.__livecdn?.errors ?? []).filter((e) => e.fatal).map((e) => e.message));
      assert.deepEqual(errors, [], 'no fatal player error');
    });
  });

  it("without a control plane (the edge's pages) the player finds the DVR playlist on its host", async () => {
    const { edgeBase } = cluster as PlayerCluster;
    await withPage(cluster?.browser, async (page) => {
      await page.goto(`${edgeBase}/player/?stream=${APP}/${NAME}`);
      const s = await waitFor('playback', async () => {
        const x = await stats(page);
        return x && x.currentTime > 0.5 ? x : undefined;
      }, 45_000, 250);
      assert.equal(s.url, `${edgeBase}/${APP}/${NAME}/dvr.m3u8`);
      assert.ok(s.dvr, 'played as DVR');
    });
  });

  it('?start= starts the DVR playlist at that wall-clock time', async () => {
    const { signalBase } = cluster as PlayerCluster;
    await withPage(cluster?.browser, async (page) => {
      const log = watchConsole(page);
      const start = new Date(Date.now() - 25_000).toISOString();
      await page.goto(`${signalBase}/player/?stream=${APP}/${NAME}&start=${encodeURIComponent(start)}`);
      const s = await waitFor('playback from the start time', async () => {
        const x = await stats(page);
        return x && x.currentTime > 0.5 && x.live?.wallClockLatency !== undefined ? x : undefined;
      }, 45_000, 250).catch((err: unknown) => {
        throw new Error(`${err instanceof Error ? err.message : String(err)}; console:\n${log.join('\n')}`);
      });
      assert.equal(new URL(s.url ?? '').searchParams.get('start'), start);
      await advances(page, 2, 'playback from the start time');
      const behind = (await stats(page))?.live?.wallClockLatency ?? 0;
      // Started at the segment holding `start`: as far behind the clock as that, give or take a segment and the load.
      assert.ok(behind > 18 && behind < 40, `${behind.toFixed(1)} s behind the PDT clock after starting 25 s back`);
      console.log(`# ?start= 25 s back: ${behind.toFixed(1)} s behind the PDT clock`);
    });
  });
});
