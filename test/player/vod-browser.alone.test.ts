// VOD in Debian's Chromium (issue 12): an origin records FFmpeg's 8 s of H.264 (High, B-frames, 1 s GOP)
// + AAC; once the recording is done, a page with hls.js plays its VOD playlist
// (/{app}/{stream}/rec/{rec}.m3u8, MPEG-TS segments remuxed from the FLV) from start to end: 'ended'
// fires, currentTime is then the media's duration, which is the playlist's, and hls.js reports no fatal
// error. A screenshot goes to artifacts/vod-ended.png.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMediaPlaylist } from '../../src/media/hls/playlist.js';
import type { Recording } from '../../src/record/catalogue.js';
import { vodPlaylistPath } from '../../src/shared/url-contract.js';
import { fetchText } from '../helpers/http.js';
import { startOrigin } from '../helpers/origin.js';
import type { TestOrigin } from '../helpers/origin.js';
import { recordTestStream } from '../record/record-helpers.js';
import { closeServer, launchBrowser, listen, repoRoot, screenshot, watchConsole, withPage } from './helpers.js';
import type { Browser } from './helpers.js';

const APP = 'live';
const SECONDS = 8;

/** The page: hls.js on a <video>, muted autoplay, with what the test reads kept in window.__vod. */
const PAGE = `<!doctype html><html><body>
<video id="v" muted playsinline controls width="426" height="240"></video>
<script src="/hls.min.js"></script>
<script>
  const state = { ended: false, playing: false, errors: [], currentTime: 0, duration: NaN };
  window.__vod = state;
  const v = document.getElementById('v');
  const src = new URLSearchParams(location.search).get('src');
  const hls = new Hls();
  hls.on(Hls.Events.ERROR, (_e, d) => state.errors.push({ fatal: d.fatal, type: d.type, details: d.details }));
  hls.loadSource(src);
  hls.attachMedia(v);
  v.addEventListener('playing', () => (state.playing = true));
  v.addEventListener('ended', () => { state.ended = true; state.currentTime = v.currentTime; state.duration = v.duration; });
  v.addEventListener('timeupdate', () => { state.currentTime = v.currentTime; state.duration = v.duration; });
  hls.on(Hls.Events.MANIFEST_PARSED, () => v.play().catch((e) => state.errors.push({ fatal: true, type: 'play', details: String(e) })));
</script></body></html>`;

interface VodState {
  ended: boolean;
  playing: boolean;
  errors: { fatal: boolean; type: string; details: string }[];
  currentTime: number;
  duration: number;
}

describe('VOD in Chromium: a recording plays from start to end in hls.js', () => {
  let dir = '';
  let o: TestOrigin | undefined;
  let rec: Recording | undefined;
  let pages: Server | undefined;
  let pageBase = '';
  let browser: Browser | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'livecdn-vod-browser-'));
    o = await startOrigin({ hlsSegmentMs: 2000, hlsGraceMs: 0, record: { dir, patterns: [`${APP}/*`] } });
    rec = await recordTestStream(o, APP, 'cam', 'h264-high-bframes+aac-stereo', { size: '426x240', gopS: 1, durationS: SECONDS });
    const hlsJs = await readFile(join(repoRoot, 'node_modules', 'hls.js', 'dist', 'hls.min.js'));
    pages = createServer((req, res) => {
      if (req.url?.startsWith('/hls.min.js')) {
        res.writeHead(200, { 'Content-Type': 'text/javascript' });
        return res.end(hlsJs);
      }
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    });
    pageBase = `http://127.0.0.1:${await listen(pages)}`;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await closeServer(pages);
    await o?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("plays the VOD playlist to its end: 'ended' fires at currentTime = duration", { timeout: 120_000 }, async () => {
    assert.ok(o && rec);
    const src = `${o.httpBase}${vodPlaylistPath(APP, 'cam', rec.name)}`;
    const playlist = parseMediaPlaylist((await fetchText(src)).text);
    const listed = playlist.segments.reduce((t, s) => t + s.durationS, 0);
    await withPage(browser, async (page) => {
      const console = watchConsole(page);
      await page.goto(`${pageBase}/?src=${encodeURIComponent(src)}`);
      let state: VodState | undefined;
      try {
        await page.waitForFunction(() => (window as unknown as { __vod: VodState }).__vod.ended, undefined, { timeout: (SECONDS + 60) * 1000, polling: 250 });
      } finally {
        state = await page.evaluate(() => (window as unknown as { __vod: VodState }).__vod);
        await screenshot(page, 'vod-ended.png');
      }
      const context = `${JSON.stringify(state)}\n${console.join('\n')}`;
      assert.ok(state.playing, context);
      assert.ok(state.ended, context);
      assert.deepEqual(state.errors.filter((e) => e.fatal), [], context);
      assert.ok(Math.abs(state.currentTime - state.duration) < 0.1, `ended at ${state.currentTime} s of ${state.duration} s\n${context}`);
      assert.ok(Math.abs(state.duration - listed) < 0.25, `media ${state.duration} s, playlist ${listed} s\n${context}`);
      assert.ok(Math.abs(listed - SECONDS) < 0.5, `${listed} s listed for ${SECONDS} s recorded`);
    });
  });
});
