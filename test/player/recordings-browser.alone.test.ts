// The recordings page in Debian's Chromium (issue 12): FFmpeg publishes 8 s through the streamer's flow
// (a signed push URL from the signal) to an origin recording live/*, registered with a signal that has
// the cluster's keys. The page, given the admin token, lists the recording through the signal's merged
// GET /api/recordings (duration, size, state, the first tile of its thumbnails), plays its VOD playlist
// from the origin with hls.js in video.js (the seek bar previews a tile under the pointer), downloads the
// FLV (the same bytes as the origin's file) and deletes it (gone from the list and from the origin).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishTestStream } from '../helpers/publish.js';
import { waitFor } from '../helpers/wait.js';
import { adminToken, deriveKeys } from '../../src/shared/keys.js';
import { screenshot, startPlayerCluster, watchConsole, withPage } from './helpers.js';
import type { PlayerCluster } from './helpers.js';

const SECRET = 'recordings-page-test-secret-of-32-bytes';
const ADMIN = adminToken(deriveKeys(SECRET));
const APP = 'live';
const NAME = 'recpage';
const PUBLISH_S = 8;

interface OriginRecording {
  id: string;
  name: string;
  state: string;
  durationMs: number;
  bytes: number;
  thumbs?: { sprite: string; vtt: string };
}

describe('recordings page: list, VOD playback, download, delete', () => {
  let cluster: PlayerCluster | undefined;
  let work = '';
  let rec: OriginRecording | undefined;

  const originList = async (): Promise<OriginRecording[]> => {
    const r = await fetch(`${cluster?.origin.httpBase ?? ''}/api/recordings?app=${APP}&stream=${NAME}`, { headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(r.status, 200);
    return ((await r.json()) as { recordings: OriginRecording[] }).recordings;
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'livecdn-recordings-page-'));
    cluster = await startPlayerCluster({
      name: 'recpage',
      secret: SECRET,
      originArgs: ['--hls-segment', '1'],
      originConfig: { record: { dir: join(work, 'rec'), patterns: [`${APP}/*`] } },
    });
    const created = await fetch(`${cluster.signalBase}/api/streams`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ app: APP, name: NAME }),
    });
    assert.equal(created.status, 201);
    const { pushUrl } = (await created.json()) as { pushUrl: string };
    const publisher = publishTestStream(pushUrl, 'baseline+aac-mono', { size: '320x240', gopS: 1, durationS: PUBLISH_S });
    try {
      rec = await waitFor(
        'a finished recording',
        // Done, and its thumbnails made (one FFmpeg run after the file ends).
        async () => (await originList()).find((r) => r.state === 'done' && r.durationMs > (PUBLISH_S - 2) * 1000 && r.thumbs),
        60_000,
        500,
      );
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)}; ffmpeg: ${publisher.log()}`);
    } finally {
      await publisher.stop();
    }
  });

  after(async () => {
    await cluster?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('lists the recording with its duration, size and state, plays its VOD, downloads and deletes it', async () => {
    assert.ok(cluster && rec);
    const { signalBase } = cluster;
    const { id, durationMs, bytes, name } = rec;
    await withPage(cluster.browser, async (page) => {
      const log = watchConsole(page);
      const fail = (what: string) => (err: unknown) => {
        throw new Error(`${what}: ${err instanceof Error ? err.message : String(err)}; console:\n${log.join('\n')}`);
      };
      await page.goto(`${signalBase}/player/recordings.html`);
      // Without the token the signal refuses, and the page says so.
      await page.click('#load-form button');
      await page.waitForFunction(() => /401/.test(document.getElementById('rec-error')?.textContent ?? ''), undefined, { timeout: 10_000 }).catch(fail('the 401'));
      await page.fill('#admin-token', ADMIN);
      await page.click('#load-form button');
      const row = `tr[data-rec="${id}"]`;
      await page.waitForSelector(row, { timeout: 15_000 }).catch(fail('the recording row'));
      assert.equal(await page.textContent(`${row} [data-col="state"]`), 'done');
      assert.equal(await page.textContent(`${row} [data-col="stream"]`), `${APP}/${NAME}`);
      const seconds = Math.floor(durationMs / 1000);
      assert.equal(await page.textContent(`${row} [data-col="duration"]`), `0:${String(seconds).padStart(2, '0')}`);
      assert.match((await page.textContent(`${row} [data-col="size"]`)) ?? '', /^\d+(\.\d)? (KiB|MiB)$/);
      // The first tile of the sprite, at the tile's size (160 px wide, as the thumbnails are made).
      await page.waitForSelector(`${row} .rec-thumb[data-loaded]`, { timeout: 15_000 }).catch(fail('the first tile'));
      const tile = await page.$eval(`${row} .rec-thumb`, (el) => ({ w: el.getBoundingClientRect().width, bg: getComputedStyle(el).backgroundImage }));
      assert.equal(tile.w, 160);
      assert.match(tile.bg, /\/live\/recpage\/rec\/\d{8}-\d{6}\/thumbs\.jpg/);

      // VOD: hls.js in video.js plays the recording's playlist from the origin.
      await page.click(`${row} button[data-action="play"]`);
      const started = await waitFor(
        'VOD playback',
        () =>
          page.evaluate(() => {
            const v = window.__livecdnRecordings?.video();
            return v && v.currentTime > 0.5 ? { duration: v.duration, src: v.currentSrc } : undefined;
          }),
        45_000,
        250,
      ).catch(fail('VOD playback'));
      assert.ok(Math.abs(started.duration - durationMs / 1000) < 1.5, `VOD duration ${started.duration} s, recording ${durationMs} ms`);
      await waitFor('VOD playback to go on', () => page.evaluate(() => (window.__livecdnRecordings?.video()?.currentTime ?? 0) > 3), 30_000, 250).catch(fail('VOD progress'));
      const state = await page.evaluate(() => window.__livecdnRecordings?.state());
      assert.equal(state?.playing, id);
      assert.deepEqual(state?.engineErrors.filter((e) => e.fatal), []);
      // The seek bar previews the tile under the pointer.
      await page.hover('#vod-card .vjs-progress-holder', { position: { x: 20, y: 2 } });
      await page.waitForSelector('#vod-card .seek-preview:not([hidden])', { timeout: 5000 }).catch(fail('the seek preview'));
      assert.match(await page.$eval('#vod-card .seek-preview', (el) => getComputedStyle(el).backgroundImage), /thumbs\.jpg/);
      await screenshot(page, 'recordings-page.png');

      // Download: the FLV through the origin's admin route, the same bytes as on disk.
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 20_000 }), page.click(`${row} button[data-action="download"]`)]);
      const path = await download.path();
      assert.equal((await readFile(path)).length, bytes);
      assert.equal(download.suggestedFilename(), `${APP}-${NAME}-${name}.flv`);

      // Delete: confirmed, gone from the page and from the origin.
      page.once('dialog', (d) => void d.accept());
      await page.click(`${row} button[data-action="delete"]`);
      await page.waitForSelector(row, { state: 'detached', timeout: 15_000 }).catch(fail('the row to go'));
      assert.equal((await originList()).some((r) => r.id === id), false);
    });
  });
});
