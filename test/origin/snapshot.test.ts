// Snapshots at the origin (issue 12): GET /{app}/{stream}.jpg[?width=] is the latest keyframe decoded by
// one FFmpeg. FFmpeg publishes H.264 640x360 over RTMP; a small HEVC stream (libx265 into an .mp4, sent
// as enhanced-RTMP hvc1 tags) covers the second codec. ffprobe reads every JPEG; the decode counter
// (livecdn_snapshot_decodes_total) proves that 100 concurrent requests cost one FFmpeg run.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveKeys } from '../../src/shared/keys.js';
import { streamTokens } from '../helpers/tokens.js';
import { snapshotPath } from '../../src/shared/url-contract.js';
import { RtmpClient } from '../rtmp/client.js';
import { get, type Fetched } from '../edge/util.js';
import { ffprobeJson, hasEncoder, runFfmpeg } from '../helpers/ffmpeg.js';
import { flvFromMp4 } from '../helpers/enhanced-flv.js';
import { startOrigin, type TestOrigin } from '../helpers/origin.js';
import { publishTestStream } from '../helpers/publish.js';
import { fetchMetric } from '../helpers/metrics.js';
import { sleep, waitFor } from '../helpers/wait.js';

const KEYS = deriveKeys('origin-snapshot-test-root-secret-0123456789');
const { play: playToken, publish: publishToken } = streamTokens(KEYS);

/** The decode counter as /metrics shows it. */
async function decodes(o: TestOrigin): Promise<number> {
  const n = await fetchMetric(o.httpBase, 'livecdn_snapshot_decodes_total');
  assert.ok(!Number.isNaN(n), 'livecdn_snapshot_decodes_total is exported');
  return n;
}

/** What ffprobe says about a JPEG: codec and size. */
async function probe(dir: string, jpeg: Buffer): Promise<{ codec: string; width: number; height: number }> {
  const file = join(dir, `probe-${Date.now()}-${Math.random()}.jpg`);
  await writeFile(file, jpeg);
  const info = (await ffprobeJson(file, ['-show_streams'])) as { streams: { codec_name: string; width: number; height: number }[] };
  const s = info.streams[0];
  assert.ok(s, 'ffprobe finds a stream');
  // Decodes silently, too.
  const r = await runFfmpeg(['-v', 'error', '-i', file, '-f', 'null', '-'], { timeoutMs: 30_000 });
  assert.equal(r.code, 0);
  assert.equal(r.stderr.trim(), '', 'the JPEG decodes without a word from FFmpeg');
  return { codec: s.codec_name, width: s.width, height: s.height };
}

describe('origin snapshots', { timeout: 180_000 }, () => {
  let o: TestOrigin;
  let dir: string;
  let publisher: ReturnType<typeof publishTestStream> | undefined;
  const snap = (stream: string, query = `token=${playToken(stream)}`): Promise<Fetched> => get(`${o.httpBase}${snapshotPath('live', stream)}${query ? `?${query}` : ''}`);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'livecdn-snapshot-'));
    o = await startOrigin({ keys: KEYS, playTokens: true, hlsSegmentMs: 1000 });
    // A keyframe a second: a new picture is there to decode after each reuse period.
    publisher = publishTestStream(o.rtmpUrl('live', 'cam', `token=${publishToken('cam')}`), 'video-only', { size: '640x360', gopS: 1 });
    await waitFor(
      'a first snapshot',
      async () => (await snap('cam')).status === 200 || undefined,
      20_000,
      200,
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}\nffmpeg: ${publisher?.log() ?? ''}`);
    });
  });

  after(async () => {
    await publisher?.stop();
    await o?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('a JPEG of the stream at its own size, cacheable for 1 s', async () => {
    await sleep(1100);
    const r = await snap('cam');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'image/jpeg');
    assert.equal(r.headers['cache-control'], 'public, max-age=1');
    assert.equal(r.headers['content-length'], String(r.body.length));
    assert.deepEqual(await probe(dir, r.body), { codec: 'mjpeg', width: 640, height: 360 });
    const head = await get(`${o.httpBase}${snapshotPath('live', 'cam')}?token=${playToken('cam')}`, {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
  });

  test('?width=160 scales to 160 wide, the aspect kept', async () => {
    const r = await snap('cam', `token=${playToken('cam')}&width=160`);
    assert.equal(r.status, 200);
    assert.deepEqual(await probe(dir, r.body), { codec: 'mjpeg', width: 160, height: 90 });
  });

  test('100 concurrent requests share one decode; a picture is served again for at most ~1 s', async () => {
    await sleep(1200); // past the reuse period and the per-stream rate window
    const before = await decodes(o);
    const all = await Promise.all(Array.from({ length: 100 }, () => snap('cam', `token=${playToken('cam')}&width=320`)));
    assert.equal((await decodes(o)) - before, 1, 'exactly one FFmpeg run');
    for (const r of all) {
      assert.equal(r.status, 200);
      assert.ok(r.body.equals((all[0] as Fetched).body), 'every request gets the same picture');
      assert.ok(Number(r.headers['x-livecdn-age-ms']) <= 1000, `age ${String(r.headers['x-livecdn-age-ms'])} ms`);
    }
    const first = (all[0] as Fetched).body;
    // Within the reuse period: the same picture, no decode.
    const again = await snap('cam', `token=${playToken('cam')}&width=320`);
    assert.ok(again.body.equals(first));
    assert.equal((await decodes(o)) - before, 1);
    assert.deepEqual(await probe(dir, first), { codec: 'mjpeg', width: 320, height: 180 });
    // Past it (a keyframe a second): a new decode of a newer picture (testsrc draws a moving frame counter).
    await sleep(1200);
    const later = await snap('cam', `token=${playToken('cam')}&width=320`);
    assert.equal(later.status, 200);
    assert.equal((await decodes(o)) - before, 2);
    assert.ok(!later.body.equals(first), 'a newer keyframe, a new picture');
    assert.ok(Number(later.headers['x-livecdn-age-ms']) <= 1000);
  });

  test('decodes per stream are rate-limited: over the limit, 429 when no picture of that width exists', async () => {
    await sleep(1200);
    const before = await decodes(o);
    const rs = await Promise.all([100, 110, 120].map((w) => snap('cam', `token=${playToken('cam')}&width=${w}`)));
    // The three arrive in any order: two start a decode, the third finds the stream's rate used up.
    assert.deepEqual(rs.map((r) => r.status).sort(), [200, 200, 429]);
    assert.equal(rs.find((r) => r.status === 429)?.headers['retry-after'], '1');
    assert.equal((await decodes(o)) - before, 2);
  });

  test('refused: a stream not live (404), a bad width (400), no or a wrong play token (403)', async () => {
    assert.equal((await snap('nope')).status, 404);
    for (const w of ['15', '3841', 'abc', '', '1e3', '160&width=320']) {
      assert.equal((await snap('cam', `token=${playToken('cam')}&width=${w}`)).status, 400, `width=${w}`);
    }
    assert.equal((await snap('cam', '')).status, 403);
    assert.equal((await snap('cam', `token=${playToken('other')}`)).status, 403);
    assert.equal((await get(`${o.httpBase}/live/bad.name.jpg?token=${playToken('cam')}`)).status, 400);
  });

  test('without FFmpeg: 503', async () => {
    await sleep(1200);
    const saved = process.env.FFMPEG_PATH;
    process.env.FFMPEG_PATH = join(dir, 'no-ffmpeg-here');
    try {
      const r = await snap('cam', `token=${playToken('cam')}&width=200`);
      assert.equal(r.status, 503);
    } finally {
      if (saved === undefined) delete process.env.FFMPEG_PATH;
      else process.env.FFMPEG_PATH = saved;
    }
  });

  test('HEVC (enhanced-RTMP hvc1): a JPEG at the stream size', async (t) => {
    if (!(await hasEncoder('libx265'))) return t.skip('FFmpeg has no libx265');
    const src = join(dir, 'hevc.mp4');
    const x265 = ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error:keyint=25:min-keyint=25:scenecut=0', '-tag:v', 'hvc1'];
    const made = await runFfmpeg(['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=2', '-pix_fmt', 'yuv420p', ...x265, '-f', 'mp4', src], {
      timeoutMs: 120_000,
    });
    assert.equal(made.code, 0, made.stderr);
    const crafted = flvFromMp4(await readFile(src));
    assert.equal(crafted.videoCodec, 'hevc');
    const pub = await RtmpClient.connect(`rtmp://127.0.0.1:${o.rtmpPort}/live`);
    t.after(() => pub.close());
    await pub.publish(`hevc?token=${publishToken('hevc')}`);
    for (const p of crafted.packets) pub.send(p);
    const r = await waitFor('an HEVC snapshot', async () => {
      const got = await snap('hevc');
      return got.status === 200 ? got : undefined;
    });
    assert.deepEqual(await probe(dir, r.body), { codec: 'mjpeg', width: 320, height: 240 });
  });
});
