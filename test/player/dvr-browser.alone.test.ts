// The DVR playlist in Debian's Chromium with hls.js (issue 12), on a plain page (the player's own DVR
// controls are dvr-ui.alone.test.ts): FFmpeg publishes 320x240 at real time to an origin keeping a 120 s
// DVR window of 2 s MPEG-TS segments (3 listed live, 6 kept in memory). Once the DVR playlist spans
// 80 s, hls.js plays it from the live edge, the test seeks back 60 s, and asserts that it plays from
// there: currentTime advances past the seek point, and the date of the playing position (hls.js
// playingDate, from EXT-X-PROGRAM-DATE-TIME) is about 60 s further behind the wall clock than before the
// seek. The segments it then loads left the memory window long ago: they come from the DVR's files.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { parseMediaPlaylist } from '../../src/media/hls/playlist.js';
import { dvrPlaylistPath } from '../../src/shared/url-contract.js';
import { startOrigin, type TestOrigin } from '../helpers/origin.js';
import { publishTestStream } from '../helpers/publish.js';
import { waitFor } from '../helpers/wait.js';
import { launchBrowser, repoRoot, screenshot, watchConsole, withPage } from './helpers.js';
import type { Browser } from './helpers.js';

const SPAN_S = 80;
const SEEK_BACK_S = 60;

interface Playing {
  currentTime: number;
  /** Wall clock minus the playing position's PDT, s; undefined before hls.js knows it. */
  behindS: number | undefined;
  paused: boolean;
}

const playing = (page: Page): Promise<Playing> =>
  page.evaluate(() => {
    const w = window as unknown as { __hls?: { playingDate: Date | null }; __video?: HTMLVideoElement };
    const v = w.__video as HTMLVideoElement;
    const date = w.__hls?.playingDate;
    return { currentTime: v.currentTime, behindS: date ? (Date.now() - date.getTime()) / 1000 : undefined, paused: v.paused };
  });

/** currentTime moves on by `seconds` from where it is now: the picture plays, it does not stall. */
async function advances(page: Page, seconds: number, what: string): Promise<Playing> {
  const t0 = (await playing(page)).currentTime;
  return waitFor(what, async () => {
    const p = await playing(page);
    return p.currentTime - t0 >= seconds && p.behindS !== undefined ? p : undefined;
  }, 30_000, 250);
}

describe(`DVR in Chromium: hls.js plays dvr.m3u8, seeks back ${SEEK_BACK_S} s and plays from there`, () => {
  let dir = '';
  let o: TestOrigin | undefined;
  let publisher: ReturnType<typeof publishTestStream> | undefined;
  let browser: Browser | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'livecdn-dvr-browser-'));
    o = await startOrigin({ hlsSegmentMs: 2000, hlsWindow: 3, dvr: { windowMs: 120_000, dir } });
    publisher = publishTestStream(o.rtmpUrl('live', 'rewind'), 'baseline+aac-mono', { size: '320x240', gopS: 1, durationS: 130 });
    browser = await launchBrowser();
    const url = `${o.httpBase}${dvrPlaylistPath('live', 'rewind')}`;
    await waitFor(
      `the DVR playlist to span ${SPAN_S} s`,
      async () => {
        const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
        return r.ok && parseMediaPlaylist(await r.text()).segments.reduce((n, s) => n + s.durationS, 0) >= SPAN_S ? true : undefined;
      },
      (SPAN_S + 30) * 1000,
      1000,
    ).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}; ffmpeg: ${publisher?.log() ?? ''}`);
    });
  });

  after(async () => {
    await browser?.close();
    await publisher?.stop();
    await o?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('seeks back 60 s in the DVR window and plays from there, ~60 s further behind live', async (t) => {
    assert.ok(o);
    const base = o.httpBase;
    const live = parseMediaPlaylist(await (await fetch(o.hlsUrl('live', 'rewind'))).text());
    await withPage(browser, async (page) => {
      const log = watchConsole(page);
      const segments: { seq: number; status: number }[] = [];
      const failed: string[] = [];
      page.on('response', (r) => {
        if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) failed.push(`${r.status()} ${r.url()}`);
        const m = /\/live\/rewind\/(\d+)\.ts$/.exec(r.url());
        if (m) segments.push({ seq: Number(m[1]), status: r.status() });
      });
      // A page of the origin itself: hls.js's requests are same-origin.
      await page.goto(`${base}/healthz`);
      await page.addScriptTag({ path: join(repoRoot, 'node_modules', 'hls.js', 'dist', 'hls.min.js') });
      await page.evaluate((src) => {
        const w = window as unknown as { Hls: new (c: object) => { loadSource(s: string): void; attachMedia(v: HTMLVideoElement): void }; __hls: unknown; __video: HTMLVideoElement };
        const v = document.createElement('video');
        v.muted = true;
        v.autoplay = true;
        document.body.append(v);
        const hls = new w.Hls({});
        hls.loadSource(src);
        hls.attachMedia(v);
        w.__hls = hls;
        w.__video = v;
      }, `${base}${dvrPlaylistPath('live', 'rewind')}`);
      const atLive = await advances(page, 3, 'playback at the live edge').catch(async (err: unknown) => {
        await screenshot(page, 'dvr-browser-failed.png');
        throw new Error(`${err instanceof Error ? err.message : String(err)}; console:\n${log.join('\n')}`);
      });
      assert.ok((atLive.behindS ?? Infinity) < 20, `hls.js starts near the live edge: ${atLive.behindS} s behind`);

      const seekTo = await page.evaluate((back) => {
        const v = (window as unknown as { __video: HTMLVideoElement }).__video;
        v.currentTime = Math.max(0, v.currentTime - back);
        return v.currentTime;
      }, SEEK_BACK_S);
      const rewound = await advances(page, 4, 'playback after the seek');
      assert.ok(rewound.currentTime >= seekTo + 4 && !rewound.paused, `plays on from ${seekTo}: at ${rewound.currentTime}`);
      const moved = (rewound.behindS ?? 0) - (atLive.behindS ?? 0);
      assert.ok(moved > SEEK_BACK_S - 8 && moved < SEEK_BACK_S + 8, `the playing PDT is ${moved.toFixed(1)} s further behind (${atLive.behindS?.toFixed(1)} -> ${rewound.behindS?.toFixed(1)} s)`);
      await screenshot(page, 'dvr-browser.png');
      t.diagnostic(`behind live: ${atLive.behindS?.toFixed(1)} s before the seek, ${rewound.behindS?.toFixed(1)} s after; ${segments.length} segments loaded`);

      // What it played after the seek had left the memory window (6 segments) long before: served from disk.
      const fromDisk = segments.filter((s) => s.seq < live.mediaSequence - 3);
      assert.ok(fromDisk.length >= 2, `segments before ${live.mediaSequence - 3} loaded: ${JSON.stringify(segments)}`);
      assert.ok(fromDisk.every((s) => s.status === 200), JSON.stringify(fromDisk));
      assert.deepEqual(failed, [], 'every request answered (the page itself has no favicon)');
      assert.deepEqual(
        log.filter((l) => /error/i.test(l) && !/Failed to load resource/.test(l)),
        [],
      );
    });
  });
});
