// Thumbnails of finished recordings (issue 12): FFmpeg publishes 20 s (as fast as it encodes), the origin
// records it, and when the file ends one FFmpeg run makes the sprite and the WebVTT track. ffprobe reads
// the sprite (tiles of 160 px wide, aspect kept), vtt.js (video.js's WebVTT parser) reads the track: its
// cues cover the recording end to end and point at tiles inside the sprite, and a tile is the picture of
// its time (PSNR against the recording's frame there). Play tokens hold on both routes, and the track
// hands the viewer's token on to the sprite. A catalogue scan finds a file without a clean close and
// thumbnails it too; a file FFmpeg cannot read leaves nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingCatalogue } from '../../src/record/catalogue.js';
import { Thumbnails, thumbsSpriteFile, thumbsTrackFile } from '../../src/record/thumbnails.js';
import { deriveKeys, adminToken } from '../../src/shared/keys.js';
import { createLogger } from '../../src/shared/log.js';
import { streamTokens } from '../helpers/tokens.js';
import { thumbsSpritePath, thumbsVttPath } from '../../src/shared/url-contract.js';
import { ffprobeJson, runFfmpeg } from '../helpers/ffmpeg.js';
import { startOrigin } from '../helpers/origin.js';
import { publishArgs } from '../helpers/publish.js';
import { waitFor } from '../helpers/wait.js';
import { recordingsEnded } from './record-helpers.js';

const KEYS = deriveKeys('thumbnails-test-root-secret-0123456789abcdef');
const { play: playToken, publish: publishToken } = streamTokens(KEYS);

interface Cue {
  startTime: number;
  endTime: number;
  text: string;
}

/** The track as video.js reads it (vtt.js): its cues, and any parsing error. */
function parseVtt(text: string): Cue[] {
  const require = createRequire(import.meta.url);
  type Parser = { oncue: (c: Cue) => void; onparsingerror: (e: Error) => void; parse(s: string): void; flush(): void };
  const WebVTT = require('videojs-vtt.js/lib/vtt.js') as { Parser: new (w: object, vttjs: object, decoder: unknown) => Parser; StringDecoder: () => unknown };
  const VTTCue = require('videojs-vtt.js/lib/vttcue.js') as unknown;
  const VTTRegion = require('videojs-vtt.js/lib/vttregion.js') as unknown;
  const parser = new WebVTT.Parser({}, { VTTCue, VTTRegion }, WebVTT.StringDecoder());
  const cues: Cue[] = [];
  parser.oncue = (c) => cues.push(c);
  parser.onparsingerror = (e) => assert.fail(`WebVTT parsing error: ${e.message}`);
  parser.parse(text);
  parser.flush();
  return cues;
}

/** The cues' tiles: x, y, w, h, and the URI before the fragment. */
function tiles(cues: Cue[]): { uri: string; x: number; y: number; w: number; h: number }[] {
  return cues.map((c) => {
    const m = /^([^#\s]+)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(c.text.trim());
    assert.ok(m, `cue text ${c.text}`);
    return { uri: m[1] as string, x: Number(m[2]), y: Number(m[3]), w: Number(m[4]), h: Number(m[5]) };
  });
}

/** ffprobe's picture size of a JPEG file. */
async function jpegFileSize(file: string): Promise<{ width: number; height: number }> {
  const info = (await ffprobeJson(file, ['-show_streams'])) as { streams: { codec_name: string; width: number; height: number }[] };
  assert.equal(info.streams[0]?.codec_name, 'mjpeg');
  return { width: info.streams[0]?.width ?? 0, height: info.streams[0]?.height ?? 0 };
}

/** PSNR (dB, average) of a tile of the sprite against the recording's frame at `atS`, scaled alike. */
async function tilePsnr(sprite: string, tile: { x: number; y: number; w: number; h: number }, flv: string, atS: number): Promise<number> {
  const r = await runFfmpeg(
    ['-hide_banner', '-nostdin', '-i', sprite, '-ss', String(atS), '-i', flv, '-filter_complex', `[0:v]crop=${tile.w}:${tile.h}:${tile.x}:${tile.y},scale,format=rgb24[a];[1:v]scale=${tile.w}:${tile.h},format=rgb24[b];[a][b]psnr`, '-frames:v', '1', '-f', 'null', '-'],
    { timeoutMs: 60_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  const m = /PSNR .*average:([\d.]+|inf)/.exec(r.stderr);
  assert.ok(m, r.stderr);
  return m[1] === 'inf' ? Infinity : Number(m[1]);
}

/** An FLV whose one video tag (a keyframe at `atMs`) holds no H.264 FFmpeg can decode. */
function garbageFlv(atMs: number): Buffer {
  const body = Buffer.concat([Buffer.from([0x17, 0x01, 0, 0, 0]), Buffer.alloc(64, 0x5a)]);
  const tag = Buffer.alloc(11);
  tag[0] = 9;
  tag.writeUIntBE(body.length, 1, 3);
  tag.writeUIntBE(atMs & 0xffffff, 4, 3);
  tag[7] = (atMs >>> 24) & 0xff;
  const prev = Buffer.alloc(4);
  prev.writeUInt32BE(11 + body.length);
  return Buffer.concat([Buffer.from([0x46, 0x4c, 0x56, 1, 1, 0, 0, 0, 9, 0, 0, 0, 0]), tag, body, prev]);
}

test('a recording that ends gets a sprite and a WebVTT track covering it, served under play tokens', { timeout: 180_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sn-thumbs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const o = await startOrigin({ keys: KEYS, playTokens: true, record: { dir, patterns: ['live/*'] } }, t);
  const thumbs = o.origin.thumbnails;
  const catalogue = o.origin.recordings;
  assert.ok(thumbs && catalogue);

  // 20 s of media, not paced (-re off): the recording's length is the media's, whatever the wall clock.
  const pub = `token=${publishToken('cam')}`;
  const args = publishArgs(o.rtmpUrl('live', 'cam', pub), 'baseline+aac-mono', { gopS: 2, durationS: 20 }).filter((a) => a !== '-re');
  const published = await runFfmpeg(args, { timeoutMs: 120_000 });
  assert.equal(published.code, 0, published.stderr);
  const [rec] = await recordingsEnded(catalogue, 'live', 'cam');
  assert.ok(rec && rec.durationMs > 19_000, `recorded ${rec?.durationMs} ms`);
  await waitFor('thumbnails', () => thumbs.has(rec), 60_000, 100);

  const token = playToken('cam');
  const spriteUrl = `${o.httpBase}${thumbsSpritePath('live', 'cam', rec.name)}`;
  const vttUrl = `${o.httpBase}${thumbsVttPath('live', 'cam', rec.name)}`;
  const sprite = await fetch(`${spriteUrl}?token=${token}`);
  assert.equal(sprite.status, 200);
  assert.equal(sprite.headers.get('content-type'), 'image/jpeg');
  const spriteFile = join(dir, 'sprite.jpg');
  await writeFile(spriteFile, Buffer.from(await sprite.arrayBuffer()));
  const size = await jpegFileSize(spriteFile);

  const vtt = await fetch(`${vttUrl}?token=${token}`);
  assert.equal(vtt.status, 200);
  assert.equal(vtt.headers.get('content-type'), 'text/vtt; charset=utf-8');
  const cues = parseVtt(await vtt.text());
  // A tile every 10 s: 20 s of media is 2 or 3 tiles (the recording lasts a frame under or over 20 s).
  assert.equal(cues.length, Math.ceil(rec.durationMs / 10_000));
  assert.equal(cues[0]?.startTime, 0);
  assert.ok(Math.abs((cues.at(-1)?.endTime ?? 0) - rec.durationMs / 1000) < 0.002, 'the last cue ends with the recording');
  cues.forEach((c, i) => {
    assert.ok(c.endTime > c.startTime);
    if (i > 0) assert.equal(c.startTime, cues[i - 1]?.endTime, 'contiguous cues');
  });
  const rects = tiles(cues);
  // 320x240 scaled to 160 wide: 160x120 tiles, in one row here.
  assert.deepEqual(size, { width: 160 * cues.length, height: 120 });
  rects.forEach((r, i) => {
    assert.deepEqual({ x: r.x, y: r.y, w: r.w, h: r.h }, { x: i * 160, y: 0, w: 160, h: 120 });
    // The track hands the viewer's token on: a player fetches the sprite without the track's query.
    assert.equal(r.uri, `thumbs.jpg?token=${token}`);
  });
  assert.equal((await fetch(new URL(rects[0]?.uri ?? '', vttUrl))).status, 200, 'the sprite as a player resolves it');

  // Tile 1 is the picture at 10 s: closer to the frame there than to the one at 0 s (testsrc2 moves).
  const at10 = await tilePsnr(spriteFile, rects[1] as (typeof rects)[number], rec.file, 10);
  const at0 = await tilePsnr(spriteFile, rects[1] as (typeof rects)[number], rec.file, 0);
  assert.ok(at10 > 25 && at10 > at0 + 6, `PSNR ${at10} dB at 10 s, ${at0} dB at 0 s`);

  // The recordings API lists them.
  const listed = (await (await fetch(`${o.httpBase}/api/recordings`, { headers: { Authorization: `Bearer ${adminToken(KEYS)}` } })).json()) as {
    recordings: { id: string; thumbs?: { sprite: string; vtt: string } }[];
  };
  assert.deepEqual(listed.recordings.find((r) => r.id === rec.id)?.thumbs, { sprite: thumbsSpritePath('live', 'cam', rec.name), vtt: thumbsVttPath('live', 'cam', rec.name) });

  // Play tokens: none, or another stream's, is a 403; a bad or unknown recording 400/404.
  assert.equal((await fetch(spriteUrl)).status, 403);
  assert.equal((await fetch(`${vttUrl}?token=${playToken('other')}`)).status, 403);
  assert.equal((await fetch(`${o.httpBase}/live/cam/rec/20200101-000000/thumbs.vtt?token=${token}`)).status, 404);
  assert.equal((await fetch(`${o.httpBase}/live/cam/rec/2020010-1000000/thumbs.vtt?token=${token}`)).status, 400);
});

test('a file found without a clean close is thumbnailed at the scan; rows of `columns` tiles; a bad file leaves nothing', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sn-thumbs-scan-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const day = join(dir, 'live', 'cam', '2026-01-02');
  await mkdir(day, { recursive: true });
  // 9 s of 320x240, a keyframe a second: with a tile every 2 s and 3 per row, 5 tiles in 2 rows.
  const good = join(day, '030405.flv');
  const made = await runFfmpeg(publishArgs(good, 'video-only', { gopS: 1, durationS: 9 }).filter((a) => a !== '-re'), { timeoutMs: 60_000 });
  assert.equal(made.code, 0, made.stderr);
  await writeFile(join(day, '030406.flv'), garbageFlv(5000));

  const catalogue = new RecordingCatalogue(dir, createLogger('test', 'silent'));
  const thumbs = new Thumbnails(catalogue, createLogger('test', 'silent'), { intervalMs: 2000, columns: 3 });
  t.after(() => thumbs.close());
  await catalogue.scan();
  const [rec, bad] = catalogue.list();
  assert.ok(rec && bad);
  assert.equal(rec.state, 'interrupted');
  assert.ok(rec.durationMs > 8000, `duration ${rec.durationMs} ms`);
  await waitFor('both jobs', async () => {
    await thumbs.idle();
    return thumbs.has(rec) || undefined;
  }, 60_000);

  assert.deepEqual(await jpegFileSize(thumbsSpriteFile(rec)), { width: 3 * 160, height: 2 * 120 });
  const cues = parseVtt(await readFile(thumbsTrackFile(rec), 'utf8'));
  assert.equal(cues.length, 5);
  assert.deepEqual(
    tiles(cues).map((r) => [r.uri, r.x, r.y]),
    [['thumbs.jpg', 0, 0], ['thumbs.jpg', 160, 0], ['thumbs.jpg', 320, 0], ['thumbs.jpg', 0, 120], ['thumbs.jpg', 160, 120]],
  );
  assert.deepEqual(cues.map((c) => c.startTime), [0, 2, 4, 6, 8]);
  assert.ok(Math.abs((cues.at(-1)?.endTime ?? 0) - rec.durationMs / 1000) < 0.002);

  // The unreadable file: no thumbnails, no temporary files.
  assert.equal(thumbs.has(bad), false);
  assert.deepEqual((await readdir(day)).filter((f) => f.includes('thumbs')).sort(), ['030405.flv.thumbs.jpg', '030405.flv.thumbs.vtt']);
});

test('has() answers from memory: load() finds the thumbnails of scanned recordings once, at start', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sn-thumbs-load-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const day = join(dir, 'live', 'cam', '2026-01-02');
  await mkdir(day, { recursive: true });
  for (const f of ['030405', '030406']) {
    await writeFile(join(day, `${f}.flv`), 'FLV');
    await writeFile(join(day, `${f}.flv.json`), JSON.stringify({ state: 'done', startedAt: 0, durationMs: 1000, bytes: 3, session: `20260102-${f}`, part: 0 }));
  }
  await writeFile(join(day, '030405.flv.thumbs.vtt'), 'WEBVTT\n');
  const catalogue = new RecordingCatalogue(dir, createLogger('test', 'silent'));
  const thumbs = new Thumbnails(catalogue, createLogger('test', 'silent'));
  t.after(() => thumbs.close());
  await catalogue.scan();
  const [withThumbs, without] = catalogue.list().sort((a, b) => (a.name < b.name ? -1 : 1));
  assert.ok(withThumbs && without);
  await thumbs.load();
  assert.equal(thumbs.has(withThumbs), true);
  assert.equal(thumbs.has(without), false);
  // A request never stats the disk (the API lists every recording): a track appearing behind our back is not seen.
  await writeFile(join(day, '030406.flv.thumbs.vtt'), 'WEBVTT\n');
  assert.equal(thumbs.has(without), false);
});
